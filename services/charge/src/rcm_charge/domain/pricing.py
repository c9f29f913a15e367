"""Pricing: the practice's chargemaster gives each line its charge, the payer's contract its expected allowed.

A chargemaster entry is for a code, optionally only with one modifier (a professional component `26` priced
apart from the global service, say) and optionally only at one location; the most specific entry that fits a
line wins. The chargemaster is also the practice's code list: a code with no entry is not one it bills.

The expected allowed applies the payment modifiers' usual adjustments (the Medicare physician fee schedule's)
to the contract's rate: a payer's contract may differ, which its remittances will show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from rcm_charge.domain.model import ServiceLine

CENT = Decimal("0.01")
LOCATION_PATTERN = r"[A-Za-z0-9_-]{1,20}"  # a practice's code for one of its locations

COMPONENTS = frozenset({"26", "TC"})
# The share of the fee schedule amount a payment modifier pays (a rate without such a modifier is per unit).
PAYMENT_MODIFIERS: dict[str, Decimal] = {
    "50": Decimal("1.5"),  # bilateral: 150% of the one-side amount
    "51": Decimal("0.5"),  # second and later procedures of a session: 50%
    "62": Decimal("0.625"),  # each of two co-surgeons: 62.5%
    "80": Decimal("0.16"),  # assistant surgeon: 16%
    "81": Decimal("0.16"),
    "82": Decimal("0.16"),
    "AS": Decimal("0.136"),  # non-physician assistant at surgery: 85% of 16%
}


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

    def allowed_for(self, line: ServiceLine, payer_id: str | None) -> Decimal | None:
        if payer_id is None:
            return None
        fitting = [
            rate
            for rate in self.rates
            if rate.payer_id == payer_id
            and rate.code == line.code
            and (rate.modifier is None or rate.modifier in line.modifiers)
        ]
        if not fitting:
            return None
        best = max(fitting, key=lambda rate: rate.modifier is not None)
        if best.modifier is None and COMPONENTS.intersection(line.modifiers):
            return None  # a professional or technical component is not the global rate: no rate, no guess
        share = Decimal(1)
        for modifier in dict.fromkeys(line.modifiers):
            if modifier != best.modifier:  # a rate set for the modifier already is that modifier's amount
                share *= PAYMENT_MODIFIERS.get(modifier, Decimal(1))
        return _times(best.allowed * share, line.units)


def _times(amount: Decimal, units: Decimal) -> Decimal:
    return (amount * units).quantize(CENT, rounding=ROUND_HALF_UP)


def priced(
    lines: Iterable[ServiceLine], prices: PriceList, *, location: str | None, payer_id: str | None
) -> tuple[ServiceLine, ...]:
    """The lines with their charge and expected allowed set (None where no entry or rate fits)."""
    return tuple(
        replace(line, charge=prices.charge_for(line, location), expected_allowed=prices.allowed_for(line, payer_id))
        for line in lines
    )
