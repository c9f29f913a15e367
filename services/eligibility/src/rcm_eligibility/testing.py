"""Test support shared by eligibility's tests: in-memory fakes of its ports, registration events to feed
it, and 271s written with the codec's own writer, as a payer would send them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from rcm_common.envelope import Envelope, new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import (
    InMemoryControlNumbers,
    InMemoryCoverageCopies,
    InMemoryMerges,
    InMemoryPatientCopies,
    InProcessApp,
    RecordedStore,
    RecordingUnitOfWork,
    in_process_settings,
    serving,
)
from rcm_common.topics import ELIGIBILITY_EVENTS
from rcm_common.uow import Publication
from rcm_eligibility.adapters.clearinghouse import EligibilityGateway
from rcm_eligibility.bootstrap import Eligibility, bootstrap
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.domain.appointment import Appointment
from rcm_eligibility.domain.authorization import PriorAuthorization
from rcm_eligibility.domain.model import CoverageCopy, EligibilityCheck, PatientCopy
from rcm_eligibility.entrypoints.app import create_app
from rcm_eligibility.service_layer.mapping import to_integration_event
from rcm_x12.eligibility_request_writer import EligibilityRequest
from rcm_x12.eligibility_response_writer import (
    BenefitInfo,
    CoverageAnswer,
    EligibilityReply,
    RequestRejection,
    write_271,
)
from rcm_x12.writer import Envelope as X12Envelope
from rcm_x12.writer import Member, Payer, Provider

NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
DESK_CLERK = "desk-clerk-1"


def envelope(event: IntegrationEvent) -> Envelope:
    return new_envelope(event, "registration")


# ------------------------------------------------------------------ 271s as a payer writes them

PAYER = Payer(name="Acme Health Plan", payer_id="ACME01")
PROVIDER = Provider(name="RCM DEMO PRACTICE", npi="1234567893")


def x12_envelope(control_number: int = 1) -> X12Envelope:
    return X12Envelope(
        sender_id="RCMCLEARINGHSE",
        receiver_id="RCMPLATFORM",
        interchange_control_number=control_number,
        group_control_number=control_number,
        transaction_control_number=1,
        created=NOW,
    )


def commercial_benefits() -> tuple[BenefitInfo, ...]:
    """An active PPO: $25 office-visit copay, 20% coinsurance, $1,500 deductible with $1,000 left, $6,000
    out-of-pocket maximum with $5,200 left, MRI needing prior authorisation."""
    ind, year, left = "IND", "23", "29"
    net: Final = "Y"
    return (
        BenefitInfo("1", coverage_level=ind, service_types=("30",), insurance_type="PR", plan_description="GOLD PPO"),
        BenefitInfo("B", ind, ("98",), time_period="27", amount=Decimal("25.00"), in_plan_network=net),
        BenefitInfo("B", ind, ("98",), time_period="27", amount=Decimal("60.00"), in_plan_network="N"),
        BenefitInfo("A", ind, ("30",), percent=Decimal("0.2"), in_plan_network=net),
        BenefitInfo("C", ind, ("30",), time_period=year, amount=Decimal("1500.00"), in_plan_network=net),
        BenefitInfo("C", ind, ("30",), time_period=left, amount=Decimal("1000.00"), in_plan_network=net),
        BenefitInfo("C", "FAM", ("30",), time_period=year, amount=Decimal("3000.00"), in_plan_network=net),
        BenefitInfo("G", ind, ("30",), time_period=year, amount=Decimal("6000.00"), in_plan_network=net),
        BenefitInfo("G", ind, ("30",), time_period=left, amount=Decimal("5200.00"), in_plan_network=net),
        BenefitInfo("CB", service_types=("62",), authorization_required=True, in_plan_network=net),
    )


def medicare_benefits(*, part_b_deductible_left: str = "0.00") -> tuple[BenefitInfo, ...]:
    """Medicare as CMS's HETS 271 states it: Parts A (MA) and B (MB) active, each part's deductible under
    service type 30 with its insurance type (2026: Part A's $1,736 per benefit period untouched, Part B's
    $283 met by default), and Part B's 20% coinsurance."""
    ind, year, left = "IND", "23", "29"
    return (
        BenefitInfo("1", ind, ("30",), insurance_type="MA"),
        BenefitInfo("1", ind, ("30",), insurance_type="MB"),
        BenefitInfo("C", ind, ("30",), insurance_type="MA", time_period=year, amount=Decimal("1736.00")),
        BenefitInfo("C", ind, ("30",), insurance_type="MA", time_period=left, amount=Decimal("1736.00")),
        BenefitInfo("C", ind, ("30",), insurance_type="MB", time_period=year, amount=Decimal("283.00")),
        BenefitInfo("C", ind, ("30",), insurance_type="MB", time_period=left, amount=Decimal(part_b_deductible_left)),
        BenefitInfo("A", ind, ("30",), insurance_type="MB", percent=Decimal("0.2")),
    )


