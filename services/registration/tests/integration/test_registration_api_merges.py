"""Registration's HTTP API end to end, merges: a merge moves the coverages and retires the duplicate, and one
that would double a coverage order is 409 and changes nothing.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from rcm_registration.testing import add_coverage, outbox_of, patient_body, problem, register, unique_name

if TYPE_CHECKING:
    from rcm_registration.testing import RegistrationApi


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
