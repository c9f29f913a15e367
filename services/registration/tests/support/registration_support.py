"""What registration's API tests share: the bodies of a patient and a coverage, registering them over HTTP,
and reading a problem, the outbox and counts back.

The tests run the real app, its lifespan and a real database (each test runs on SQLite and, when reachable,
PostgreSQL), read back through the outbox, audit and patient tables. Tests on PostgreSQL share one database
per module, so every test registers people of its own (unique, letters-only last names and member ids) and
reads back only what it created.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from services.registration.tests.conftest import RegistrationApi

PROBLEM = "application/problem+json"
SSN = "587-36-8829"
SSN_DIGITS = "587368829"
BIRTH_DATE = "1984-03-09"


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
