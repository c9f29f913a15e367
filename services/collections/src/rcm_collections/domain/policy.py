"""The practice's collection policy: how often statements go, when a notice turns firmer, what a plan allows,
when a small balance is let go and when an account goes to an agency. Settings fill it in."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

AGING_BUCKETS: Final = ("current", "31_60", "61_90", "91_120", "over_120")
"""Days past due: 0-30, 31-60, 61-90, 91-120 and over 120."""
MINIMUM_CYCLE_DAYS: Final = 28


def aging_bucket(days_past_due: int) -> str:
    if days_past_due <= 30:
        return "current"
    if days_past_due <= 60:
        return "31_60"
    if days_past_due <= 90:
        return "61_90"
    if days_past_due <= 120:
        return "91_120"
    return "over_120"


@dataclass(frozen=True)
class HowToPay:
    """What every statement prints under the amount due."""

    payee: str
    address: str
    phone: str
    online: str


@dataclass(frozen=True)
class CollectionPolicy:
    statement_cycle_days: int = 30
    statement_minimum: Decimal = Decimal("5.00")
    pay_within_days: int = 21
    second_notice_days: int = 31
    final_notice_days: int = 61
    small_balance_threshold: Decimal = Decimal("5.00")
    small_balance_after_days: int = 60
    plan_min_months: int = 2
    plan_max_months: int = 24
    plan_grace_days: int = 10
    plan_misses_to_default: int = 2
    agency: str = "Collection agency"
    agency_after_statements: int = 3
    agency_after_days: int = 120

    def __post_init__(self) -> None:
        if self.statement_cycle_days < MINIMUM_CYCLE_DAYS:
            raise ValueError(f"statements go at most every {MINIMUM_CYCLE_DAYS} days")
        if self.pay_within_days >= self.statement_cycle_days:
            raise ValueError("a statement's due date comes before the next statement: pay within fewer days")

    def dunning_level(self, days_past_due: int) -> int:
        """1 a friendly first notice, 2 a second notice, 3 the final notice before an agency."""
        if days_past_due >= self.final_notice_days:
            return 3
        if days_past_due >= self.second_notice_days:
            return 2
        return 1
