"""What eligibility keeps of registration's patients and coverages: enough to name the patient and the
subscriber in a 270 and to know which payer, plan and dates to ask about (`rcm_common.replica` keeps it)."""

from __future__ import annotations

from uuid import UUID

from rcm_common.replica import CoverageState, PatientState, Projection
from rcm_eligibility.domain.model import CoverageCopy, PatientCopy, Person


def patient_copy(event: PatientState, merged_into: UUID | None) -> PatientCopy:
    return PatientCopy(
        event.patient_id, Person(event.first_name, event.last_name, event.birth_date, event.sex), merged_into
    )


def coverage_copy(event: CoverageState) -> CoverageCopy:
    subscriber = event.subscriber
    return CoverageCopy(
        coverage_id=event.coverage_id,
        patient_id=event.patient_id,
        payer_id=event.payer_id,
        payer_name=event.payer_name,
        member_id=event.member_id,
        relationship=event.relationship,
        effective_date=event.effective_date,
        order=event.order,
        group_number=event.group_number,
        plan_type=event.plan_type,
        subscriber=(
            Person(subscriber.first_name, subscriber.last_name, subscriber.birth_date, subscriber.sex or "U")
            if subscriber is not None
            else None
        ),
        termination_date=event.termination_date,
    )


PROJECTION = Projection(patient=patient_copy, coverage=coverage_copy)
