"""The ports the handlers depend on. SQL adapters implement them for the service, in-memory fakes for the
unit tests."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from rcm_claim.domain.acknowledgments import AcknowledgmentFile
from rcm_claim.domain.batches import Batch, BatchState
from rcm_claim.domain.copies import Authorization, CoverageCopy, EligibilityAnswer, PatientCopy
from rcm_claim.domain.denial_risk import DecidedService
from rcm_claim.domain.directories import PayerProfile, ProviderDirectory
from rcm_claim.domain.model import Claim, ClaimState
from rcm_common.control_numbers import ControlNumbers
from rcm_common.replica import Merges
from rcm_common.uow import UnitOfWork


class Patients(Protocol):
    async def get(self, patient_id: UUID) -> PatientCopy | None: ...

    async def read_many(self, patient_ids: Collection[UUID]) -> None:
        """Read these at once, so `get` answers each from memory for the rest of the unit of work."""
        ...

    async def save(self, patient: PatientCopy, now: datetime) -> None: ...


class Coverages(Protocol):
    async def get(self, coverage_id: UUID) -> CoverageCopy | None: ...

    async def read_many(self, coverage_ids: Collection[UUID]) -> None:
        """Read these at once, so `get` answers each from memory for the rest of the unit of work."""
        ...

    async def save(self, coverage: CoverageCopy, now: datetime) -> None: ...

    async def for_patient(self, patient_id: UUID) -> list[CoverageCopy]: ...


class Eligibility(Protocol):
    async def latest(self, coverage_id: UUID) -> EligibilityAnswer | None: ...

    async def record(self, answer: EligibilityAnswer) -> bool:
        """Keep the answer unless a later one is kept; True when it was kept."""
        ...


class Authorizations(Protocol):
    async def for_coverage(self, coverage_id: UUID) -> list[Authorization]: ...

    async def save(self, authorization: Authorization) -> None: ...


class Claims(Protocol):
    async def get(self, claim_id: UUID, *, for_update: bool = False) -> Claim | None: ...

    async def add(self, claim: Claim) -> None: ...

    async def save(self, claim: Claim) -> None: ...

    async def save_many(self, claims: Sequence[Claim]) -> None:
        """Save them all, each naming the revision it read, or none (ConcurrentUpdate)."""
        ...

    async def for_encounter(self, encounter_id: UUID) -> list[Claim]: ...

    async def for_patient(self, patient_id: UUID) -> list[Claim]: ...

    async def search(
        self,
        *,
        state: ClaimState | None = None,
        rule: str | None = None,
        rejection_code: str | None = None,
        payer_id: str | None = None,
        patient_id: UUID | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Claim]:
        """Claims the longest in their state first, narrowed by each filter given."""
        ...  # fmt: skip

    async def repoint(self, merged_patient_id: UUID, surviving_patient_id: UUID) -> list[UUID]: ...

    async def with_open_denials(
        self, *, category: str | None = None, payer_id: str | None = None, limit: int
    ) -> list[Claim]: ...

    async def not_filed(self, payer_id: str, *, serviced_on_or_before: date, limit: int) -> list[Claim]: ...

    async def ready_to_batch(self, payer_id: str, limit: int) -> list[Claim]:
        """The payer's ready claims not held, the longest waiting first."""
        ...

    async def in_batch(self, batch_id: UUID) -> list[Claim]: ...

    async def by_patient_control_numbers(self, numbers: Collection[str]) -> list[Claim]: ...

    async def waiting_for(self, claim_ids: Collection[UUID]) -> list[Claim]:
        """The claims waiting for the payer's answer to any of these."""
        ...

    async def unanswered_since(
        self, before: datetime, *, payer_id: str | None = None, limit: int, offset: int = 0
    ) -> list[Claim]:
        """Claims batched or submitted before `before` with no answer (999 or 277CA), the longest waiting first."""
        ...

    async def status_due(self, payer_id: str, accepted_before: datetime, *, limit: int) -> list[Claim]:
        """The payer's claims accepted before `accepted_before` and not asked about since."""
        ...


class DecidedServices(Protocol):
    async def record(self, claim: Claim) -> None:
        """Keep what the claim's standing payments decided of its lines, in place of what was kept before."""

    async def for_payer(self, payer_id: str, *, since: date) -> tuple[DecidedService, ...]: ...


class Batches(Protocol):
    async def get(self, batch_id: UUID) -> Batch | None: ...

    async def add(self, batch: Batch) -> None: ...

    async def save(self, batch: Batch) -> None: ...

    async def unanswered(self) -> list[Batch]: ...

    async def search(
        self, *, payer_id: str | None = None, state: BatchState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Batch]: ...


class AcknowledgmentFiles(Protocol):
    async def seen(self, digest: str) -> bool: ...

    async def add(self, file: AcknowledgmentFile) -> None: ...


class Directories(Protocol):
    async def providers(self) -> ProviderDirectory | None: ...

    async def replace_providers(self, directory: ProviderDirectory, by: str, now: datetime) -> None: ...

    async def payers(self) -> list[PayerProfile]: ...

    async def payer(self, payer_id: str) -> PayerProfile | None: ...

    async def replace_payers(self, payers: Sequence[PayerProfile], now: datetime) -> None: ...


class ClaimUnitOfWork(UnitOfWork, Protocol):
    @property
    def patients(self) -> Patients: ...

    @property
    def merges(self) -> Merges: ...

    @property
    def coverages(self) -> Coverages: ...

    @property
    def eligibility(self) -> Eligibility: ...

    @property
    def authorizations(self) -> Authorizations: ...

    @property
    def claims(self) -> Claims: ...

    @property
    def batches(self) -> Batches: ...

    @property
    def acknowledgment_files(self) -> AcknowledgmentFiles: ...

    @property
    def control_numbers(self) -> ControlNumbers: ...

    @property
    def directories(self) -> Directories: ...

    @property
    def decided_services(self) -> DecidedServices: ...

    async def lock_patient(self, patient_id: UUID) -> None:
        """Serialise, until commit, the work on one patient's claims done by the consumers of other topics."""
        ...

    async def lock_patients(self, patient_ids: Collection[UUID]) -> None:
        """Take several patients at once, in one order every taker follows, so two takers never deadlock."""
        ...

    async def read_for_batch(
        self, patient_ids: Collection[UUID], coverage_ids: Collection[UUID], encounter_ids: Collection[UUID]
    ) -> None:
        """Take a batch's patients and read what its handlers will read of them, in a few queries."""
        ...
