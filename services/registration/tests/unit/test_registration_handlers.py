"""Registration's handlers over in-memory fakes: what each use case commits, publishes and audits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest

from rcm_common.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from rcm_common.events import registration as contract
from rcm_registration.adapters.repository import mrn_with_check_digit
from rcm_registration.domain import model
from rcm_registration.service_layer import commands, handlers

if TYPE_CHECKING:
    from rcm_registration.testing import Access, FakeDatabase, FakeUnitOfWork

    NewUow = Callable[[], FakeUnitOfWork]

SSN = "219-09-9999"


def register_cmd(**overrides: Any) -> commands.RegisterPatient:
    values: dict[str, Any] = {
        "first_name": "Maria",
        "last_name": "Gonzalez",
        "birth_date": date(1984, 3, 9),
        "sex": "F",
        "address": {"line1": "100 Congress Ave", "city": "Austin", "state": "tx", "postal_code": "787011234"},
        "phone": "(512) 555-0134",
        "email": "maria@example.org",
    }
    return commands.RegisterPatient.model_validate({**values, **overrides})


def coverage_cmd(**overrides: Any) -> commands.AddCoverage:
    values: dict[str, Any] = {
        "payer_id": "BCBSTX",
        "payer_name": "Blue Cross Blue Shield of Texas",
        "member_id": "xyz123456789",
        "group_number": "GRP100",
        "plan_type": "PPO",
        "effective_date": "2026-01-01",
    }
    return commands.AddCoverage.model_validate({**values, **overrides})


def access(action: str, resource_type: str, resource_id: object | None, patient_id: object) -> Access:
    return (action, resource_type, None if resource_id is None else str(resource_id), str(patient_id))


async def register(new_uow: NewUow, **overrides: Any) -> uuid.UUID:
    view = await handlers.register_patient(register_cmd(**overrides), new_uow())
    return view.id


# --- register ---------------------------------------------------------------------------------------


async def test_register_commits_the_patient_its_event_its_audit_record_and_its_response(
    new_uow: NewUow, database: FakeDatabase
) -> None:
    uow = new_uow()
    view = await handlers.register_patient(register_cmd(ssn=SSN), uow)

    assert uow.committed
    assert view.mrn == mrn_with_check_digit(1)
    assert (view.ssn_last4, view.address.state, view.address.postal_code, view.phone) == (
        "9999",
        "TX",
        "78701-1234",
        "5125550134",
    )
    stored = database.patients[view.id]
    assert stored.ssn == "219099999"
    [event] = database.events_of(contract.PatientRegistered)
    assert event == contract.PatientRegistered(
        patient_id=view.id,
        mrn=view.mrn,
        first_name="Maria",
        last_name="Gonzalez",
        birth_date=date(1984, 3, 9),
        sex="F",
        address=contract.Address(line1="100 Congress Ave", city="Austin", state="TX", postal_code="78701-1234"),
        phone="5125550134",
        email="maria@example.org",
        guarantor=contract.Guarantor(relationship="self"),
    )
    [(_, envelope)] = database.published
    assert (envelope.subject, envelope.event_type) == (str(view.id), "rcm.registration.patient_registered")
    assert "ssn" not in event.model_dump()
    assert "219099999" not in event.model_dump_json()
    assert database.accesses == [access("create", "patient", view.id, view.id)]
    assert database.responses == [(201, str(view.id))]  # the id only: a replay reads the patient again


async def test_mrns_are_handed_out_in_turn(new_uow: NewUow, database: FakeDatabase) -> None:
    await register(new_uow)
    await register(new_uow, first_name="Ana")
    assert sorted(p.mrn for p in database.patients.values()) == [mrn_with_check_digit(1), mrn_with_check_digit(2)]


async def test_invalid_registration_lists_every_problem_and_touches_nothing(
    new_uow: NewUow, database: FakeDatabase
) -> None:
    uow = new_uow()
    bad = register_cmd(
        first_name="Ma*ria",
        birth_date=date(2999, 1, 1),
        address={"line1": "1 Main", "city": "Austin", "state": "ZZ", "postal_code": "7870"},
        ssn="666-12-3456",
    )
    with pytest.raises(ValidationFailed) as raised:
        await handlers.register_patient(bad, uow)
    assert {e["field"] for e in raised.value.errors} == {
        "first_name",
        "birth_date",
        "address.state",
        "address.postal_code",
        "ssn",
    }
    assert "666" not in str(raised.value.errors)
    assert not uow.entered
    assert (database.patients, database.published, database.accesses) == ({}, [], [])


async def test_today_is_the_injected_clocks_day(new_uow: NewUow, database: FakeDatabase) -> None:
    def new_years_eve_1983() -> datetime:
        return datetime(1983, 12, 31, 23, 0, tzinfo=UTC)

    with pytest.raises(ValidationFailed) as raised:  # born in 1984: not yet, on the clock's day
        await handlers.register_patient(register_cmd(), new_uow(), clock=new_years_eve_1983)
    assert [e["field"] for e in raised.value.errors] == ["birth_date"]
    await handlers.register_patient(register_cmd(), new_uow())
    assert len(database.patients) == 1


async def test_a_twin_is_a_conflict_naming_the_existing_patient_and_publishes_nothing(
    new_uow: NewUow, database: FakeDatabase
) -> None:
    existing = await register(new_uow)
    published_before = list(database.published)
    uow = new_uow()
    with pytest.raises(Conflict) as raised:
        await handlers.register_patient(register_cmd(first_name="MARIA", last_name="Gon-zalez", phone=None), uow)
    assert raised.value.extra == {"existing_patient_id": str(existing)}
    assert not uow.committed
    assert database.published == published_before
    assert len(database.patients) == 1
    assert database.last_mrn == 1


async def test_a_different_birth_date_is_another_person(new_uow: NewUow, database: FakeDatabase) -> None:
    await register(new_uow)
    await register(new_uow, birth_date="1984-03-10")
    assert len(database.patients) == 2


async def test_a_merged_record_does_not_count_as_a_twin(new_uow: NewUow, database: FakeDatabase) -> None:
    survivor = await register(new_uow)
    duplicate = await register(new_uow, first_name="Mariah")
    await handlers.merge_patients(survivor, commands.MergePatients(duplicate_id=duplicate), new_uow())
    again = await register(new_uow, first_name="Mariah")
    assert again not in (survivor, duplicate)


# --- read and search --------------------------------------------------------------------------------


async def test_get_patient_records_a_read(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow, ssn=SSN)
    database.accesses.clear()
    uow = new_uow()
    view = await handlers.get_patient(patient_id, uow)
    assert uow.committed
    assert view.ssn_last4 == "9999"
    assert "ssn" not in view.model_dump()
    assert database.accesses == [access("read", "patient", patient_id, patient_id)]


async def test_an_unknown_patient_is_not_found_and_not_audited(new_uow: NewUow, database: FakeDatabase) -> None:
    with pytest.raises(NotFound):
        await handlers.get_patient(uuid.uuid4(), new_uow())
    assert database.accesses == []


async def test_search_needs_a_criterion(new_uow: NewUow) -> None:
    uow = new_uow()
    with pytest.raises(ValidationFailed) as raised:
        await handlers.search_patients(uow)
    assert raised.value.errors[0]["field"] == "query"
    assert not uow.entered


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (101, 0), (10, -1), (10, 1_000_001)])
async def test_search_bounds_the_page(new_uow: NewUow, limit: int, offset: int) -> None:
    with pytest.raises(ValidationFailed):
        await handlers.search_patients(new_uow(), last_name="Gonzalez", limit=limit, offset=offset)


async def test_search_finds_by_name_prefix_and_birth_date_and_audits_each_hit(
    new_uow: NewUow, database: FakeDatabase
) -> None:
    first = await register(new_uow)
    second = await register(new_uow, first_name="Ana", birth_date="1990-07-01")
    await register(new_uow, last_name="Smith")
    database.accesses.clear()

    found = await handlers.search_patients(new_uow(), last_name="gonz")
    assert [p.id for p in found] == [second, first]
    assert database.accesses == [
        access("search", "patient", second, second),
        access("search", "patient", first, first),
    ]
    found = await handlers.search_patients(new_uow(), last_name="Gonzalez", birth_date=date(1984, 3, 9))
    assert [p.id for p in found] == [first]
    assert await handlers.search_patients(new_uow(), mrn="999999998") == []


# --- update -----------------------------------------------------------------------------------------


async def test_update_publishes_patient_updated_with_the_changed_fields(
    new_uow: NewUow, database: FakeDatabase
) -> None:
    patient_id = await register(new_uow)
    database.published.clear()
    database.accesses.clear()
    update = commands.UpdatePatient.model_validate(
        {
            "phone": "214-555-0199",
            "email": None,
            "address": {"line1": "1 Elm St", "city": "Dallas", "state": "TX", "postal_code": "75201"},
        }
    )
    view = await handlers.update_patient(patient_id, update, new_uow(), expected_version=1)

    assert view.version == 2
    [event] = database.events_of(contract.PatientUpdated)
    assert event.changed_fields == ("address", "phone", "email")
    assert (event.phone, event.email, event.address.city) == ("2145550199", None, "Dallas")
    assert database.accesses == [access("update", "patient", patient_id, patient_id)]
    assert database.patients[patient_id].details.phone == "2145550199"


async def test_an_ssn_only_update_is_stored_audited_and_not_published(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    database.published.clear()
    view = await handlers.update_patient(patient_id, commands.UpdatePatient(ssn=SSN), new_uow())
    assert view.ssn_last4 == "9999"
    assert database.patients[patient_id].ssn == "219099999"
    assert database.published == []
    assert database.accesses[-1] == access("update", "patient", patient_id, patient_id)


async def test_update_refuses_clearing_a_required_field(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    uow = new_uow()
    with pytest.raises(ValidationFailed) as raised:
        await handlers.update_patient(patient_id, commands.UpdatePatient(last_name=None, sex=None), uow)
    assert [e["field"] for e in raised.value.errors] == ["last_name", "sex"]
    assert not uow.committed


async def test_update_with_a_stale_version_is_refused(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    await handlers.update_patient(patient_id, commands.UpdatePatient(phone="2145550199"), new_uow())
    published = len(database.published)
    with pytest.raises(PreconditionFailed):
        await handlers.update_patient(
            patient_id, commands.UpdatePatient(phone="2145550100"), new_uow(), expected_version=1
        )
    assert database.patients[patient_id].details.phone == "2145550199"
    assert len(database.published) == published


async def test_renaming_into_another_patient_is_a_conflict(new_uow: NewUow, database: FakeDatabase) -> None:
    maria = await register(new_uow)
    ana = await register(new_uow, first_name="Ana")
    with pytest.raises(Conflict) as raised:
        await handlers.update_patient(ana, commands.UpdatePatient(first_name="Maria"), new_uow())
    assert raised.value.extra == {"existing_patient_id": str(maria)}
    assert database.patients[ana].details.first_name == "Ana"


# --- coverages --------------------------------------------------------------------------------------


async def test_add_coverage_publishes_coverage_added(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    database.accesses.clear()
    uow = new_uow()
    view = await handlers.add_coverage(patient_id, coverage_cmd(), uow)

    assert uow.committed
    assert (view.member_id, view.status, view.order, view.relationship) == ("XYZ123456789", "active", "primary", "self")
    [event] = database.events_of(contract.CoverageAdded)
    assert (event.patient_id, event.coverage_id, event.member_id, event.payer_id) == (
        patient_id,
        view.id,
        "XYZ123456789",
        "BCBSTX",
    )
    assert database.accesses == [access("create", "coverage", view.id, patient_id)]
    assert database.responses[-1] == (201, str(view.id))


async def test_a_second_holder_of_the_same_policy_is_a_conflict(new_uow: NewUow, database: FakeDatabase) -> None:
    holder = await register(new_uow)
    other = await register(new_uow, first_name="Ana")
    await handlers.add_coverage(holder, coverage_cmd(), new_uow())
    published = len(database.published)
    with pytest.raises(Conflict) as raised:
        await handlers.add_coverage(other, coverage_cmd(member_id="XYZ-123456789"), new_uow())
    assert raised.value.extra == {"existing_patient_id": str(holder)}
    assert len(database.published) == published
    assert database.patients[other].coverages == []


async def test_the_same_policy_twice_on_one_patient_is_a_conflict(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    first = await handlers.add_coverage(patient_id, coverage_cmd(), new_uow())
    with pytest.raises(Conflict) as raised:
        await handlers.add_coverage(patient_id, coverage_cmd(order="secondary"), new_uow())
    assert raised.value.extra == {"coverage_id": str(first.id)}


async def test_a_dependant_may_share_the_subscribers_member_id(new_uow: NewUow, database: FakeDatabase) -> None:
    holder = await register(new_uow)
    child = await register(new_uow, first_name="Sofia", birth_date="2015-05-05")
    await handlers.add_coverage(holder, coverage_cmd(), new_uow())
    subscriber = {"first_name": "Maria", "last_name": "Gonzalez", "birth_date": "1984-03-09", "sex": "F"}
    view = await handlers.add_coverage(child, coverage_cmd(relationship="child", subscriber=subscriber), new_uow())
    assert view.subscriber == contract.Subscriber(
        first_name="Maria", last_name="Gonzalez", birth_date=date(1984, 3, 9), sex="F"
    )


async def test_an_invalid_coverage_touches_nothing(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    uow = new_uow()
    with pytest.raises(ValidationFailed) as raised:
        await handlers.add_coverage(
            patient_id,
            coverage_cmd(member_id="X", relationship="spouse", termination_date="2025-01-01"),
            uow,
        )
    assert {e["field"] for e in raised.value.errors} == {"member_id", "subscriber", "termination_date"}
    assert not uow.entered


async def test_update_coverage_publishes_coverage_updated(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    coverage = await handlers.add_coverage(patient_id, coverage_cmd(), new_uow())
    view = await handlers.update_coverage(
        patient_id, coverage.id, commands.UpdateCoverage(group_number="grp200", plan_type="HMO"), new_uow()
    )
    assert (view.group_number, view.plan_type) == ("GRP200", "HMO")
    [event] = database.events_of(contract.CoverageUpdated)
    assert event.changed_fields == ("group_number", "plan_type")
    assert database.accesses[-1] == access("update", "coverage", coverage.id, patient_id)


async def test_update_coverage_to_a_dependant_needs_the_subscriber(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    coverage = await handlers.add_coverage(patient_id, coverage_cmd(), new_uow())
    with pytest.raises(ValidationFailed) as raised:
        await handlers.update_coverage(
            patient_id, coverage.id, commands.UpdateCoverage(relationship="spouse"), new_uow()
        )
    assert raised.value.errors == [
        {"field": "subscriber", "message": "is required when the patient is not the subscriber"}
    ]


async def test_end_coverage_publishes_coverage_ended(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    coverage = await handlers.add_coverage(patient_id, coverage_cmd(), new_uow())
    view = await handlers.end_coverage(
        patient_id,
        coverage.id,
        commands.EndCoverage(termination_date=date(2026, 6, 30), reason="left employer"),
        new_uow(),
    )
    assert (view.status, view.termination_date, view.end_reason) == ("ended", date(2026, 6, 30), "left employer")
    [event] = database.events_of(contract.CoverageEnded)
    assert event == contract.CoverageEnded(
        patient_id=patient_id, coverage_id=coverage.id, termination_date=date(2026, 6, 30), reason="left employer"
    )
    assert database.accesses[-1] == access("update", "coverage", coverage.id, patient_id)


async def test_list_coverages_records_a_read(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    coverage = await handlers.add_coverage(patient_id, coverage_cmd(), new_uow())
    database.accesses.clear()
    listed = await handlers.list_coverages(patient_id, new_uow())
    assert [c.id for c in listed] == [coverage.id]
    assert database.accesses == [access("read", "coverage", None, patient_id)]


# --- merge ------------------------------------------------------------------------------------------


async def test_merge_moves_coverages_and_publishes_patients_merged(new_uow: NewUow, database: FakeDatabase) -> None:
    survivor = await register(new_uow)
    duplicate = await register(new_uow, first_name="Mariah")
    moved = await handlers.add_coverage(duplicate, coverage_cmd(order="secondary"), new_uow())
    database.published.clear()
    database.accesses.clear()

    view = await handlers.merge_patients(survivor, commands.MergePatients(duplicate_id=duplicate), new_uow())

    assert [c.id for c in view.coverages] == [moved.id]
    assert view.coverages[0].patient_id == survivor
    [event] = database.events_of(contract.PatientsMerged)
    assert event == contract.PatientsMerged(
        surviving_patient_id=survivor, merged_patient_id=duplicate, moved_coverage_ids=(moved.id,)
    )
    assert [envelope.subject for _, envelope in database.published] == [str(survivor)]
    merged = database.patients[duplicate]
    assert (merged.status, merged.merged_into_id, merged.coverages) == ("merged", survivor, [])
    assert set(database.accesses) == {
        access("merge", "patient", duplicate, duplicate),
        access("merge", "patient", survivor, survivor),
    }


async def test_merge_ends_a_duplicate_policy(new_uow: NewUow, database: FakeDatabase) -> None:
    # Two records that hold the same policy can only come from before duplicate detection (an import):
    # they are seeded directly, as the registration API would refuse the second one.
    terms = model.CoverageTerms(
        payer_id="BCBSTX",
        payer_name="Blue Cross Blue Shield of Texas",
        member_id="XYZ123456789",
        relationship="self",
        effective_date=date(2026, 1, 1),
        order="primary",
    )
    survivor = await register(new_uow)
    duplicate = await register(new_uow, first_name="Mariah")
    database.patients[survivor].add_coverage(terms)
    twin = database.patients[duplicate].add_coverage(terms)
    for patient in database.patients.values():
        patient.events.clear()
    database.published.clear()

    await handlers.merge_patients(survivor, commands.MergePatients(duplicate_id=duplicate), new_uow())

    [merged_event] = database.events_of(contract.PatientsMerged)
    assert (merged_event.moved_coverage_ids, merged_event.ended_coverage_ids) == ((), (twin.id,))
    [ended_event] = database.events_of(contract.CoverageEnded)
    assert (ended_event.patient_id, ended_event.coverage_id) == (duplicate, twin.id)
    assert ended_event.reason == "duplicate of a coverage on the surviving record"
    keys = {type(event).__name__: envelope.subject for event, envelope in database.published}
    assert keys == {"PatientsMerged": str(survivor), "CoverageEnded": str(duplicate)}
    assert database.patients[duplicate].coverages[0].status == "ended"


async def test_merge_with_an_order_collision_changes_nothing(new_uow: NewUow, database: FakeDatabase) -> None:
    survivor = await register(new_uow)
    duplicate = await register(new_uow, first_name="Mariah")
    await handlers.add_coverage(survivor, coverage_cmd(), new_uow())
    await handlers.add_coverage(duplicate, coverage_cmd(payer_id="AETNA", member_id="W1"), new_uow())
    published = len(database.published)
    uow = new_uow()
    with pytest.raises(Conflict):
        await handlers.merge_patients(survivor, commands.MergePatients(duplicate_id=duplicate), uow)
    assert not uow.committed
    assert database.patients[duplicate].status == "active"
    assert len(database.published) == published


async def test_merge_refuses_itself_and_unknown_records(new_uow: NewUow, database: FakeDatabase) -> None:
    patient_id = await register(new_uow)
    with pytest.raises(ValidationFailed):
        await handlers.merge_patients(patient_id, commands.MergePatients(duplicate_id=patient_id), new_uow())
    with pytest.raises(NotFound):
        await handlers.merge_patients(patient_id, commands.MergePatients(duplicate_id=uuid.uuid4()), new_uow())
    with pytest.raises(NotFound):
        await handlers.merge_patients(uuid.uuid4(), commands.MergePatients(duplicate_id=patient_id), new_uow())
    assert database.patients[patient_id].status == "active"


async def test_a_merged_record_refuses_changes(new_uow: NewUow, database: FakeDatabase) -> None:
    survivor = await register(new_uow)
    duplicate = await register(new_uow, first_name="Mariah")
    await handlers.merge_patients(survivor, commands.MergePatients(duplicate_id=duplicate), new_uow())
    with pytest.raises(Conflict) as raised:
        await handlers.update_patient(duplicate, commands.UpdatePatient(phone="2145550199"), new_uow())
    assert raised.value.extra == {"merged_into_id": str(survivor)}
    with pytest.raises(Conflict):
        await handlers.add_coverage(duplicate, coverage_cmd(), new_uow())
