"""What charge keeps of registration's patients and coverages: the sex and birth date the code edits read,
and the payer, member and dates that price a claim and match an import (`rcm_common.replica` keeps it)."""

from __future__ import annotations

from uuid import UUID

from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_common.replica import CoverageState, PatientState, Projection


def patient_copy(event: PatientState, merged_into: UUID | None) -> PatientCopy:
    return PatientCopy(event.patient_id, event.sex, event.birth_date, merged_into)


def coverage_copy(event: CoverageState) -> CoverageCopy:
    return CoverageCopy(
        coverage_id=event.coverage_id,
        patient_id=event.patient_id,
        payer_id=event.payer_id,
        member_id=event.member_id,
        effective_date=event.effective_date,
        termination_date=event.termination_date,
    )


PROJECTION = Projection(patient=patient_copy, coverage=coverage_copy)
