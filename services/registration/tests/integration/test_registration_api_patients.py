"""Registration's HTTP API end to end, patients: registered, read and found; bad searches and reads, invalid
registrations and a blanked name refused with every problem named.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

from rcm_registration.testing import BIRTH_DATE, SSN, SSN_DIGITS, count, patient_body, problem, register, unique_name

if TYPE_CHECKING:
    from rcm_registration.testing import RegistrationApi


def luhn_valid(number: str) -> bool:
    digits = [int(ch) for ch in reversed(number)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0


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


async def test_a_search_past_the_deepest_page_is_refused_not_failed(api: RegistrationApi) -> None:
    # Found by schemathesis: an offset beyond the database's integers answered 500.
    for offset in (1_000_001, 1230966695848023162880):
        refused = problem(
            await api.client.get("/patients", params={"last_name": "X", "offset": offset}, headers=api.auth()), 422
        )
        assert refused["errors"] == [{"field": "query.offset", "message": "is too large"}]


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


async def test_a_patch_cannot_blank_a_required_name(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    refused = await api.client.patch(f"/patients/{patient['id']}", json={"first_name": " "}, headers=api.auth())
    assert problem(refused, 422)["errors"] == [{"field": "first_name", "message": "is required"}]
