"""Adjudication: each line priced from the plan's fee schedule, the patient's share taken from the patient's
accumulators (on a copay line the copay PR-3 alone; otherwise deductible PR-1, then coinsurance PR-2; always
within the out-of-pocket maximum), the rest of the charge written off as contractual (CO-45), or the line
denied with its CARC and RARC.

Denials, the first that applies: not covered on the date of service (CO-27), filed after the plan's
timely filing limit (CO-29), an invalid or missing diagnosis (CO-16, M76), a duplicate of a line allowed
in an earlier batch (CO-18), a code the plan does not cover (CO-96, N130), no prior authorisation where the
plan requires one (CO-197), and a seeded share of denials drawn from the plan's list.

A secondary claim (one carrying the prior payer's adjudication) pays the lesser of what the prior payer
left the patient and what this plan would have paid as primary; the prior payer's part is OA-23, and the
deductible it would have applied as primary is credited to the member (NAIC COB model regulation).
Preventive services the plan names are paid in full, with no deductible or coinsurance (MCPM chapter 18).
Every line balances: charge = paid + its adjustments.
"""

from __future__ import annotations

import random
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rcm_clearinghouse_sim.domain.accumulators import Met
from rcm_clearinghouse_sim.domain.claims import Claim, Line, Patient, PriorShare
from rcm_clearinghouse_sim.domain.coverage import Coverage
from rcm_clearinghouse_sim.domain.plans import ZERO, Denial, Plan, cents

# ICD-10-CM as claims carry it: no dot, a letter, two characters of the category, up to four more. The U
# codes are ICD-10-CM's codes for special purposes (U07.1 COVID-19, U09.9 post COVID-19 condition).
_ICD10 = re.compile(r"[A-Z][0-9][0-9A-Z]{1,5}")
_STATUS = {"P": "1", "S": "2", "T": "3"}
DuplicateKey = tuple[str, Patient, date, str, tuple[str, ...], Decimal]
"""Payer, patient, date of service, procedure, modifiers and charge: a line allowed before is a duplicate
(20610-RT after 20610-LT is the other knee, not a duplicate)."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    group: str  # CO, PR, OA
    reason: str  # CARC
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LineResult:
    line: Line
    paid: Decimal
    allowed: Decimal | None  # None when denied
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[str, ...] = ()

    @property
    def denied(self) -> bool:
        return self.allowed is None

    @property
    def patient(self) -> Decimal:
        return sum((a.amount for a in self.adjustments if a.group == "PR"), ZERO)


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """CLP02 `status` (1, 2, 3 processed as primary, secondary, tertiary; 4 denied) and the lines."""

    status: str
    lines: tuple[LineResult, ...]

    @property
    def paid(self) -> Decimal:
        return sum((line.paid for line in self.lines), ZERO)

    @property
    def patient(self) -> Decimal:
        return sum((line.patient for line in self.lines), ZERO)

    @property
    def deductible(self) -> Decimal:
        """What the claim put towards the deductible (its PR-1), as the accumulators counted it."""
        parts = (a for line in self.lines for a in line.adjustments if (a.group, a.reason) == ("PR", "1"))
        return sum((a.amount for a in parts), ZERO)

    @property
    def denial(self) -> str:
        """The first denied line's CARC, or "" when no line was denied."""
        return next((line.adjustments[0].reason for line in self.lines if line.denied), "")


@dataclass(frozen=True, slots=True)
class _Share:
    """The patient's share of an allowed amount, by kind."""

    deductible: Decimal
    coinsurance: Decimal
    copay: Decimal

    @property
    def total(self) -> Decimal:
        return self.deductible + self.coinsurance + self.copay

    def adjustments(self) -> list[Adjustment]:
        parts = (("1", self.deductible), ("2", self.coinsurance), ("3", self.copay))
        return [Adjustment("PR", reason, amount) for reason, amount in parts if amount]


