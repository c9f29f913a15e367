"""The one mapper from eligibility's domain to its contract: a check's or an authorisation's domain events
become the integration events of `rcm_common.events.eligibility`."""

from __future__ import annotations

from dataclasses import asdict

from rcm_common.events import eligibility as contract
from rcm_common.events.base import IntegrationEvent
from rcm_eligibility.domain import events
from rcm_eligibility.domain.authorization import PriorAuthorization
from rcm_eligibility.domain.benefits import Benefits, PayerError
from rcm_eligibility.domain.model import EligibilityCheck


def benefits_contract(benefits: Benefits) -> contract.BenefitsSnapshot:
    snapshot = asdict(benefits)
    snapshot["other_payers"] = [
        asdict(other) | {"medicare_secondary_payer": other.medicare_secondary_payer} for other in benefits.other_payers
    ]
    return contract.BenefitsSnapshot.model_validate(snapshot)


def payer_error_contract(error: PayerError) -> contract.PayerError:
    return contract.PayerError.model_validate(asdict(error))


def _outcome(check: EligibilityCheck) -> dict[str, object]:
    return {
        "check_id": check.id,
        "patient_id": check.patient_id,
        "coverage_id": check.coverage_id,
        "payer_id": check.payer_id,
        "date_of_service": check.date_of_service,
        "service_type": check.service_type,
        "trigger": check.trigger,
        "checked_at": check.completed_at,
    }


def to_integration_event(
    aggregate: EligibilityCheck | PriorAuthorization, event: events.DomainEvent
) -> IntegrationEvent:
    match aggregate, event:
        case EligibilityCheck() as check, events.CheckVerified(benefits=benefits):
            return contract.EligibilityVerified.model_validate(
                _outcome(check) | {"benefits": benefits_contract(benefits)}
            )
        case EligibilityCheck() as check, events.CheckFailed(failure=failure, retry_scheduled=retry_scheduled):
            return contract.EligibilityCheckFailed.model_validate(
                _outcome(check)
                | {
                    "kind": failure.kind,
                    "reason": failure.reason,
                    "errors": [payer_error_contract(error) for error in failure.errors],
                    "attempts": check.attempts,
                    "retry_scheduled": retry_scheduled,
                    "benefits": benefits_contract(check.benefits) if check.benefits else None,
                }
            )
        case PriorAuthorization() as auth, events.AuthorizationRecorded():
            return contract.PriorAuthorizationRecorded(
                authorization_id=auth.id,
                patient_id=auth.patient_id,
                coverage_id=auth.coverage_id,
                payer_id=auth.payer_id,
                authorization_number=auth.number,
                procedure_codes=auth.procedure_codes,
                service_type=auth.service_type,
                units_authorized=auth.units_authorized,
                start_date=auth.start_date,
                end_date=auth.end_date,
            )
        case _:
            raise TypeError(f"{type(aggregate).__name__} does not record {type(event).__name__}")
