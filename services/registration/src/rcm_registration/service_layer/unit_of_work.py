"""The ports the handlers depend on: a patient repository and a unit of work. SQL adapters implement them
for the service, in-memory fakes for the unit tests."""

from __future__ import annotations

from datetime import date
from typing import Protocol
from uuid import UUID

from rcm_common.uow import UnitOfWork
from rcm_registration.domain.model import CoverageTerms, Demographics, Patient


class PatientRepository(Protocol):
    seen: dict[UUID, Patient]
    """Every patient loaded or added in this unit of work, by id."""

    async def next_mrn(self) -> str: ...

    async def add(self, patient: Patient) -> None: ...

    async def get(self, patient_id: UUID) -> Patient | None: ...

    async def save(self, patient: Patient) -> None: ...

    async def find_same_person(self, details: Demographics) -> UUID | None:
        """An active patient with the same folded first and last name and birth date."""
        ...

    async def find_policy_holder(self, terms: CoverageTerms) -> UUID | None:
        """An active patient who holds this payer's member id as its subscriber."""
        ...

    async def search(
        self,
        *,
        last_name: str | None,
        first_name: str | None,
        birth_date: date | None,
        mrn: str | None,
        limit: int,
        offset: int,
    ) -> list[Patient]: ...


class RegistrationUnitOfWork(UnitOfWork, Protocol):
    @property
    def patients(self) -> PatientRepository: ...
