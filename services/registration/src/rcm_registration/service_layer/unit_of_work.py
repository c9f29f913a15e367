"""The ports the handlers depend on: a patient repository and a unit of work. SQL adapters implement them
for the service, in-memory fakes for the unit tests."""

from __future__ import annotations

from datetime import date
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from rcm_common.envelope import Envelope
from rcm_common.events.base import IntegrationEvent
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


class RegistrationUnitOfWork(Protocol):
    @property
    def patients(self) -> PatientRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def publish(self, event: IntegrationEvent) -> Envelope: ...

    def record_access(
        self, action: str, resource_type: str, resource_id: object | None, patient_id: object | None
    ) -> None: ...

    def respond(self, status_code: int, resource_id: object) -> None: ...

    async def commit(self) -> None: ...
