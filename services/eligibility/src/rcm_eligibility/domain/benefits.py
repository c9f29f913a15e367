"""What a payer said about one coverage, normalised: the benefits a billing specialist reads off a 271
before the visit (active or not, plan dates, copay, coinsurance, deductible and out-of-pocket remaining,
services needing prior authorisation), and the payer's errors when it would not answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

GENERAL_SERVICE_TYPE: Final = "30"  # health benefit plan coverage: what a payer answers when nothing narrower
# Medicare's Part A pays institutional care: hospice (45), hospital (47), inpatient (48), room and board (49) and
# skilled nursing (AG); Part B pays the rest, a physician's services among them. CMS's HETS 271 states each
# part's deductible with its EB04 insurance type (MA, MB), both under service type 30.
MEDICARE_PART_A: Final = "MA"
MEDICARE_PART_B: Final = "MB"
PART_A_SERVICE_TYPES: Final = frozenset({"45", "47", "48", "49", "AG"})
# EB04 insurance types under which Medicare names a payer primary to it (the Medicare Secondary Payer rules,
# 42 U.S.C. 1395y(b); the HETS 271 companion guide's MSP types).
MEDICARE_SECONDARY_PAYER_TYPES: Final = frozenset({"12", "13", "14", "15", "16", "41", "42", "43", "47"})
INDIVIDUAL: Final = "IND"
CALENDAR_YEAR: Final = "calendar"
ANNIVERSARY_YEAR: Final = "anniversary"
FAMILY: Final = "FAM"
# AAA codes after which asking again later is the payer's own advice: 42 unable to respond now, 80 no response.
_TRANSIENT_REJECT_REASONS: Final = frozenset({"42", "80"})
_RESUBMIT_FOLLOW_UPS: Final = frozenset({"R", "P"})


@dataclass(frozen=True, slots=True)
class Accumulator:
    """A plan-year amount and what is left of it; None where the payer did not say."""

    total: Decimal | None = None
    remaining: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PlanAccumulator:
    """A deductible or out-of-pocket maximum as the payer stated it for one insurance type (EB04: Medicare's
    MA and MB are its two parts; None where not said) and coverage level (EB02: IND, FAM)."""

    kind: str  # "deductible" or "out_of_pocket"
    insurance_type: str | None
    coverage_level: str
    total: Decimal | None = None
    remaining: Decimal | None = None
    plan_year: str = CALENDAR_YEAR  # "calendar" (EB06 23, or unsaid) or "anniversary" (22 service, 25 contract)


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """Another payer the 271 names for the member (EB01 R, with its loop 2120 payer): coordination of
    benefits, or, for Medicare, a payer primary to it under the Medicare Secondary Payer rules. The front
    desk adds that coverage before the claim goes to the wrong payer. No policy number is kept (it stays in
    the encrypted 271)."""

    name: str | None
    payer_id: str | None
    insurance_type: str | None
    service_types: tuple[str, ...] = ()
    coordination_begin: date | None = None
    coordination_end: date | None = None

    @property
    def medicare_secondary_payer(self) -> bool:
        return self.insurance_type in MEDICARE_SECONDARY_PAYER_TYPES

    def in_effect_on(self, day: date) -> bool:
        """Whether the coordination period (DTP*290, a day or a range) includes the day; an ended episode
        no longer makes the other payer primary."""
        return (self.coordination_begin is None or self.coordination_begin <= day) and (
            self.coordination_end is None or day <= self.coordination_end
        )


@dataclass(frozen=True, slots=True)
class ServiceCopay:
    service_type: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ServiceCoinsurance:
    service_type: str
    percent: Decimal  # a fraction: 0.2 is 20%


@dataclass(frozen=True, slots=True)
class Benefits:
    """The in-network benefits of one coverage on one date of service. `deductible` and `out_of_pocket` are
    the individual amounts that apply to a professional service (Part B's, for Medicare); `accumulators`
    keeps every amount stated, by insurance type and coverage level, for the service that needs another."""

    active: bool
    plan_begin: date | None = None
    plan_end: date | None = None
    plan_description: str | None = None
    insurance_type: str | None = None
    group_number: str | None = None
    copays: tuple[ServiceCopay, ...] = ()
    coinsurance: tuple[ServiceCoinsurance, ...] = ()
    deductible: Accumulator = Accumulator()
    out_of_pocket: Accumulator = Accumulator()
    prior_authorization_service_types: tuple[str, ...] = ()
    accumulators: tuple[PlanAccumulator, ...] = ()
    other_payers: tuple[OtherPayer, ...] = ()

    def plan_year_of(self, day: date) -> tuple[date, date]:
        """The year the stated amounts run for that holds `day`: from the plan's begin date's anniversary
        when the payer stated them for a service or contract year (EB06 22, 25), else the calendar year."""
        anniversary = self.plan_begin is not None and any(a.plan_year == ANNIVERSARY_YEAR for a in self.accumulators)
        if not anniversary or self.plan_begin is None:
            return date(day.year, 1, 1), date(day.year, 12, 31)
        start = _on_anniversary(self.plan_begin, day.year)
        if start > day:
            start = _on_anniversary(self.plan_begin, day.year - 1)
        following = _on_anniversary(self.plan_begin, start.year + 1)
        return start, following - timedelta(days=1)

    def insurance_type_for(self, service_type: str) -> str | None:
        """The insurance type whose amounts apply to the service (Medicare's Part A or B; None when the
        payer stated its amounts without one)."""
        return insurance_type_paying(service_type, {a.insurance_type for a in self.accumulators})

    def deductible_for(self, service_type: str) -> Accumulator:
        return self._accumulator_for("deductible", service_type)

    def out_of_pocket_for(self, service_type: str) -> Accumulator:
        return self._accumulator_for("out_of_pocket", service_type)

    def _accumulator_for(self, kind: str, service_type: str) -> Accumulator:
        """What applies to the service (`applying`); a snapshot kept before amounts were kept by insurance
        type has only its general figures."""
        if not self.accumulators:
            return self.deductible if kind == "deductible" else self.out_of_pocket
        return applying(self.accumulators, kind, service_type)

    def copay_for(self, service_type: str) -> Decimal | None:
        """The copay stated for the service type. A copay is for the services it was stated for: an
        office-visit copay (98) is not quoted for imaging (62), which the deductible and coinsurance then
        decide. Only a copay stated for the plan as a whole (30) applies to every service."""
        return _for_service(((c.service_type, c.amount) for c in self.copays), service_type)

    def coinsurance_for(self, service_type: str) -> Decimal | None:
        return _for_service(((c.service_type, c.percent) for c in self.coinsurance), service_type)

    def needs_prior_authorization(self, service_type: str) -> bool:
        return service_type in self.prior_authorization_service_types

    def covers(self, day: date) -> bool:
        """Active, and the plan's dates (where stated) include the day."""
        if not self.active:
            return False
        return (self.plan_begin is None or self.plan_begin <= day) and (self.plan_end is None or day <= self.plan_end)


def _on_anniversary(begin: date, year: int) -> date:
    """The plan begin date's anniversary in `year` (February 29 falls on the 28th in other years)."""
    try:
        return begin.replace(year=year)
    except ValueError:
        return begin.replace(year=year, day=28)


def applying(accumulators: Iterable[PlanAccumulator], kind: str, service_type: str) -> Accumulator:
    """The individual amount of the insurance type that pays the service, what is left of it capped by what
    is left of the family's (an embedded individual deductible is met once the family's is); the family's
    alone where the payer stated no individual amount (a non-embedded deductible, met by the family together)."""
    stated = [a for a in accumulators if a.kind == kind]
    paying = insurance_type_paying(service_type, {a.insurance_type for a in stated})
    of_part = [a for a in stated if a.insurance_type == paying]
    individual = next((a for a in of_part if a.coverage_level == INDIVIDUAL), None)
    family = next((a for a in of_part if a.coverage_level == FAMILY), None)
    if individual is None:
        return Accumulator(family.total, family.remaining) if family is not None else Accumulator()
    remaining = individual.remaining
    if remaining is not None and family is not None and family.remaining is not None:
        remaining = min(remaining, family.remaining)
    return Accumulator(individual.total, remaining)


def insurance_type_paying(service_type: str, stated: set[str | None]) -> str | None:
    """Which of the insurance types a payer stated amounts for pays `service_type`: Medicare's Part A for
    institutional care, Part B for the rest; otherwise the one the payer stated (None when it named none)."""
    if stated & {MEDICARE_PART_A, MEDICARE_PART_B}:
        return MEDICARE_PART_A if service_type in PART_A_SERVICE_TYPES else MEDICARE_PART_B
    named = sorted(kind for kind in stated if kind is not None)
    return None if None in stated or not named else named[0]


def _for_service(entries: Iterable[tuple[str, Decimal]], service_type: str) -> Decimal | None:
    """The value for the service type, else the plan's general one; the first stated wins."""
    by_type: dict[str, Decimal] = {}
    for kind, value in entries:
        by_type.setdefault(kind, value)
    return by_type.get(service_type, by_type.get(GENERAL_SERVICE_TYPE))


@dataclass(frozen=True, slots=True)
class PayerError:
    """An AAA: the level it was given at, the reject reason and the follow-up the payer asks for."""

    level: str
    code: str
    meaning: str | None
    follow_up: str
    follow_up_meaning: str | None

    @property
    def ask_again_later(self) -> bool:
        """The payer could not answer now and invites the same inquiry again (AAA 42 with R, say)."""
        return self.code in _TRANSIENT_REJECT_REASONS and self.follow_up in _RESUBMIT_FOLLOW_UPS

    def describe(self) -> str:
        return f"AAA {self.code} ({self.meaning or 'unlisted reject reason'})"


@dataclass(frozen=True, slots=True)
class PayerAnswer:
    """A 271 read for one inquiry: the benefits stated (None when the payer stated none) and its errors."""

    benefits: Benefits | None
    errors: tuple[PayerError, ...] = ()
