"""What a biller does with a denial, and what the payer then decides on an appeal.

A denial the payer's 835 put on the claim (`adjudication.Denial`) is a work item until a biller resolves it,
one of five ways: a correction (the claim goes again as a replacement, frequency 7), an appeal (a letter to the
payer; the payer's next 835 for the claim decides it), moving the amount at stake to the patient, writing it
off (both published for collections), or accepting the denial with a reason (nothing more is asked of anyone).
Each resolution names the denial it resolves by the payment that carried it, so a later denial (an appeal
upheld, a new 835) is a new item.

An appeal is decided by the first payment posted for the claim after it: the claim paid is an appeal
overturned; more paid than before, but not all, overturned in part; nothing more paid, upheld (a higher level
may follow). A reversal alone decides nothing, since a payer reprocessing a claim
takes back the old payment before it posts the new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal
from uuid import UUID

from rcm_claim.domain.adjudication import ZERO, Adjudication, Denial, deciding_payments, line_verdicts

ResolutionKind = Literal["corrected", "appealed", "transferred_to_patient", "written_off", "accepted"]
AppealOutcome = Literal["pending", "overturned", "partly_overturned", "upheld", "dismissed", "withdrawn"]
APPEAL_LEVELS: Final = (1, 2, 3)
LEVEL_NAMES: Final = {1: "first-level appeal", 2: "second-level appeal", 3: "third-level appeal"}
# The resolutions that leave no insurance balance, and the reason a claim closed by them gives.
CLOSING_RESOLUTIONS: Final[dict[str, Literal["moved_to_patient", "written_off", "denial_accepted"]]] = {
    "transferred_to_patient": "moved_to_patient",
    "written_off": "written_off",
    "accepted": "denial_accepted",
}


class DenialWorkError(ValueError):
    """A resolution or an appeal the claim refuses as it stands (no open denial, a level already appealed)."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """A biller's decision on one denial (by the payment that carried it): how, why, for how much, by whom."""

    payment_id: UUID
    kind: ResolutionKind
    reason: str
    amount: Decimal  # the amount at stake when it was resolved
    by: str
    at: datetime
    replacement_id: UUID | None = None  # the replacement a correction built
    appeal_number: int | None = None  # the appeal an appeal made
    withdrawn: bool = False  # undone: the payer took back or paid what it resolved
    moved: Decimal = Decimal("0.00")  # what a transfer billed the patient, or a write-off let go: the CO part
    underpayment: bool = False  # an acceptance of what the payer allowed below the contract, not of a denial

    @property
    def money(self) -> Decimal:
        """What it asked collections to do with money: bill the patient or write off (what the 835 did not already
        make the patient's)."""
        return self.moved if self.kind in ("transferred_to_patient", "written_off") else ZERO


@dataclass(frozen=True, slots=True)
class Appeal:
    """An appeal of one denial to the payer, its letter's facts, and the payer's decision once an 835 gives it."""

    number: int  # 1, 2, ... on this claim
    level: int
    payment_id: UUID  # the denial appealed, by the payment that carried it
    category: str
    reasons: tuple[str, ...]  # GROUP-CARC
    reason: str  # the biller's short reason
    argument: str
    attachments: tuple[str, ...]  # named by reference: "medical-records-2026-11-02.pdf"
    amount_at_stake: Decimal
    paid_before: Decimal  # what the payer's standing payments had paid when it was made
    by: str
    at: datetime
    deadline: date | None  # the payer's appeal window, when the payer directory gives one
    lines: tuple[str, ...] = ()  # the lines appealed, by control number (none told apart: the whole claim)
    outcome: AppealOutcome = "pending"
    decided_by: UUID | None = None  # the payment that decided it
    decided_at: datetime | None = None
    recovered: Decimal | None = None  # what the payer paid more after it

    def answered_by(self, payment: Adjudication) -> bool:
        """Whether a payment answers the appeal: it names an appealed line, or the payer told no lines apart."""
        named = {*payment.paid_lines, *payment.denied_lines}
        return not self.lines or not named or bool(named & set(self.lines))

    def decided(
        self, standing: Sequence[Adjudication], state: str, paid_now: Decimal, payment: Adjudication, at: datetime
    ) -> Appeal:
        """The appeal as the payment that answered it decided it: from the appealed lines' latest word (all paid,
        overturned; some, in part; none, upheld), or, when the payer told no lines apart, from the claim's state
        after it; with what it paid on the appealed lines (else what the standing payments pay more than when
        the appeal was made)."""
        on_lines = [line.paid for line in payment.line_payments if line.control_number in self.lines]
        recovered = sum(on_lines, ZERO) if on_lines else max(paid_now - self.paid_before, ZERO)
        verdicts = line_verdicts(deciding_payments(standing))
        outcome: AppealOutcome
        if self.lines and all(line in verdicts for line in self.lines):
            paid = [line for line in self.lines if not verdicts[line][0]]
            outcome = "overturned" if len(paid) == len(self.lines) else "partly_overturned" if paid else "upheld"
        else:
            outcome = "overturned" if state in ("paid", "closed") else "partly_overturned" if recovered else "upheld"
        return replace(self, outcome=outcome, decided_by=payment.payment_id, decided_at=at, recovered=recovered)

    def decided_by_letter(self, outcome: AppealOutcome, at: datetime) -> Appeal:
        """The payer's decision by letter, with no payment: upheld, or the appeal withdrawn or dismissed."""
        return replace(self, outcome=outcome, decided_at=at, recovered=ZERO)


def appeal_deadline(denied_on: date, appeal_days: int | None) -> date | None:
    """The last day to appeal: the denial's date plus the payer's appeal window."""
    return None if appeal_days is None else denied_on + timedelta(days=appeal_days)


