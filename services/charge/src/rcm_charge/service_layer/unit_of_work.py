"""The ports the handlers depend on. SQL adapters implement them for the service, in-memory fakes for
the unit tests."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.domain.model import Encounter
from rcm_charge.domain.pricing import ChargemasterEntry, ContractRate
from rcm_common.replica import Merges
from rcm_common.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ImportRecord:
    id: UUID
    file_sha256: str
    report: dict[str, object]
    imported_by: str
    imported_at: datetime


class Patients(Protocol):
    async def get(self, patient_id: UUID) -> PatientCopy | None: ...

    async def save(self, patient: PatientCopy, now: datetime) -> None: ...


class Coverages(Protocol):
    async def get(self, coverage_id: UUID) -> CoverageCopy | None: ...

    async def find_by_member(self, payer_id: str, member_id: str) -> list[CoverageCopy]: ...

    async def save(self, coverage: CoverageCopy, now: datetime) -> None: ...


class Encounters(Protocol):
    async def get(self, encounter_id: UUID, *, for_update: bool = False) -> Encounter | None: ...

    async def add(self, encounter: Encounter) -> None: ...

    async def save(self, encounter: Encounter) -> None: ...

    async def find_imported(self, natural_key: str) -> UUID | None: ...

    async def held_for_patient(self, patient_id: UUID) -> list[Encounter]: ...

    async def captured_same_day(self, patient_id: UUID, day: date, excluding: UUID | None) -> list[Encounter]:
        """The patient's other captured encounters of that date of service."""
        ...

    async def open_reviews(self, *, limit: int, offset: int, issue_code: str | None) -> list[Encounter]: ...

    async def by_review(self, review_id: UUID, *, for_update: bool = False) -> Encounter | None: ...

    async def repoint(self, merged_patient_id: UUID, surviving_patient_id: UUID) -> list[UUID]:
        """Move the merged patient's encounters to the survivor; returns their ids."""
        ...


class Prices(Protocol):
    async def chargemaster(self, codes: Iterable[str] | None = None) -> list[ChargemasterEntry]: ...

    async def replace_chargemaster(self, entries: list[ChargemasterEntry], now: datetime) -> None: ...

    async def rates(self, payer_id: str | None = None, codes: Iterable[str] | None = None) -> list[ContractRate]: ...

    async def replace_rates(self, payer_ids: set[str], rates: list[ContractRate], now: datetime) -> None: ...


class Imports(Protocol):
    async def find(self, file_sha256: str) -> ImportRecord | None: ...

    async def add(self, record: ImportRecord) -> None: ...


class ChargeUnitOfWork(UnitOfWork, Protocol):
    @property
    def patients(self) -> Patients: ...

    @property
    def merges(self) -> Merges: ...

    @property
    def coverages(self) -> Coverages: ...

    @property
    def encounters(self) -> Encounters: ...

    @property
    def prices(self) -> Prices: ...

    @property
    def imports(self) -> Imports: ...
