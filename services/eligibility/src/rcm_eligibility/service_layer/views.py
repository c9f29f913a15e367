"""What eligibility answers with: checks, benefits, estimates, authorisations and appointments as the
front desk reads them. The member id and the raw 271 are not part of any view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from rcm_common.events.eligibility import BenefitsSnapshot, PayerError
from rcm_common.types import Money
from rcm_eligibility.domain.appointment import Appointment, AppointmentStatus
from rcm_eligibility.domain.authorization import AuthorizationStatus, PriorAuthorization
from rcm_eligibility.domain.estimate import VisitEstimate
from rcm_eligibility.domain.model import CheckTrigger, EligibilityCheck, FailureKind
from rcm_eligibility.service_layer.mapping import benefits_contract, payer_error_contract

CheckState = Literal["pending", "retrying", "verified", "failed"]


class CheckPublic(BaseModel):
    """`retrying`: the last attempt failed and the service will ask again at `next_attempt_at`."""

    id: UUID
    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    date_of_service: date
    service_type: str
    trigger: CheckTrigger
    status: CheckState
    attempts: int
    requested_at: datetime
    checked_at: datetime | None
    next_attempt_at: datetime | None
    benefits: BenefitsSnapshot | None
    failure_kind: FailureKind | None
    reason: str | None
    errors: list[PayerError]

    @classmethod
    def of(cls, check: EligibilityCheck) -> CheckPublic:
        failure = check.failure
        state: CheckState = check.status
        if check.status == "pending" and failure is not None:
            state = "retrying"
        return cls(
            id=check.id,
            patient_id=check.patient_id,
            coverage_id=check.coverage_id,
            payer_id=check.payer_id,
            date_of_service=check.date_of_service,
            service_type=check.service_type,
            trigger=check.trigger,
            status=state,
            attempts=check.attempts,
            requested_at=check.created_at,
            checked_at=check.completed_at,
            next_attempt_at=check.next_attempt_at if check.status == "pending" else None,
            benefits=benefits_contract(check.benefits) if check.benefits else None,
            failure_kind=failure.kind if failure else None,
            reason=failure.reason if failure else None,
            errors=[payer_error_contract(error) for error in failure.errors] if failure else [],
        )


class EstimatedServicePublic(BaseModel):
    procedure_code: str
    service_type: str
    allowed_amount: Money
    copay: Money
    deductible: Money
    coinsurance: Money
    patient_responsibility: Money
    plan_payment: Money
    prior_authorization_required: bool


class EstimatePublic(BaseModel):
    """A good-faith estimate: what the patient is expected to owe, how it was reached, and on what. The
    amounts are the visit's totals; `services` has each service's (`procedure_code` and `service_type`
    name the service when there is one)."""

    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    date_of_service: date
    procedure_code: str | None
    service_type: str | None
    based_on_check_id: UUID
    allowed_amount: Money
    copay: Money
    deductible: Money
    coinsurance: Money
    patient_responsibility: Money
    plan_payment: Money
    prior_authorization_required: bool
    services: list[EstimatedServicePublic]
    assumptions: list[str]
    disclaimer: str

    @classmethod
    def of(cls, visit: VisitEstimate, check: EligibilityCheck, date_of_service: date) -> EstimatePublic:
        services = [
            EstimatedServicePublic(
                procedure_code=service.procedure_code,
                service_type=service.service_type,
                allowed_amount=estimate.allowed_amount,
                copay=estimate.copay,
                deductible=estimate.deductible,
                coinsurance=estimate.coinsurance,
                patient_responsibility=estimate.patient_responsibility,
                plan_payment=estimate.plan_payment,
                prior_authorization_required=estimate.prior_authorization_required,
            )
            for service, estimate in visit.services
        ]
        one = services[0] if len(services) == 1 else None
        return cls(
            patient_id=check.patient_id,
            coverage_id=check.coverage_id,
            payer_id=check.payer_id,
            date_of_service=date_of_service,
            procedure_code=one.procedure_code if one else None,
            service_type=one.service_type if one else None,
            based_on_check_id=check.id,
            allowed_amount=visit.total("allowed_amount"),
            copay=visit.total("copay"),
            deductible=visit.total("deductible"),
            coinsurance=visit.total("coinsurance"),
            patient_responsibility=visit.total("patient_responsibility"),
            plan_payment=visit.total("plan_payment"),
            prior_authorization_required=any(s.prior_authorization_required for s in services),
            services=services,
            assumptions=list(dict.fromkeys(a for _, estimate in visit.services for a in estimate.assumptions)),
            disclaimer=(
                "A good-faith estimate from the benefits the payer stated on "
                f"{check.completed_at:%Y-%m-%d} and the expected allowed amounts; "
                "the payer's adjudication of the claim decides what is owed."
                if check.completed_at
                else ""
            ),
        )


class AuthorizationUsePublic(BaseModel):
    date_of_service: date
    procedure_code: str
    units: int
    recorded_at: datetime


class AuthorizationPublic(BaseModel):
    id: UUID
    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    authorization_number: str
    procedure_codes: list[str]
    service_type: str | None
    units_authorized: int
    units_used: int
    units_remaining: int
    start_date: date
    end_date: date
    status: AuthorizationStatus
    uses: list[AuthorizationUsePublic]
    recorded_at: datetime

    @classmethod
    def of(cls, authorization: PriorAuthorization, today: date) -> AuthorizationPublic:
        return cls(
            id=authorization.id,
            patient_id=authorization.patient_id,
            coverage_id=authorization.coverage_id,
            payer_id=authorization.payer_id,
            authorization_number=authorization.number,
            procedure_codes=list(authorization.procedure_codes),
            service_type=authorization.service_type,
            units_authorized=authorization.units_authorized,
            units_used=authorization.units_used,
            units_remaining=authorization.units_remaining,
            start_date=authorization.start_date,
            end_date=authorization.end_date,
            status=authorization.status(today),
            uses=[AuthorizationUsePublic.model_validate(use, from_attributes=True) for use in authorization.uses],
            recorded_at=authorization.recorded_at,
        )


class AppointmentPublic(BaseModel):
    id: UUID
    patient_id: UUID
    coverage_id: UUID
    date_of_service: date
    service_type: str
    status: AppointmentStatus
    check_id: UUID | None

    @classmethod
    def of(cls, appointment: Appointment) -> AppointmentPublic:
        return cls(
            id=appointment.id,
            patient_id=appointment.patient_id,
            coverage_id=appointment.coverage_id,
            date_of_service=appointment.date_of_service,
            service_type=appointment.service_type,
            status=appointment.status,
            check_id=appointment.check_id,
        )


class AllowedAmountsPublic(BaseModel):
    stored: int
