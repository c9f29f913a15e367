"""What a payer does after it has paid a claim, as its 835s show it (005010X221A1, section 1.10.2):

- it takes a payment back with a reversal (CLP02 22): the claim as paid, with every charge, payment and
  adjustment amount negated and the original group codes kept, so that posting it restores the account
  to what it was before the payment was posted;
- it re-adjudicates a claim (a corrected fee schedule, say) and pays it again right after the reversal;
- it pays interest on a claim paid late (prompt pay), reported on the claim (AMT*I) and as a provider
  adjustment (PLB L6) with a negative amount, since a provider adjustment's positive amount reduces the
  payment and interest increases it;
- it recovers an overpayment from the next payment (PLB WO, a positive amount);
- it never sends a negative payment: what the provider owes beyond this payment is carried to the next one
  as a forward balance (PLB FB, negative now, positive when taken).

Plain functions of the claim's adjudication, its dates and the payer's practice: the service layer decides
when and on which 835.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from rcm_clearinghouse_sim.domain.adjudication import Adjustment, ClaimResult, LineResult
from rcm_clearinghouse_sim.domain.plans import ZERO, cents

REVERSAL = "22"
"""CLP02 of a reversal of a previous payment."""
INTEREST = "L6"
RECOUPMENT = "WO"
FORWARD_BALANCE = "FB"
"""PLB03-1 reasons: L6 interest owed, WO overpayment recovery, FB forwarding balance."""
_DAYS_IN_YEAR = Decimal(365)


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB reason and amount: `reference` (PLB03-2) ties it to a claim (its payer claim number) or to
    the 835 that carried a balance forward. A positive amount reduces the payment, a negative one adds."""

    reason: str
    reference: str
    amount: Decimal


def _negated(amount: Decimal) -> Decimal:
    """The amount with its sign reversed; zero stays 0.00 (not -0.00), as X12 writes it."""
    return ZERO - amount


def _reversed_line(result: LineResult) -> LineResult:
    """A line as paid, negated: charge, payment, allowed amount and each adjustment (same group and reason).
    The units stay as billed: the guide negates amounts, and units are a count of services."""
    return LineResult(
        line=replace(result.line, charge=_negated(result.line.charge)),
        paid=_negated(result.paid),
        allowed=None if result.allowed is None else _negated(result.allowed),
        adjustments=tuple(Adjustment(a.group, a.reason, _negated(a.amount)) for a in result.adjustments),
        remarks=result.remarks,
    )


def reversal(result: ClaimResult) -> ClaimResult:
    """The reversal of a claim's payment (CLP02 22): its lines negated, so the charge, payment, patient
    responsibility, adjustments and allowed amounts all come out negated and the claim still balances."""
    return ClaimResult(REVERSAL, tuple(_reversed_line(line) for line in result.lines))


def _contractual(result: LineResult) -> Decimal:
    return sum((a.amount for a in result.adjustments if (a.group, a.reason) == ("CO", "45")), ZERO)


def _repriced_line(result: LineResult, allowed_change: Decimal) -> LineResult:
    """An allowed line with its allowed amount changed by the fraction, the difference paid (or taken) by
    the payer and balanced by the contractual write-off (CO-45). The patient's share stays as it was (the
    member's accumulators have moved on since); the allowed amount never passes the charge and the payment
    never goes below zero. A denied line is denied again."""
    if result.allowed is None:
        return result
    contractual = _contractual(result)
    change = cents(result.allowed * allowed_change)
    change = max(min(change, contractual), -result.paid)
    if not change:
        return result
    others = tuple(a for a in result.adjustments if (a.group, a.reason) != ("CO", "45"))
    write_off = contractual - change
    adjustments = ((Adjustment("CO", "45", write_off),) if write_off else ()) + others
    return replace(result, paid=result.paid + change, allowed=result.allowed + change, adjustments=adjustments)


def readjudicated(result: ClaimResult, allowed_change: Decimal) -> ClaimResult:
    """The claim adjudicated again after a correction of the payer's fees: each allowed line's allowed
    amount changed by `allowed_change` (0.05 allows 5% more, -0.1 10% less). The claim keeps its status."""
    return ClaimResult(result.status, tuple(_repriced_line(line, allowed_change) for line in result.lines))


def late_payment_interest(
    paid: Decimal, received: date, paid_on: date, *, after_days: int, annual_rate: Decimal
) -> Decimal:
    """Prompt-pay interest on a payment made more than `after_days` after the claim was received: simple
    interest at the annual rate for each day past that period, up to the day of payment, to the cent (as
    Medicare pays on clean claims unpaid after 30 days, at the Treasury's prompt-payment rate: Social
    Security Act section 1842(c)(2)). Nothing when the payment is on time or pays nothing."""
    days_late = (paid_on - received).days - after_days
    if days_late <= 0 or paid <= ZERO or annual_rate <= 0:
        return ZERO
    return cents(paid * annual_rate * days_late / _DAYS_IN_YEAR)


def reprocess_drawn(seed: int, payer_claim_number: str, share: float) -> bool:
    """Whether the payer reprocesses this paid claim: a seeded draw per claim, so the same seed and claims
    reprocess the same ones every time."""
    if share <= 0:
        return False
    draw = random.Random(f"{seed}:reprocess:{payer_claim_number}")  # noqa: S311 - a seeded simulation
    return draw.random() < share


def forward_balance(
    paid: Decimal, adjustments: Iterable[ProviderAdjustment], reference: str
) -> ProviderAdjustment | None:
    """The forward balance (PLB FB, negative) that keeps the payment from going below zero when the claims'
    payments less the provider adjustments come to less than nothing; None when the payment is not negative.
    `reference` names this 835, so the balance can be told apart when it is taken on a later one."""
    net = paid - sum((a.amount for a in adjustments), ZERO)
    return ProviderAdjustment(FORWARD_BALANCE, reference, net) if net < ZERO else None
