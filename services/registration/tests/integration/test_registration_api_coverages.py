"""Registration's HTTP API end to end, coverages: their rules are enforced, and a coverage ends once.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from rcm_registration.testing import (
    add_coverage,
    coverage_body,
    outbox_of,
    problem,
    register,
    unique_member_id,
    unique_name,
)

if TYPE_CHECKING:
    from rcm_registration.testing import RegistrationApi


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