def adjudicate(
    claim: Claim,
    plan: Plan,
    coverage: Coverage,
    met: Met,
    *,
    received: date,
    seen: AbstractSet[DuplicateKey],
    seed: int,
) -> tuple[ClaimResult, Met]:
    """The claim's adjudication and what the member has met after it (for the plan year of its first date
    of service); `seen` holds the lines allowed in earlier batches."""
    results = []
    shares = _prior_shares(claim)
    for line, prior in zip(claim.lines, shares, strict=True):
        denial = _denial(claim, line, plan, coverage, received, seen, seed)
        if denial is not None:
            remarks = (denial.remark,) if denial.remark else ()
            results.append(LineResult(line, ZERO, None, (Adjustment("CO", denial.reason, line.charge),), remarks))
            continue
        result, deductible_credit, out_of_pocket_credit = _priced(line, plan, met, prior)
        met = met.plus(deductible_credit, out_of_pocket_credit)
        results.append(result)
    status = "4" if all(r.denied for r in results) else _STATUS.get(claim.responsibility, "1") if claim.prior else "1"
    return ClaimResult(status, tuple(results)), met


def overturned(claim: Claim, result: ClaimResult, plan: Plan, met: Met) -> tuple[ClaimResult, Met]:
    """The claim as the payer decides it on an appeal it overturns: each denied line priced as if the denial had
    not applied (the authorisation found, the service judged necessary), the lines it paid as they were, and
    what the member has met after it."""
    lines = []
    for line, prior, before in zip(claim.lines, _prior_shares(claim), result.lines, strict=True):
        if not before.denied:
            lines.append(before)
            continue
        priced, deductible_credit, out_of_pocket_credit = _priced(line, plan, met, prior)
        met = met.plus(deductible_credit, out_of_pocket_credit)
        lines.append(priced)
    status = _STATUS.get(claim.responsibility, "1") if claim.prior else "1"
    return ClaimResult(status, tuple(lines)), met


def duplicate_key(claim: Claim, line: Line) -> DuplicateKey:
    return (
        claim.payer_id,
        claim.patient,
        line.service_date,
        line.procedure,
        tuple(sorted(line.modifiers)),
        line.charge,
    )


def allowed_keys(claim: Claim, result: ClaimResult) -> set[DuplicateKey]:
    """The keys of the lines the claim was allowed: only those make a later line a duplicate, since a denied
    line (for a missing diagnosis, say) is meant to be corrected and sent again."""
    return {duplicate_key(claim, line.line) for line in result.lines if not line.denied}


def diagnoses_valid(claim: Claim, line: Line) -> bool:
    """The line points at diagnoses the claim has, and each is shaped as an ICD-10-CM code."""
    if not claim.diagnoses or not line.pointers:
        return False
    if any(not 1 <= pointer <= len(claim.diagnoses) for pointer in line.pointers):
        return False
    return all(_ICD10.fullmatch(claim.diagnoses[pointer - 1]) for pointer in line.pointers)


def _denial(
    claim: Claim,
    line: Line,
    plan: Plan,
    coverage: Coverage,
    received: date,
    seen: AbstractSet[DuplicateKey],
    seed: int,
) -> Denial | None:
    if not coverage.covers(line.service_date):
        return Denial("27")
    if (received - line.service_date).days > plan.timely_filing_days:
        return Denial("29")
    if not diagnoses_valid(claim, line):
        return Denial("16", "M76")
    if duplicate_key(claim, line) in seen:
        return Denial("18")
    if line.procedure in plan.not_covered:
        return Denial("96", "N130")
    if line.procedure in plan.auth_codes and not (line.prior_authorization or claim.prior_authorization):
        return Denial("197")
    # Drawn from what the claim bills, not from its CLM01 (a biller's system makes those up afresh): the same
    # practice's same claims are denied alike on every run; a replacement draws anew.
    visit = f"{claim.member_id}:{claim.dependant}:{line.service_date}:{line.procedure}:{line.number}"
    draw = random.Random(f"{seed}:{plan.payer_id}:{visit}:{claim.frequency}:{claim.corrects}")  # noqa: S311 - seeded
    if plan.random_denials and draw.random() < plan.random_denial_rate:
        return draw.choice(plan.random_denials)
    return None


