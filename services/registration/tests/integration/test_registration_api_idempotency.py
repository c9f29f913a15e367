"""Registration's HTTP API end to end, idempotency and optimistic concurrency: a create with an
Idempotency-Key happens once (concurrent retries too) and its replay is read again and audited; a PATCH honours
If-Match.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING

from rcm_registration.testing import (
    add_coverage,
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
