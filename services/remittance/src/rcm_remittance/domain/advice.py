"""What an 835 says, as the remittance service works with it: one transaction set (a remittance advice) with
its payment, its claim payments and their lines, and the payer's provider-level adjustments (PLB).

These are the reader's figures, unchanged, in the service's own types: the adapter maps the X12 codec's model
onto them, and everything the service decides (matching, posting, denials) reads them. The natural keys of
DESIGN §4 are here: a remittance is known by payer, TRN02 and ISA13; a claim payment by payer, TRN02, CLP01,
CLP07 and CLP02 (the payer in both because trace numbers are only unique per payer).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")
REVERSAL = "22"  # CLP02: the reversal of a previous payment
DENIED = "4"
PREDETERMINATION = "25"  # pricing only: nothing is paid, nothing denied


class UnreadableFile(ValueError):
    """The file is not an 835 that can be read whole; the message names where, never a value."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS adjustment: group (CO, PR, OA, PI, CR), reason (CARC) and amount."""

    group: str
    reason: str
    amount: Decimal


def total(adjustments: tuple[Adjustment, ...], *groups: str) -> Decimal:
    """The sum of the adjustments in `groups` (all of them when none is named)."""
    return sum((a.amount for a in adjustments if not groups or a.group in groups), ZERO)


@dataclass(frozen=True, slots=True)
class LineAdvice:
    """Loop 2110: one service line's payment."""

    procedure_code: str  # SVC01-2, the code paid
    modifiers: tuple[str, ...]
    billed_code: str | None  # SVC06-2, the code as billed, when the payer paid another (re-bundling)
    billed_modifiers: tuple[str, ...]
    units_paid: Decimal
    units_billed: Decimal
    service_date: date | None
    charge: Decimal
    paid: Decimal
    allowed_amount: Decimal | None  # AMT*B6
    control_number: str  # REF*6R, echoed from the claim
    adjustments: tuple[Adjustment, ...]
    remark_codes: tuple[str, ...]

    @property
    def allowed(self) -> Decimal:
        """AMT*B6 where the payer sent it, else the charge less the contractual and other adjustments."""
        if self.allowed_amount is not None:
            return self.allowed_amount
        return self.charge - total(self.adjustments, "CO", "OA")


@dataclass(frozen=True, slots=True)
class ClaimPaymentAdvice:
    """Loop 2100: one claim payment (CLP) and its lines."""

    patient_control_number: str  # CLP01, the claim's CLM01
    status: str  # CLP02
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal  # CLP05
    payer_claim_number: str  # CLP07
    frequency: str  # CLP09
    statement_start: date | None
    statement_end: date | None
    adjustments: tuple[Adjustment, ...]  # the claim level's own
    remark_codes: tuple[str, ...]
    lines: tuple[LineAdvice, ...]

    @property
    def is_reversal(self) -> bool:
        return self.status == REVERSAL

    @property
    def all_adjustments(self) -> tuple[Adjustment, ...]:
        """The claim's adjustments and then each line's, in the order the 835 gives them."""
        return self.adjustments + tuple(a for line in self.lines for a in line.adjustments)

    @property
    def allowed(self) -> Decimal:
        """The lines' allowed amounts less any claim-level contractual or other adjustment; without lines, the
        charge less the contractual and other adjustments."""
        if not self.lines:
            return self.charge - total(self.adjustments, "CO", "OA")
        return sum((line.allowed for line in self.lines), ZERO) - total(self.adjustments, "CO", "OA")

    @property
    def dates(self) -> tuple[date, ...]:
        found = {line.service_date for line in self.lines if line.service_date is not None}
        found |= {d for d in (self.statement_start, self.statement_end) if d is not None}
        return tuple(sorted(found))


@dataclass(frozen=True, slots=True)
class ProviderAdjustmentAdvice:
    """One reason and amount of a PLB. A positive amount reduces the payment (the provider owes it); interest
    (L6) comes negative, adding to it."""

    reason: str  # PLB03-1
    reference: str  # PLB03-2: for WO, FB and L6 usually the claim it concerns
    amount: Decimal
    fiscal_period_date: date | None


@dataclass(frozen=True, slots=True)
class RemittanceAdvice:
    """One 835 transaction set, with what the reader noticed and where its figures do not add up."""

    position: int  # the set's place in its file, from 0
    payer_id: str
    payer_name: str
    trace_number: str  # TRN02
    interchange_control_number: str  # ISA13; "" for a bare transaction set
    handling_code: str  # BPR01
    total_paid: Decimal  # BPR02
    credit_debit: str  # BPR03
    payment_method: str  # BPR04
    payment_date: date | None  # BPR16
    claims: tuple[ClaimPaymentAdvice, ...]
    provider_adjustments: tuple[ProviderAdjustmentAdvice, ...]
    findings: tuple[str, ...]
    balance_problems: tuple[str, ...]

    @property
    def provider_adjustment_total(self) -> Decimal:
        return sum((a.amount for a in self.provider_adjustments), ZERO)

    @property
    def figures(self) -> str:
        """A digest of what the set pays: BPR02, the PLB, and each claim payment's numbers and amounts. Two sets
        with one payer, TRN02 and ISA13 are the same set only when their figures are the same too."""
        parts = [str(self.total_paid), *(f"{a.reason}|{a.reference}|{a.amount}" for a in self.provider_adjustments)]
        parts += [
            f"{c.patient_control_number}|{c.status}|{c.payer_claim_number}|{c.charge}|{c.paid}" for c in self.claims
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()
