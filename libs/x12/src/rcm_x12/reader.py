"""The tolerant X12 reader: finds the delimiters in the ISA, splits the data into segments whatever the
sender put between them (CR/LF, indentation, a byte-order mark), and checks the envelope.

Segments are lists of strings, element 0 being the segment id: the cheapest shape Python can make, which
is what lets typed readers run several times faster than a validating parser.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rcm_x12.errors import UnsupportedVersion, X12Error

Segment = list[str]
_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_SUPPORTED_VERSION = "00501"
# What senders put between segments: white space, NUL, no-break space, the DOS end-of-file mark. Not
# str.strip()'s white space, which includes 0x1C-0x1F, delimiters in some files.
_PADDING = " \t\r\n\x00\xa0\x1a"
_RARE_PADDING = "\t\x00\xa0\x1a"
_ENVELOPE = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"})
# The ISA is fixed width: senders who pad or cut its fields are read all the same, and told.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str
    component: str
    repetition: str | None
    segment: str

    def all(self) -> frozenset[str]:
        return frozenset(c for c in (self.element, self.component, self.repetition, self.segment) if c)


@dataclass(slots=True)
class Transaction:
    """One transaction set: ST and SE, and the segments between them (`segments` excludes ST and SE)."""

    set_id: str
    control_number: str
    implementation: str
    segments: list[Segment]
    position: int  # of the ST segment, counted from 1 in the interchange
    complete: bool = True
    """False when the data ended (or the next envelope began) before this set's SE: it may be cut short."""


@dataclass(slots=True)
class FunctionalGroup:
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    version: str
    transactions: list[Transaction] = field(default_factory=list)


@dataclass(slots=True)
class Interchange:
    sender_qualifier: str
    sender: str
    receiver_qualifier: str
    receiver: str
    date: str
    time: str
    control_number: str
    version: str
    acknowledgment_requested: bool
    usage: str  # P production, T test
    delimiters: Delimiters
    groups: list[FunctionalGroup] = field(default_factory=list)
    ta1: list[Segment] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    """Envelope defects the reader tolerated (counts, control numbers, missing trailers): `validate` reports
    them; real senders make these mistakes, so reading goes on."""


def decode(data: bytes | str) -> str:
    """Text from bytes: UTF-16 when it looks like it (a BOM, or NULs between letters), else UTF-8 (a BOM
    dropped), else Latin-1, which never fails."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16", errors="replace")
    if data[1:2] == b"\x00" and data[3:4] == b"\x00":
        return data.decode("utf-16-le", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def find_delimiters(text: str) -> tuple[Delimiters, int]:
    """The delimiters an ISA declares, and where the ISA starts; tolerates short or padded ISA fields."""
    start = text.find("ISA")
    if start < 0 or text[:start].strip():
        raise X12Error("not an X12 interchange: the data does not begin with an ISA segment")
    element = text[start + 3 : start + 4]
    if not element or element.isalnum() or element in _PADDING:
        raise X12Error("the ISA segment does not declare a usable element separator", segment="ISA", position=1)
    # ISA has 16 elements, so 16 element separators: the component separator is the one character after
    # the 16th, and the segment terminator the character after that (whatever the fields' widths).
    index = start + 3
    for _ in range(15):
        index = text.find(element, index + 1)
        if index < 0:
            raise X12Error("the ISA segment is cut short: it has fewer than 16 elements", segment="ISA", position=1)
    component = text[index + 1 : index + 2]
    terminator = text[index + 2 : index + 3]
    if not component or not terminator:
        raise X12Error("the ISA segment is cut short: no segment terminator follows it", segment="ISA", position=1)
    if component.isalnum() or component == " " or terminator.isalnum() or terminator == " ":
        raise X12Error(
            "the ISA segment declares a letter, digit or space as a separator (ISA16 or the terminator)",
            segment="ISA",
            position=1,
        )
    if terminator == "\r" and text[index + 3 : index + 4] == "\n":
        terminator = "\n"
    if len({element, component, terminator}) != 3:
        raise X12Error("the ISA segment declares the same character for two delimiters", segment="ISA", position=1)
    isa = text[start : index + 2].split(element)
    repetition: str | None = isa[11] if len(isa) > 11 and len(isa[11]) == 1 and not isa[11].isalnum() else None
    if repetition in (element, component, terminator):
        repetition = None  # some senders repeat the component separator there: then nothing repeats
    return Delimiters(element=element, component=component, repetition=repetition, segment=terminator), start


def split_segments(text: str, delimiters: Delimiters, start: int = 0) -> list[Segment]:
    """Every segment as a list of elements, with what senders put between segments ignored.

    Line breaks are never X12 data, so they go in one pass; segments are stripped one by one only when
    something else (indentation, NUL, a no-break space) stands at a segment boundary.
    """
    body = text[start:] if start else text
    terminator = delimiters.segment
    if terminator == "\n":
        body = body.replace("\r", "")
    elif terminator == "\r":
        body = body.replace("\n", "")
    else:
        body = body.replace("\r", "").replace("\n", "")
    chunks = body.split(terminator)
    element = delimiters.element
    padded = (
        any(odd in body for odd in _RARE_PADDING)
        or f"{terminator} " in body
        or f" {terminator}" in body
        or body.startswith(" ")
    )
    if not padded:
        return [chunk.split(element) for chunk in chunks if chunk]
    return [stripped.split(element) for chunk in chunks if (stripped := chunk.strip(_PADDING))]


def transaction_sets(interchanges: list[Interchange], set_id: str) -> Iterator[tuple[Transaction, Interchange]]:
    """Every transaction set of one kind (ST01) in the interchanges, in order, with the interchange it came in
    (whose delimiters a typed reader needs)."""
    for interchange in interchanges:
        for group in interchange.groups:
            for transaction in group.transactions:
                if transaction.set_id == set_id:
                    yield transaction, interchange


class _CollectorPause:
    """How many readers, in any thread, have the collector paused, and whether it was on before the first:
    checking and switching the collector are two steps, so they are taken under one lock, and only the last
    reader out switches it back on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.readers = 0
        self.was_enabled = False


