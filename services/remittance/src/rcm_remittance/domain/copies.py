"""What the remittance service keeps of the claims it will be paid for, as the claim service's events said.

ClaimSubmitted carries what matching needs (CLM01, the lines with their control numbers, codes, units, dates,
charges and the contract's expected allowed); ClaimAccepted adds the payer's claim number, which the 835
repeats in CLP07; ClaimReplaced and ClaimVoided say the claim was superseded. No names or member ids: a claim
payment is matched by the numbers the claim itself sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

CopyState = Literal["submitted", "accepted", "replaced", "voided"]


@dataclass(frozen=True, slots=True)
class LineCopy:
    control_number: str  # REF*6R, which the 835 echoes
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    date_of_service: date
    charge: Decimal
    expected_allowed: Decimal | None


@dataclass(frozen=True, slots=True)
class ClaimCopy:
    claim_id: UUID
    patient_id: UUID
    payer_id: str
    coverage_id: UUID
    patient_control_number: str  # CLM01, which the 835 echoes in CLP01
    frequency: str
    total_charge: Decimal
    lines: tuple[LineCopy, ...]
    state: CopyState = "submitted"
    payer_claim_number: str | None = None  # from the 277CA, repeated in the 835's CLP07
    replaces_payer_claim_number: str | None = None

    @property
    def first_date_of_service(self) -> date | None:
        return min((line.date_of_service for line in self.lines), default=None)

    def accepted(self, payer_claim_number: str) -> ClaimCopy:
        state: CopyState = "accepted" if self.state == "submitted" else self.state
        return replace(self, payer_claim_number=payer_claim_number, state=state)

    def superseded(self, state: CopyState) -> ClaimCopy:
        return replace(self, state=state)
