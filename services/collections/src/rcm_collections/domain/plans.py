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
    """A plan over the visits due when it was made (`covered`). What is paid toward it is read from those visits'
    balances, so every payment, credit, write-off or reversal on them counts, and nothing on other visits does."""

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
    paused_until: date | None = None
    """The last day a visit of the plan was back with insurance: what fell due until then is never missed."""

    def due_through(self, day: date) -> Decimal:
        """What the schedule asks to have been paid by `day`."""
        return sum((i.amount for i in self.installments if i.due_on <= day), ZERO)

    def next_installment(self, paid: Decimal) -> Installment | None:
        """The first installment `paid` so far does not cover, however late; None when all are paid."""
        covered = ZERO
        for installment in self.installments:
            covered += installment.amount
            if paid < covered:
                return installment
        return None

    def past_due(self, today: date, paid: Decimal) -> Decimal:
        """What the schedule asked for by today and `paid` has not met."""
        return max(self.due_through(today) - paid, ZERO)

    def newly_missed(self, today: date, grace_days: int, paid: Decimal) -> list[int]:
        """Installments, not yet counted as missed, whose due date plus the grace period has passed with `paid`
        short of every installment up to them."""
        owed, found = ZERO, []
        for installment in self.installments:
            owed += installment.amount
            late = installment.due_on + timedelta(days=grace_days) < today
            paused = self.paused_until is not None and installment.due_on <= self.paused_until
            if late and not paused and paid < owed and installment.number not in self.missed:
                found.append(installment.number)
        return found