_PAUSE = _CollectorPause()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: reading builds hundreds of thousands of acyclic lists and
    objects, and the collections their allocation triggers find nothing but re-walk the growing heap, which
    more than doubles the time of a large file. Readers in several threads (a service reads large files off
    its event loop) share one pause: the collector is switched back on when the last of them ends, and only
    if it was on when the first began."""
    with _PAUSE.lock:
        if _PAUSE.readers == 0:
            _PAUSE.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSE.readers += 1
    try:
        yield
    finally:
        with _PAUSE.lock:
            _PAUSE.readers -= 1
            if _PAUSE.readers == 0 and _PAUSE.was_enabled:
                gc.enable()


def read(data: bytes | str) -> list[Interchange]:
    """Every interchange in the data, with its envelope checked; raises X12Error with the place it failed."""
    with collector_paused():
        return _read(decode(data))


def _read(text: str) -> list[Interchange]:
    if _BARE_SET.match(text):
        return [_bare_sets(text)]
    delimiters, start = find_delimiters(text)
    segments = split_segments(text, delimiters, start)
    try:
        return _Walk(segments, delimiters).interchanges()
    except UnsupportedVersion:
        raise
    except X12Error as exc:
        if _element(segments[0], 12).strip() == "00401":
            raise UnsupportedVersion(
                f"this interchange declares X12 004010 (ISA12 00401), which is not read, and is not "
                f"readable as 005010: {exc}",
                segment="ISA",
                position=1,
            ) from exc
        raise


def _element(segment: Segment, index: int) -> str:
    return segment[index] if len(segment) > index else ""


# A bare transaction set, as payer portals export an 835: ST, its separator, a set id of three digits.
_BARE_SET = re.compile(r"\A[\s\ufeff]*ST([^\w\s])\d{3}\1")
_COMPONENT_CANDIDATES = ":>^|\\<"
# The functional group (GS01) each set belongs in, for the sets a bare file may hold.
_FUNCTIONAL_IDS = {"835": "HP", "837": "HC", "277": "HN", "276": "HR", "270": "HS", "271": "HB", "999": "FA"}
BARE_SET_FINDING = (
    "envelope: the data is a bare transaction set (ST to SE, no ISA or GS): its sender, receiver and "
    "control numbers are unknown, and its delimiters were taken from the ST segment"
)


def bare_set_delimiters(text: str, start: int) -> Delimiters:
    """The delimiters of a bare set: the element separator follows ST; the segment terminator is the first
    character after the ST segment's elements that is neither a letter, a digit nor a separator; the
    component separator is the first likely one found in the data (`:` when none is), since nothing
    declares it."""
    element = text[start + 2]
    index = start + 3
    while index < len(text) and (text[index].isalnum() or text[index] in (element, " ")):
        index += 1
    if index >= len(text):
        raise X12Error("the bare transaction set has no segment terminator after its ST", segment="ST", position=1)
    terminator = text[index]
    if terminator == "\r" and text[index + 1 : index + 2] == "\n":
        terminator = "\n"
    component = next(
        (mark for mark in _COMPONENT_CANDIDATES if mark not in (element, terminator) and mark in text), ":"
    )
    return Delimiters(element=element, component=component, repetition=None, segment=terminator)


def _bare_sets(text: str) -> Interchange:
    """One or more bare transaction sets as an interchange with no envelope: each ST to its SE (or to the
    end, cut short), in one functional group of the first set's kind; the missing envelope is a finding."""
    start = len(text) - len(text.lstrip(" \t\r\n\ufeff"))
    delimiters = bare_set_delimiters(text, start)
    segments = split_segments(text, delimiters, start)
    findings = [BARE_SET_FINDING]
    transactions: list[Transaction] = []
    index = 0
    while index < len(segments):
        st = segments[index]
        if st[0].strip() != "ST":
            raise X12Error(
                "a bare transaction set's segments must begin with ST", segment=st[0][:3], position=index + 1
            )
        end = next((i for i in range(index + 1, len(segments)) if segments[i][0].strip() == "SE"), None)
        if end is None:
            findings.append(f"ST at position {index + 1} has no SE segment: the set may be cut short")
            transactions.append(_transaction_of(st, segments[index + 1 :], index, complete=False))
            break
        control = _element(st, 2).strip()
        _check_trailer(findings, segments[end], end, count=end - index + 1, what="segments", control=control,
                       opener="ST02")  # fmt: skip
        transactions.append(_transaction_of(st, segments[index + 1 : end], index))
        index = end + 1
    first = transactions[0]
    group = FunctionalGroup(
        functional_id=_FUNCTIONAL_IDS.get(first.set_id, ""),
        sender="",
        receiver="",
        date="",
        time="",
        control_number="",
        version=first.implementation,
        transactions=transactions,
    )
    return Interchange(
        sender_qualifier="",
        sender="",
        receiver_qualifier="",
        receiver="",
        date="",
        time="",
        control_number="",
        version="00501",
        acknowledgment_requested=False,
        usage="P",
        delimiters=delimiters,
        groups=[group],
        findings=findings,
    )


