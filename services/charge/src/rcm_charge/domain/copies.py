"""What charge keeps of registration's patients and coverages (event-carried state): only what the code
edits and the import's matching need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from rcm_charge.domain.validation import CoverageFacts, PatientFacts


@dataclass(slots=True)
class PatientCopy:
    patient_id: UUID
    sex: Literal["F", "M", "U"]
    birth_date: date
    merged_into: UUID | None = None

    @property
    def facts(self) -> PatientFacts:
        return PatientFacts(self.sex, self.birth_date)


@dataclass(slots=True)
class CoverageCopy:
    coverage_id: UUID
    patient_id: UUID
    payer_id: str
    member_id: str  # kept only as a keyed hash by the repository
    effective_date: date
    termination_date: date | None = None

    @property
    def facts(self) -> CoverageFacts:
        return CoverageFacts(
            self.coverage_id, self.patient_id, self.payer_id, self.effective_date, self.termination_date
        )
