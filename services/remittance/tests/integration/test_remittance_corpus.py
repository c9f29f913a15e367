"""Every in-scope 5010 835 of the shared corpus is taken in and worked: each claim payment posted or waiting in
the unmatched queue with its reason, every file's balance checked (a file that does not add up is held, then
posted once a poster releases it), and none refused that the codec reads. The report per file is printed
(`pytest -s`) and kept in the service's canvas."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm_remittance.testing import RemittanceApi, running_remittance
from rcm_x12.corpus import default_root, manifest
from rcm_x12.errors import X12Error
from rcm_x12.remittance_reader import read_remittances

CORPUS = default_root()
IN_SCOPE = [entry.path for entry in manifest(CORPUS) if entry.kind == "835" and entry.must_read]


def test_the_corpus_has_the_835s_the_report_speaks_of() -> None:
    assert len(IN_SCOPE) >= 15


async def test_every_in_scope_835_is_worked_whole(tmp_path: Path, signing_keys: tuple[str, str]) -> None:
    report = []
    async with running_remittance(tmp_path, signing_keys) as api:
        for path in IN_SCOPE:
            report.append(await _work(api, path))
    print("\n" + "\n".join(report))


async def _work(api: RemittanceApi, path: str) -> str:
    content = (CORPUS / path).read_bytes()
    try:
        sets = len(read_remittances(content))
    except X12Error:
        sets = 0
    response = await api.client.post("/remittances", content=content, headers=api.auth())
    if sets == 0:  # the codec refuses it: so must the service, naming why
        assert response.status_code == 422, (path, response.text)
        return f"{path}: refused ({response.json()['detail']})"
    assert response.status_code == 202, (path, response.text)
    held = []
    for remittance_id in response.json()["remittance_ids"]:
        remittance = (await api.client.get(f"/remittances/{remittance_id}", headers=api.auth())).json()
        if remittance["state"] == "held":
            held.append(len(remittance["balance"]["problems"]))
            released = await api.client.post(
                f"/remittances/{remittance_id}/release", json={"reason": "corpus file reviewed"}, headers=api.auth()
            )
            assert released.status_code == 200, released.text
    await api.remittance.poster.run_once()
    summary = {"posted": 0, "unmatched": 0, "duplicates": 0, "claims": 0}
    for remittance_id in response.json()["remittance_ids"]:
        remittance = (await api.client.get(f"/remittances/{remittance_id}?limit=500", headers=api.auth())).json()
        assert remittance["state"] == "posted", (path, remittance["state"])
        assert remittance["claims_done"] == remittance["claim_count"]
        assert all(p["state"] == "posted" or p["unmatched_reason"] for p in remittance["payments"])
        for key in ("posted", "unmatched", "duplicates"):
            summary[key] += remittance[key]
        summary["claims"] += remittance["claim_count"]
    assert summary["posted"] + summary["unmatched"] + summary["duplicates"] == summary["claims"]
    balance = f"held for review ({sum(held)} differences), released" if held else "balanced"
    return (
        f"{path}: {sets} set(s), {summary['claims']} claim payments: {summary['unmatched']} unmatched, "
        f"{summary['duplicates']} duplicates; {balance}"
    )


@pytest.mark.parametrize("path", ["edi-835-parser/tests/test_edi_835_files/blue_cross_nc_sample.txt"])
async def test_a_bare_transaction_set_is_read_with_the_missing_envelope_flagged(
    tmp_path: Path, signing_keys: tuple[str, str], path: str
) -> None:
    async with running_remittance(tmp_path, signing_keys) as api:
        response = await api.client.post("/remittances", content=(CORPUS / path).read_bytes(), headers=api.auth())
        assert response.status_code in (202, 422), response.text
        if response.status_code == 202:
            remittance = (
                await api.client.get(f"/remittances/{response.json()['remittance_id']}", headers=api.auth())
            ).json()
            assert remittance["interchange_control_number"] == ""
            assert any("envelope" in finding for finding in remittance["balance"]["findings"])