class _Walk:
    """One pass over the envelope segments only (ISA, GS, ST, SE, GE, IEA, TA1): a transaction set's body
    is the slice between its ST and SE, so the work grows with the envelopes, not with the claims."""

    def __init__(self, segments: list[Segment], delimiters: Delimiters) -> None:
        self.segments = segments
        self.delimiters = delimiters
        ids = [segment[0] for segment in segments]
        invalid = [segment_id for segment_id in set(ids) if not _SEGMENT_ID.match(segment_id)]
        if invalid:  # the first in the data, whatever order the set holds them in
            first = min(ids.index(segment_id) for segment_id in invalid)
            raise X12Error("a segment has an invalid identifier", position=first + 1)
        self.ids = ids
        self.controls = [index for index, segment_id in enumerate(ids) if segment_id in _ENVELOPE]
        self.next_control = 0

    def peek(self) -> int | None:
        return self.controls[self.next_control] if self.next_control < len(self.controls) else None

    def take(self) -> int:
        index = self.controls[self.next_control]
        self.next_control += 1
        return index

    def stray(self, cursor: int, outside: str) -> X12Error:
        segment_id = self.ids[cursor]
        return X12Error(f"{segment_id} stands outside {outside}", segment=segment_id, position=cursor + 1)

    def interchanges(self) -> list[Interchange]:
        interchanges = []
        cursor = 0
        while cursor < len(self.segments):
            if self.peek() != cursor:
                raise self.stray(cursor, "an interchange")
            if self.ids[cursor] != "ISA":
                raise X12Error(
                    "expected an ISA segment to open an interchange", segment=self.ids[cursor], position=cursor + 1
                )
            interchange, cursor = self.interchange()
            interchanges.append(interchange)
        return interchanges

    def interchange(self) -> tuple[Interchange, int]:
        position = self.take()
        isa = self.segments[position]
        if len(isa) != 17:
            raise X12Error(f"ISA has {len(isa) - 1} elements instead of 16", segment="ISA", position=position + 1)
        version = isa[12].strip()
        interchange = Interchange(
            sender_qualifier=isa[5].strip(),
            sender=isa[6].strip(),
            receiver_qualifier=isa[7].strip(),
            receiver=isa[8].strip(),
            date=isa[9].strip(),
            time=isa[10].strip(),
            control_number=isa[13].strip(),
            version=version,
            acknowledgment_requested=isa[14].strip() == "1",
            usage=isa[15].strip(),
            delimiters=self.delimiters,
        )
        findings = interchange.findings
        for number, width in enumerate(_ISA_WIDTHS, start=1):
            if len(isa[number]) != width:
                wide = len(isa[number])
                findings.append(
                    f"ISA{number:02d} is {wide} characters wide, not {width} (ISA at position {position + 1})"
                )
        if version != _SUPPORTED_VERSION:
            # What counts is each group's GS08; senders often leave ISA12 at 00401 over 005010 groups.
            findings.append(f"ISA12 is {version or 'empty'}, not 00501 (ISA at position {position + 1})")
        cursor = position + 1
        while (index := self.peek()) == cursor:
            segment_id = self.ids[index]
            if segment_id == "GS":
                group, cursor = self.group(findings)
                interchange.groups.append(group)
            elif segment_id == "TA1":
                interchange.ta1.append(self.segments[self.take()])
                cursor += 1
            elif segment_id == "IEA":
                self.take()
                _check_trailer(
                    findings,
                    self.segments[index],
                    index,
                    count=len(interchange.groups),
                    what="functional groups",
                    control=interchange.control_number,
                    opener="ISA13",
                )
                return interchange, index + 1
            elif segment_id == "ISA":
                break
            else:
                raise self.stray(index, "a functional group")
        if cursor < len(self.segments) and self.ids[cursor] != "ISA":
            raise self.stray(cursor, "a functional group")
        findings.append("the interchange has no IEA segment")
        return interchange, cursor

    def group(self, findings: list[str]) -> tuple[FunctionalGroup, int]:
        position = self.take()
        gs = self.segments[position]
        if len(gs) < 9:
            raise X12Error("GS has fewer than 8 elements", segment="GS", position=position + 1)
        version = gs[8].strip()
        if version.startswith("004010"):
            raise UnsupportedVersion(
                "this functional group is X12 004010 (pre-HIPAA 5010); only 005010 is read",
                segment="GS",
                position=position + 1,
            )
        if not version.startswith("005010"):
            raise UnsupportedVersion(
                "this functional group is not X12 005010 (GS08); only 005010 is read",
                segment="GS",
                position=position + 1,
            )
        group = FunctionalGroup(
            functional_id=gs[1].strip(),
            sender=gs[2].strip(),
            receiver=gs[3].strip(),
            date=gs[4].strip(),
            time=gs[5].strip(),
            control_number=gs[6].strip(),
            version=version,
        )
        cursor = position + 1
        while (index := self.peek()) == cursor:
            segment_id = self.ids[index]
            if segment_id == "ST":
                transaction, cursor = self.transaction(findings)
                group.transactions.append(transaction)
            elif segment_id == "GE":
                self.take()
                _check_trailer(
                    findings,
                    self.segments[index],
                    index,
                    count=len(group.transactions),
                    what="transaction sets",
                    control=group.control_number,
                    opener="GS06",
                )
                return group, index + 1
            elif segment_id in ("GS", "IEA", "ISA", "TA1"):
                break
            else:
                raise self.stray(index, "a transaction set")
        if cursor < len(self.segments) and self.ids[cursor] not in _ENVELOPE:
            raise self.stray(cursor, "a transaction set")
        findings.append(f"the functional group opened at position {position + 1} has no GE segment")
        return group, cursor

    def transaction(self, findings: list[str]) -> tuple[Transaction, int]:
        start = self.take()
        st = self.segments[start]
        if len(st) < 3:
            raise X12Error("ST has fewer than 2 elements", segment="ST", position=start + 1)
        index = self.peek()
        if index is not None and self.ids[index] == "SE":
            self.take()
            _check_trailer(
                findings,
                self.segments[index],
                index,
                count=index - start + 1,
                what="segments",
                control=st[2].strip(),
                opener="ST02",
            )
            return _transaction_of(st, self.segments[start + 1 : index], start), index + 1
        end = index if index is not None else len(self.segments)
        findings.append(f"the transaction set opened at position {start + 1} has no SE segment")
        return _transaction_of(st, self.segments[start + 1 : end], start, complete=False), end


def _transaction_of(st: Segment, body: list[Segment], start: int, *, complete: bool = True) -> Transaction:
    return Transaction(
        set_id=st[1].strip(),
        control_number=st[2].strip(),
        implementation=_element(st, 3).strip(),
        segments=body,
        position=start + 1,
        complete=complete,
    )


def _check_trailer(
    findings: list[str], segment: Segment, position: int, *, count: int, what: str, control: str, opener: str
) -> None:
    """A trailer's count and control number: a mismatch is noted, since readable data is still readable."""
    segment_id = segment[0]
    counted = _element(segment, 1).strip()
    if counted != str(count):
        findings.append(f"{segment_id} at position {position + 1} counts {counted or 'nothing'} {what}, found {count}")
    if _element(segment, 2).strip() != control:
        findings.append(f"{segment_id} at position {position + 1}: control number does not match {opener}")
