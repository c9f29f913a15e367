"""Registration's HTTP API end to end: the real app, its lifespan and a real database (each test runs on
SQLite and, when reachable, PostgreSQL), read back through the outbox, audit and patient tables.

Tests on PostgreSQL share one database per module, so every test registers people of its own (unique,
letters-only last names and member ids) and reads back only what it created.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest
from fastapi.routing import APIRoute

from rcm_common.audit import verify_chain
from rcm_common.auth import generate_keypair, mint_token
from rcm_common.envelope import ENVELOPE_HEADERS
from rcm_common.events import event_model
from rcm_common.events.base import schema_id
from rcm_common.logs import configure_logging
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_registration.entrypoints.api import router

if TYPE_CHECKING:
    from services.registration.tests.conftest import RegistrationApi

PROBLEM = "application/problem+json"
SSN = "587-36-8829"
SSN_DIGITS = "587368829"
BIRTH_DATE = "1984-03-09"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
REQUIRED_HEADERS = {name for name, (required, _) in ENVELOPE_HEADERS.items() if required}


def unique_name() -> str:
    """A last name no other test uses: letters only, as names must be."""
    return "Q" + "".join(chr(ord("a") + int(ch, 16)) for ch in uuid.uuid4().hex[:12])


def unique_member_id() -> str:
    return "M" + uuid.uuid4().hex[:14].upper()


def patient_body(last_name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Maria",
        "last_name": last_name,
        "birth_date": BIRTH_DATE,
        "sex": "F",
        "address": {
            "line1": "100 Congress Ave",
            "line2": "Suite 200",
            "city": "Austin",
            "state": "tx",
            "postal_code": "787011234",
        },
        "phone": "(512) 555-0134",
        "email": "maria@example.org",
    }
    return {**body, **overrides}


def coverage_body(member_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "payer_id": "BCBSTX",
        "payer_name": "Blue Cross Blue Shield of Texas",
        "member_id": member_id,
        "group_number": "GRP100",
        "plan_type": "PPO",
        "relationship": "self",
        "effective_date": "2026-01-01",
        "order": "primary",
    }
    return {**body, **overrides}


def luhn_valid(number: str) -> bool:
    digits = [int(ch) for ch in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def register(api: RegistrationApi, last_name: str, **overrides: Any) -> dict[str, Any]:
    response = await api.client.post("/patients", json=patient_body(last_name, **overrides), headers=api.auth())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_coverage(api: RegistrationApi, patient_id: str, **overrides: Any) -> dict[str, Any]:
    member_id = overrides.pop("member_id", None) or unique_member_id()
    response = await api.client.post(
        f"/patients/{patient_id}/coverages", json=coverage_body(member_id, **overrides), headers=api.auth()
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def outbox_of(api: RegistrationApi, *patient_ids: str) -> list[dict[str, Any]]:
    rows = await api.rows("SELECT * FROM outbox ORDER BY id")
    return [row for row in rows if row["key"] in patient_ids]


async def count(api: RegistrationApi, sql: str, **params: Any) -> int:
    [row] = await api.rows(sql, **params)
    return int(next(iter(row.values())))


# --- the happy paths ---------------------------------------------------------------------------------


async def test_register_read_and_find_a_patient(api: RegistrationApi) -> None:
    name = unique_name()
    response = await api.client.post("/patients", json=patient_body(name, ssn=SSN), headers=api.auth())

    assert response.status_code == 201, response.text
    created = response.json()
    patient_id = created["id"]
    assert uuid.UUID(patient_id)
    assert re.fullmatch(r"\d{9}", created["mrn"])
    assert luhn_valid(created["mrn"])
    assert response.headers["location"] == f"/patients/{patient_id}"
    assert response.headers["etag"] == '"v1"'
    assert {k: created[k] for k in ("first_name", "last_name", "birth_date", "sex", "phone", "email")} == {
        "first_name": "Maria",
        "last_name": name,
        "birth_date": BIRTH_DATE,
        "sex": "F",
        "phone": "5125550134",
        "email": "maria@example.org",
    }
    assert created["address"] == {
        "line1": "100 Congress Ave",
        "line2": "Suite 200",
        "city": "Austin",
        "state": "TX",
        "postal_code": "78701-1234",
    }
    assert created["guarantor"]["relationship"] == "self"
    assert (created["status"], created["version"], created["coverages"], created["ssn_last4"]) == (
        "active",
        1,
        [],
        "8829",
    )
    assert "ssn" not in created
    assert SSN_DIGITS not in response.text
    assert SSN not in response.text

    read = await api.client.get(f"/patients/{patient_id}", headers=api.auth("coder", subject="coder-1"))
    assert read.status_code == 200
    assert read.json() == created
    assert read.headers["etag"] == '"v1"'
    assert SSN_DIGITS not in read.text

    other = await register(api, name, first_name="Ana", birth_date="1990-07-01")
    found = await api.client.get(
        "/patients", params={"last_name": name, "birth_date": BIRTH_DATE}, headers=api.auth("auditor")
    )
    assert found.status_code == 200
    assert [p["id"] for p in found.json()] == [patient_id]
    by_prefix = await api.client.get("/patients", params={"last_name": name[:-2].upper()}, headers=api.auth())
    assert [p["id"] for p in by_prefix.json()] == [other["id"], patient_id]
    by_mrn = await api.client.get("/patients", params={"mrn": created["mrn"]}, headers=api.auth())
    assert [p["id"] for p in by_mrn.json()] == [patient_id]


async def test_search_and_read_refuse_bad_requests(api: RegistrationApi) -> None:
    no_criterion = problem(await api.client.get("/patients", headers=api.auth()), 422)
    assert no_criterion["errors"][0]["field"] == "query"
    too_many = problem(
        await api.client.get("/patients", params={"last_name": "X", "limit": 101}, headers=api.auth()), 422
    )
    assert too_many["errors"] == [{"field": "query.limit", "message": "is too large"}]
    bad_date = problem(await api.client.get("/patients", params={"birth_date": "1984-13-40"}, headers=api.auth()), 422)
    assert bad_date["errors"][0]["field"] == "query.birth_date"
    assert "1984-13-40" not in json.dumps(bad_date)
    problem(await api.client.get(f"/patients/{uuid.uuid4()}", headers=api.auth()), 404)
    problem(await api.client.get("/patients/not-a-uuid", headers=api.auth()), 422)


async def test_invalid_registrations_are_refused_with_every_problem_named(api: RegistrationApi) -> None:
    name = unique_name()
    outbox_before = await count(api, "SELECT count(*) AS n FROM outbox")
    body = patient_body(
        name,
        first_name="Ma*ria",
        birth_date=(date.today() + timedelta(days=2)).isoformat(),
        address={"line1": "1 Main~St", "city": "Austin", "state": "ZZ", "postal_code": "7870"},
        phone="555-0134",
        email="maria@",
    )
    refused = problem(await api.client.post("/patients", json=body, headers=api.auth()), 422)
    assert refused["type"] == "https://rcm.dev/problems/validation-failed"
    assert {e["field"] for e in refused["errors"]} == {
        "first_name",
        "birth_date",
        "address.line1",
        "address.state",
        "address.postal_code",
        "phone",
        "email",
    }
    said = json.dumps({key: value for key, value in refused.items() if key != "correlation_id"})  # random hex
    for echoed in ("Ma*ria", "1 Main~St", "ZZ", "7870", "555-0134", "maria@"):
        assert echoed not in said

    missing = {k: v for k, v in patient_body(name).items() if k != "last_name"}
    refused = problem(await api.client.post("/patients", json={**missing, "nickname": "M"}, headers=api.auth()), 422)
    assert refused["errors"] == [
        {"field": "last_name", "message": "is required"},
        {"field": "nickname", "message": "is not allowed"},
    ]
    refused = problem(
        await api.client.post("/patients", json=patient_body(name, birth_date="1984-02-30"), headers=api.auth()), 422
    )
    assert refused["errors"] == [{"field": "birth_date", "message": "is not a valid date"}]
    refused = problem(
        await api.client.post(
            "/patients", content=b'{"first_name": "Maria",', headers={**api.auth(), "content-type": "application/json"}
        ),
        422,
    )
    assert refused["errors"] == [{"field": "body", "message": "is not valid JSON"}]
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE last_name = :name", name=name) == 0
    assert await count(api, "SELECT count(*) AS n FROM outbox") == outbox_before


# --- SSN: refused without a trace, stored encrypted, never returned ------------------------------------


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


# --- duplicates ---------------------------------------------------------------------------------------


async def test_a_twin_registration_is_409_with_the_existing_patients_id(api: RegistrationApi) -> None:
    name = unique_name()
    first = await register(api, name)
    elsewhere = {"line1": "9 Other Rd", "city": "Dallas", "state": "TX", "postal_code": "75201"}
    twin = patient_body(name.upper(), first_name=" maria ", phone=None, email=None, address=elsewhere)
    conflict = problem(await api.client.post("/patients", json=twin, headers=api.auth()), 409)
    assert conflict["existing_patient_id"] == first["id"]
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE last_name_key = :k", k=name.upper()) == 1
    assert [r["event_type"] for r in await outbox_of(api, first["id"])] == ["rcm.registration.patient_registered"]


async def test_a_second_holder_of_a_policy_is_409_but_a_dependant_may_share_it(api: RegistrationApi) -> None:
    holder = await register(api, unique_name())
    other = await register(api, unique_name(), first_name="Ana")
    member_id = unique_member_id()
    await add_coverage(api, holder["id"], member_id=member_id)

    spelled_apart = f"{member_id[:4]}-{member_id[4:].lower()}"
    conflict = problem(
        await api.client.post(
            f"/patients/{other['id']}/coverages", json=coverage_body(spelled_apart), headers=api.auth()
        ),
        409,
    )
    assert conflict["existing_patient_id"] == holder["id"]
    assert [r["event_type"] for r in await outbox_of(api, other["id"])] == ["rcm.registration.patient_registered"]

    subscriber = {"first_name": "Maria", "last_name": holder["last_name"], "birth_date": BIRTH_DATE, "sex": "F"}
    dependant = await add_coverage(api, other["id"], member_id=member_id, relationship="spouse", subscriber=subscriber)
    assert dependant["subscriber"] == subscriber
    assert dependant["relationship"] == "spouse"


async def test_coverage_rules_are_enforced(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    primary = await add_coverage(api, patient["id"])
    url = f"/patients/{patient['id']}/coverages"

    overlap = problem(
        await api.client.post(url, json=coverage_body(unique_member_id(), payer_id="AETNA"), headers=api.auth()), 409
    )
    assert overlap["coverage_id"] == primary["id"]
    refused = problem(
        await api.client.post(
            url,
            json=coverage_body("A", relationship="child", termination_date="2025-12-31", order="secondary"),
            headers=api.auth(),
        ),
        422,
    )
    assert {e["field"] for e in refused["errors"]} == {"member_id", "subscriber", "termination_date"}
    wrong_order = problem(
        await api.client.post(url, json=coverage_body(unique_member_id(), order="quaternary"), headers=api.auth()), 422
    )
    assert wrong_order["errors"] == [{"field": "order", "message": "must be one of the allowed values"}]
    problem(
        await api.client.post(f"/patients/{uuid.uuid4()}/coverages", json=coverage_body("W1"), headers=api.auth()), 404
    )
    assert [c["id"] for c in (await api.client.get(url, headers=api.auth())).json()] == [primary["id"]]

    patch_url = f"{url}/{primary['id']}"
    no_subscriber = problem(await api.client.patch(patch_url, json={"relationship": "spouse"}, headers=api.auth()), 422)
    assert no_subscriber["errors"] == [
        {"field": "subscriber", "message": "is required when the patient is not the subscriber"}
    ]
    cleared = problem(await api.client.patch(patch_url, json={"member_id": None}, headers=api.auth()), 422)
    assert cleared["errors"] == [{"field": "member_id", "message": "cannot be cleared"}]
    problem(await api.client.patch(f"{url}/{uuid.uuid4()}", json={"plan_type": "HMO"}, headers=api.auth()), 404)
    early_end = {"termination_date": "2025-12-31"}
    problem(await api.client.post(f"{patch_url}/end", json=early_end, headers=api.auth()), 422)
    bad_reason = {"termination_date": "2026-06-30", "reason": "moved~away"}
    assert problem(await api.client.post(f"{patch_url}/end", json=bad_reason, headers=api.auth()), 422)["errors"] == [
        {"field": "reason", "message": "holds characters that are not allowed"}
    ]
    unchanged = (await api.client.get(url, headers=api.auth())).json()
    assert unchanged == [primary]
    assert [r["event_type"] for r in await outbox_of(api, patient["id"])] == [
        "rcm.registration.patient_registered",
        "rcm.registration.coverage_added",
    ]


async def test_concurrent_registrations_of_one_person_create_one_patient(api: RegistrationApi) -> None:
    name = unique_name()
    responses = await asyncio.gather(
        *(api.client.post("/patients", json=patient_body(name), headers=api.auth()) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409], [r.text for r in responses]
    [winner] = [r.json()["id"] for r in responses if r.status_code == 201]
    for response in responses:
        if response.status_code == 409:
            assert problem(response, 409)["existing_patient_id"] == winner
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE last_name = :name", name=name) == 1
    assert len(await outbox_of(api, winner)) == 1


async def test_concurrent_retries_with_one_idempotency_key_answer_alike(api: RegistrationApi) -> None:
    name = unique_name()
    headers = api.auth(Idempotency_Key=f"retry-{uuid.uuid4()}")
    responses = await asyncio.gather(
        *(api.client.post("/patients", json=patient_body(name), headers=headers) for _ in range(5))
    )
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 4
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE last_name = :name", name=name) == 1


# --- idempotency and optimistic concurrency ---------------------------------------------------------


async def test_a_create_with_an_idempotency_key_happens_once(api: RegistrationApi) -> None:
    name = unique_name()
    key = f"create-{uuid.uuid4()}"
    body = patient_body(name)
    first = await api.client.post("/patients", json=body, headers=api.auth(Idempotency_Key=key))
    again = await api.client.post("/patients", json=body, headers=api.auth(Idempotency_Key=key))

    assert (first.status_code, again.status_code) == (201, 201)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    patient_id = first.json()["id"]
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE last_name = :name", name=name) == 1
    assert len(await outbox_of(api, patient_id)) == 1

    changed = problem(
        await api.client.post("/patients", json={**body, "phone": "2145550199"}, headers=api.auth(Idempotency_Key=key)),
        422,
    )
    assert changed["type"] == "https://rcm.dev/problems/idempotency-key-reused"
    # The key belongs to its caller: another clerk's request with it is a request of its own (here a twin).
    other_clerk = await api.client.post(
        "/patients", json=body, headers=api.auth(subject="desk-clerk-2", Idempotency_Key=key)
    )
    assert problem(other_clerk, 409)["existing_patient_id"] == patient_id
    bad_key = await api.client.post("/patients", json=body, headers=api.auth(Idempotency_Key="two words"))
    assert problem(bad_key, 422)["errors"][0]["field"] == "Idempotency-Key"
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE last_name = :name", name=name) == 1

    coverage_key = api.auth(Idempotency_Key=f"coverage-{uuid.uuid4()}")
    url = f"/patients/{patient_id}/coverages"
    cov_body = coverage_body(unique_member_id())
    cov_first = await api.client.post(url, json=cov_body, headers=coverage_key)
    cov_again = await api.client.post(url, json=cov_body, headers=coverage_key)
    assert (cov_first.status_code, cov_again.status_code) == (201, 201)
    assert cov_again.json()["id"] == cov_first.json()["id"]
    assert cov_again.headers["idempotent-replayed"] == "true"
    assert await count(api, "SELECT count(*) AS n FROM coverage WHERE patient_id = :id", id=patient_id) == 1
    assert [r["event_type"] for r in await outbox_of(api, patient_id)] == [
        "rcm.registration.patient_registered",
        "rcm.registration.coverage_added",
    ]


async def test_a_replay_is_read_again_and_audited_and_nothing_of_the_answer_is_stored(api: RegistrationApi) -> None:
    name = unique_name()
    key = f"replay-{uuid.uuid4()}"
    body = patient_body(name)
    first = await api.client.post("/patients", json=body, headers=api.auth(Idempotency_Key=key))
    patient_id = first.json()["id"]
    await add_coverage(api, patient_id)  # the patient changes after the first answer
    again = await api.client.post("/patients", json=body, headers=api.auth(Idempotency_Key=key))

    assert again.status_code == 201
    assert again.json()["version"] == first.json()["version"] + 1  # the patient as it is now
    [stored] = await api.rows("SELECT * FROM idempotency_record WHERE key = :key", key=key)
    assert stored["resource_id"] == patient_id
    assert name not in json.dumps(stored, default=str)
    reads = await api.rows(
        "SELECT action FROM audit_log WHERE patient_id = :id AND resource_type = 'patient' ORDER BY id", id=patient_id
    )
    assert [row["action"] for row in reads] == ["create", "read"]


async def test_a_patch_cannot_blank_a_required_name(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    refused = await api.client.patch(f"/patients/{patient['id']}", json={"first_name": " "}, headers=api.auth())
    assert problem(refused, 422)["errors"] == [{"field": "first_name", "message": "is required"}]


async def test_a_coverage_ends_once(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    coverage = await add_coverage(api, patient["id"])
    url = f"/patients/{patient['id']}/coverages/{coverage['id']}/end"
    ended = await api.client.post(url, json={"termination_date": "2026-06-30"}, headers=api.auth())
    again = await api.client.post(url, json={"termination_date": "2027-06-30"}, headers=api.auth())

    assert ended.status_code == 200
    problem(again, 409)
    read = await api.client.get(f"/patients/{patient['id']}/coverages/{coverage['id']}", headers=api.auth())
    assert read.json()["termination_date"] == "2026-06-30"


async def test_patch_honours_if_match(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    url = f"/patients/{patient['id']}"
    etag = (await api.client.get(url, headers=api.auth())).headers["etag"]
    assert etag == '"v1"'

    updated = await api.client.patch(url, json={"phone": "214-555-0199"}, headers=api.auth(If_Match=etag))
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == '"v2"'
    assert (updated.json()["version"], updated.json()["phone"]) == (2, "2145550199")

    stale = problem(await api.client.patch(url, json={"phone": "2145550100"}, headers=api.auth(If_Match=etag)), 412)
    assert stale["type"] == "https://rcm.dev/problems/precondition-failed"
    malformed = problem(await api.client.patch(url, json={"phone": "2145550100"}, headers=api.auth(If_Match="*")), 422)
    assert malformed["errors"][0]["field"] == "If-Match"
    current = await api.client.get(url, headers=api.auth())
    assert (current.json()["phone"], current.headers["etag"]) == ("2145550199", '"v2"')

    unconditional = await api.client.patch(url, json={"middle_name": "Luisa"}, headers=api.auth())
    assert unconditional.headers["etag"] == '"v3"'
    cleared = problem(await api.client.patch(url, json={"last_name": None}, headers=api.auth()), 422)
    assert cleared["errors"] == [{"field": "last_name", "message": "cannot be cleared"}]
    problem(await api.client.patch(f"/patients/{uuid.uuid4()}", json={"phone": None}, headers=api.auth()), 404)

    events = await outbox_of(api, patient["id"])
    assert [json.loads(r["payload"]).get("changed_fields") for r in events] == [None, ["phone"], ["middle_name"]]


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


# --- merges ---------------------------------------------------------------------------------------------


async def test_merge_moves_coverages_and_retires_the_duplicate(api: RegistrationApi) -> None:
    name = unique_name()
    survivor = await register(api, name)
    duplicate = await register(api, name, first_name="Mariah")
    moved = await add_coverage(api, duplicate["id"], order="secondary")

    merged = await api.client.post(
        f"/patients/{survivor['id']}/merge", json={"duplicate_id": duplicate["id"]}, headers=api.auth()
    )
    assert merged.status_code == 200, merged.text
    assert [c["id"] for c in merged.json()["coverages"]] == [moved["id"]]
    assert merged.json()["coverages"][0]["patient_id"] == survivor["id"]

    retired = (await api.client.get(f"/patients/{duplicate['id']}", headers=api.auth())).json()
    assert (retired["status"], retired["merged_into_id"], retired["coverages"]) == ("merged", survivor["id"], [])
    [row] = await api.rows("SELECT patient_id FROM coverage WHERE id = :id", id=moved["id"])
    assert row["patient_id"] == survivor["id"]

    frozen = problem(
        await api.client.patch(f"/patients/{duplicate['id']}", json={"phone": "2145550199"}, headers=api.auth()), 409
    )
    assert frozen["merged_into_id"] == survivor["id"]
    again = await api.client.post(
        f"/patients/{survivor['id']}/merge", json={"duplicate_id": duplicate["id"]}, headers=api.auth()
    )
    problem(again, 409)
    itself = await api.client.post(
        f"/patients/{survivor['id']}/merge", json={"duplicate_id": survivor["id"]}, headers=api.auth()
    )
    assert problem(itself, 422)["errors"] == [{"field": "duplicate_id", "message": "is the surviving patient itself"}]
    unknown = await api.client.post(
        f"/patients/{survivor['id']}/merge", json={"duplicate_id": str(uuid.uuid4())}, headers=api.auth()
    )
    problem(unknown, 404)

    [event] = [r for r in await outbox_of(api, survivor["id"]) if r["event_type"].endswith("patients_merged")]
    assert json.loads(event["payload"]) == {
        "surviving_patient_id": survivor["id"],
        "merged_patient_id": duplicate["id"],
        "moved_coverage_ids": [moved["id"]],
        "ended_coverage_ids": [],
    }
    # The retired record no longer blocks its identity: the same person can be registered afresh.
    assert (
        await api.client.post("/patients", json=patient_body(name, first_name="Mariah"), headers=api.auth())
    ).status_code == 201


async def test_a_merge_that_would_double_an_order_is_409_and_changes_nothing(api: RegistrationApi) -> None:
    survivor = await register(api, unique_name())
    duplicate = await register(api, unique_name())
    await add_coverage(api, survivor["id"])
    blocked = await add_coverage(api, duplicate["id"], payer_id="AETNA")

    refused = await api.client.post(
        f"/patients/{survivor['id']}/merge", json={"duplicate_id": duplicate["id"]}, headers=api.auth()
    )
    problem(refused, 409)
    still = (await api.client.get(f"/patients/{duplicate['id']}", headers=api.auth())).json()
    assert (still["status"], [c["id"] for c in still["coverages"]]) == ("active", [blocked["id"]])
    assert not [r for r in await outbox_of(api, survivor["id"]) if r["event_type"].endswith("patients_merged")]


# --- one registrar's day: every change an event, every PHI access an audit record -----------------------


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


# --- access control -----------------------------------------------------------------------------------

PID, CID = str(uuid.uuid4()), str(uuid.uuid4())
ROUTES = [
    ("POST", "/patients"),
    ("GET", "/patients?last_name=Gonzalez"),
    ("GET", f"/patients/{PID}"),
    ("PATCH", f"/patients/{PID}"),
    ("POST", f"/patients/{PID}/merge"),
    ("GET", f"/patients/{PID}/coverages"),
    ("POST", f"/patients/{PID}/coverages"),
    ("GET", f"/patients/{PID}/coverages/{CID}"),
    ("PATCH", f"/patients/{PID}/coverages/{CID}"),
    ("POST", f"/patients/{PID}/coverages/{CID}/end"),
]


def test_the_route_list_covers_the_whole_api() -> None:
    declared = {
        (method, route.path) for route in router.routes if isinstance(route, APIRoute) for method in route.methods or ()
    }
    listed = {(method, re.sub(r"/[0-9a-f-]{36}", "/{id}", path.split("?")[0])) for method, path in ROUTES}
    normalised = {(m, re.sub(r"\{[a-z_]+\}", "{id}", p)) for m, p in declared}
    assert listed == normalised


def _expired_token(private_pem: str) -> str:
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = {
        "sub": "desk-clerk-1",
        "roles": ["front_desk"],
        "aud": "rcm",
        "iss": "rcm-local",
        "iat": past,
        "exp": past + timedelta(minutes=5),
    }
    return jwt.encode(claims, private_pem, algorithm="ES256")


async def test_every_endpoint_needs_a_valid_token(api: RegistrationApi) -> None:
    stranger_key, _ = generate_keypair()
    bad_tokens = {
        "none": None,
        "garbage": "not-a-jwt",
        "foreign-key": mint_token(stranger_key, subject="x", roles=["admin"], audience="rcm", issuer="rcm-local"),
        "wrong-audience": mint_token(
            api.private_pem, subject="x", roles=["admin"], audience="billing", issuer="rcm-local"
        ),
        "wrong-issuer": mint_token(api.private_pem, subject="x", roles=["admin"], audience="rcm", issuer="elsewhere"),
        "expired": _expired_token(api.private_pem),
    }
    for method, path in ROUTES:
        for kind, token in bad_tokens.items():
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            response = await api.client.request(method, path, json={}, headers=headers)
            assert response.status_code == 401, f"{method} {path} with {kind} token: {response.status_code}"
            assert response.headers["www-authenticate"].startswith('Bearer realm="rcm"')
            body = problem(response, 401)
            assert body["type"] == "https://rcm.dev/problems/authentication-required"
            if token is not None:
                assert token not in response.text
    assert await count(api, "SELECT count(*) AS n FROM audit_log WHERE patient_id = :p", p=PID) == 0


async def test_a_role_without_the_scope_is_403_and_changes_nothing(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    coverage = await add_coverage(api, patient["id"])
    pid, cid = patient["id"], coverage["id"]
    other = await register(api, unique_name())
    audited_before = await count(api, "SELECT count(*) AS n FROM audit_log WHERE patient_id = :p", p=pid)

    refused = [
        ("coder", "POST", "/patients", patient_body(unique_name()), "patients:write"),
        ("coder", "PATCH", f"/patients/{pid}", {"phone": "2145550199"}, "patients:write"),
        ("coder", "POST", f"/patients/{pid}/merge", {"duplicate_id": other["id"]}, "patients:merge"),
        (
            "coder",
            "POST",
            f"/patients/{pid}/coverages",
            coverage_body(unique_member_id(), order="secondary"),
            "coverages:write",
        ),
        ("auditor", "PATCH", f"/patients/{pid}", {"phone": "2145550199"}, "patients:write"),
        ("auditor", "POST", f"/patients/{pid}/merge", {"duplicate_id": other["id"]}, "patients:merge"),
        ("auditor", "PATCH", f"/patients/{pid}/coverages/{cid}", {"plan_type": "HMO"}, "coverages:write"),
        (
            "auditor",
            "POST",
            f"/patients/{pid}/coverages/{cid}/end",
            {"termination_date": "2026-06-30"},
            "coverages:write",
        ),
        ("biller", "POST", f"/patients/{pid}/merge", {"duplicate_id": other["id"]}, "patients:merge"),
    ]
    for role, method, url, body, scope in refused:
        response = await api.client.request(method, url, json=body, headers=api.auth(role, subject=f"{role}-1"))
        denied = problem(response, 403)
        assert denied["missing_scopes"] == [scope], (role, method, url)

    for role in ("coder", "auditor", "front_desk"):
        assert (await api.client.get(f"/patients/{pid}", headers=api.auth(role))).status_code == 200
        assert (await api.client.get(f"/patients/{pid}/coverages", headers=api.auth(role))).status_code == 200
    assert (
        await api.client.get("/patients", params={"mrn": patient["mrn"]}, headers=api.auth("coder"))
    ).status_code == 200

    after = (await api.client.get(f"/patients/{pid}", headers=api.auth())).json()
    assert (after["version"], after["phone"], after["status"]) == (2, "5125550134", "active")
    assert [c["status"] for c in after["coverages"]] == ["active"]
    actions = await api.rows("SELECT actor, action FROM audit_log WHERE patient_id = :p ORDER BY id", p=pid)
    assert len(actions) == audited_before + 8
    assert {r["action"] for r in actions[audited_before:]} == {"read", "search"}
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE status = 'merged' AND id = :o", o=other["id"]) == 0


async def test_health_probes(api: RegistrationApi) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "alive"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "broker": "unreachable"}
