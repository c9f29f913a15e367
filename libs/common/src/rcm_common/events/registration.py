"""Integration events published by the registration service on `rcm.registration.events`, keyed by patient.

They carry the demographics and coverage that eligibility, charge, claim and collections keep copies of.
The SSN never leaves registration.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from rcm_common.events.base import IntegrationEvent, OpenEnum

Sex = Annotated[Literal["F", "M", "U"], OpenEnum(unknown_reads_as="U")]
SubscriberRelationship = Annotated[Literal["self", "spouse", "child", "other"], OpenEnum(unknown_reads_as="other")]
GuarantorRelationship = Annotated[
    Literal["self", "spouse", "parent", "legal_guardian", "other"], OpenEnum(unknown_reads_as="other")
]
CoverageOrder = Annotated[Literal["primary", "secondary", "tertiary"], OpenEnum(unknown_reads_as=None)]
PlanType = Annotated[
    Literal[
        "PPO",
        "HMO",
        "EPO",
        "POS",
        "HDHP",
        "INDEMNITY",
        "MEDICARE",
        "MEDICARE_ADVANTAGE",
        "MEDICAID",
        "TRICARE",
        "WORKERS_COMP",
        "AUTO",
        "OTHER",
    ],
    OpenEnum(unknown_reads_as="OTHER"),
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Address(_Part):
    line1: str
    line2: str | None = None
    city: str
    state: str
    postal_code: str


class Guarantor(_Part):
    """Who is responsible for the patient's balance; `self` means the patient."""

    relationship: GuarantorRelationship
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    address: Address | None = None
    phone: str | None = None


class Subscriber(_Part):
    """The policy holder, when the patient is not the subscriber."""

    first_name: str
    last_name: str
    birth_date: date
    sex: Sex | None = None


class _PatientState(IntegrationEvent):
    subject_field: ClassVar[str] = "patient_id"

    patient_id: UUID
    mrn: str
    first_name: str
    middle_name: str | None = None
    last_name: str
    birth_date: date
    sex: Sex
    address: Address
    phone: str | None = None
    email: str | None = None
    guarantor: Guarantor


class PatientRegistered(_PatientState):
    event_type: ClassVar[str] = "rcm.registration.patient_registered"


class PatientUpdated(_PatientState):
    """The patient's whole current state, with the names of the fields this change touched."""

    event_type: ClassVar[str] = "rcm.registration.patient_updated"

    changed_fields: tuple[str, ...]


class PatientsMerged(IntegrationEvent):
    """A duplicate record was folded into the surviving one; consumers re-point what they hold."""

    event_type: ClassVar[str] = "rcm.registration.patients_merged"
    subject_field: ClassVar[str] = "surviving_patient_id"

    surviving_patient_id: UUID
    merged_patient_id: UUID
    moved_coverage_ids: tuple[UUID, ...]
    ended_coverage_ids: tuple[UUID, ...] = ()


class _CoverageState(IntegrationEvent):
    subject_field: ClassVar[str] = "patient_id"

    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    payer_name: str
    member_id: str
    group_number: str | None = None
    plan_type: PlanType | None = None
    relationship: SubscriberRelationship
    subscriber: Subscriber | None = None
    effective_date: date
    termination_date: date | None = None
    order: CoverageOrder


class CoverageAdded(_CoverageState):
    event_type: ClassVar[str] = "rcm.registration.coverage_added"


class CoverageUpdated(_CoverageState):
    event_type: ClassVar[str] = "rcm.registration.coverage_updated"

    changed_fields: tuple[str, ...]


class CoverageEnded(IntegrationEvent):
    event_type: ClassVar[str] = "rcm.registration.coverage_ended"
    subject_field: ClassVar[str] = "patient_id"

    patient_id: UUID
    coverage_id: UUID
    termination_date: date
    reason: str | None = None