def reply_271(
    request: EligibilityRequest,
    *,
    benefits: tuple[BenefitInfo, ...] = (),
    errors: tuple[RequestRejection, ...] = (),
    source_errors: tuple[RequestRejection, ...] = (),
    plan_begin: date | None = date(2026, 1, 1),
    plan_end: date | None = None,
) -> str:
    """The 271 answering a 270's one inquiry, echoing its trace."""
    inquiry = request.inquiries[0]
    answers: tuple[CoverageAnswer, ...] = ()
    if not source_errors:
        answers = (
            CoverageAnswer(
                subscriber=inquiry.subscriber,
                dependent=inquiry.dependent,
                trace=inquiry.trace,
                trace_originator=request.trace_originator,
                group_number="GRP100",
                plan_begin=plan_begin,
                plan_end=plan_end,
                relationship="19" if inquiry.dependent else "",
                errors=errors,
                benefits=benefits if not errors else (),
            ),
        )
    reply = EligibilityReply(
        reference=request.reference,
        payer=request.payer,
        provider=request.provider,
        answers=answers,
        source_errors=source_errors,
    )
    return write_271(reply, x12_envelope())


def member(**changes: Any) -> Member:
    fields: dict[str, Any] = {"last_name": "DOE", "first_name": "JANE", "member_id": "ACM123456789"}
    return Member(**(fields | changes))


# ------------------------------------------------------------------ in-memory ports


FakePatients = InMemoryPatientCopies[PatientCopy]


class FakeCoverages(InMemoryCoverageCopies[CoverageCopy]):
    async def for_patient(self, patient_id: UUID) -> list[CoverageCopy]:
        return [replace(c) for c in self.rows.values() if c.patient_id == patient_id]


def _copy_check(check: EligibilityCheck) -> EligibilityCheck:
    return replace(check, events=[])


@dataclass
class FakeChecks:
    rows: dict[UUID, EligibilityCheck] = field(default_factory=dict)

    async def get(self, check_id: UUID, *, for_update: bool = False) -> EligibilityCheck | None:
        found = self.rows.get(check_id)
        return _copy_check(found) if found else None

    async def add(self, check: EligibilityCheck) -> None:
        self.rows[check.id] = _copy_check(check)

    async def save(self, check: EligibilityCheck) -> None:
        self.rows[check.id] = _copy_check(check)

    async def claim_due(self, now: datetime, limit: int) -> list[EligibilityCheck]:
        due = [
            c for c in self.rows.values() if c.status == "pending" and c.next_attempt_at and c.next_attempt_at <= now
        ]
        return [_copy_check(c) for c in sorted(due, key=lambda c: c.next_attempt_at or now)[:limit]]

    async def for_patient(self, patient_id: UUID) -> list[EligibilityCheck]:
        return [_copy_check(c) for c in self.rows.values() if c.patient_id == patient_id]

    async def pending_for(self, coverage_id: UUID, date_of_service: date, service_type: str) -> EligibilityCheck | None:
        for check in self.rows.values():
            if (check.coverage_id, check.date_of_service, check.service_type, check.status) == (
                coverage_id, date_of_service, service_type, "pending"
            ):  # fmt: skip
                return _copy_check(check)
        return None

    async def repoint(self, coverage_ids: tuple[UUID, ...], patient_id: UUID) -> None:
        for check in self.rows.values():
            if check.coverage_id in coverage_ids:
                check.patient_id = patient_id


@dataclass
class FakeAuthorizations:
    rows: dict[UUID, PriorAuthorization] = field(default_factory=dict)

    async def get(self, authorization_id: UUID) -> PriorAuthorization | None:
        found = self.rows.get(authorization_id)
        return replace(found, uses=list(found.uses), events=[]) if found else None

    async def find(self, payer_id: str, number: str) -> PriorAuthorization | None:
        return next((a for a in self.rows.values() if (a.payer_id, a.number) == (payer_id, number)), None)

    async def for_patient(self, patient_id: UUID) -> list[PriorAuthorization]:
        return [a for a in self.rows.values() if a.patient_id == patient_id]

    async def add(self, authorization: PriorAuthorization) -> None:
        self.rows[authorization.id] = replace(authorization, uses=list(authorization.uses), events=[])

    async def save(self, authorization: PriorAuthorization) -> None:
        await self.add(authorization)


