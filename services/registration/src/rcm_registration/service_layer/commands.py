"""Commands: what a caller asks registration to do. They are also the HTTP request bodies.

Shapes and types are checked here; the registrar's rules (formats, dates, duplicates) in the domain.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from rcm_common.events.registration import (
    Address,
    CoverageOrder,
    Guarantor,
    PlanType,
    Sex,
    Subscriber,
    SubscriberRelationship,
)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=255)


class RegisterPatient(_Command):
    first_name: str
    middle_name: str | None = None
    last_name: str
    birth_date: date
    sex: Sex
    address: Address
    phone: str | None = None
    email: str | None = None
    ssn: str | None = None
    guarantor: Guarantor | None = None


class UpdatePatient(_Command):
    """Only the fields sent change; `null` clears an optional field."""

    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    address: Address | None = None
    phone: str | None = None
    email: str | None = None
    ssn: str | None = None
    guarantor: Guarantor | None = None


class AddCoverage(_Command):
    payer_id: str
    payer_name: str
    member_id: str
    group_number: str | None = None
    plan_type: PlanType | None = None
    relationship: SubscriberRelationship = "self"
    subscriber: Subscriber | None = None
    effective_date: date
    termination_date: date | None = None
    order: CoverageOrder = "primary"


class UpdateCoverage(_Command):
    """Corrections to a coverage in force; a new payer is a new coverage, an end date is `/end`."""

    payer_name: str | None = None
    member_id: str | None = None
    group_number: str | None = None
    plan_type: PlanType | None = None
    relationship: SubscriberRelationship | None = None
    subscriber: Subscriber | None = None
    effective_date: date | None = None
    order: CoverageOrder | None = None


class EndCoverage(_Command):
    termination_date: date
    reason: str | None = None


class MergePatients(_Command):
    duplicate_id: UUID
