"""Pricing: the practice's chargemaster gives each line its charge, the payer's contract its expected allowed.

A chargemaster entry is for a code, optionally only with one modifier (a professional component `26` priced
apart from the global service, say) and optionally only at one location; the most specific entry that fits a
line wins. The chargemaster is also the practice's code list: a code with no entry is not one it bills.

The expected allowed applies the payment modifiers' usual adjustments (the Medicare physician fee schedule's)
to the contract's rate, and is never more than the line's charge: payers pay the lesser of the charge and
the fee schedule amount (Medicare Claims Processing Manual, chapter 12, §20.1). A payer's contract may
differ, which its remittances will show. Where an adjustment needs the fee schedule's indicators for the
code (bilateral, the split-care shares, the technical component) and the schedule has no row for it, there
is no expected allowed: no rate, no guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from rcm_charge.domain.code_sets import FeeSchedule
from rcm_charge.domain.model import ServiceLine

CENT = Decimal("0.01")
LOCATION_PATTERN = r"[A-Za-z0-9_-]{1,20}"  # a practice's code for one of its locations

COMPONENTS = frozenset({"26", "TC"})
# The share of the fee schedule amount a payment modifier pays (a rate without such a modifier is per unit).
PAYMENT_MODIFIERS: Final[dict[str, Decimal]] = {
    "51": Decimal("0.5"),  # second and later procedures of a session: 50%
    "62": Decimal("0.625"),  # each of two co-surgeons: 62.5%
    "80": Decimal("0.16"),  # assistant surgeon: 16%
    "81": Decimal("0.16"),
    "82": Decimal("0.16"),
    "AS": Decimal("0.136"),  # non-physician assistant at surgery: 85% of 16%
    # Therapy furnished in whole or in part by a therapy assistant: 85% (Social Security Act §1834(v)(1),
    # from 2022; the CY2022 physician fee schedule final rule).
    "CQ": Decimal("0.85"),
    "CO": Decimal("0.85"),
}
# Modifier 50 by the fee schedule's bilateral indicator (MCPM chapter 12, §40.7): 1 pays 150% of one side,
# 3 each side in full, 0, 2 and 9 one side's amount. Without the code's row, the usual 150%.
BILATERAL_SHARES: Final = {"0": Decimal(1), "1": Decimal("1.5"), "2": Decimal(1), "3": Decimal(2), "9": Decimal(1)}
# Imaging by film (FX) loses 20% of its technical component (from 2017), by computed radiography (FY) 7%
# from 2018 and 10% from 2023 (Social Security Act §1848(b)(9)).
FILM_REDUCTION: Final = Decimal("0.20")
COMPUTED_RADIOGRAPHY_REDUCTIONS: Final = ((date(2023, 1, 1), Decimal("0.10")), (date(2018, 1, 1), Decimal("0.07")))
TECHNICAL_REDUCTION_MODIFIERS: Final = frozenset({"FX", "FY"})
SPLIT_CARE: Final = frozenset({"54", "55", "56"})
FEE_SCHEDULE_RATE: Final = "MPFS"
"""A contract rate for this pseudo-code is the payer's conversion factor: a code with no rate of its own is
allowed its fee schedule RVUs times that factor."""
# Places of service the fee schedule pays at its facility RVUs (a hospital, skilled nursing facility,
# ambulatory surgical centre and the like); elsewhere its non-facility RVUs apply (the PFS payment policies).
FACILITY_PLACES: Final = frozenset(
    {"02", "19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
PRICED_STATUSES: Final = frozenset({"A", "R", "T"})  # paid by the fee schedule's RVUs (not C carrier-priced)
SPLIT_CARE_GLOBALS: Final = frozenset({"010", "090"})


@dataclass(frozen=True, slots=True)
class ChargemasterEntry:
    code: str
    charge: Decimal
    modifier: str | None = None
    location: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class ContractRate:
    """The allowed amount a payer's contract sets for one unit of a code (with one modifier, where set)."""

    payer_id: str
    code: str
    allowed: Decimal
    modifier: str | None = None


