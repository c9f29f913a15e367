"""What registration's tests share: the running app over a real database (its lifespan included:
migrations, broker link, relay; the broker unreachable on purpose, so every event a request writes stays in
the outbox for the test to read), the bodies of a patient and a coverage, registering them over HTTP, reading
a problem, the outbox and counts back; and the in-memory fakes of the ports for the handler tests.

In-memory, `FakeDatabase` is the committed state. A `FakeUnitOfWork` works on copies: what a handler loads,
saves, publishes, audits and answers becomes visible in the database only when it commits; leaving the block
without committing drops all of it, as a rolled-back transaction would.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import httpx

from rcm_common.aggregates import EventCollector, tracked
from rcm_common.crypto import BlindIndex
from rcm_common.envelope import Envelope
from rcm_common.errors import Conflict
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import InProcessApp, in_process_settings, serving
from rcm_registration.adapters.repository import mrn_with_check_digit
from rcm_registration.bootstrap import Registration
from rcm_registration.config import RegistrationSettings
from rcm_registration.domain.model import CoverageTerms, Demographics, Patient, normalise_name
from rcm_registration.entrypoints.app import create_app
from rcm_registration.service_layer.mapping import to_integration_event
from rcm_registration.service_layer.unit_of_work import PatientRepository, RegistrationUnitOfWork

DESK_CLERK = "desk-clerk-1"

PROBLEM = "application/problem+json"
SSN = "587-36-8829"
SSN_DIGITS = "587368829"
BIRTH_DATE = "1984-03-09"


def unique_name() -> str:
    """A last name no other test uses: letters only, as names must be."""
    return "Q" + "".join(chr(ord("a") + int(ch, 16)) for ch in uuid.uuid4().hex[:12])


def unique_member_id() -> str:
    return "M" + uuid.uuid4().hex[:14].upper()


def patient_body(last_name: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "first_name": "Maria",
        "last_name": last_name,
        "birth_date": BIRTH_DATE,
        "sex": "F",
        "address": {
            "line1": "100 Congress Ave",
            "line2": "Suite 200",
            "city": "Austin",
            "state": "tx",
            "postal_code": "787011234",
        },
        "phone": "(512) 555-0134",
        "email": "maria@example.org",
    }
    return {**body, **overrides}


def coverage_body(member_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "payer_id": "BCBSTX",
        "payer_name": "Blue Cross Blue Shield of Texas",
        "member_id": member_id,
        "group_number": "GRP100",
        "plan_type": "PPO",
        "relationship": "self",
        "effective_date": "2026-01-01",
        "order": "primary",
    }
    return {**body, **overrides}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def register(api: RegistrationApi, last_name: str, **overrides: Any) -> dict[str, Any]:
    response = await api.client.post("/patients", json=patient_body(last_name, **overrides), headers=api.auth())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_coverage(api: RegistrationApi, patient_id: str, **overrides: Any) -> dict[str, Any]:
    member_id = overrides.pop("member_id", None) or unique_member_id()
    response = await api.client.post(
        f"/patients/{patient_id}/coverages", json=coverage_body(member_id, **overrides), headers=api.auth()
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def outbox_of(api: RegistrationApi, *patient_ids: str) -> list[dict[str, Any]]:
    rows = await api.rows("SELECT * FROM outbox ORDER BY id")
    return [row for row in rows if row["key"] in patient_ids]


async def count(api: RegistrationApi, sql: str, **params: Any) -> int:
    [row] = await api.rows(sql, **params)
    return int(next(iter(row.values())))


# ------------------------------------------------------------------ the running application


@dataclass
class RegistrationApi(InProcessApp[Registration]):
    """Registration running in process; a front desk clerk's token unless a test names other roles."""

    @property
    def registration(self) -> Registration:
        return self.kernel


@contextlib.asynccontextmanager
async def running_api(
    state_dir: Path, signing_keys: tuple[str, str], database_url: str = ""
) -> AsyncIterator[RegistrationApi]:
    """Build the app as production does and run its lifespan."""
    private_pem, public_pem = signing_keys
    settings = in_process_settings(RegistrationSettings, state_dir, public_pem, database_url, migrate_on_start=True)
    app = create_app(settings)
    async with serving(app, "http://registration.test") as client:
        yield RegistrationApi(
            app,
            client,
            private_pem,
            app.state.registration,
            default_roles=("front_desk",),
            default_subject="desk-clerk-1",
        )


# ------------------------------------------------------------------ in-memory fakes of the ports


# An audit record as a handler asked for it: (action, resource type, resource id, patient id).
Access = tuple[str, str, str | None, str | None]


@dataclass
class FakeDatabase:
    """What has been committed: patients, the MRN counter, events, audit records and remembered responses."""

    patients: dict[UUID, Patient] = field(default_factory=dict)
    last_mrn: int = 0
    published: list[tuple[IntegrationEvent, Envelope]] = field(default_factory=list)
    accesses: list[Access] = field(default_factory=list)
    responses: list[tuple[int, str]] = field(default_factory=list)

    def seed(self, patient: Patient) -> Patient:
        """Store a patient as if registered long ago (its pending domain events are dropped)."""
        stored = copy.deepcopy(patient)
        stored.events.clear()
        self.patients[stored.id] = stored
        return stored

    def events_of(self, kind: type[IntegrationEvent]) -> list[Any]:
        return [event for event, _ in self.published if isinstance(event, kind)]


