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

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal
from uuid import UUID

ResolutionKind = Literal["corrected", "appealed", "transferred_to_patient", "written_off", "accepted"]
AppealOutcome = Literal["pending", "overturned", "partly_overturned", "upheld"]
APPEAL_LEVELS: Final = (1, 2, 3)
LEVEL_NAMES: Final = {1: "first-level appeal", 2: "second-level appeal", 3: "third-level appeal"}


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
    outcome: AppealOutcome = "pending"
    decided_by: UUID | None = None  # the payment that decided it
    decided_at: datetime | None = None
    recovered: Decimal | None = None  # what the payer paid more after it

    def decided(self, state: str, paid_now: Decimal, payment_id: UUID, at: datetime) -> Appeal:
        """The appeal as the payment that answered it decided it, from the claim's state after that payment
        and what the standing payments pay now."""
        recovered = paid_now - self.paid_before
        outcome: AppealOutcome = (
            "overturned" if state in ("paid", "closed") else "partly_overturned" if recovered > 0 else "upheld"
        )
        return replace(self, outcome=outcome, decided_by=payment_id, decided_at=at, recovered=recovered)


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
