"""The core every X12 writer shares: the envelope (ISA/GS/ST and their trailers, with the counts), the check
that keeps delimiters and unprintable characters out of the data, the X12 forms of numbers, dates and times,
and the parties several transaction sets name.

A writer builds each record (a claim, an inquiry) as tuples of elements, one tuple a segment, with a
function that is handed the `Composite` joiner to use. `SegmentWriter.add` checks the whole record's text in
one pass of C, since a function call per element would cost more than writing it: the only delimiters the
text may hold are the component separators the joiner put there, and it counted them. Nothing the caller
gave is ever written raw: a value holding a delimiter is refused, or replaced when the envelope asks for
that, since a stray `*` or `~` silently shifts every element after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache, partial
from itertools import chain
from typing import Any, Literal, Protocol, TypeVar, cast

from rcm_x12.errors import X12Error
from rcm_x12.reader import Delimiters

Elements = tuple[str, ...]


class Composite:
    """Joins a composite element's components (and a repeating element's repeats) and counts the separators
    it puts in, for the record's check to know how many it must find. Builders pass only the parts present:
    no trailing empty ones."""

    __slots__ = ("joins", "repeats", "repetition", "separator")

    def __init__(self, separator: str, repetition: str = "") -> None:
        self.separator = separator
        self.repetition = repetition
        self.joins = 0
        self.repeats = 0

    def __call__(self, *components: str) -> str:
        self.joins += len(components) - 1
        return self.separator.join(components)

    def repeated(self, *values: str) -> str:
        """A repeating element (such as EB03's service types), joined with the repetition separator."""
        if len(values) > 1 and not self.repetition and self.separator:
            raise X12Error("the envelope declares no repetition separator, so an element cannot repeat")
        self.repeats += len(values) - 1
        return self.repetition.join(values)


Build = Callable[[Composite], list[Elements]]
"""Builds a record's segments, joining composite elements with the `Composite` it is given."""

T = TypeVar("T")

DEFAULT_DELIMITERS = Delimiters(element="*", component=":", repetition="^", segment="~")
# The X12 extended character set of 005010 is printable ASCII: upper and lower case letters, digits,
# space and every ASCII punctuation mark.
_PRINTABLE = bytes(range(0x20, 0x7F))
_CONTROL_NUMBER_MAX = 999_999_999


def decimal_text(value: Decimal) -> str:
    """The X12 R form: no exponent, no "+", no trailing zeros after the point, no point for a whole number
    ("100", "12.5", "-3.25"); payers' length limits count those digits."""
    if not value.is_finite():
        raise X12Error("an amount or quantity is not a finite number")
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@lru_cache(maxsize=4096)
def date_text(value: date) -> str:
    """CCYYMMDD. Cached: a batch repeats its dates of service, and a lookup costs a fifth of the formatting."""
    return value.isoformat()[:10].replace("-", "")


def period(start: date, end: date | None = None) -> tuple[str, str]:
    """A DTP's format qualifier and value: one date (D8), or a range (RD8) when the period spans days."""
    if end is None or end == start:
        return "D8", date_text(start)
    return "RD8", f"{date_text(start)}-{date_text(end)}"


def time_text(value: time | datetime) -> str:
    """HHMM."""
    return f"{value.hour:02d}{value.minute:02d}"


@dataclass(frozen=True, slots=True)
class Envelope:
    """Everything the ISA, GS and ST say. The control numbers and the date and time are the caller's, so
    that the same input always writes the same bytes and the caller's ledger of control numbers stays the
    only one.

    `on_delimiter` says what becomes of a value holding a delimiter: "refuse" (the default) raises an
    X12Error naming the segment and element, since altering a member id or a claim id breaks matching;
    "replace" puts `replacement` in its place, for free text the caller would rather see altered than
    stuck. A character outside the X12 extended character set is refused either way.
    """

    sender_id: str
    receiver_id: str
    interchange_control_number: int
    group_control_number: int
    transaction_control_number: int
    created: datetime
    usage: Literal["P", "T"] = "P"
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    application_sender: str = ""
    """GS02; the sender id when empty."""
    application_receiver: str = ""
    """GS03; the receiver id when empty."""
    acknowledgment_requested: bool = False
    delimiters: Delimiters = DEFAULT_DELIMITERS
    on_delimiter: Literal["refuse", "replace"] = "refuse"
    replacement: str = " "

    def __post_init__(self) -> None:
        marks = (
            self.delimiters.element,
            self.delimiters.component,
            self.delimiters.repetition or "",
            self.delimiters.segment,
        )
        if any(len(mark) != 1 or not mark.isascii() or mark.isalnum() or mark in " -." for mark in marks):
            # "-" and "." are data: every negative amount, decimal and RD8 date range holds one.
            raise X12Error("each delimiter must be one ASCII character, not a letter, a digit, a space, - or .")
        if len(set(marks)) != 4:
            raise X12Error("the four delimiters must differ")
        for value, name, segment, widths in (
            (self.sender_qualifier, "ISA05", "ISA", (2, 2)),
            (self.sender_id, "ISA06", "ISA", (1, 15)),
            (self.receiver_qualifier, "ISA07", "ISA", (2, 2)),
            (self.receiver_id, "ISA08", "ISA", (1, 15)),
            (self.application_sender or self.sender_id, "GS02", "GS", (2, 15)),
            (self.application_receiver or self.receiver_id, "GS03", "GS", (2, 15)),
        ):
            if not widths[0] <= len(value) <= widths[1] or value != value.strip():
                raise X12Error(f"{name} must be {widths[0]} to {widths[1]} characters, not padded", segment=segment)
            if not _writable(value, marks):
                raise X12Error(f"{name} holds a delimiter or a character X12 cannot carry", segment=segment)
        if self.usage not in ("P", "T"):
            raise X12Error("ISA15 (usage) must be P or T", segment="ISA")
        for number, name in (
            (self.interchange_control_number, "ISA13"),
            (self.group_control_number, "GS06"),
            (self.transaction_control_number, "ST02"),
        ):
            if not 1 <= number <= _CONTROL_NUMBER_MAX:
                raise X12Error(f"{name} (control number) must be from 1 to 999999999", segment=name[:-2])
        if self.on_delimiter not in ("refuse", "replace"):
            raise X12Error('on_delimiter must be "refuse" or "replace"')
        if not _writable(self.replacement, marks):
            raise X12Error("the replacement for delimiters must itself be writable")


def _writable(text: str, marks: tuple[str, ...]) -> bool:
    return text.isascii() and text.isprintable() and not any(mark in text for mark in marks)


class _WithDependent(Protocol):
    @property
    def dependent(self) -> object | None: ...


M = TypeVar("M", bound=_WithDependent)


def add_member_levels(
    writer: SegmentWriter,
    members: Sequence[M],
    *,
    after_level: int,
    build: Callable[[M, int, Composite], list[Elements]],
    what: str,
) -> None:
    """One record per subscriber-level item (inquiry, answer, claim status), each opening the next HL number
    after `after_level`; an item about a dependant opens two levels (subscriber, then dependant)."""
    level = after_level
    for number, member in enumerate(members, 1):
        level += 1
        writer.add(partial(build, member, level), f"{what} {number}")
        if member.dependent is not None:
            level += 1


def isa_segment(envelope: Envelope) -> str:
    """The ISA, fixed width, for the envelope (without its terminator)."""
    e = envelope.delimiters.element
    created = envelope.created
    return (
        f"ISA{e}00{e}{'':10}{e}00{e}{'':10}{e}{envelope.sender_qualifier}{e}{envelope.sender_id:<15}{e}"
        f"{envelope.receiver_qualifier}{e}{envelope.receiver_id:<15}{e}{date_text(created)[2:]}{e}"
        f"{time_text(created)}{e}{envelope.delimiters.repetition or ''}{e}00501{e}"
        f"{envelope.interchange_control_number:09d}{e}{int(envelope.acknowledgment_requested)}{e}"
        f"{envelope.usage}{e}{envelope.delimiters.component}"
    )


class SegmentWriter:
    """Collects one interchange holding one transaction set: ISA, GS and ST first, the checked segments the
    transaction's writer adds, then SE, GE and IEA with their counts; `text` joins it all once."""

    def __init__(
        self,
        envelope: Envelope,
        functional_id: str,
        set_id: str,
        implementation: str,
        *,
        implementation_in_st: bool = True,
    ) -> None:
        """`implementation` goes in GS08, and in ST03 unless the guide leaves ST03 out (as the 835's does)."""
        self.envelope = envelope
        delimiters = envelope.delimiters
        self.element = e = delimiters.element
        self.component = delimiters.component
        self._repetition = delimiters.repetition or ""
        self._terminator = delimiters.segment
        marks = (e, self.component, self._repetition, self._terminator)
        # Deleting every byte that may be written leaves only the ones that may not.
        self._allowed = bytes(b for b in _PRINTABLE if chr(b) not in marks)
        self._component_byte = self.component.encode()
        self._replacements = str.maketrans(dict.fromkeys(marks, envelope.replacement))
        self._control = f"{envelope.transaction_control_number:04d}"
        created = envelope.created
        self.date, self.time = date_text(created), time_text(created)
        isa = isa_segment(envelope)
        gs = e.join(
            (
                "GS",
                functional_id,
                envelope.application_sender or envelope.sender_id,
                envelope.application_receiver or envelope.receiver_id,
                self.date,
                self.time,
                str(envelope.group_control_number),
                "X",
                implementation,
            )
        )
        st = ("ST", set_id, self._control, implementation) if implementation_in_st else ("ST", set_id, self._control)
        self.segments: list[str] = [isa, gs, e.join(st)]

    def prepare(self, model: T) -> T:
        """The model as it will be written: with delimiters replaced in every text field, nested ones too,
        when the envelope asks for replacement; the model itself otherwise."""
        if self.envelope.on_delimiter == "replace":
            return cast(T, self._replaced(model))
        return model

    def _replaced(self, value: Any) -> Any:
        if isinstance(value, str):
            return value.translate(self._replacements)
        if isinstance(value, tuple):
            return tuple(self._replaced(item) for item in value)
        if is_dataclass(value) and not isinstance(value, type):
            return replace(value, **{f.name: self._replaced(getattr(value, f.name)) for f in fields(value) if f.init})
        return value

    def writable(self, text: str) -> bool:
        """True when the text holds only characters of the X12 extended character set and no delimiter."""
        return text.isascii() and not text.encode().translate(None, self._allowed)

    def add(self, build: Build, what: str) -> None:
        """Writes the record `build` makes, after checking all its text at once; `what` names the record in
        the error (never a value: values may be PHI)."""
        composite = Composite(self.component, self._repetition)
        segments = build(composite)
        text = "".join(chain.from_iterable(segments))
        # What the check leaves must be exactly the separators the composites and repeats put in.
        left = text.encode().translate(None, self._allowed) if text.isascii() else None
        if left is None or (
            len(left) != composite.joins + composite.repeats or left.count(self._component_byte) != composite.joins
        ):
            raise self._refusal(build(Composite("", "")), what)
        e = self.element
        self.segments += [e.join(segment).rstrip(e) for segment in segments]

    def _refusal(self, segments: list[Elements], what: str) -> X12Error:
        index, position, value = next(item for item in _elements(segments) if not self.writable(item[2]))
        segment_id = segments[index][0]
        return X12Error(
            f"{segment_id}{position:02d} of {what} holds {self._fault(value)}: refused, not written",
            segment=segment_id,
            position=len(self.segments) + index + 1,
        )

    def _fault(self, value: str) -> str:
        for mark, name in (
            (self.element, "the element separator"),
            (self.component, "the component separator"),
            (self._repetition, "the repetition separator"),
            (self._terminator, "the segment terminator"),
        ):
            if mark in value:
                return f"{name} {mark!r}"
        return "a character outside the X12 extended character set"

    def text(self) -> str:
        """The interchange: the segments with SE, GE and IEA after them, each ended by the terminator."""
        e = self.element
        envelope = self.envelope
        trailers = [
            e.join(("SE", str(len(self.segments) - 1), self._control)),
            f"GE{e}1{e}{envelope.group_control_number}",
            f"IEA{e}1{e}{envelope.interchange_control_number:09d}",
            "",
        ]
        return self._terminator.join(self.segments + trailers)


def _elements(segments: list[Elements]) -> Iterator[tuple[int, int, str]]:
    """(segment index, element position counted from 1, value) for every element after the segment id."""
    for index, segment in enumerate(segments):
        for position, value in enumerate(segment[1:], 1):
            yield index, position, value


def name_elements(
    last: str, first: str = "", middle: str = "", suffix: str = ""
) -> tuple[str, str, str, str, str, str]:
    """NM102 to NM107 for a name: a person when there is a first name, else an organisation."""
    return ("1" if first else "2", last, first, middle, "", suffix)


@dataclass(frozen=True, slots=True)
class Address:
    """N3 and N4: US addresses (state and ZIP code)."""

    line1: str = field(repr=False)
    city: str = field(repr=False)
    state: str
    postal_code: str = field(repr=False)
    line2: str = field(default="", repr=False)

    def segments(self) -> tuple[Elements, Elements]:
        return ("N3", self.line1, self.line2), ("N4", self.city, self.state, self.postal_code)


@dataclass(frozen=True, slots=True)
class Payer:
    """A payer: its name and the payer id its trading partners know it by (NM108 PI)."""

    name: str
    payer_id: str
    address: Address | None = None

    def nm1(self) -> Elements:
        return ("NM1", "PR", "2", self.name, "", "", "", "", "PI", self.payer_id)


@dataclass(frozen=True, slots=True)
class TradingPartner:
    """A party known by its electronic transmitter id (NM108 46): a submitter, a receiver, a clearinghouse;
    a person when `first_name` is given, else an organisation."""

    name: str
    etin: str
    first_name: str = ""

    def nm1(self, entity: str) -> Elements:
        return ("NM1", entity, *name_elements(self.name, self.first_name), "46", self.etin)


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider known by NPI: a person when `first_name` is given, else an organisation (`name`)."""

    name: str
    npi: str
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    taxonomy: str = ""

    def nm1(self, entity: str) -> Elements:
        names = name_elements(self.name, self.first_name, self.middle_name, self.suffix)
        return ("NM1", entity, *names, "XX" if self.npi else "", self.npi)


@dataclass(frozen=True, slots=True)
class Member:
    """A person a payer covers: subscriber, dependant, patient. The member id is the payer's (NM108 MI);
    a dependant the payer knows only through the subscriber has none."""

    # Names, ids, birth date and address are PHI: kept out of repr, and so out of logs and tracebacks.
    last_name: str = field(repr=False)
    first_name: str = field(repr=False)
    member_id: str = field(default="", repr=False)
    middle_name: str = field(default="", repr=False)
    suffix: str = field(default="", repr=False)
    birth_date: date | None = field(default=None, repr=False)
    gender: Literal["F", "M", "U"] = "U"
    address: Address | None = field(default=None, repr=False)

    def nm1(self, entity: str, *, with_id: bool = True) -> Elements:
        """NM1 for the person; `with_id=False` where the guide does not use the id (a dependant's loops)."""
        name = ("NM1", entity, "1", self.last_name, self.first_name, self.middle_name, "", self.suffix)
        return (*name, "MI", self.member_id) if with_id and self.member_id else name

    def demographics(self, *, unknown_gender: bool = True) -> list[Elements]:
        """DMG, when the birth date is known. The 837 codes an unknown gender U; the 270 and 276 have no
        such code (`unknown_gender=False`) and leave it out."""
        if self.birth_date is None:
            return []
        gender = self.gender if unknown_gender or self.gender != "U" else ""
        return [("DMG", "D8", date_text(self.birth_date), gender)]


_CENT = Decimal("0.01")
_TRIPLETS_PER_CAS = 6


def check_money(*amounts: Decimal | None, what: str) -> None:
    """Refuses (ValueError) an amount that is not a finite Decimal of at most two decimal places: money is
    never a float, and nobody bills or pays a fraction of a cent. None (an amount not given) passes."""
    for value in amounts:
        if value is None:
            continue
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"{what}: an amount must be a finite Decimal")
        if value != value.quantize(_CENT):
            raise ValueError(f"{what}: an amount has more than two decimal places")


class Adjustment(Protocol):
    """What a CAS triplet is written from (the 835 reader's `Adjustment` is one)."""

    @property
    def group(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...

    @property
    def quantity(self) -> Decimal | None: ...


def cas_segments(adjustments: Sequence[Adjustment]) -> list[Elements]:
    """CAS segments (837P 2320/2430, 835 2100/2110): one group code each, six triplets at most, the groups in
    the order they first come."""
    by_group: dict[str, list[str]] = {}
    for adjustment in adjustments:
        quantity = "" if adjustment.quantity is None else decimal_text(adjustment.quantity)
        by_group.setdefault(adjustment.group, []).extend((adjustment.reason, decimal_text(adjustment.amount), quantity))
    step = 3 * _TRIPLETS_PER_CAS
    return [
        ("CAS", group, *triplets[start : start + step])
        for group, triplets in by_group.items()
        for start in range(0, len(triplets), step)
    ]
