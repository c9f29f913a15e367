"""Registration's HTTP API end to end, duplicates: a twin registration and a second holder of a policy are
409 with the existing patient's id (a dependant may share the policy), and concurrent registrations of one
person create one patient.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rcm_registration.testing import (
    BIRTH_DATE,
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
