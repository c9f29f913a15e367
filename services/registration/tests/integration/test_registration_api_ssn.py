"""Registration's HTTP API end to end, the SSN: refused without a trace, stored encrypted and found by HMAC,
never returned, and a change of it stored but not published.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from rcm_common.logs import configure_logging
from rcm_registration.testing import (
    SSN,
    SSN_DIGITS,
    add_coverage,
    count,
    outbox_of,
    patient_body,
    problem,
    register,
    unique_member_id,
    unique_name,
)

if TYPE_CHECKING:
    from rcm_registration.testing import RegistrationApi

HEX64 = re.compile(r"^[0-9a-f]{64}$")
_VOLATILE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # uuids
    r"|[0-9a-f]{16,}"  # correlation, trace and span ids
    r"|\d{4}-\d{2}-\d{2}[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?"  # timestamps
    r"|\d+\.\d+ms"  # request durations
    r"|0x[0-9a-f]+"  # object addresses in reprs
)


def digit_groups(value: object) -> list[str]:
    text = str(value)
    groups = re.findall(r"\d+", text)
    return [g for g in [*groups, "".join(groups)] if len(g) >= 2]


@contextlib.contextmanager
def service_logs_to(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, service: str
) -> Iterator[None]:
    """Point the service's JSON log handler at this test's captured stdout, and have pytest keep every raw
    record too (its handler formats each message before the service's formatter redacts it); restore after."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging(service)
    caplog.set_level(logging.DEBUG)
    caplog.handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    capsys.readouterr()
    try:
        yield
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@pytest.mark.parametrize(
    "bad_ssn",
    ["587-36-88291", "58736882", "666-36-8829", "958-36-8829", "587-36-882x", "587-00-8829", 587368829],
    ids=["too-long", "eight-digits", "area-666", "area-9xx", "letter", "group-00", "a-number"],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_malformed_ssn_is_refused_and_never_echoed_or_logged(
    api: RegistrationApi,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    method: str,
    bad_ssn: object,
) -> None:
    name = unique_name()
    existing = await register(api, name) if method == "PATCH" else None
    with service_logs_to(capsys, caplog, api.registration.settings.service_name):
        if existing is None:
            response = await api.client.post("/patients", json=patient_body(name, ssn=bad_ssn), headers=api.auth())
        else:
            url = f"/patients/{existing['id']}"
            response = await api.client.patch(url, json={"ssn": bad_ssn}, headers=api.auth())
        stdout = capsys.readouterr().out
        raw_logs = caplog.text

    refused = problem(response, 422)
    assert [e["field"] for e in refused["errors"]] == ["ssn"]
    assert f'"{method} /patients' in stdout, "the service's log output was not captured"
    assert "422" in raw_logs, "the raw log records were not captured"
    body_text = _VOLATILE.sub("", response.text)
    logs_text = _VOLATILE.sub("", stdout + raw_logs)
    for group in digit_groups(bad_ssn):
        assert group not in body_text, f"the 422 body holds {group!r} of the SSN"
        assert group not in logs_text, f"a log line holds {group!r} of the SSN"
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE last_name = :name", name=name) == (
        0 if existing is None else 1
    )
    if existing is not None:
        assert (await api.rows("SELECT ssn_encrypted FROM patient WHERE id = :id", id=existing["id"]))[0][
            "ssn_encrypted"
        ] is None


async def test_ssn_and_member_id_are_encrypted_at_rest_and_found_by_hmac(api: RegistrationApi) -> None:
    patient = await register(api, unique_name(), ssn=SSN)
    member_id = unique_member_id()
    coverage = await add_coverage(api, patient["id"], member_id=member_id.lower())
    reg = api.registration

    [row] = await api.rows("SELECT ssn_encrypted, ssn_index FROM patient WHERE id = :id", id=patient["id"])
    stored = row["ssn_encrypted"]
    assert stored.startswith("v1:")
    for part in (SSN, SSN_DIGITS, "8829", "58736"):
        assert part not in stored
    assert reg.cipher.decrypt(stored, context=f"patient:{patient['id']}:ssn") == SSN_DIGITS
    assert HEX64.fullmatch(row["ssn_index"])
    assert row["ssn_index"] == reg.blind_index.digest(SSN) == reg.blind_index.digest(SSN_DIGITS)
    found = await api.rows("SELECT id FROM patient WHERE ssn_index = :ix", ix=reg.blind_index.digest(SSN))
    assert patient["id"] in [r["id"] for r in found]  # PostgreSQL's database is shared with other tests

    [cov] = await api.rows("SELECT member_id_encrypted, policy_index FROM coverage WHERE id = :id", id=coverage["id"])
    assert member_id not in cov["member_id_encrypted"]
    assert member_id.lower() not in cov["member_id_encrypted"]
    assert reg.cipher.decrypt(cov["member_id_encrypted"], context=f"coverage:{coverage['id']}:member_id") == member_id
    assert HEX64.fullmatch(cov["policy_index"])
    assert coverage["member_id"] == member_id

    read = await api.client.get(f"/patients/{patient['id']}", headers=api.auth())
    assert read.json()["ssn_last4"] == "8829"
    assert SSN_DIGITS not in read.text
    assert "58736" not in read.text
    assert not any("ssn" in key and key != "ssn_last4" for key in read.json())


async def test_an_ssn_change_is_stored_but_not_published(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    changed = await api.client.patch(f"/patients/{patient['id']}", json={"ssn": SSN}, headers=api.auth())
    assert changed.status_code == 200
    assert (changed.json()["ssn_last4"], changed.json()["version"]) == ("8829", 2)
    assert [r["event_type"] for r in await outbox_of(api, patient["id"])] == ["rcm.registration.patient_registered"]
    removed = await api.client.patch(f"/patients/{patient['id']}", json={"ssn": None}, headers=api.auth())
    assert removed.json()["ssn_last4"] is None
    [row] = await api.rows("SELECT ssn_encrypted, ssn_index FROM patient WHERE id = :id", id=patient["id"])
    assert row == {"ssn_encrypted": None, "ssn_index": None}
