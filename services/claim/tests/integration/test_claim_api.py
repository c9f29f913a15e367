"""Claim's HTTP API running for real over SQLite and PostgreSQL: the directories replaced whole (and refused
whole, naming every problem), claims read with their scrub and timeline, the scrub work queue, and bad
input answered with problem+json that echoes nothing and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.service_layer.views import PayerDocument, ProviderDirectoryDocument
from rcm_claim.testing import PRACTICE, ClaimApi, charges_captured, running_claim
from rcm_common.testing import sample_coverage_added, sample_patient_registered
from rcm_common.types import utcnow

PAYERS = [PayerDocument.of(payer).model_dump() for payer in default_payers()]
PROVIDERS = ProviderDirectoryDocument.of(PRACTICE).model_dump()


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[ClaimApi]:
    async with running_claim(tmp_path / "state", signing_keys, database_url) as running:
        yield running


async def set_up_directories(api: ClaimApi) -> None:
    admin = api.auth("admin")
    for path, document in (("/payers", PAYERS), ("/providers", PROVIDERS)):
        stored = await api.client.put(path, json=document, headers=admin)
        assert stored.status_code == 200, stored.text


async def a_claim(api: ClaimApi, *codes: str) -> str:
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)
    captured = charges_captured(
        patient.patient_id, coverage.coverage_id, codes=codes or ("99214",), day=utcnow().date()
    )
    await api.feed(patient, coverage, captured)
    [row] = await api.rows("SELECT id FROM claim WHERE encounter_id = :id", id=str(captured.encounter_id))
    return str(row["id"])


async def test_the_directories_go_in_whole_and_come_back_as_they_went(api: ClaimApi) -> None:
    await set_up_directories(api)

    payers = await api.client.get("/payers", headers=api.auth())
    providers = await api.client.get("/providers", headers=api.auth())

    assert payers.json() == sorted(PAYERS, key=lambda payer: payer["payer_id"])
    assert providers.json() == PROVIDERS


async def test_a_bad_directory_is_refused_naming_every_problem_and_nothing_changes(api: ClaimApi) -> None:
    await set_up_directories(api)
    bad: dict[str, Any] = {
        **PROVIDERS,
        "billing": {**PROVIDERS["billing"], "npi": "1234567890", "tax_id": "12-345678"},
        "providers": [{**PROVIDERS["providers"][0], "taxonomy": "doctor"}],
    }

    refused = await api.client.put("/providers", json=bad, headers=api.auth("admin"))
    bad_payers = await api.client.put(
        "/payers", json=[{**PAYERS[0], "filing_indicator": "XX"}], headers=api.auth("admin")
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in refused.json()["errors"]] == [
        "billing.npi", "billing.tax_id", "providers.0.taxonomy",
    ]  # fmt: skip
    assert "1234567890" not in refused.text
    assert bad_payers.status_code == 422
    assert bad_payers.json()["errors"] == [
        {"field": "payers.0.filing_indicator", "message": "not an 837P claim filing indicator (SBR09)"}
    ]
    assert (await api.client.get("/providers", headers=api.auth())).json() == PROVIDERS
    assert len((await api.client.get("/payers", headers=api.auth())).json()) == 4


async def test_only_an_administrator_replaces_a_directory(api: ClaimApi) -> None:
    denied = await api.client.put("/payers", json=PAYERS, headers=api.auth("biller"))

    assert denied.status_code == 403
    assert (await api.client.get("/providers", headers=api.auth())).status_code == 404


async def test_a_claim_reads_with_its_scrub_and_timeline_and_waits_in_the_scrub_queue(api: ClaimApi) -> None:
    await set_up_directories(api)
    claim_id = await a_claim(api, "72148")

    read = await api.client.get(f"/claims/{claim_id}", headers=api.auth())
    queue = await api.client.get("/workqueues/scrub", params={"rule": "PRIOR_AUTH"}, headers=api.auth())
    other_rule = await api.client.get("/workqueues/scrub", params={"rule": "TIMELY_FILING"}, headers=api.auth())

    assert read.status_code == 200, read.text
    assert read.headers["ETag"] == '"v1"'
    claim = read.json()
    assert (claim["state"], claim["blocking_rules"]) == ("scrub_failed", ["PRIOR_AUTH"])
    assert "PRIOR_AUTH@2" in claim["scrub"]["rules_ran"]
    assert [step["to_state"] for step in claim["timeline"]] == ["draft", "scrub_failed"]
    assert all(step["cause"].startswith("event:") for step in claim["timeline"])
    assert [item["id"] for item in queue.json()] == [claim_id]
    assert other_rule.json() == []
    reads = await api.rows(
        "SELECT action, resource_id FROM audit_log WHERE resource_type = 'claim' AND action = 'read'"
    )
    assert {row["resource_id"] for row in reads} == {claim_id}


async def test_claims_filter_by_state_payer_and_date_of_service(api: ClaimApi) -> None:
    await set_up_directories(api)
    claim_id = await a_claim(api)
    today = utcnow().date().isoformat()

    ready = await api.client.get("/claims", params={"state": "ready", "payer_id": "ACME01"}, headers=api.auth())
    elsewhere = await api.client.get("/claims", params={"payer_id": "MCARE1"}, headers=api.auth())
    dated = await api.client.get("/claims", params={"date_from": today, "date_to": today}, headers=api.auth())
    before = await api.client.get("/claims", params={"date_to": date(2020, 1, 1).isoformat()}, headers=api.auth())

    assert [claim["id"] for claim in ready.json()] == [claim_id]
    assert elsewhere.json() == []
    assert [claim["id"] for claim in dated.json()] == [claim_id]
    assert before.json() == []


async def test_a_payer_added_to_the_directory_releases_the_claims_it_held(api: ClaimApi) -> None:
    await set_up_directories(api)
    await api.client.put("/payers", json=[p for p in PAYERS if p["payer_id"] != "ACME01"], headers=api.auth("admin"))
    claim_id = await a_claim(api)
    held = (await api.client.get(f"/claims/{claim_id}", headers=api.auth())).json()
    assert held["blocking_rules"] == ["PAYER_KNOWN"]

    await api.client.put("/payers", json=PAYERS, headers=api.auth("admin"))

    released = (await api.client.get(f"/claims/{claim_id}", headers=api.auth())).json()
    assert released["state"] == "ready"
    assert released["timeline"][-1]["cause"] == "api:admin-1"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/claims/6d0c0b6e-2f6e-4c38-9b7e-0f1f6a1e9c11", 404),
        ("/claims/not-a-uuid", 422),
        ("/claims?state=settled", 422),
        ("/workqueues/scrub?rule=prior auth", 422),
    ],
)
async def test_bad_requests_get_problem_json(api: ClaimApi, path: str, status: int) -> None:
    answer = await api.client.get(path, headers=api.auth())

    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "not-a-uuid" not in str(answer.json().get("errors", []))  # the field is named, its value is not


async def test_a_biller_overrides_a_blocking_rule_with_a_reason_on_the_claim_as_read(api: ClaimApi) -> None:
    await set_up_directories(api)
    claim_id = await a_claim(api, "72148")
    read = await api.client.get(f"/claims/{claim_id}", headers=api.auth())
    body = {"rule": "PRIOR_AUTH", "reason": "authorised by telephone, reference 4471"}

    stale = await api.client.post(f"/claims/{claim_id}/overrides", json=body, headers=api.auth(if_match='"v9"'))
    quiet = await api.client.post(
        f"/claims/{claim_id}/overrides",
        json={**body, "rule": "DUPLICATE_CLAIM"},
        headers=api.auth(if_match=read.headers["ETag"]),
    )
    unguarded = await api.client.post(f"/claims/{claim_id}/overrides", json=body, headers=api.auth())
    done = await api.client.post(
        f"/claims/{claim_id}/overrides", json=body, headers=api.auth(if_match=read.headers["ETag"])
    )

    assert (stale.status_code, unguarded.status_code) == (412, 422)
    assert quiet.status_code == 422
    assert quiet.json()["errors"] == [
        {"field": "rule", "message": "rule DUPLICATE_CLAIM did not fire on the claim's latest scrub"}
    ]
    assert done.status_code == 200, done.text
    claim = done.json()
    assert (claim["state"], claim["blocking_rules"], done.headers["ETag"]) == ("ready", [], '"v2"')
    assert claim["scrub"]["overrides"][0]["reason"] == body["reason"]
    assert claim["timeline"][-1]["cause"] == "api:biller-1"
    changes = await api.rows("SELECT actor FROM audit_log WHERE resource_type = 'claim' AND action = 'update'")
    assert [row["actor"] for row in changes] == ["biller-1"]


async def test_a_claim_is_held_released_and_scrubbed_again_on_request(api: ClaimApi) -> None:
    await set_up_directories(api)
    claim_id = await a_claim(api)

    held = await api.client.post(
        f"/claims/{claim_id}/hold", json={"reason": "waiting for the operative note"}, headers=api.auth(if_match='"v1"')
    )
    held_again = await api.client.post(
        f"/claims/{claim_id}/hold", json={"reason": "again"}, headers=api.auth(if_match='"v2"')
    )
    released = await api.client.post(f"/claims/{claim_id}/release", headers=api.auth(if_match='"v3"'))
    not_held = await api.client.post(f"/claims/{claim_id}/release", headers=api.auth(if_match='"v4"'))
    scrubbed = await api.client.post(f"/claims/{claim_id}/rescrub", headers=api.auth(if_match='"v4"'))
    collector = await api.client.post(f"/claims/{claim_id}/rescrub", headers=api.auth("collector", if_match='"v5"'))

    assert held.status_code == 200, held.text
    assert held.json()["held"] == "waiting for the operative note"
    assert held_again.status_code == 200  # a new reason replaces the old while the claim stays held
    assert released.status_code == 200
    assert released.json()["held"] is None
    assert not_held.status_code == 409
    assert not_held.json()["detail"] == "the claim is not held."
    assert scrubbed.status_code == 200
    assert scrubbed.json()["state"] == "ready"
    assert collector.status_code == 403
