"""The one mapper from registration's domain to its contract: value objects and domain events become the
integration events of `rcm_common.events.registration`, carrying the aggregate's state as it is stored.
"""

from __future__ import annotations

from rcm_common.events import registration as contract
from rcm_common.events.base import IntegrationEvent
from rcm_registration.domain import events
from rcm_registration.domain.model import Address, Coverage, Guarantor, Patient, Subscriber


def address_contract(address: Address) -> contract.Address:
    return contract.Address(
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        state=address.state,
        postal_code=address.postal_code,
    )


def guarantor_contract(guarantor: Guarantor) -> contract.Guarantor:
    return contract.Guarantor(
        relationship=guarantor.relationship,
        first_name=guarantor.first_name,
        last_name=guarantor.last_name,
        birth_date=guarantor.birth_date,
        address=address_contract(guarantor.address) if guarantor.address else None,
        phone=guarantor.phone,
    )


def subscriber_contract(subscriber: Subscriber | None) -> contract.Subscriber | None:
    if subscriber is None:
        return None
    return contract.Subscriber(
        first_name=subscriber.first_name,
        last_name=subscriber.last_name,
        birth_date=subscriber.birth_date,
        sex=subscriber.sex,
    )


def _patient_state(patient: Patient) -> dict[str, object]:
    details = patient.details
    return {
        "patient_id": patient.id,
        "mrn": patient.mrn,
        "first_name": details.first_name,
        "middle_name": details.middle_name,
        "last_name": details.last_name,
        "birth_date": details.birth_date,
        "sex": details.sex,
        "address": address_contract(details.address),
        "phone": details.phone,
        "email": details.email,
        "guarantor": guarantor_contract(details.guarantor),
    }


def _coverage_state(coverage: Coverage) -> dict[str, object]:
    terms = coverage.terms
    return {
        "patient_id": coverage.patient_id,
        "coverage_id": coverage.id,
        "payer_id": terms.payer_id,
        "payer_name": terms.payer_name,
        "member_id": terms.member_id,
        "group_number": terms.group_number,
        "plan_type": terms.plan_type,
        "relationship": terms.relationship,
        "subscriber": subscriber_contract(terms.subscriber),
        "effective_date": terms.effective_date,
        "termination_date": terms.termination_date,
        "order": terms.order,
    }


def to_integration_event(patient: Patient, event: events.DomainEvent) -> IntegrationEvent:
    """The contract event for a domain event recorded by `patient`, with the state it is stored in."""
    match event:
        case events.PatientRegistered():
            return contract.PatientRegistered.model_validate(_patient_state(patient))
        case events.PatientUpdated(changed_fields=changed):
            return contract.PatientUpdated.model_validate({**_patient_state(patient), "changed_fields": changed})
        case events.PatientsMerged():
            return contract.PatientsMerged(
                surviving_patient_id=event.surviving_patient_id,
                merged_patient_id=event.merged_patient_id,
                moved_coverage_ids=event.moved_coverage_ids,
                ended_coverage_ids=event.ended_coverage_ids,
            )
        case events.CoverageAdded(coverage_id=coverage_id):
            return contract.CoverageAdded.model_validate(_coverage_state(patient.coverage(coverage_id)))
        case events.CoverageUpdated(coverage_id=coverage_id, changed_fields=changed):
            state = _coverage_state(patient.coverage(coverage_id))
            return contract.CoverageUpdated.model_validate({**state, "changed_fields": changed})
        case events.CoverageEnded():
            return contract.CoverageEnded(
                patient_id=event.patient_id,
                coverage_id=event.coverage_id,
                termination_date=event.termination_date,
                reason=event.reason,
            )
