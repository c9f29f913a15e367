"""What a claim payment posts: paid, allowed, every adjustment in words with its category, the patient's share
split as the 835 gives it, per claim and per line; the denials in it; and an allowed amount below the contract.

The amounts are the 835's own: posting explains them, it never recomputes them. A claim payment is posted only
when it balances (paid plus every adjustment is the charge, claim and lines), which the intake checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rcm_remittance.domain.advice import DENIED, PREDETERMINATION, ZERO, Adjustment, ClaimPaymentAdvice, LineAdvice
from rcm_remittance.domain.codes import SUGGESTED_ACTIONS, Category, CodeBook, RemarkCode
from rcm_remittance.domain.copies import ClaimCopy

NOT_DENIALS: frozenset[Category] = frozenset({"contractual", "patient_responsibility"})
"""Categories that are not denials: the contract's write-off and the patient's cost sharing (PR-1, 2, 3)."""
PRIOR_PAYER = "23"  # the prior payer's part of a secondary claim: what it paid, not a denial
PRIMARY = frozenset({"1", "19"})  # processed as primary: the contract's expected allowed applies
PATIENT_SHARE_REASONS = {"1": "deductible", "2": "coinsurance", "3": "copay"}


@dataclass(frozen=True, slots=True)
class DescribedAdjustment:
    group: str
    reason: str
    description: str
    category: Category
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PatientShare:
    """Group PR by kind: deductible (PR-1), coinsurance (PR-2), copay (PR-3), and any other PR reason."""

    deductible: Decimal = ZERO
    coinsurance: Decimal = ZERO
    copay: Decimal = ZERO
    other: Decimal = ZERO

    @classmethod
    def of(cls, adjustments: Sequence[Adjustment]) -> PatientShare:
        split = {"deductible": ZERO, "coinsurance": ZERO, "copay": ZERO, "other": ZERO}
        for adjustment in adjustments:
            if adjustment.group == "PR":
                split[PATIENT_SHARE_REASONS.get(adjustment.reason, "other")] += adjustment.amount
        return cls(**split)

    @property
    def total(self) -> Decimal:
        return self.deductible + self.coinsurance + self.copay + self.other


@dataclass(frozen=True, slots=True)
class PostedLine:
    line_control_number: str | None  # the claim's line, when matched
    procedure_code: str
    modifiers: tuple[str, ...]
    billed_procedure_code: str | None
    units_paid: Decimal
    date_of_service: date | None
    charge: Decimal
    paid: Decimal
    allowed: Decimal
    adjustments: tuple[DescribedAdjustment, ...]
    remark_codes: tuple[str, ...]
    patient_share: PatientShare


@dataclass(frozen=True, slots=True)
class Posting:
    charge: Decimal
    paid: Decimal
    allowed: Decimal
    patient_responsibility: Decimal  # CLP05
    patient_share: PatientShare
    by_group: dict[str, Decimal]
    adjustments: tuple[DescribedAdjustment, ...]  # the claim's and then its lines'
    remark_codes: tuple[str, ...]
    lines: tuple[PostedLine, ...]


def described(adjustments: Sequence[Adjustment], codes: CodeBook) -> tuple[DescribedAdjustment, ...]:
    return tuple(
        DescribedAdjustment(
            a.group, a.reason, codes.reason(a.reason).description, codes.category(a.group, a.reason), a.amount
        )
        for a in adjustments
    )


def posting_of(advice: ClaimPaymentAdvice, line_matches: Sequence[str | None], codes: CodeBook) -> Posting:
    by_group: dict[str, Decimal] = {}
    for adjustment in advice.all_adjustments:
        by_group[adjustment.group] = by_group.get(adjustment.group, ZERO) + adjustment.amount
    return Posting(
        charge=advice.charge,
        paid=advice.paid,
        allowed=advice.allowed,
        patient_responsibility=advice.patient_responsibility,
        patient_share=PatientShare.of(advice.all_adjustments),
        by_group=by_group,
        adjustments=described(advice.all_adjustments, codes),
        remark_codes=advice.remark_codes,
        lines=tuple(_posted_line(line, match, codes) for line, match in zip(advice.lines, line_matches, strict=True)),
    )


def _posted_line(line: LineAdvice, match: str | None, codes: CodeBook) -> PostedLine:
    return PostedLine(
        line_control_number=match,
        procedure_code=line.procedure_code,
        modifiers=line.modifiers,
        billed_procedure_code=line.billed_code,
        units_paid=line.units_paid,
        date_of_service=line.service_date,
        charge=line.charge,
        paid=line.paid,
        allowed=line.allowed,
        adjustments=described(line.adjustments, codes),
        remark_codes=line.remark_codes,
        patient_share=PatientShare.of(line.adjustments),
    )


@dataclass(frozen=True, slots=True)
class Denial:
    line_control_number: str | None  # None: the claim as a whole
    procedure_code: str | None
    group: str
    reason: str
    description: str
    remarks: tuple[RemarkCode, ...]  # the RARCs, in words
    category: Category
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Denials:
    whole_claim: bool
    category: Category
    suggested_action: str
    amount: Decimal
    denials: tuple[Denial, ...]


def denials_of(advice: ClaimPaymentAdvice, posting: Posting, codes: CodeBook) -> Denials | None:
    """The claim's denials. A denied claim (CLP02 4): every adjustment but the contract's write-off and the
    patient's cost sharing (a PR-27 denial leaves the patient liable, and is an eligibility denial all the same).
    A line paid nothing: its adjustments that are neither contractual, nor the patient's cost sharing, nor the
    prior payer's part on a secondary claim (OA-23). The largest names the category a biller works it under. A
    predetermination (CLP02 25) pays nothing by design and denies nothing."""
    if advice.status == PREDETERMINATION:
        return None
    whole = advice.status == DENIED
    found: list[Denial] = []
    if whole:
        found += _denials(posting.adjustments[: len(advice.adjustments)], None, None, advice.remark_codes, codes)
    for line in posting.lines:
        if whole or (line.paid == ZERO and line.charge > ZERO):
            found += _denials(line.adjustments, line.line_control_number, line.procedure_code, line.remark_codes, codes)
    if not found:
        return None
    largest = max(found, key=lambda denial: denial.amount)
    return Denials(
        whole_claim=whole,
        category=largest.category,
        suggested_action=SUGGESTED_ACTIONS[largest.category],
        amount=sum((denial.amount for denial in found), ZERO),
        denials=tuple(found),
    )


def _denials(
    adjustments: Sequence[DescribedAdjustment],
    line_control_number: str | None,
    procedure_code: str | None,
    remark_codes: tuple[str, ...],
    codes: CodeBook,
) -> list[Denial]:
    found = []
    remarks = tuple(codes.remark(code) for code in remark_codes)
    for a in adjustments:
        category = codes.reason(a.reason).category  # a PR adjustment's own reason, not "the patient's"
        if a.amount > ZERO and category not in NOT_DENIALS and a.reason != PRIOR_PAYER:
            found.append(
                Denial(line_control_number, procedure_code, a.group, a.reason, a.description, remarks, category,
                       a.amount)
            )  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far below the contract's expected allowed a payer may allow before it is an underpayment: a
    shortfall over either the amount or the share of the expected allowed is one."""

    amount: Decimal
    share: Decimal

    def exceeded_by(self, shortfall: Decimal, expected: Decimal) -> bool:
        return shortfall > self.amount or shortfall > expected * self.share


