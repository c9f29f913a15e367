"""Integration events published by the eligibility service on `rcm.eligibility.events`, keyed by patient.

They carry the normalised benefits a payer confirmed (what claim scrubbing and patient estimates need) and
the payer's errors when a check failed; never the member id, names or the raw 271.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from rcm_common.events.base import IntegrationEvent, OpenEnum
from rcm_common.types import Money, UtcDatetime

CheckTrigger = Annotated[
    Literal["coverage_added", "coverage_updated", "on_demand", "appointment_sweep", "retry"],
    OpenEnum(unknown_reads_as=None),
]
FailureKind = Annotated[
    Literal[
        "payer_rejected",
        "coverage_inactive",
        "clearinghouse_unavailable",
        "unreadable_response",
        "request_refused",
        "attempts_exhausted",
    ],
    OpenEnum(unknown_reads_as=None),
]
# A share such as coinsurance, as the fraction the payer sent (0.2 is 20%), on the wire as a string.
Fraction = Annotated[Decimal, Field(ge=0, le=1), PlainSerializer(str, return_type=str, when_used="json")]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Accumulator(_Part):
    """A plan-year amount (deductible, out-of-pocket maximum) and what is left of it; None where not said."""

    total: Money | None = None
    remaining: Money | None = None


class ServiceCopay(_Part):
    service_type: str
    amount: Money


class ServiceCoinsurance(_Part):
    service_type: str
    percent: Fraction


class PlanAccumulator(_Part):
    """A deductible or out-of-pocket maximum as the payer stated it for one insurance type (EB04: Medicare's
    MA and MB are its Parts A and B) and coverage level (EB02: IND, FAM)."""

    kind: Annotated[Literal["deductible", "out_of_pocket"], OpenEnum(unknown_reads_as=None)]
    insurance_type: str | None = None
    coverage_level: str
    total: Money | None = None
    remaining: Money | None = None
    plan_year: Annotated[Literal["calendar", "anniversary"], OpenEnum(unknown_reads_as=None)] = "calendar"
    """The year the amounts run for: the calendar year (EB06 23, or unsaid), or from the anniversary of the
    plan's begin date (EB06 22 service year, 25 contract)."""


class OtherPayer(_Part):
    """Another payer the 271 names for the member (EB01 R): coordination of benefits or, for Medicare, a
    payer primary to it (`medicare_secondary_payer`, under the Medicare Secondary Payer rules). The front
    desk adds that coverage before a claim goes to the wrong payer."""

    name: str | None = None
    payer_id: str | None = None
    insurance_type: str | None = None
    medicare_secondary_payer: bool = False
    service_types: tuple[str, ...] = ()
    coordination_begin: date | None = None
    coordination_end: date | None = None
    """The end of the coordination period (DTP*290 as a range): from then on the other payer is no longer
    primary."""


class BenefitsSnapshot(_Part):
    """The in-network benefits a 271 stated for one coverage on one date of service. `deductible` and
    `out_of_pocket` are the individual amounts that apply to a professional service (Medicare's Part B);
    `accumulators` holds every amount stated, by insurance type and coverage level."""

    active: bool
    plan_begin: date | None = None
    plan_end: date | None = None
    plan_description: str | None = None
    insurance_type: str | None = None
    group_number: str | None = None
    copays: tuple[ServiceCopay, ...] = ()
    coinsurance: tuple[ServiceCoinsurance, ...] = ()
    deductible: Accumulator = Accumulator()
    out_of_pocket: Accumulator = Accumulator()
    prior_authorization_service_types: tuple[str, ...] = ()
    accumulators: tuple[PlanAccumulator, ...] = ()
    other_payers: tuple[OtherPayer, ...] = ()


class PayerError(_Part):
    """An AAA the payer answered with: where (source, receiver, subscriber, dependant), the reject reason
    code and its meaning, and the follow-up the payer asks for."""

    level: str
    code: str
    meaning: str | None = None
    follow_up: str
    follow_up_meaning: str | None = None


class _CheckOutcome(IntegrationEvent):
    subject_field: ClassVar[str] = "patient_id"

    check_id: UUID
    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    date_of_service: date
    service_type: str
    trigger: CheckTrigger
    checked_at: UtcDatetime


class EligibilityVerified(_CheckOutcome):
    """The payer confirmed active coverage on the date of service, with the benefits it stated."""

    event_type: ClassVar[str] = "rcm.eligibility.eligibility_verified"

    benefits: BenefitsSnapshot


class EligibilityCheckFailed(_CheckOutcome):
    """No active coverage could be confirmed: the payer refused (AAA), said the coverage is inactive, or
    could not be reached. `retry_scheduled` says whether the service will ask again by itself."""

    event_type: ClassVar[str] = "rcm.eligibility.eligibility_check_failed"

    kind: FailureKind
    reason: str
    errors: tuple[PayerError, ...] = ()
    attempts: int
    retry_scheduled: bool
    benefits: BenefitsSnapshot | None = None


class PriorAuthorizationRecorded(IntegrationEvent):
    """A payer's authorisation for services, as the practice recorded it."""

    event_type: ClassVar[str] = "rcm.eligibility.prior_authorization_recorded"
    subject_field: ClassVar[str] = "patient_id"

    authorization_id: UUID
    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    authorization_number: str
    procedure_codes: tuple[str, ...]
    service_type: str | None = None
    units_authorized: int
    start_date: date
    end_date: date