def _share(plan: Plan, line: Line, allowed: Decimal, met: Met) -> _Share:
    """The patient's share as primary. A copay line owes the copay instead of the deductible and
    coinsurance (as the eligibility service's estimate assumes, the usual commercial design); any other
    line the deductible left, then coinsurance on the rest. Either is held within what remains of the
    out-of-pocket maximum (coinsurance given back first)."""
    if line.procedure in plan.no_cost_sharing:
        return _Share(ZERO, ZERO, ZERO)  # preventive: paid in full (MCPM chapter 18; ACA §2713)
    room = met.out_of_pocket_left(plan)
    if plan.copay and line.procedure in plan.copay_codes:
        copay = min(plan.copay, allowed)
        return _Share(ZERO, ZERO, copay if room is None else min(copay, room))
    deductible = min(allowed, met.deductible_left(plan))
    coinsurance = cents((allowed - deductible) * plan.coinsurance)
    if room is not None and deductible + coinsurance > room:
        excess = deductible + coinsurance - room
        for_coinsurance = min(excess, coinsurance)
        coinsurance -= for_coinsurance
        deductible -= excess - for_coinsurance
    return _Share(deductible, coinsurance, ZERO)


def _priced(line: Line, plan: Plan, met: Met, prior: PriorShare | None) -> tuple[LineResult, Decimal, Decimal]:
    """The line's result and what it credits to the member's deductible and out-of-pocket maximum. As
    secondary the plan credits to its deductible what it would have credited as primary, though the prior
    payer's payment left the member less to pay (the NAIC coordination of benefits model regulation,
    section 7); the out-of-pocket credit is what the member owes."""
    allowed = plan.allowed(line.procedure, line.charge, line.units)
    share = _share(plan, line, allowed, met)
    if prior is None:
        adjustments = [Adjustment("CO", "45", line.charge - allowed)] if line.charge > allowed else []
        result = LineResult(line, allowed - share.total, allowed, (*adjustments, *share.adjustments()))
        return result, share.deductible, share.total
    # Secondary: the prior payer settled all but what it left the patient; pay the lesser of that and
    # what this plan would pay as primary; what is left is the patient's within this plan's share, and a
    # contractual write-off above this plan's allowed amount.
    left_by_prior = min(prior.patient, line.charge)
    paid = min(left_by_prior, allowed - share.total)
    left = left_by_prior - paid
    deductible = min(left, share.deductible)
    coinsurance = min(left - deductible, share.coinsurance)
    copay = min(left - deductible - coinsurance, share.copay)
    patient = _Share(deductible, coinsurance, copay)
    adjustments = [Adjustment("OA", "23", line.charge - left_by_prior), *patient.adjustments()]
    if left > patient.total:
        adjustments.append(Adjustment("CO", "45", left - patient.total))
    return LineResult(line, paid, allowed, tuple(a for a in adjustments if a.amount)), share.deductible, patient.total


def _prior_shares(claim: Claim) -> list[PriorShare | None]:
    """Per line, what the prior payer paid and left the patient: the lines' own when every line has one,
    else the claim's spread over the lines by charge (the last line takes the rounding)."""
    if claim.prior is None or all(line.prior is not None for line in claim.lines):
        return [line.prior for line in claim.lines]
    total = claim.line_charges
    shares: list[PriorShare | None] = []
    paid_left, patient_left = claim.prior.paid, claim.prior.patient
    for index, line in enumerate(claim.lines):
        if index == len(claim.lines) - 1:
            shares.append(PriorShare(paid_left, patient_left))
            break
        fraction = line.charge / total if total else ZERO
        paid, patient = cents(claim.prior.paid * fraction), cents(claim.prior.patient * fraction)
        shares.append(PriorShare(paid, patient))
        paid_left, patient_left = paid_left - paid, patient_left - patient
    return shares