def refuse_appeal(appeals: tuple[Appeal, ...], level: int) -> None:
    """A level is appealed once per claim, and only after the level below it was decided against the practice
    (a second-level appeal follows an upheld or partly overturned first)."""
    if level not in APPEAL_LEVELS:
        raise DenialWorkError(f"an appeal's level is 1, 2 or 3, not {level}")
    if any(appeal.level == level for appeal in appeals):
        raise DenialWorkError(f"the claim already has a {LEVEL_NAMES[level]}")
    if any(appeal.outcome == "pending" for appeal in appeals):
        raise DenialWorkError("an appeal of the claim awaits the payer's decision")
    below = [appeal for appeal in appeals if appeal.level == level - 1]
    if level > 1 and not below:
        raise DenialWorkError(f"a {LEVEL_NAMES[level]} follows a {LEVEL_NAMES[level - 1]} the payer upheld")


# CO reasons a waiver signed before the service makes the patient's: a service the plan does not cover or deems
# not necessary (CO-50, 55, 56, 96, 167, 204). Any other CO reason (no authorisation, timely filing, coding,
# bundling, a duplicate) is the provider's by contract, waiver or not; OA, PI and CR amounts are nobody's to bill
# the patient; only PR amounts are the patient's without one. Medicare's ABN works through the GA modifier (the
# payer then gives PR-50): a CO-50 there means the claim needs correcting first, though the rule lets it pass.
WAIVER_REASONS: Final = frozenset({"CO-50", "CO-55", "CO-56", "CO-96", "CO-167", "CO-204"})


def refuse_transfer(reasons: tuple[str, ...], basis: str | None) -> None:
    """A denial moves to the patient only when every reason is the patient's (`not_contractual`: PR), or a waiver
    on file makes it so (`waiver_on_file`: PR or a reason in WAIVER_REASONS)."""
    if basis not in ("not_contractual", "waiver_on_file"):
        raise DenialWorkError("a transfer to the patient says its basis: not_contractual or waiver_on_file")
    waiver = basis == "waiver_on_file"
    if refused := [r for r in reasons if not (r.startswith("PR-") or (waiver and r in WAIVER_REASONS))]:
        why = (
            "only PR amounts are the patient's without a waiver"
            if basis == "not_contractual"
            else "a waiver makes only a non-covered or not-necessary service the patient's (CO-50, 55, 56, 96, "
            "167, 204)"
        )
        raise DenialWorkError(f"the patient may not be billed for {', '.join(refused)}: {why}")


def still_denied(
    denial: Denial, standing: Sequence[Adjudication], charges: Mapping[str, Decimal] | None = None
) -> Denial | None:
    """What of a denial is still denied, narrowed to it (its amount, reasons and the patient's part): its lines
    whose latest word is still its payment's denial (a later payment that paid a line, or a reversal of its
    payment, takes it out), and its claim-level amounts while any of its lines is, at most those lines' charges
    (`charges`, by control number). Lines no payment told apart: the denial stands while its payment is the
    latest word."""
    deciding = deciding_payments(standing)
    payment = next((a for a in deciding if a.payment_id == denial.payment_id), None)
    if payment is None:
        return None
    verdicts = line_verdicts(deciding)
    if not verdicts:
        return denial if payment is deciding[-1] else None
    still = {line for line, (denied, said_by) in verdicts.items() if denied and said_by is payment}
    if not still:
        return None
    left = denial.narrowed_to(still, charges)
    return left if left.amount > 0 else None


def outstanding(
    denial: Denial, standing: Sequence[Adjudication], charges: Mapping[str, Decimal] | None = None
) -> Decimal:
    """The amount of a denial still denied (`still_denied`)."""
    left = still_denied(denial, standing, charges)
    return left.amount if left is not None else ZERO


def outstanding_denials(
    denials: Sequence[Denial], standing: Sequence[Adjudication], charges: Mapping[str, Decimal] | None = None
) -> list[Denial]:
    """The standing payments' denials with something still denied, each narrowed to what still is, in payment
    order."""
    order = [payment.payment_id for payment in standing]
    kept = sorted((d for d in denials if d.payment_id in order), key=lambda d: order.index(d.payment_id))
    return [left for d in kept if (left := still_denied(d, standing, charges)) is not None]


def resolution_in_force(
    resolutions: Sequence[Resolution], appeals: Sequence[Appeal], payment_id: UUID
) -> Resolution | None:
    """What stands for a denial: the latest resolution of it not withdrawn, an appeal only while the payer has
    not decided it (an appeal decided against the practice leaves the denial to work again)."""
    for resolution in reversed(resolutions):
        if resolution.payment_id != payment_id or resolution.withdrawn or resolution.underpayment:
            continue
        if resolution.kind == "appealed":
            made = next(appeal for appeal in appeals if appeal.number == resolution.appeal_number)
            if made.outcome != "pending":
                continue
        return resolution
    return None


def outdated(
    resolutions: Sequence[Resolution], denials: Sequence[Denial], standing: Sequence[Adjudication],
    charges: Mapping[str, Decimal] | None = None,
) -> list[Resolution]:  # fmt: skip
    """The transfers, write-offs and acceptances whose denial no longer stands as they resolved it: its payment
    taken back, or lines of it paid by a later payment. Their money is undone, and what is still denied is worked
    again."""
    by_payment = {denial.payment_id: denial for denial in denials}
    return [
        r
        for r in resolutions
        if r.kind in ("transferred_to_patient", "written_off", "accepted")
        and not r.withdrawn
        and not r.underpayment  # an accepted underpayment lapses by itself when the shortfall changes
        and outstanding(by_payment[r.payment_id], standing, charges) != r.amount
    ]