@dataclass
class FakeAppointments:
    rows: dict[UUID, Appointment] = field(default_factory=dict)

    async def get(self, appointment_id: UUID) -> Appointment | None:
        found = self.rows.get(appointment_id)
        return replace(found) if found else None

    async def add(self, appointment: Appointment) -> None:
        self.rows[appointment.id] = replace(appointment)

    async def save(self, appointment: Appointment) -> None:
        self.rows[appointment.id] = replace(appointment)

    async def due(self, today: date, days_ahead: int, limit: int) -> list[Appointment]:
        return [replace(a) for a in self.rows.values() if a.due_for_check(today, days_ahead)][:limit]


@dataclass
class FakeAllowedAmounts:
    rows: dict[tuple[str, str], Decimal] = field(default_factory=dict)

    async def get(self, payer_id: str, procedure_code: str) -> Decimal | None:
        return self.rows.get((payer_id, procedure_code))

    async def put(self, payer_id: str, procedure_code: str, amount: Decimal, now: datetime) -> None:
        self.rows[(payer_id, procedure_code)] = amount


@dataclass
class FakeStore(RecordedStore):
    """What a fake unit of work commits into: shared by every unit of work of one test."""

    patients: FakePatients = field(default_factory=FakePatients)
    merges: InMemoryMerges = field(default_factory=InMemoryMerges)
    coverages: FakeCoverages = field(default_factory=FakeCoverages)
    checks: FakeChecks = field(default_factory=FakeChecks)
    authorizations: FakeAuthorizations = field(default_factory=FakeAuthorizations)
    appointments: FakeAppointments = field(default_factory=FakeAppointments)
    allowed_amounts: FakeAllowedAmounts = field(default_factory=FakeAllowedAmounts)
    control_numbers: InMemoryControlNumbers = field(default_factory=InMemoryControlNumbers)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork(RecordingUnitOfWork):
    """Writes through to the store at once, but publishes events and audit records only on commit; rolls the
    store back when left uncommitted."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__(store, "eligibility", Publication(ELIGIBILITY_EVENTS, to_integration_event))
        self.patients = store.patients
        self.merges = store.merges
        self.coverages = store.coverages
        self.checks = self.tracked(store.checks)
        self.authorizations = self.tracked(store.authorizations)
        self.appointments = store.appointments
        self.allowed_amounts = store.allowed_amounts
        self.control_numbers = store.control_numbers


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def trace_of(request_270: str) -> str:
    """TRN02 of the 270's inquiry."""
    for segment in request_270.split("~"):
        parts = segment.strip().split("*")
        if parts[0] == "TRN":
            return parts[2]
    raise AssertionError("the 270 has no TRN")


def reply_for(request_270: str, **answer: Any) -> str:
    """A 271 answering the (one-inquiry) 270 by its trace, with the given benefits or errors."""
    from rcm_x12.eligibility_request_writer import EligibilityInquiry

    request = EligibilityRequest(
        reference="REF1",
        payer=PAYER,
        provider=PROVIDER,
        inquiries=(EligibilityInquiry(subscriber=member(), trace=trace_of(request_270)),),
        trace_originator="9000000001",
    )
    return reply_271(request, **answer)


@dataclass
class ScriptedClearinghouse:
    """A clearinghouse whose answers the test writes: each call takes the next step, a 271 builder or an
    exception to raise. Every 270 asked is kept."""

    steps: list[Any]
    asked: list[str] = field(default_factory=list)

    async def eligibility(self, request_270: str) -> str:
        self.asked.append(request_270)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        answer: str = step(request_270)
        return answer


# ------------------------------------------------------------------ the running application
# The real application (its lifespan included: migrations, broker link, relay, worker and sweep) over a real
# database, through an in-process client. The broker is unreachable on purpose, so every event the service
# writes stays in its outbox for the test to read; the clearinghouse is whatever the test hands in.


@dataclass
class EligibilityApi(InProcessApp[Eligibility]):
    """Eligibility running in process; a front desk clerk's token unless a test names other roles."""

    @property
    def eligibility(self) -> Eligibility:
        return self.kernel


@contextlib.asynccontextmanager
async def running_eligibility(
    state_dir: Path, signing_keys: tuple[str, str], gateway: EligibilityGateway, database_url: str = "", **settings: Any
) -> AsyncIterator[EligibilityApi]:
    private_pem, public_pem = signing_keys
    fast_worker: dict[str, Any] = {"worker_poll_seconds": 0.05, "retry_delays_seconds": (0.2,)}
    config = in_process_settings(EligibilitySettings, state_dir, public_pem, database_url, **(fast_worker | settings))
    app = create_app(eligibility=bootstrap(config, gateway=gateway))
    async with serving(app, "http://eligibility.test") as client:
        yield EligibilityApi(
            app,
            client,
            private_pem,
            app.state.eligibility,
            default_roles=("front_desk",),
            default_subject="desk-clerk-1",
        )
