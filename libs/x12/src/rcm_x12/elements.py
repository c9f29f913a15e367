"""Element readers and value types shared by the typed readers (835, 271, 277, 999): how an NM1, a REF, an
N3/N4, a DTP, a composite procedure, an amount or a date is read, defined once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, make_dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar, cast

from rcm_x12.errors import X12Error
from rcm_x12.reader import Segment, Transaction

_P = ParamSpec("_P")
_T = TypeVar("_T")


def frozen_factory(cls: Callable[_P, _T]) -> Callable[_P, _T]:
    """A constructor of the frozen, slotted dataclass `cls` several times faster than its own, for what the
    readers build by the hundred thousand; it takes the same arguments and makes the same frozen instance.

    A frozen dataclass's __init__ must get past its own __setattr__ guard, so it stores every field through
    object.__setattr__, nine times the cost of a plain store. The factory is a mutable twin with the same
    slots: its __init__ stores the fields plainly, then makes the instance a `cls` (the same layout, so Python
    allows the change of class), frozen from then on."""
    if not (isinstance(cls, type) and is_dataclass(cls) and "__slots__" in vars(cls)):
        raise TypeError(f"{cls!r} is not a slotted dataclass")
    slots = vars(cls)["__slots__"]
    specs: list[tuple[str, Any, Any]] = []
    for spec in fields(cls):
        if not spec.init:
            raise TypeError(f"{cls.__name__}.{spec.name} is not set by __init__: the factory cannot make it")
        specs.append((spec.name, spec.type, field(default=spec.default, default_factory=spec.default_factory)))

    def become_frozen(instance: Any) -> None:
        instance.__class__ = cls

    twin = make_dataclass(
        f"{cls.__name__}Factory", specs, namespace={"__post_init__": become_frozen}, repr=False, eq=False, slots=True
    )
    if vars(twin)["__slots__"] != slots:
        raise TypeError(f"{cls.__name__}'s slots are not its fields in order: the factory cannot make it")
    return cast(Callable[_P, _T], twin)


@dataclass(frozen=True, slots=True)
class Party:
    """An NM1 person or organisation. Names and ids are PHI, so they stay out of repr (and so of logs)."""

    entity: str  # NM101: PR payer, 1P provider, IL insured, 03 dependant, QC patient...
    entity_type: str  # NM102: 1 person, 2 organisation
    name: str = field(repr=False)  # NM103: the organisation's name, or the person's last name
    first_name: str = field(repr=False)
    middle_name: str = field(repr=False)
    suffix: str = field(repr=False)  # NM107
    id_qualifier: str  # NM108: PI payer id, XX NPI, MI member id...
    identifier: str = field(repr=False)  # NM109


@dataclass(frozen=True, slots=True)
class Reference:
    """A REF segment: qualifier (REF01), value (REF02) and description (REF03, e.g. the group's name)."""

    qualifier: str
    value: str = field(repr=False)
    description: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Address:
    """N3 (street lines) and N4."""

    lines: tuple[str, ...] = field(repr=False)  # N301, N302
    city: str = field(default="", repr=False)
    state: str = ""
    postal_code: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class Period:
    """A DTP's dates: one day (D8, `end` is None) or a range (RD8)."""

    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Procedure:
    """A composite medical procedure (EB13, SVC01, SVC06): qualifier (HC, AD, ER, IV, N4, NU...), code, up to
    four modifiers and the description (component 7)."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...]
    description: str = ""


_party = frozen_factory(Party)
_procedure = frozen_factory(Procedure)


@dataclass(frozen=True, slots=True)
class Header:
    """The BHT segment: structure (BHT01), purpose (BHT02), the submitter's reference (BHT03), date, time,
    and the transaction type (BHT06: DG response, TH receipt acknowledgment...)."""

    structure: str
    purpose: str
    reference: str
    created: date | None
    time: str
    transaction_type: str


@dataclass(slots=True)
class Level:
    """An HL segment and the segments up to the next one, each with its position in the interchange."""

    id: str  # HL01
    parent: str  # HL02
    code: str  # HL03
    position: int
    segments: list[tuple[int, Segment]] = field(default_factory=list)


def element(segment: Segment, index: int) -> str:
    """Element `index` of the segment without padding; "" when the sender left it off."""
    return segment[index].strip() if len(segment) > index else ""


def number(segment: Segment, index: int, position: int) -> Decimal | None:
    """An X12 R element exactly as sent (an optional minus, digits, at most one point); None when empty."""
    value = segment[index].strip() if len(segment) > index else ""
    if value.isascii() and value.isdigit():  # a whole number, as units and counts mostly are
        return Decimal(value)
    if not value:
        return None
    digits = value[1:] if value[:1] == "-" else value
    if not (digits.isascii() and digits.replace(".", "", 1).isdigit()):
        raise X12Error(f"{segment[0]}{index:02d} is not a number", segment=segment[0], position=position)
    return Decimal(value)


_TO_CENTS = ("00", "0", "", ".00")  # what makes 0, 1, 2 or (index -1) no decimal places into two


def money(segment: Segment, index: int, position: int) -> Decimal:
    """An amount with two decimal places, from an X12 R element: an optional minus, digits, at most one
    decimal point. Made by padding or trimming the text (Decimal.quantize costs twice as much, and this runs
    for every amount of a file); a figure beyond the cents is refused, never rounded."""
    text = segment[index]
    # The two forms nearly every amount takes, dollars and cents or whole dollars, checked first.
    point = text.find(".")
    if point < 0:
        if text.isascii() and text.isdigit():
            return Decimal(text + ".00")
    elif point == len(text) - 3 and text.isascii() and text.replace(".", "", 1).isdigit():
        return Decimal(text)
    digits = text[1:] if text[:1] == "-" else text
    if digits.isascii() and digits.replace(".", "", 1).isdigit():
        point = digits.find(".")
        places = len(digits) - point - 1 if point >= 0 else -1
        if places <= 2:
            return Decimal(text + _TO_CENTS[places])
        if not digits[point + 3 :].strip("0"):  # only zeros beyond the cents: drop them
            return Decimal(text[: 2 - places])
    problem = "is missing" if not text else "is not an amount of at most two decimal places"
    raise X12Error(f"{segment[0]}{index:02d} {problem}", segment=segment[0], position=position)


def amount(segment: Segment, index: int, position: int) -> Decimal | None:
    """An optional amount: None when the element is empty or absent, else as `money` reads it."""
    return money(segment, index, position) if element(segment, index) else None


def parse_date(value: str) -> date | None:
    """A CCYYMMDD date, or None when the text is not one."""
    if len(value) == 8 and value.isascii() and value.isdigit():
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def date_of(segment: Segment, index: int, position: int, findings: list[str]) -> date | None:
    """A CCYYMMDD element; empty is None, and so is an impossible date, noted in `findings`."""
    value = element(segment, index)
    if not value:
        return None
    if (parsed := parse_date(value)) is None:
        findings.append(f"{segment[0]}{index:02d} at position {position} is not a CCYYMMDD date: read as none")
    return parsed


def period_of(segment: Segment, position: int, findings: list[str]) -> Period | None:
    """A DTP's DTP03 as its DTP02 format says: D8 one date, RD8 a range; anything else is noted in `findings`."""
    form, value = element(segment, 2), element(segment, 3)
    if form == "D8" and (day := parse_date(value)):
        return Period(day)
    if form == "RD8":
        first, _, last = value.partition("-")
        if (start := parse_date(first)) and (end := parse_date(last)):
            return Period(start, end)
    findings.append(f"DTP03 at position {position} is not a date in the DTP02 format: read as none")
    return None


def party_of(nm1: Segment) -> Party:
    """An NM1's party, each element stripped as `element` reads it (an 835 has one or more a claim)."""
    if len(nm1) < 10:
        nm1 = nm1 + [""] * (10 - len(nm1))
    return _party(
        nm1[1].strip(),  # entity
        nm1[2].strip(),  # entity_type
        nm1[3].strip(),  # name
        nm1[4].strip(),  # first_name
        nm1[5].strip(),  # middle_name
        nm1[7].strip(),  # suffix
        nm1[8].strip(),  # id_qualifier
        nm1[9].strip(),  # identifier
    )


def reference_of(ref: Segment) -> Reference:
    return Reference(element(ref, 1), element(ref, 2), element(ref, 3))


def reference(references: list[Reference], qualifier: str) -> str | None:
    """The value of the first REF with this qualifier."""
    return next((ref.value for ref in references if ref.qualifier == qualifier), None)


def address_of(n4: Segment, street: Address | None) -> Address:
    """N4 (city, state, postal code) completing the N3 before it, if any."""
    return Address(
        lines=street.lines if street else (),
        city=element(n4, 1),
        state=element(n4, 2),
        postal_code=element(n4, 3),
    )


def procedure_of(composite: str, component: str) -> Procedure | None:
    if not composite:
        return None
    parts = [part.strip() for part in composite.split(component)]
    parts += [""] * (7 - len(parts))
    return _procedure(parts[0], parts[1], tuple(modifier for modifier in parts[2:6] if modifier), parts[6])


def header_of(transaction: Transaction, findings: list[str]) -> Header:
    """The BHT, which must open the transaction set: without it nothing says what the set answers."""
    if not transaction.segments or transaction.segments[0][0] != "BHT":
        raise X12Error("the transaction set does not begin with BHT", segment="ST", position=transaction.position)
    bht = transaction.segments[0]
    return Header(
        structure=element(bht, 1),
        purpose=element(bht, 2),
        reference=element(bht, 3),
        created=date_of(bht, 4, transaction.position + 1, findings),
        time=element(bht, 5),
        transaction_type=element(bht, 6),
    )


def levels(transaction: Transaction) -> list[Level]:
    """The transaction's HL levels in order; segments before the first HL (the BHT) belong to none."""
    found: list[Level] = []
    for position, segment in enumerate(transaction.segments, start=transaction.position + 1):
        if segment[0] == "HL":
            found.append(Level(element(segment, 1), element(segment, 2), element(segment, 3), position))
        elif found:
            found[-1].segments.append((position, segment))
    return found


def iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def decimal_text(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None