@dataclass(frozen=True, slots=True)
class UnderpaidLine:
    line_control_number: str
    procedure_code: str
    expected_allowed: Decimal
    allowed: Decimal

    @property
    def shortfall(self) -> Decimal:
        return self.expected_allowed - self.allowed


@dataclass(frozen=True, slots=True)
class Underpayment:
    lines: tuple[UnderpaidLine, ...]

    @property
    def expected_allowed(self) -> Decimal:
        return sum((line.expected_allowed for line in self.lines), ZERO)

    @property
    def allowed(self) -> Decimal:
        return sum((line.allowed for line in self.lines), ZERO)

    @property
    def shortfall(self) -> Decimal:
        return self.expected_allowed - self.allowed


def underpayment_of(
    advice: ClaimPaymentAdvice, posting: Posting, claim: ClaimCopy, tolerance: Tolerance
) -> Underpayment | None:
    """The matched lines a payment as primary allowed below the contract by more than the tolerance; a denied
    line is a denial, not an underpayment, and a secondary's allowed (less the prior payer's part) is not the
    contract's."""
    if advice.status not in PRIMARY:
        return None
    expected = {line.control_number: line.expected_allowed for line in claim.lines}
    short = []
    for line in posting.lines:
        control = line.line_control_number
        wanted = expected.get(control) if control is not None else None
        if control is None or wanted is None or (line.paid == ZERO and line.charge > ZERO):
            continue
        if line.allowed < wanted and tolerance.exceeded_by(wanted - line.allowed, wanted):
            short.append(UnderpaidLine(control, line.procedure_code, wanted, line.allowed))
    return Underpayment(tuple(short)) if short else None
