"""Payment plans: a patient-due balance paid in monthly installments.

The schedule splits the balance into equal installments to the cent, the last taking what rounding left. What
the plan's visits no longer owe counts as paid toward it (paying ahead is allowed); an installment is missed
when, a grace period after its due date, that falls short of the installments due up to it. Each installment is
missed at most once, and the plan defaults after the configured number of misses.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Literal
from uuid import UUID

from rcm_collections.domain.ledger import ZERO

PlanState = Literal["active", "completed", "defaulted", "cancelled"]


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has no such day (31 January + 1 month is
    28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True, slots=True)
class Installment:
    number: int
    due_on: date
    amount: Decimal


def schedule(total: Decimal, months: int, first_due_on: date) -> tuple[Installment, ...]:
    """`months` monthly installments from `first_due_on` adding up to `total` exactly."""
    each = (total / months).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amounts = [each] * (months - 1) + [total - each * (months - 1)]
    return tuple(Installment(n + 1, add_months(first_due_on, n), amount) for n, amount in enumerate(amounts))


@dataclass
class PaymentPlan:
    """A plan over the visits the statements billed when it was made (`covered`). What the patient pays on them
    (and what the practice lets go of them) is its running `paid`. When what its visits owe falls (lower
    charges, a payer paying more), the schedule shrinks in proportion (`scale`), so the patient is never asked
    for more than they owe."""

    id: UUID
    created_on: date
    total: Decimal
    installments: tuple[Installment, ...]
    covered: tuple[UUID, ...] = ()
    missed: list[int] = field(default_factory=list)
    state: PlanState = "active"
    ended_on: date | None = None
    paid: Decimal = ZERO
    """What the patient paid (or the practice let go) on the plan's visits since the plan was made."""
    grace_days: int = 10
    pauses: list[tuple[date, date]] = field(default_factory=list)
    """Spans in which a visit of the plan was back with insurance: an installment falling due in one (or still
    in its grace period when it began) falls due on the day it ended instead."""
    pause_started: date | None = None
    fixed: dict[int, Decimal] = field(default_factory=dict)
    """What the schedule asked by each installment once it fell due (scaled as it stood then): a later change
    of scale moves only what is not due yet."""

    def due_on(self, installment: Installment, today: date | None = None) -> date:
        """The installment's due date, moved to the end of a pause it fell in (an open pause runs to today)."""
        pauses = [*self.pauses, *([(self.pause_started, today)] if self.pause_started and today else [])]
        for start, end in pauses:
            if start - timedelta(days=self.grace_days) <= installment.due_on <= end:
                return end
        return installment.due_on

    def pause(self, today: date) -> None:
        if self.pause_started is None:
            self.pause_started = today

    def resume(self, today: date) -> None:
        if self.pause_started is not None:
            self.pauses.append((self.pause_started, today))
            self.pause_started = None

    def cumulative(self, scale: Decimal = Decimal(1)) -> list[tuple[Installment, Decimal]]:
        """Each installment with what the schedule asks to have been paid once it falls due: as fixed when it
        fell due, else scaled as it stands now."""
        running, found = ZERO, []
        for installment in self.installments:
            running += installment.amount
            owed = self.fixed.get(installment.number, (running * scale).quantize(Decimal("0.01")))
            found.append((installment, owed))
        return found

    def fix_due(self, today: date, scale: Decimal) -> None:
        """What fell due by today is fixed as the schedule asked it then."""
        for installment, owed in self.cumulative(scale):
            if self.due_on(installment) <= today:
                self.fixed.setdefault(installment.number, owed)

    def due_through(self, day: date, scale: Decimal = Decimal(1)) -> Decimal:
        """What the schedule asks to have been paid by `day`."""
        return max((owed for i, owed in self.cumulative(scale) if self.due_on(i) <= day), default=ZERO)

    def next_installment(self, paid: Decimal, scale: Decimal = Decimal(1)) -> Installment | None:
        """The first installment `paid` so far does not cover, however late; None when all are paid."""
        return next((i for i, owed in self.cumulative(scale) if paid < owed), None)

    def newly_missed(self, today: date, grace_days: int, paid: Decimal, scale: Decimal = Decimal(1)) -> list[int]:
        """Installments, not yet counted as missed, whose due date plus the grace period has passed with `paid`
        short of every installment up to them."""
        return [
            i.number
            for i, owed in self.cumulative(scale)
            if self.due_on(i) + timedelta(days=grace_days) < today and paid < owed and i.number not in self.missed
        ]
