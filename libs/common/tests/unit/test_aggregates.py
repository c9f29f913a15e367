"""The unit of work's event collection: events leave only from stored aggregates, through the mapper, with the
envelope of the moment they were stored; a fake unit of work rolls back and names the patient it audits."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field

import pytest

from rcm_common.aggregates import EventCollector, tracked
from rcm_common.audit import AccessRecord
from rcm_common.envelope import current_causation_id
from rcm_common.events.registration import PatientRegistered
from rcm_common.testing import RecordedStore, RecordingUnitOfWork, sample_patient_registered
from rcm_common.uow import Publication


@dataclass(frozen=True, slots=True)
class Renamed:
    last_name: str


@dataclass
class Person:
    """A toy aggregate: renaming it records a domain event."""

    id: uuid.UUID
    last_name: str = "Doe"
    events: list[Renamed] = field(default_factory=list)

    def rename(self, last_name: str) -> None:
        self.last_name = last_name
        self.events.append(Renamed(last_name))


def as_contract(person: Person, event: Renamed) -> PatientRegistered:
    return sample_patient_registered(person.id, last_name=person.last_name)


class People:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Person] = {}
        self.refuse = False

    async def get(self, person_id: uuid.UUID) -> Person | None:
        found = self.rows.get(person_id)
        return dataclasses.replace(found, events=[]) if found else None

    async def save(self, person: Person) -> None:
        if self.refuse:
            raise RuntimeError("the row changed meanwhile")
        self.rows[person.id] = dataclasses.replace(person, events=[])


async def test_events_are_taken_when_stored_with_the_cause_of_that_moment() -> None:
    collector = EventCollector("people", as_contract)
    people = tracked(People(), collector)
    first, second = Person(uuid.uuid4()), Person(uuid.uuid4())
    first.rename("Roe")
    token = current_causation_id.set("cause-1")
    await people.save(first)
    current_causation_id.reset(token)
    second.rename("Poe")
    token = current_causation_id.set("cause-2")
    await people.save(second)
    current_causation_id.reset(token)

    collected = collector.collect()

    causes = [(e.last_name, envelope.causation_id) for e, envelope in collected if isinstance(e, PatientRegistered)]
    assert causes == [
        ("Roe", "cause-1"),
        ("Poe", "cause-2"),
    ]
    assert first.events == second.events == []
    assert collector.collect() == []  # a second commit sends nothing again


async def test_an_aggregate_changed_but_never_stored_again_is_refused_at_commit() -> None:
    collector = EventCollector("people", as_contract)
    people = tracked(People(), collector)
    person = Person(uuid.uuid4())
    await people.save(person)
    loaded = await people.get(person.id)
    assert loaded is not None
    loaded.rename("Roe")  # and no save: the change would not reach the database, so neither may its event

    with pytest.raises(RuntimeError, match="people recorded Renamed on an aggregate it never stored"):
        collector.collect()

    await people.save(loaded)
    [(event, _)] = collector.collect()
    assert isinstance(event, PatientRegistered)
    assert (event.patient_id, event.last_name) == (person.id, "Roe")


async def test_setting_an_attribute_through_the_tracked_repository_sets_the_repositorys() -> None:
    repository = People()
    tracked(repository, EventCollector("people", as_contract)).refuse = True
    assert repository.refuse


async def test_a_failed_save_takes_nothing() -> None:
    collector = EventCollector("people", as_contract)
    repository = People()
    repository.refuse = True
    people = tracked(repository, collector)
    person = Person(uuid.uuid4())
    person.rename("Roe")

    with pytest.raises(RuntimeError):
        await people.save(person)

    assert person.events == [Renamed("Roe")]
    assert collector.collect() == []  # nothing was seen: the aggregate never reached the repository


async def test_a_service_that_publishes_nothing_refuses_an_event_rather_than_drop_it() -> None:
    people = tracked(People(), EventCollector("reporting", None))
    person = Person(uuid.uuid4())
    person.rename("Roe")

    with pytest.raises(RuntimeError, match="reporting publishes no events, yet its aggregates recorded Renamed"):
        await people.save(person)


@dataclass
class Store(RecordedStore):
    people: People = field(default_factory=People)


class FakeUnitOfWork(RecordingUnitOfWork):
    def __init__(self, store: Store) -> None:
        super().__init__(store, "people", Publication("rcm.people.events", as_contract))
        self.people = self.tracked(store.people)


async def test_the_recording_unit_of_work_rolls_back_what_it_did_not_commit() -> None:
    store = Store()
    kept, dropped = Person(uuid.uuid4()), Person(uuid.uuid4())
    async with FakeUnitOfWork(store) as uow:
        kept.rename("Roe")
        await uow.people.save(kept)
        uow.record_access("update", "person", kept.id, kept.id)
        await uow.commit()
    async with FakeUnitOfWork(store) as uow:
        dropped.rename("Poe")
        await uow.people.save(dropped)
        uow.record_access("update", "person", dropped.id, dropped.id)

    assert list(store.people.rows) == [kept.id]
    assert [event.patient_id for event in store.published if isinstance(event, PatientRegistered)] == [kept.id]
    assert store.accesses == [AccessRecord("update", "person", str(kept.id), str(kept.id))]
