"""The revenue cycle's key performance indicators, each with its formula in words, a target, and the items it
counts, so any figure can be recomputed by hand from its drill-down: every figure is `scale x sum(numerators) /
sum(denominators)` over its items (a sum of money has no denominator).

The definitions follow HFMA's MAP Keys where one exists; the targets are the figures practices commonly hold
themselves to (for example, days in A/R under 40, a clean claim rate of 95% and more, denials under 5%).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Final, Literal
from uuid import UUID

from rcm_reporting.domain.claims import ClaimRecord
from rcm_reporting.domain.receivables import OVER_90, EventLog, Receivable
from rcm_reporting.domain.records import ZERO, AccountBalance, MovementKind

PAYMENTS: Final = frozenset({MovementKind.INSURANCE_PAYMENT, MovementKind.PATIENT_PAYMENT, MovementKind.REFUND})
"""What the collection rates count as collected: payers' and patients' payments, less refunds."""
DAYS_OF_CHARGES: Final = 90
"""Days in A/R divides by the average daily charges over this many days."""
_SECONDS_A_DAY: Final = Decimal(86400)


class Unit(StrEnum):
    PERCENT = "percent"
    DAYS = "days"
    MONEY = "money"


@dataclass(frozen=True, slots=True)
class Definition:
    name: str
    title: str
    formula: str
    unit: Unit
    target: Decimal | None
    better: Literal["higher", "lower"]
    scale: Decimal = Decimal(1)
    counts: str = "claims"
    """What its drill-down lists: claims, visits, payments."""

    def value_of(self, numerator: Decimal, denominator: Decimal) -> Decimal | None:
        if self.unit is Unit.MONEY:
            return numerator.quantize(Decimal("0.01"))
        if not denominator:
            return None
        return (self.scale * numerator / denominator).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


DEFINITIONS: Final = {
    d.name: d
    for d in (
        Definition(
            "days_in_ar",
            "Days in A/R",
            f"total A/R / (gross charges posted in the last {DAYS_OF_CHARGES} days / {DAYS_OF_CHARGES})",
            Unit.DAYS,
            Decimal(40),
            "lower",
            Decimal(DAYS_OF_CHARGES),
            "visits and accounts with A/R or charges",
        ),
        Definition(
            "clean_claim_rate",
            "Clean claim rate",
            "claims submitted with no scrub failure and no rejection / claims submitted",
            Unit.PERCENT,
            Decimal(95),
            "higher",
            Decimal(100),
        ),
        Definition(
            "first_pass_resolution_rate",
            "First-pass resolution rate",
            "original claims paid on their first submission (never rejected, first answer a payment) / claims "
            "adjudicated",
            Unit.PERCENT,
            Decimal(90),
            "higher",
            Decimal(100),
        ),
        Definition(
            "denial_rate",
            "Initial denial rate",
            "claims whose first adjudication denied them in whole or in part / claims adjudicated",
            Unit.PERCENT,
            Decimal(5),
            "lower",
            Decimal(100),
        ),
        Definition(
            "denial_dollar_rate",
            "Initial denial rate (dollars)",
            "amounts denied on first adjudication / charges of the claims adjudicated",
            Unit.PERCENT,
            Decimal(5),
            "lower",
            Decimal(100),
        ),
        Definition(
            "net_collection_rate",
            "Net collection rate",
            "payments (payers' and patients', net of refunds) / (gross charges - contractual adjustments)",
            Unit.PERCENT,
            Decimal(96),
            "higher",
            Decimal(100),
            "visits and accounts",
        ),
        Definition(
            "gross_collection_rate",
            "Gross collection rate",
            "payments (payers' and patients', net of refunds) / gross charges",
            Unit.PERCENT,
            None,
            "higher",
            Decimal(100),
            "visits and accounts",
        ),
        Definition(
            "ar_over_90_share",
            "A/R over 90 days",
            "A/R more than 90 days from the date of service / total A/R",
            Unit.PERCENT,
            Decimal(15),
            "lower",
            Decimal(100),
            "visits and accounts with A/R",
        ),
        Definition(
            "charge_lag_days",
            "Charge lag",
            "average of (day the charges were captured - date of service), over visits",
            Unit.DAYS,
            Decimal(2),
            "lower",
            counts="visits",
        ),
        Definition(
            "claim_lag_days",
            "Claim lag",
            "average of (first submission - charges captured), in days, over original primary claims submitted",
            Unit.DAYS,
            Decimal(2),
            "lower",
        ),
        Definition(
            "pos_collections",
            "Point-of-service collections",
            "sum of patient payments taken at the visit (copays at the front desk)",
            Unit.MONEY,
            None,
            "higher",
            counts="payments",
        ),
        Definition(
            "patient_due_collected",
            "Patient-due collected",
            "patient payments net of refunds / (the same + patient balance still due + patient balances written off)",
            Unit.PERCENT,
            Decimal(70),
            "higher",
            Decimal(100),
            "visits and accounts",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Counted:
    """One item a figure counts, with its share of the numerator and the denominator."""

    numerator: Decimal
    denominator: Decimal
    claim_id: UUID | None = None
    encounter_id: UUID | None = None
    account_id: UUID | None = None
    payer_id: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Figure:
    definition: Definition
    counted: tuple[Counted, ...]
    numerator: Decimal = field(init=False)
    denominator: Decimal = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "numerator", sum((c.numerator for c in self.counted), ZERO))
        object.__setattr__(self, "denominator", sum((c.denominator for c in self.counted), ZERO))

    @property
    def value(self) -> Decimal | None:
        return self.definition.value_of(self.numerator, self.denominator)

    @property
    def on_target(self) -> bool | None:
        target, value = self.definition.target, self.value
        if target is None or value is None:
            return None
        return value >= target if self.definition.better == "higher" else value <= target


def _one(flag: bool) -> Decimal:
    return Decimal(1) if flag else Decimal(0)


@dataclass(frozen=True)
class _VisitMoney:
    charges: dict[UUID | None, Decimal]
    payments: dict[UUID | None, Decimal]
    contractual: dict[UUID | None, Decimal]
    charges_recent: dict[UUID | None, Decimal]


def _money_by_visit(log: EventLog, now: datetime) -> tuple[_VisitMoney, dict[UUID | None, UUID | None]]:
    """Gross charges, payments and contractual adjustments per visit (None: an account's money on no visit)."""
    charges: dict[UUID | None, Decimal] = defaultdict(Decimal)
    payments: dict[UUID | None, Decimal] = defaultdict(Decimal)
    contractual: dict[UUID | None, Decimal] = defaultdict(Decimal)
    recent: dict[UUID | None, Decimal] = defaultdict(Decimal)
    since = now - timedelta(days=DAYS_OF_CHARGES)
    account_of: dict[UUID | None, UUID | None] = {}
    for movement in log.movements_until(now):
        encounter_id = log.encounter_of(movement)
        key = encounter_id or movement.account_id
        if encounter_id is None:
            account_of[key] = movement.account_id
        match movement.kind:
            case MovementKind.CHARGE:
                charges[key] += movement.amount
                if movement.occurred_at > since:
                    recent[key] += movement.amount
            case kind if kind in PAYMENTS or kind is MovementKind.CREDIT_MOVED:
                payments[key] -= movement.amount  # credit moved to a visit is the patient's money paying it
            case MovementKind.CONTRACTUAL:
                contractual[key] -= movement.amount
    return _VisitMoney(charges, payments, contractual, recent), account_of


def compute_figures(
    log: EventLog, accounts: Sequence[AccountBalance], receivables_now: Sequence[Receivable], now: datetime
) -> dict[str, Figure]:
    """Every KPI of DEFINITIONS on `now`."""
    claims = [claim for claim in log.claims.values() if not claim.is_void]
    submitted = [claim for claim in claims if claim.submitted]
    adjudicated = [claim for claim in claims if claim.adjudicated]
    money, accounts_of = _money_by_visit(log, now)

    def of_claim(claim: ClaimRecord, numerator: Decimal, denominator: Decimal) -> Counted:
        return Counted(numerator, denominator, claim.claim_id, claim.encounter_id, payer_id=claim.payer_id)

    def of_key(key: UUID | None, numerator: Decimal, denominator: Decimal, note: str = "") -> Counted:
        if key in log.visits or key not in accounts_of:
            return Counted(numerator, denominator, _latest_claim(log, key), key, note=note)
        return Counted(numerator, denominator, account_id=accounts_of[key], note=note or "on the account")

    counted: dict[str, list[Counted]] = {}
    counted["clean_claim_rate"] = [of_claim(c, _one(c.clean), Decimal(1)) for c in submitted]
    counted["first_pass_resolution_rate"] = [of_claim(c, _one(c.paid_first_pass), Decimal(1)) for c in adjudicated]
    counted["denial_rate"] = [of_claim(c, _one(c.initially_denied), Decimal(1)) for c in adjudicated]
    counted["denial_dollar_rate"] = [of_claim(c, c.initial_denial_amount, c.total_charge) for c in adjudicated]

    keys = sorted(set(money.charges) | set(money.payments), key=str)
    counted["net_collection_rate"] = [
        of_key(k, money.payments[k], money.charges[k] - money.contractual[k]) for k in keys
    ]
    counted["gross_collection_rate"] = [of_key(k, money.payments[k], money.charges[k]) for k in keys]

    balances: dict[UUID | None, Decimal] = defaultdict(Decimal)
    for item in receivables_now:
        balances[item.encounter_id or item.account_id] += item.balance
    counted["days_in_ar"] = [
        of_key(k, balances[k], money.charges_recent[k])
        for k in sorted(set(balances) | {k for k, v in money.charges_recent.items() if v}, key=str)
    ]
    counted["ar_over_90_share"] = [
        of_key(item.encounter_id or item.account_id, item.balance if item.bucket in OVER_90 else ZERO, item.balance)
        for item in receivables_now
    ]

    live_visits = sorted((v for v in log.visits.values() if not v.voided), key=lambda v: str(v.encounter_id))
    counted["charge_lag_days"] = [
        of_key(v.encounter_id, Decimal((v.captured_at.date() - v.date_of_service).days), Decimal(1))
        for v in live_visits
    ]
    counted["claim_lag_days"] = [
        of_claim(c, _days_between(log.visits[c.encounter_id].captured_at, c.first_submitted_at), Decimal(1))
        for c in submitted
        if c.frequency == "1"
        and c.responsibility == "P"
        and c.first_submitted_at is not None
        and c.encounter_id in log.visits
    ]
    counted["pos_collections"] = [
        of_key(m.encounter_id or m.account_id, -m.amount, ZERO, "taken at the visit")
        for m in log.movements
        if m.kind is MovementKind.PATIENT_PAYMENT and m.at_visit and m.occurred_at <= now
    ]
    counted["patient_due_collected"] = _patient_due_collected(log, accounts, now)
    return {name: Figure(DEFINITIONS[name], tuple(counted[name])) for name in DEFINITIONS}


def _patient_due_collected(log: EventLog, accounts: Sequence[AccountBalance], now: datetime) -> list[Counted]:
    """What patients paid, against what they came to owe: paid, written off, or still due on their accounts."""
    rows = []
    for movement in log.movements:
        if movement.occurred_at > now:
            continue
        where: dict[str, Any] = {"encounter_id": movement.encounter_id, "account_id": movement.account_id}
        if movement.kind in (MovementKind.PATIENT_PAYMENT, MovementKind.REFUND):
            note = "paid" if movement.kind is MovementKind.PATIENT_PAYMENT else "refunded"
            rows.append(Counted(-movement.amount, -movement.amount, note=note, **where))
        elif movement.kind is MovementKind.PATIENT_WRITE_OFF:
            rows.append(Counted(ZERO, -movement.amount, note="written off", **where))
    rows += [
        Counted(ZERO, account.patient_due, account_id=account.account_id, note="still due")
        for account in accounts
        if account.patient_due
    ]
    return rows


def _latest_claim(log: EventLog, encounter_id: UUID | None) -> UUID | None:
    claims = log.claims_of_visit.get(encounter_id, []) if encounter_id is not None else []
    return claims[-1].claim_id if claims else None


def _days_between(start: datetime, end: datetime | None) -> Decimal:
    if end is None:
        return ZERO
    return (Decimal((end - start).total_seconds()) / _SECONDS_A_DAY).quantize(Decimal("0.01"))


@dataclass(frozen=True, slots=True)
class DenialGroup:
    key: str  # a category or a payer id
    adjudicated: int
    denied: int
    denied_amount: Decimal
    charges: Decimal

    @property
    def rate(self) -> Decimal | None:
        if not self.adjudicated:
            return None
        return (Decimal(100) * self.denied / self.adjudicated).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def denials_by(claims: Iterable[ClaimRecord], key: Literal["category", "payer", "reason"]) -> list[DenialGroup]:
    """Initial denials per category or reason (GROUP-CARC; over every claim adjudicated), or per payer (over that
    payer's claims adjudicated), the most denied first. A claim denied for two reasons counts under each."""
    adjudicated = [c for c in claims if c.adjudicated and not c.is_void]
    total = len(adjudicated)
    groups: dict[str, list[ClaimRecord]] = defaultdict(list)
    for claim in adjudicated:
        if key == "payer":
            groups[claim.payer_id].append(claim)
        elif claim.initially_denied and key == "category":
            groups[claim.initial_denial_category or "other"].append(claim)
        elif claim.initially_denied:
            for reason in claim.initial_denial_reasons or ("unstated",):
                groups[reason].append(claim)
    result = []
    for name, members in groups.items():
        denied = [c for c in members if c.initially_denied]
        result.append(
            DenialGroup(
                key=name,
                adjudicated=len(members) if key == "payer" else total,
                denied=len(denied),
                denied_amount=sum((c.initial_denial_amount for c in denied), ZERO),
                charges=sum((c.total_charge for c in members), ZERO),
            )
        )
    result.sort(key=lambda g: (-g.denied, -g.denied_amount, g.key))
    return result


def claims_by_state(claims: Iterable[ClaimRecord]) -> dict[str, int]:
    counts = Counter(claim.state.value for claim in claims if not claim.is_void)
    return dict(sorted(counts.items()))


def matching(counted: Iterable[Counted], log: EventLog, *, payer_id: str | None, category: str | None) -> list[Counted]:
    """A figure's items narrowed to one payer's claims; for one initial denial category, every item stays in the
    denominator and only that category's initial denials in the numerator (the category's share, as the
    dashboard shows it)."""
    selected = []
    for item in counted:
        claim = log.claims.get(item.claim_id) if item.claim_id is not None else None
        if payer_id is not None and (claim is None or claim.payer_id != payer_id):
            continue
        in_category = claim is not None and claim.initially_denied and claim.initial_denial_category == category
        if category is not None and not in_category:
            item = replace(item, numerator=ZERO, note="not an initial denial of this category")
        selected.append(item)
    return selected


@dataclass(frozen=True, slots=True)
class ServiceWeek:
    """A week of dates of service (Monday first): what was charged for it, and collected for it so far."""

    week_of: date
    charges: Decimal
    insurance_paid: Decimal
    patient_paid: Decimal


def by_service_week(log: EventLog, now: datetime, weeks: int = 12) -> list[ServiceWeek]:
    """The last `weeks` weeks of service with a visit, oldest first: collections follow the visits they pay for."""
    sums: dict[date, dict[MovementKind, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for movement in log.movements_until(now):
        encounter_id = log.encounter_of(movement)
        visit = log.visits.get(encounter_id) if encounter_id is not None else None
        if visit is None:
            continue
        week = visit.date_of_service - timedelta(days=visit.date_of_service.weekday())
        sums[week][movement.kind] += movement.amount
    return [
        ServiceWeek(
            week_of=week,
            charges=sums[week][MovementKind.CHARGE],
            insurance_paid=-sums[week][MovementKind.INSURANCE_PAYMENT],
            patient_paid=-sums[week][MovementKind.PATIENT_PAYMENT] - sums[week][MovementKind.CREDIT_MOVED],
        )
        for week in sorted(sums)[-weeks:]
    ]
