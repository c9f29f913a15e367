"""The registration replica: what a service keeps of registration's patients and coverages, from its events.

Registration owns patients and coverages; a service that needs them (to name a member in a 270, to check a
code against a patient's sex and age, to bill a payer) keeps a copy of what it needs, kept current by
registration's events (event-carried state). The keeping is the same everywhere: a patient's state replaces
its copy, a merge points the merged patient at its survivor and moves the coverages registration moved,
a coverage's state replaces its copy, and an ended coverage takes its termination date. A merge is also
kept in a ledger (`rcm_common.merges`): registration keys it by the survivor and the merged patient's own
events by the merged patient, so a consumer catching up can read the merge before them, and the ledger
applies them as the merge left them. This module does
that once. A service declares only its `Projection` (the copy it keeps of each, and its repositories, where
its PHI is encrypted) and what it does next when a patient, a merge or a coverage arrives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from rcm_common.envelope import Envelope
from rcm_common.events import registration as contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.messaging import EventHandler
from rcm_common.types import Clock

PatientState = contract.PatientRegistered | contract.PatientUpdated
CoverageState = contract.CoverageAdded | contract.CoverageUpdated


class PatientCopy(Protocol):
    """What every copy of a patient has: its id, and the survivor it was merged into, if it was."""

    patient_id: UUID
    merged_into: UUID | None


class CoverageCopy(Protocol):
    """What every copy of a coverage has: its id, its patient (moved by a merge) and its last day."""

    coverage_id: UUID
    patient_id: UUID
    termination_date: date | None


P = TypeVar("P", bound=PatientCopy)
C = TypeVar("C", bound=CoverageCopy)


class PatientCopies(Protocol[P]):
    async def get(self, patient_id: UUID) -> P | None: ...

    async def save(self, patient: P, now: datetime) -> None: ...


class CoverageCopies(Protocol[C]):
    async def get(self, coverage_id: UUID) -> C | None: ...

    async def save(self, coverage: C, now: datetime) -> None: ...


class Merges(Protocol):
    """The merges read so far (`rcm_common.merges`), for what registration said before a merge arriving
    after it."""

    async def record(self, merge: contract.PatientsMerged, now: datetime) -> None: ...

    async def survivor_of(self, patient_id: UUID) -> UUID | None: ...

    async def moved_to(self, coverage_id: UUID) -> UUID | None: ...


class ReplicaUnitOfWork(Protocol[P, C]):
    """What the replica needs of a service's unit of work: its repositories of copies and the merge ledger."""

    @property
    def patients(self) -> PatientCopies[P]: ...

    @property
    def coverages(self) -> CoverageCopies[C]: ...

    @property
    def merges(self) -> Merges: ...


@dataclass(frozen=True, slots=True)
class Projection(Generic[P, C]):
    """What a service keeps: its copy of a patient (given the survivor an earlier merge named, which a
    patient's later state does not repeat) and its copy of a coverage."""

    patient: Callable[[PatientState, UUID | None], P]
    coverage: Callable[[CoverageState], C]


U = TypeVar("U", bound="ReplicaUnitOfWork[Any, Any]")


def replica_handlers(
    projection: Projection[P, C],
    clock: Clock,
    *,
    after_patient: Callable[[U, UUID], Awaitable[None]] | None = None,
    after_merge: Callable[[U, contract.PatientsMerged], Awaitable[None]] | None = None,
    after_coverage: Callable[[U, CoverageState, C], Awaitable[None]] | None = None,
) -> dict[type[IntegrationEvent], EventHandler[U]]:
    """The handlers of registration's events that keep the service's copies, each followed by what the
    service does next (`after_patient` with the patient's id, `after_merge` with the merge, `after_coverage`
    with the coverage's event and its copy)."""

    async def on_patient_state(event: PatientState, _envelope: Envelope, uow: U) -> None:
        existing = await uow.patients.get(event.patient_id)
        merged_into = existing.merged_into if existing else await uow.merges.survivor_of(event.patient_id)
        copy = projection.patient(event, merged_into)
        await uow.patients.save(copy, clock())
        if after_patient is not None:
            await after_patient(uow, event.patient_id)

    async def on_patients_merged(event: contract.PatientsMerged, _envelope: Envelope, uow: U) -> None:
        now = clock()
        await uow.merges.record(event, now)
        merged = await uow.patients.get(event.merged_patient_id)
        if merged is not None:
            merged.merged_into = event.surviving_patient_id
            await uow.patients.save(merged, now)
        for coverage_id in event.moved_coverage_ids:
            coverage = await uow.coverages.get(coverage_id)
            if coverage is not None:
                coverage.patient_id = event.surviving_patient_id
                await uow.coverages.save(coverage, now)
        if after_merge is not None:
            await after_merge(uow, event)

    async def on_coverage_state(event: CoverageState, _envelope: Envelope, uow: U) -> None:
        copy = projection.coverage(event)
        survivor = await uow.merges.moved_to(copy.coverage_id)
        if survivor is not None:  # said before the merge that moved it, read after
            copy.patient_id = survivor
        await uow.coverages.save(copy, clock())
        if after_coverage is not None:
            await after_coverage(uow, event, copy)

    async def on_coverage_ended(event: contract.CoverageEnded, _envelope: Envelope, uow: U) -> None:
        coverage = await uow.coverages.get(event.coverage_id)
        if coverage is not None:
            coverage.termination_date = event.termination_date
            await uow.coverages.save(coverage, clock())

    return {
        contract.PatientRegistered: on_patient_state,
        contract.PatientUpdated: on_patient_state,
        contract.PatientsMerged: on_patients_merged,
        contract.CoverageAdded: on_coverage_state,
        contract.CoverageUpdated: on_coverage_state,
        contract.CoverageEnded: on_coverage_ended,
    }