def _policy_key(payer_id: str, member_id: str) -> str:
    # The SQL repository compares HMACs of the normalised "payer|member"; the plaintext key behaves alike.
    return BlindIndex.normalise(f"{payer_id}|{member_id}")


class FakePatientRepository:
    def __init__(self, database: FakeDatabase) -> None:
        self._database = database
        self.seen: dict[UUID, Patient] = {}
        self.written: dict[UUID, Patient] = {}
        self.last_mrn = database.last_mrn

    def _visible(self) -> dict[UUID, Patient]:
        """What a query inside this transaction sees: the committed rows and this transaction's writes."""
        return {**self._database.patients, **self.written}

    async def next_mrn(self) -> str:
        self.last_mrn += 1
        return mrn_with_check_digit(self.last_mrn)

    async def add(self, patient: Patient) -> None:
        self.seen[patient.id] = patient

    async def get(self, patient_id: UUID) -> Patient | None:
        if patient_id in self.seen:
            return self.seen[patient_id]
        stored = self._visible().get(patient_id)
        if stored is None:
            return None
        loaded = copy.deepcopy(stored)
        self.seen[patient_id] = loaded
        return loaded

    async def save(self, patient: Patient) -> None:
        """Like the unique indexes: one active patient per identity, one active self holder per policy."""
        for other in self._visible().values():
            if other.id == patient.id or other.status != "active" or patient.status != "active":
                continue
            if other.details.identity_key() == patient.details.identity_key():
                raise Conflict("The change collides with a registration made at the same time; retry.")
        stored = copy.deepcopy(patient)
        stored.events.clear()
        self.written[patient.id] = stored

    async def find_same_person(self, details: Demographics) -> UUID | None:
        for patient in self._visible().values():
            if patient.status == "active" and patient.details.identity_key() == details.identity_key():
                return patient.id
        return None

    async def find_policy_holder(self, terms: CoverageTerms) -> UUID | None:
        wanted = _policy_key(terms.payer_id, terms.member_id)
        for patient in self._visible().values():
            for coverage in patient.coverages:
                if (
                    coverage.status == "active"
                    and coverage.terms.relationship == "self"
                    and _policy_key(coverage.terms.payer_id, coverage.terms.member_id) == wanted
                ):
                    return patient.id
        return None

    async def search(
        self,
        *,
        last_name: str | None,
        first_name: str | None,
        birth_date: date | None,
        mrn: str | None,
        limit: int,
        offset: int,
    ) -> list[Patient]:
        def matches(patient: Patient) -> bool:
            first_key, last_key, born = patient.details.identity_key()
            return (
                (not last_name or last_key.startswith(normalise_name(last_name)))
                and (not first_name or first_key.startswith(normalise_name(first_name)))
                and (not birth_date or born == birth_date)
                and (not mrn or patient.mrn == mrn.strip())
            )

        found = sorted(
            (p for p in self._visible().values() if matches(p)),
            key=lambda p: (p.details.identity_key()[1], p.details.identity_key()[0], str(p.id)),
        )
        loaded = [await self.get(p.id) for p in found[offset : offset + limit]]
        return [p for p in loaded if p is not None]


class FakeUnitOfWork:
    """One transaction over a FakeDatabase; `committed` tells whether it committed."""

    def __init__(self, database: FakeDatabase) -> None:
        self.database = database
        self.committed = False
        self.entered = False
        self._repository: FakePatientRepository | None = None
        self._events = EventCollector("registration", to_integration_event)
        self._accesses: list[Access] = []
        self._response: tuple[int, str] | None = None

    @property
    def patients(self) -> FakePatientRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._repository

    async def __aenter__(self) -> Self:
        self.entered = True
        self.committed = False
        self._events.forget()
        self._repository = tracked(FakePatientRepository(self.database), self._events)
        self._accesses, self._response = [], None
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.committed:
            self._accesses, self._response = [], None
        self._repository = None

    def record_access(
        self, action: str, resource_type: str, resource_id: object | None, patient_id: object | None
    ) -> None:
        self._accesses.append(
            (
                action,
                resource_type,
                None if resource_id is None else str(resource_id),
                None if patient_id is None else str(patient_id),
            )
        )

    def respond(self, status_code: int, resource_id: object) -> None:
        self._response = (status_code, str(resource_id))

    async def commit(self) -> None:
        repository = self.patients
        self.database.patients.update(repository.written)
        self.database.last_mrn = repository.last_mrn
        self.database.published.extend(self._events.collect())
        self.database.accesses.extend(self._accesses)
        if self._response is not None:
            self.database.responses.append(self._response)
        repository.written = {}
        self._accesses, self._response = [], None
        self.committed = True


def _conforms(uow: FakeUnitOfWork) -> RegistrationUnitOfWork:
    """mypy checks here that the fakes implement the ports the handlers depend on."""
    repository: PatientRepository = FakePatientRepository(uow.database)
    assert repository is not None
    return uow
