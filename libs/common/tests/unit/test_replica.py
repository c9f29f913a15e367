"""The registration replica keeps a service's copies from registration's events: a patient's later state keeps
the survivor an earlier merge named, a merge moves the coverages registration moved, an end dates a coverage,
and the service's own follow-ups run after each."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID

from rcm_common.envelope import new_envelope
from rcm_common.events import registration as contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.replica import CoverageState, PatientState, Projection, replica_handlers
from rcm_common.testing import (
    InMemoryCoverageCopies,
    InMemoryMerges,
    InMemoryPatientCopies,
    sample_coverage_added,
    sample_patient_registered,
)

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@dataclass
class Patient:
    patient_id: UUID
    last_name: str
    merged_into: UUID | None = None


@dataclass
class Coverage:
    coverage_id: UUID
    patient_id: UUID
    payer_id: str
    termination_date: date | None = None


PROJECTION = Projection(
    patient=lambda event, merged_into: Patient(event.patient_id, event.last_name, merged_into),
    coverage=lambda event: Coverage(event.coverage_id, event.patient_id, event.payer_id, event.termination_date),
)


@dataclass
class Copies:
    patients: InMemoryPatientCopies[Patient] = field(default_factory=InMemoryPatientCopies)
    coverages: InMemoryCoverageCopies[Coverage] = field(default_factory=InMemoryCoverageCopies)
    merges: InMemoryMerges = field(default_factory=InMemoryMerges)
    followed: list[str] = field(default_factory=list)


async def after_patient(copies: Copies, patient_id: UUID) -> None:
    copies.followed.append(f"patient {patient_id}")


async def after_merge(copies: Copies, merge: contract.PatientsMerged) -> None:
    copies.followed.append(f"merge into {merge.surviving_patient_id}")


async def after_coverage(copies: Copies, event: CoverageState, coverage: Coverage) -> None:
    copies.followed.append(f"coverage {coverage.coverage_id} of {coverage.patient_id}")


HANDLERS = replica_handlers(
    PROJECTION, lambda: NOW, after_patient=after_patient, after_merge=after_merge, after_coverage=after_coverage
)


async def apply(copies: Copies, *events: IntegrationEvent) -> None:
    for event in events:
        await HANDLERS[type(event)](event, new_envelope(event, "registration"), copies)


async def test_a_merge_points_the_merged_patient_at_its_survivor_and_moves_the_moved_coverages() -> None:
    copies = Copies()
    survivor, duplicate = sample_patient_registered(), sample_patient_registered(last_name="Doh")
    moved, kept = sample_coverage_added(duplicate.patient_id), sample_coverage_added(duplicate.patient_id)
    await apply(copies, survivor, duplicate, moved, kept)

    merge = contract.PatientsMerged(
        surviving_patient_id=survivor.patient_id,
        merged_patient_id=duplicate.patient_id,
        moved_coverage_ids=(moved.coverage_id,),
    )
    await apply(copies, merge)

    assert copies.patients.rows[duplicate.patient_id].merged_into == survivor.patient_id
    assert copies.coverages.rows[moved.coverage_id].patient_id == survivor.patient_id
    assert copies.coverages.rows[kept.coverage_id].patient_id == duplicate.patient_id
    assert copies.followed[-1] == f"merge into {survivor.patient_id}"


async def test_what_registration_said_before_a_merge_is_kept_as_the_merge_left_it_when_read_after() -> None:
    """The merge is keyed by the survivor, the merged patient's own events by the merged patient: on other
    partitions, a consumer catching up may read the merge first."""
    copies = Copies()
    survivor, duplicate = sample_patient_registered(), sample_patient_registered(last_name="Doh")
    moved, kept = sample_coverage_added(duplicate.patient_id), sample_coverage_added(duplicate.patient_id)
    merge = contract.PatientsMerged(
        surviving_patient_id=survivor.patient_id,
        merged_patient_id=duplicate.patient_id,
        moved_coverage_ids=(moved.coverage_id,),
    )
    await apply(copies, survivor, merge, duplicate, moved, kept)  # the merge before the duplicate's own events

    assert copies.patients.rows[duplicate.patient_id].merged_into == survivor.patient_id
    assert copies.coverages.rows[moved.coverage_id].patient_id == survivor.patient_id
    assert copies.coverages.rows[kept.coverage_id].patient_id == duplicate.patient_id


async def test_a_patients_later_state_keeps_the_survivor_an_earlier_merge_named() -> None:
    copies = Copies()
    duplicate = sample_patient_registered()
    survivor_id = uuid.uuid4()
    await apply(
        copies,
        duplicate,
        contract.PatientsMerged(
            surviving_patient_id=survivor_id, merged_patient_id=duplicate.patient_id, moved_coverage_ids=()
        ),
    )
    updated: PatientState = contract.PatientUpdated.model_validate(
        duplicate.model_dump() | {"last_name": "Doh", "changed_fields": ("last_name",)}
    )
    await apply(copies, updated)

    stored = copies.patients.rows[duplicate.patient_id]
    assert (stored.last_name, stored.merged_into) == ("Doh", survivor_id)
    assert copies.followed[-1] == f"patient {duplicate.patient_id}"


async def test_an_ended_coverage_takes_its_last_day_and_an_unknown_one_is_left_alone() -> None:
    copies = Copies()
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)
    await apply(copies, patient, coverage)
    assert copies.followed == [
        f"patient {patient.patient_id}",
        f"coverage {coverage.coverage_id} of {patient.patient_id}",
    ]

    ended = contract.CoverageEnded(
        patient_id=patient.patient_id, coverage_id=coverage.coverage_id, termination_date=date(2026, 11, 30)
    )
    stranger = contract.CoverageEnded(
        patient_id=patient.patient_id, coverage_id=uuid.uuid4(), termination_date=date(2026, 11, 30)
    )
    await apply(copies, ended, stranger)

    assert copies.coverages.rows[coverage.coverage_id].termination_date == date(2026, 11, 30)
    assert list(copies.coverages.rows) == [coverage.coverage_id]
