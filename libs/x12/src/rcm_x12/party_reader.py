"""The parties of what the platform itself sends (837P, 270, 276), read back into the writers' own types
(`Member`, `Payer`, `Provider`, `TradingPartner`, `Address`), so that what was written reads back equal.

Tolerant as the readers are: an element left off reads as empty, a gender the writers do not know as U,
an impossible birth date as none (noted in `findings`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from rcm_x12.elements import date_of, element
from rcm_x12.reader import Segment
from rcm_x12.writer import Address, Member, Payer, Provider, TradingPartner

_GENDERS: dict[str, Literal["F", "M", "U"]] = {"F": "F", "M": "M"}


def address_of(n3: Segment | None, n4: Segment | None) -> Address | None:
    """N3 and N4 as one address; None when neither was sent."""
    if n3 is None and n4 is None:
        return None
    street = n3 or ["N3"]
    place = n4 or ["N4"]
    return Address(
        line1=element(street, 1),
        city=element(place, 1),
        state=element(place, 2),
        postal_code=element(place, 3),
        line2=element(street, 2),
    )


def member_of(nm1: Segment, details: Iterable[tuple[int, Segment]], findings: list[str]) -> Member:
    """A person from an NM1 and the N3, N4 and DMG of its loop (`details`, each with its position)."""
    n3 = n4 = dmg = None
    dmg_position = 0
    for position, segment in details:
        if segment[0] == "N3":
            n3 = segment
        elif segment[0] == "N4":
            n4 = segment
        elif segment[0] == "DMG":
            dmg, dmg_position = segment, position
    birth_date = None
    if dmg is not None and element(dmg, 1) == "D8":
        birth_date = date_of(dmg, 2, dmg_position, findings)
    return Member(
        last_name=element(nm1, 3),
        first_name=element(nm1, 4),
        member_id=element(nm1, 9),
        middle_name=element(nm1, 5),
        suffix=element(nm1, 7),
        birth_date=birth_date,
        gender=_GENDERS.get(element(dmg, 3), "U") if dmg is not None else "U",
        address=address_of(n3, n4),
    )


def payer_of(nm1: Segment, address: Address | None = None) -> Payer:
    return Payer(name=element(nm1, 3), payer_id=element(nm1, 9), address=address)


def provider_of(nm1: Segment, taxonomy: str = "") -> Provider:
    """A provider by NPI (NM108 XX); another identifier is not an NPI and reads as none."""
    return Provider(
        name=element(nm1, 3),
        npi=element(nm1, 9) if element(nm1, 8) == "XX" else "",
        first_name=element(nm1, 4),
        middle_name=element(nm1, 5),
        suffix=element(nm1, 7),
        taxonomy=taxonomy,
    )


def trading_partner_of(nm1: Segment) -> TradingPartner:
    return TradingPartner(name=element(nm1, 3), etin=element(nm1, 9), first_name=element(nm1, 4))