@dataclass(frozen=True, slots=True)
class PriceList:
    """The chargemaster entries and contract rates for the codes of one encounter."""

    chargemaster: tuple[ChargemasterEntry, ...] = ()
    rates: tuple[ContractRate, ...] = ()

    def has_code(self, code: str) -> bool:
        return any(entry.code == code for entry in self.chargemaster)

    def charge_for(self, line: ServiceLine, location: str | None) -> Decimal | None:
        """The line's charge: the most specific fitting entry's charge times the units, to the cent."""
        fitting = [
            entry
            for entry in self.chargemaster
            if entry.code == line.code
            and (entry.modifier is None or entry.modifier in line.modifiers)
            and (entry.location is None or entry.location == location)
        ]
        if not fitting:
            return None
        best = max(fitting, key=lambda entry: (entry.location is not None, entry.modifier is not None))
        return _times(best.charge, line.units)

    def allowed_for(
        self, line: ServiceLine, payer_id: str | None, fees: FeeSchedule, *, on: date, facility: bool = False
    ) -> Decimal | None:
        if payer_id is None:
            return None
        fitting = [
            rate
            for rate in self.rates
            if rate.payer_id == payer_id
            and rate.code == line.code
            and (rate.modifier is None or rate.modifier in line.modifiers)
        ]
        if fitting:
            best = max(fitting, key=lambda rate: rate.modifier is not None)
            if best.modifier is None and COMPONENTS.intersection(line.modifiers):
                return None  # a professional or technical component is not the global rate: no rate, no guess
            amount, priced_modifier = best.allowed, best.modifier
        else:
            by_schedule = self._by_fee_schedule(line, payer_id, fees, facility)
            if by_schedule is None:
                return None
            amount, priced_modifier = by_schedule
        share = Decimal(1)
        for modifier in dict.fromkeys(line.modifiers):
            if modifier != priced_modifier:  # a rate set for the modifier already is that modifier's amount
                adjustment = modifier_share(modifier, line, fees, on)
                if adjustment is None:
                    return None
                share *= adjustment
        return _times(amount * share, line.units)

    def _by_fee_schedule(
        self, line: ServiceLine, payer_id: str, fees: FeeSchedule, facility: bool
    ) -> tuple[Decimal, str | None] | None:
        """For a payer paying by the fee schedule (a rate for `MPFS`: its conversion factor), the code's
        RVUs (its component's row for 26 or TC; facility or non-facility by the place of service) times
        the factor; None without such a payer rate or a row for the code."""
        factor = next((r.allowed for r in self.rates if r.payer_id == payer_id and r.code == FEE_SCHEDULE_RATE), None)
        component = next((m for m in line.modifiers if m in COMPONENTS), None)
        entry = fees.entry(line.code, component)
        if factor is None or entry is None or entry.status not in PRICED_STATUSES:
            return None
        rvus = entry.facility_rvu if facility else entry.nonfacility_rvu
        if rvus <= 0:
            return None  # no RVUs: carrier-priced or bundled, not a zero amount
        return rvus * factor, component


def _technical_reduction(modifier: str, on: date) -> Decimal | None:
    if modifier == "FX":
        return FILM_REDUCTION if on >= date(2017, 1, 1) else None
    return next((reduction for start, reduction in COMPUTED_RADIOGRAPHY_REDUCTIONS if on >= start), None)


def modifier_share(modifier: str, line: ServiceLine, fees: FeeSchedule, on: date) -> Decimal | None:
    """The share of the line's amount a modifier pays; None when it depends on a fee schedule row the
    schedule does not have."""
    entry = fees.entry(line.code)
    if modifier == "50":
        return BILATERAL_SHARES[entry.bilateral] if entry is not None else Decimal("1.5")
    if modifier in SPLIT_CARE:
        # 54 surgical care only: the pre- and intraoperative shares; 55 postoperative care only; 56
        # preoperative care only (MCPM chapter 12, §40.2.A; the relative value file's PRE, INTRA, POST OP).
        # Split care is for a procedure with a 10- or 90-day global period.
        if entry is None or entry.global_days not in SPLIT_CARE_GLOBALS:
            return None
        return {"54": entry.preop + entry.intraop, "55": entry.postop, "56": entry.preop}[modifier]
    if modifier in TECHNICAL_REDUCTION_MODIFIERS:
        if "26" in line.modifiers:
            return Decimal(1)  # the professional component is not reduced
        reduction = _technical_reduction(modifier, on)
        if reduction is None:
            return Decimal(1)  # before the reduction applied
        if "TC" in line.modifiers:
            return 1 - reduction
        technical = fees.entry(line.code, "TC")
        if entry is None or technical is None or entry.nonfacility_rvu <= 0:
            return None  # a global service's technical part is known only from the fee schedule
        return 1 - reduction * technical.nonfacility_rvu / entry.nonfacility_rvu
    return PAYMENT_MODIFIERS.get(modifier, Decimal(1))


def _times(amount: Decimal, units: Decimal) -> Decimal:
    return (amount * units).quantize(CENT, rounding=ROUND_HALF_UP)


def priced(
    lines: Iterable[ServiceLine],
    prices: PriceList,
    fees: FeeSchedule,
    *,
    location: str | None,
    payer_id: str | None,
    date_of_service: date,
    place_of_service: str = "11",
) -> tuple[ServiceLine, ...]:
    """The lines with their charge and expected allowed set (None where no entry or rate fits); the expected
    allowed is the lesser of the contract's amount and the charge."""
    facility = place_of_service in FACILITY_PLACES
    return tuple(
        _priced(line, prices, fees, location, payer_id, line.service_date(date_of_service), facility) for line in lines
    )


def _priced(
    line: ServiceLine,
    prices: PriceList,
    fees: FeeSchedule,
    location: str | None,
    payer_id: str | None,
    on: date,
    facility: bool,
) -> ServiceLine:
    charge = prices.charge_for(line, location)
    allowed = prices.allowed_for(line, payer_id, fees, on=on, facility=facility)
    if allowed is not None and charge is not None:
        allowed = min(allowed, charge)
    return replace(line, charge=charge, expected_allowed=allowed)
