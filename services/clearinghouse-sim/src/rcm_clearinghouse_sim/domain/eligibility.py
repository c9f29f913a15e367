"""The simulated payers' eligibility answers: the member's standing for the date of service and, when
active, the plan's benefits with what remains of the deductible and out-of-pocket maximum (from the
patient's own accumulators), and which service types need prior authorisation."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rcm_clearinghouse_sim.domain.accumulators import Met
from rcm_clearinghouse_sim.domain.coverage import Coverage, coverage_of
from rcm_clearinghouse_sim.domain.plans import Plan

CALENDAR_YEAR = "23"
REMAINING = "29"
VISIT = "27"


@dataclass(frozen=True, slots=True)
class Benefit:
    """One EB: `code` (1 active, 6 inactive, A coinsurance, B copay, C deductible, G out of pocket)."""

    code: str
    service_types: tuple[str, ...]
    insurance_type: str = ""
    plan_description: str = ""
    time_period: str = ""
    amount: Decimal | None = None
    percent: Decimal | None = None
    authorization_required: bool | None = None


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    coverage: Coverage
    group_number: str
    benefits: tuple[Benefit, ...]


def group_number(plan: Plan, member_id: str, seed: int) -> str:
    """The member's group number: the same for the same seed, payer and member."""
    draw = random.Random(f"{seed}:{plan.payer_id}:{member_id}")  # noqa: S311 - a seeded simulation
    return f"G{draw.randrange(10**6):06d}"


def answer(
    plan: Plan, member_id: str, service_date: date, asked: tuple[str, ...], met: Met, seed: int
) -> EligibilityAnswer:
    """The answer for one member on one date; `asked` are the service types of the inquiry."""
    coverage = coverage_of(member_id, service_date)
    group = group_number(plan, member_id, seed)
    if not coverage.covers(service_date):
        inactive = Benefit("6", asked, plan.insurance_type, plan.plan_description)
        return EligibilityAnswer(coverage, group, (inactive,))
    benefits = [Benefit("1", asked, plan.insurance_type, plan.plan_description)]
    if plan.copay:
        benefits.append(Benefit("B", plan.copay_service_types, time_period=VISIT, amount=plan.copay))
    if plan.coinsurance:
        benefits.append(Benefit("A", ("30",), percent=plan.coinsurance))
    if plan.deductible:
        benefits += [
            Benefit("C", ("30",), time_period=CALENDAR_YEAR, amount=plan.deductible),
            Benefit("C", ("30",), time_period=REMAINING, amount=met.deductible_left(plan)),
        ]
    left = met.out_of_pocket_left(plan)
    if plan.out_of_pocket_max is not None and left is not None:
        benefits += [
            Benefit("G", ("30",), time_period=CALENDAR_YEAR, amount=plan.out_of_pocket_max),
            Benefit("G", ("30",), time_period=REMAINING, amount=left),
        ]
    if plan.auth_service_types:
        benefits.append(Benefit("1", plan.auth_service_types, authorization_required=True))
    return EligibilityAnswer(coverage, group, tuple(benefits))
