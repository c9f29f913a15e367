"""Registration's HTTP API end to end, one registrar's day: every change an outbox event with its envelope,
every PHI access an audit record with the token's subject, and an unknown purpose of use refused before any
read.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from rcm_common.audit import verify_chain
from rcm_common.envelope import ENVELOPE_HEADERS
from rcm_common.events import event_model
from rcm_common.events.base import schema_id
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_registration.testing import (
    SSN,
    SSN_DIGITS,
    count,
    coverage_body,
    outbox_of,
    patient_body,
    problem,
    register,
    unique_member_id,
    unique_name,
)

if TYPE_CHECKING:
    from rcm_registration.testing import RegistrationApi

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
REQUIRED_HEADERS = {name for name, (required, _) in ENVELOPE_HEADERS.items() if required}


async def registrar_day(api: RegistrationApi) -> dict[str, str]:
    """Register, read, find, correct, cover, end, merge; each request with its own correlation id."""
    desk = {"subject": "desk-clerk-7"}
    reader = {"subject": "auditor-3"}
    name = unique_name()

    async def call(method: str, url: str, step: str, *roles: str, json_body: Any = None, **who: str) -> Any:
        headers = api.auth(*roles, X_Correlation_ID=step, **who)
        if step == "read-patient":
            headers["X-Purpose-Of-Use"] = "treatment"
        response = await api.client.request(method, url, json=json_body, headers=headers)
        assert response.status_code in (200, 201), f"{step}: {response.text}"
        assert response.headers["x-correlation-id"] == step
        return response.json()

    patient = await call("POST", "/patients", "register", json_body=patient_body(name, ssn=SSN), **desk)
    pid = patient["id"]
    await call("GET", f"/patients/{pid}", "read-patient", "auditor", **reader)
    await call("GET", f"/patients?last_name={name}", "search", "auditor", **reader)
    await call("PATCH", f"/patients/{pid}", "update", json_body={"email": "m.gonzalez@example.org"}, **desk)
    coverage = await call(
        "POST", f"/patients/{pid}/coverages", "add-coverage", json_body=coverage_body(unique_member_id()), **desk
    )
    cid = coverage["id"]
    await call("GET", f"/patients/{pid}/coverages", "list-coverages", "auditor", **reader)
    await call("PATCH", f"/patients/{pid}/coverages/{cid}", "update-coverage", json_body={"plan_type": "HMO"}, **desk)
    await call(
        "POST",
        f"/patients/{pid}/coverages/{cid}/end",
        "end-coverage",
        json_body={"termination_date": "2026-06-30", "reason": "employer changed plans"},
        **desk,
    )
    duplicate = await call(
        "POST", "/patients", "register-duplicate", json_body=patient_body(name, first_name="Mariah"), **desk
    )
    did = duplicate["id"]
    moved = await call(
        "POST",
        f"/patients/{did}/coverages",
        "add-duplicate-coverage",
        json_body=coverage_body(unique_member_id(), payer_id="AETNA", payer_name="Aetna", effective_date="2026-07-01"),
        **desk,
    )
    await call("POST", f"/patients/{pid}/merge", "merge", json_body={"duplicate_id": did}, **desk)
    return {"patient": pid, "coverage": cid, "duplicate": did, "moved": moved["id"]}


async def test_every_change_is_an_outbox_event_with_its_envelope(api: RegistrationApi) -> None:
    ids = await registrar_day(api)
    pid, did = ids["patient"], ids["duplicate"]
    rows = await outbox_of(api, pid, did)

    assert [(r["event_type"], r["key"], json.loads(r["headers"])["ce_correlationid"]) for r in rows] == [
        ("rcm.registration.patient_registered", pid, "register"),
        ("rcm.registration.patient_updated", pid, "update"),
        ("rcm.registration.coverage_added", pid, "add-coverage"),
        ("rcm.registration.coverage_updated", pid, "update-coverage"),
        ("rcm.registration.coverage_ended", pid, "end-coverage"),
        ("rcm.registration.patient_registered", did, "register-duplicate"),
        ("rcm.registration.coverage_added", did, "add-duplicate-coverage"),
        ("rcm.registration.patients_merged", pid, "merge"),
    ]
    for row in rows:
        headers = json.loads(row["headers"])
        assert REQUIRED_HEADERS <= set(headers) <= set(ENVELOPE_HEADERS), headers
        assert row["topic"] == REGISTRATION_EVENTS
        assert headers["ce_subject"] == row["key"]
        assert headers["ce_type"] == row["event_type"]
        assert headers["ce_id"] == row["event_id"]
        assert uuid.UUID(headers["ce_id"])
        assert (headers["ce_specversion"], headers["content-type"]) == ("1.0", "application/json")
        assert headers["ce_dataschema"] == schema_id(row["event_type"], 1)
        assert headers["ce_source"] == "/rcm/registration"
        assert datetime.fromisoformat(headers["ce_time"]).utcoffset() == timedelta(0)
        assert TRACEPARENT.fullmatch(headers["ce_traceparent"]), headers
        assert headers.get("ce_causationid") is None  # caused by a request, not by another event
        assert row["sent_at"] is None  # the broker is unreachable: the relay has not taken it
        event = event_model(headers["ce_type"], 1).model_validate_json(row["payload"])
        assert event.subject == row["key"]
    assert len({r["event_id"] for r in rows}) == len(rows)

    payloads = {r["event_type"]: json.loads(r["payload"]) for r in rows if r["key"] == pid}
    assert payloads["rcm.registration.patient_updated"]["changed_fields"] == ["email"]
    assert payloads["rcm.registration.coverage_updated"]["changed_fields"] == ["plan_type"]
    assert payloads["rcm.registration.coverage_ended"] == {
        "patient_id": pid,
        "coverage_id": ids["coverage"],
        "termination_date": "2026-06-30",
        "reason": "employer changed plans",
    }
    assert payloads["rcm.registration.patients_merged"]["moved_coverage_ids"] == [ids["moved"]]

    def keys_of(value: Any) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys_of(v)}
        if isinstance(value, list):
            return {k for v in value for k in keys_of(v)}
        return set()

    for row in await api.rows("SELECT payload, headers, key FROM outbox"):
        everything = row["payload"] + row["headers"] + row["key"]
        assert SSN_DIGITS not in everything
        assert SSN not in everything
        assert not any("ssn" in key.lower() for key in keys_of(json.loads(row["payload"])))
        assert "Maria" not in row["headers"]


async def test_every_phi_access_is_audited_with_the_token_subject(api: RegistrationApi) -> None:
    ids = await registrar_day(api)
    pid, did, cid, moved = ids["patient"], ids["duplicate"], ids["coverage"], ids["moved"]
    rows = await api.rows(
        "SELECT actor, actor_roles, action, resource_type, resource_id, patient_id, purpose, correlation_id "
        "FROM audit_log WHERE patient_id IN (:p, :d) ORDER BY id",
        p=pid,
        d=did,
    )
    desk, reader = ("desk-clerk-7", "front_desk"), ("auditor-3", "auditor")
    assert [tuple(r.values()) for r in rows] == [
        (*desk, "create", "patient", pid, pid, "payment", "register"),
        (*reader, "read", "patient", pid, pid, "treatment", "read-patient"),
        (*reader, "search", "patient", pid, pid, "payment", "search"),
        (*desk, "update", "patient", pid, pid, "payment", "update"),
        (*desk, "create", "coverage", cid, pid, "payment", "add-coverage"),
        (*reader, "read", "coverage", None, pid, "payment", "list-coverages"),
        (*desk, "update", "coverage", cid, pid, "payment", "update-coverage"),
        (*desk, "update", "coverage", cid, pid, "payment", "end-coverage"),
        (*desk, "create", "patient", did, did, "payment", "register-duplicate"),
        (*desk, "create", "coverage", moved, did, "payment", "add-duplicate-coverage"),
        (*desk, "merge", "patient", did, did, "payment", "merge"),
        (*desk, "merge", "patient", pid, pid, "payment", "merge"),
    ]
    async with api.registration.session_factory() as session:
        verdict = await verify_chain(session)
    assert verdict.ok, verdict
    assert verdict.rows_checked >= len(rows)


async def test_an_unknown_purpose_of_use_is_refused_before_any_read(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    headers = {**api.auth("auditor"), "X-Purpose-Of-Use": "curiosity"}
    problem(await api.client.get(f"/patients/{patient['id']}", headers=headers), 422)
    assert await count(api, "SELECT count(*) AS n FROM audit_log WHERE patient_id = :p", p=patient["id"]) == 1
