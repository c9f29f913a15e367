"""What claim keeps of registration's patients and coverages: the names, birth dates, sex and address an
837P's subscriber and patient loops need, and the payer, member id, order, relationship, subscriber and dates
of each coverage (`rcm_common.replica` keeps them)."""

from __future__ import annotations

from uuid import UUID

from rcm_claim.domain.copies import CoverageCopy, PatientCopy, Person
from rcm_claim.domain.directories import Address
from rcm_common.replica import CoverageState, PatientState, Projection


def patient_copy(event: PatientState, merged_into: UUID | None) -> PatientCopy:
    address = event.address
    return PatientCopy(
        patient_id=event.patient_id,
        person=Person(event.last_name, event.first_name, event.birth_date, event.sex),
        address=Address(address.line1, address.city, address.state, address.postal_code, address.line2 or ""),
        merged_into=merged_into,
    )


def coverage_copy(event: CoverageState) -> CoverageCopy:
    subscriber = event.subscriber
    return CoverageCopy(
        coverage_id=event.coverage_id,
        patient_id=event.patient_id,
        payer_id=event.payer_id,
        member_id=event.member_id,
        order=event.order,
        relationship=event.relationship,
        effective_date=event.effective_date,
        termination_date=event.termination_date,
        subscriber=(
            Person(subscriber.last_name, subscriber.first_name, subscriber.birth_date, subscriber.sex)
            if subscriber is not None
            else None
        ),
    )


PROJECTION = Projection(patient=patient_copy, coverage=coverage_copy)
