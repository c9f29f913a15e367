"""What registration answers with: the patient and coverage as a billing team sees them.

The SSN is never returned, only its last four digits.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from rcm_common.events.registration import (
    Address,
    CoverageOrder,
    Guarantor,
    PlanType,
    Sex,
    Subscriber,
    SubscriberRelationship,
)
from rcm_registration.domain.model import Coverage, CoverageStatus, Patient, PatientStatus
from rcm_registration.service_layer.mapping import address_contract, guarantor_contract, subscriber_contract


class CoveragePublic(BaseModel):
    id: UUID
    patient_id: UUID
    payer_id: str
    payer_name: str
    member_id: str
    group_number: str | None
    plan_type: PlanType | None
    relationship: SubscriberRelationship
    subscriber: Subscriber | None
    effective_date: date
    termination_date: date | None
    order: CoverageOrder
    status: CoverageStatus
    end_reason: str | None

    @classmethod
    def of(cls, coverage: Coverage) -> CoveragePublic:
        terms = coverage.terms
        return cls(
            id=coverage.id,
            patient_id=coverage.patient_id,
            payer_id=terms.payer_id,
            payer_name=terms.payer_name,
            member_id=terms.member_id,
            group_number=terms.group_number,
            plan_type=terms.plan_type,
            relationship=terms.relationship,
            subscriber=subscriber_contract(terms.subscriber),
            effective_date=terms.effective_date,
            termination_date=terms.termination_date,
            order=terms.order,
            status=coverage.status,
            end_reason=coverage.end_reason,
        )


class PatientPublic(BaseModel):
    id: UUID
    mrn: str
    first_name: str
    middle_name: str | None
    last_name: str
    birth_date: date
    sex: Sex
    address: Address
    phone: str | None
    email: str | None
    guarantor: Guarantor
    ssn_last4: str | None
    status: PatientStatus
    merged_into_id: UUID | None
    version: int
    coverages: list[CoveragePublic]

    @classmethod
    def of(cls, patient: Patient) -> PatientPublic:
        details = patient.details
        return cls(
            id=patient.id,
            mrn=patient.mrn,
            first_name=details.first_name,
            middle_name=details.middle_name,
            last_name=details.last_name,
            birth_date=details.birth_date,
            sex=details.sex,
            address=address_contract(details.address),
            phone=details.phone,
            email=details.email,
            guarantor=guarantor_contract(details.guarantor),
            ssn_last4=patient.ssn[-4:] if patient.ssn else None,
            status=patient.status,
            merged_into_id=patient.merged_into_id,
            version=patient.version,
            coverages=[CoveragePublic.of(c) for c in patient.coverages],
        )
