"""The acknowledgments a receiver returns for an interchange: `write_999` (005010X231A1), the verdict on each
transaction set of one functional group and where it went wrong, and `write_ta1`, the verdict on an
interchange's envelope, in an interchange of its own.

The 999 is modelled the way `rcm_x12.acknowledgment_reader` reads it: per transaction set an AK2, its segment
errors (IK3, with the claim or trace it concerns as a CTX, and element errors, IK4) and its verdict (IK5);
AK9 counts them, and its code follows from them unless the caller gives one. The TA1 takes the reader's
own `InterchangeAcknowledgment`, so a TA1 read can be written again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from rcm_x12.acknowledgment_reader import InterchangeAcknowledgment
from rcm_x12.codes.acknowledgment import (
    ACCEPTED_CODES,
    GROUP_ACKNOWLEDGMENTS,
    INTERCHANGE_ACKNOWLEDGMENTS,
    INTERCHANGE_NOTES,
    SET_ACKNOWLEDGMENTS,
)
from rcm_x12.errors import X12Error
from rcm_x12.reader import FunctionalGroup
from rcm_x12.writer import Composite, Elements, Envelope, SegmentWriter, isa_segment

__all__ = [
    "IMPLEMENTATION",
    "ElementFault",
    "GroupAcknowledgment",
    "InterchangeAcknowledgment",
    "SegmentFault",
    "SetAcknowledgment",
    "accepting",
    "write_999",
    "write_ta1",
]

IMPLEMENTATION = "005010X231A1"
_MAX_CODES = 5  # IK502-IK506, AK905-AK909


@dataclass(frozen=True, slots=True)
class ElementFault:
    """IK4: an element in error. `position` is its place in the segment (IK401-1), `component` and
    `repetition` narrow it (IK401-2, -3); `reference` is the data element number (IK402), `code` the error
    (IK403: 1 required element missing, 7 invalid code value, 8 invalid date, I12 pattern match...), and
    `bad_value` the copy of the element (IK404) when it helps."""

    position: int
    code: str
    reference: str = ""
    component: int | None = None
    repetition: int | None = None
    bad_value: str = ""

    def __post_init__(self) -> None:
        if self.position < 1 or any(n is not None and n < 1 for n in (self.component, self.repetition)):
            raise ValueError("an element's position, component and repetition count from 1")
        if not self.code:
            raise ValueError("an element error (IK403) needs its code")


@dataclass(frozen=True, slots=True)
class SegmentFault:
    """IK3: a segment in error. `position` counts from the ST (1) of the acknowledged set; `loop_id` is the
    guide's loop (2300...; the element holds four characters, so 2010BA is sent as 2010); `code` is IK304
    (3 required segment missing, 8 segment has data element errors, I4 "not used" segment present...).
    `business_unit` is the CTX naming what the error concerns, a pair
    such as ("CLM01", the claim id) or ("TRN02", the trace number)."""

    segment_id: str
    position: int
    code: str
    loop_id: str = ""
    business_unit: tuple[str, str] | None = None
    element_faults: tuple[ElementFault, ...] = ()

    def __post_init__(self) -> None:
        if self.position < 1:
            raise ValueError("a segment's position counts from 1, the ST")
        if not 2 <= len(self.segment_id) <= 3 or not self.code:
            raise ValueError("a segment error (IK3) needs the segment id (two or three characters) and its code")
        if len(self.loop_id) > 4:
            raise ValueError("a loop id (IK303) is at most four characters: 2010, not 2010BA")


@dataclass(frozen=True, slots=True)
class SetAcknowledgment:
    """AK2 to IK5: one transaction set's verdict. `code` is IK501 (A accepted, E accepted with errors, R
    rejected, M, W, X); anything but A names its reasons in `syntax_errors` (IK502-IK506: 5 one or more
    segments in error, 1 not supported, 3 control numbers do not match...)."""

    set_id: str
    control_number: str
    implementation: str = ""
    code: str = "A"
    syntax_errors: tuple[str, ...] = ()
    segment_faults: tuple[SegmentFault, ...] = ()

    def __post_init__(self) -> None:
        if self.code not in SET_ACKNOWLEDGMENTS:
            raise ValueError("a transaction set's verdict (IK501) is A, E, M, R, W or X")
        if len(self.syntax_errors) > _MAX_CODES:
            raise ValueError("IK5 holds at most five syntax error codes")
        if self.code == "A" and self.syntax_errors:
            raise ValueError("an accepted transaction set (IK501 A) has no syntax error codes")
        if self.code != "A" and not self.syntax_errors:
            raise ValueError("a transaction set not simply accepted names why (IK502)")

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED_CODES


@dataclass(frozen=True, slots=True)
class GroupAcknowledgment:
    """One 999: the functional group acknowledged (AK1: GS01, GS06 and GS08 of it) and the verdicts on its
    transaction sets. AK9's counts follow from `responses`: `sets_included` is the group's GE01 when it
    differs from what was received. `code` is AK901; when empty it follows from the verdicts (A all sets
    accepted, E all accepted but errors noted in a set or the group, P some rejected, R none accepted).
    `group_errors` are AK905-AK909 (2 group version not supported, 5 count mismatch...)."""

    functional_id: str
    group_control_number: str
    version: str
    responses: tuple[SetAcknowledgment, ...]
    code: str = ""
    sets_included: int | None = None
    group_errors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (self.group_control_number.isascii() and self.group_control_number.isdigit()):
            raise ValueError("the acknowledged group's control number (AK102) is digits")
        if self.code and self.code not in GROUP_ACKNOWLEDGMENTS:
            raise ValueError("a functional group's verdict (AK901) is A, E, M, P, R, W or X")
        if len(self.group_errors) > _MAX_CODES:
            raise ValueError("AK9 holds at most five group error codes")
        if self.sets_included is not None and self.sets_included < 0:
            raise ValueError("the number of transaction sets included is not negative")

    @property
    def sets_accepted(self) -> int:
        return sum(response.accepted for response in self.responses)

    @property
    def verdict(self) -> str:
        """AK901: the code given, else the one the sets' verdicts make."""
        if self.code:
            return self.code
        accepted = self.sets_accepted
        if accepted == 0:
            return "R"
        if accepted < len(self.responses):
            return "P"
        noted = self.group_errors or any(response.code == "E" for response in self.responses)
        return "E" if noted else "A"


def accepting(group: FunctionalGroup) -> GroupAcknowledgment:
    """The 999 that accepts every transaction set of a group `rcm_x12.read` found."""
    responses = tuple(
        SetAcknowledgment(transaction.set_id, transaction.control_number, transaction.implementation)
        for transaction in group.transactions
    )
    return GroupAcknowledgment(group.functional_id, group.control_number, group.version, responses)


def write_999(acknowledgment: GroupAcknowledgment, envelope: Envelope) -> str:
    """The acknowledgment as one X12 interchange holding one 999 transaction set (functional group FA)."""
    writer = SegmentWriter(envelope, "FA", "999", IMPLEMENTATION)
    acknowledgment = writer.prepare(acknowledgment)
    writer.add(partial(_header, acknowledgment), "the header")
    for number, response in enumerate(acknowledgment.responses, 1):
        writer.add(partial(_response, response), f"transaction set response {number}")
    writer.add(partial(_trailer, acknowledgment), "the group response")
    return writer.text()


def _header(acknowledgment: GroupAcknowledgment, composite: Composite) -> list[Elements]:
    return [("AK1", acknowledgment.functional_id, acknowledgment.group_control_number, acknowledgment.version)]


def _response(response: SetAcknowledgment, composite: Composite) -> list[Elements]:
    segments: list[Elements] = [("AK2", response.set_id, response.control_number, response.implementation)]
    for fault in response.segment_faults:
        segments.append(("IK3", fault.segment_id, str(fault.position), fault.loop_id, fault.code))
        if fault.business_unit is not None:
            segments.append(("CTX", composite(*fault.business_unit)))
        for element in fault.element_faults:
            where = [str(element.position)]
            if element.component is not None or element.repetition is not None:
                where.append("" if element.component is None else str(element.component))
            if element.repetition is not None:
                where.append(str(element.repetition))
            segments.append(("IK4", composite(*where), element.reference, element.code, element.bad_value))
    segments.append(("IK5", response.code, *response.syntax_errors))
    return segments


def _trailer(acknowledgment: GroupAcknowledgment, composite: Composite) -> list[Elements]:
    received = len(acknowledgment.responses)
    included = received if acknowledgment.sets_included is None else acknowledgment.sets_included
    counts = (str(included), str(received), str(acknowledgment.sets_accepted))
    return [("AK9", acknowledgment.verdict, *counts, *acknowledgment.group_errors)]


def write_ta1(acknowledgment: InterchangeAcknowledgment, envelope: Envelope) -> str:
    """The TA1 in an interchange of its own, with no functional group: ISA, TA1, IEA*0. `control_number`,
    `date` and `time` are the acknowledged interchange's ISA13, ISA09 and ISA10; `code` is A, E or R and
    `note_code` TA105 (000 no error, 006 invalid sender id...). The envelope's group and transaction control
    numbers are not written."""
    control, time, note = acknowledgment.control_number, acknowledgment.time, acknowledgment.note_code
    if not (control.isascii() and control.isdigit() and 1 <= len(control) <= 9):
        raise X12Error("TA101 (the acknowledged ISA13) must be one to nine digits", segment="TA1")
    if acknowledgment.date is None:
        raise X12Error("TA102 (the acknowledged interchange's date) is required", segment="TA1")
    if not (len(time) == 4 and time.isascii() and time.isdigit()):
        raise X12Error("TA103 (the acknowledged interchange's time) must be HHMM", segment="TA1")
    if acknowledgment.code not in INTERCHANGE_ACKNOWLEDGMENTS:
        raise X12Error("TA104 must be A, E or R", segment="TA1")
    if note not in INTERCHANGE_NOTES:
        raise X12Error("TA105 is not an interchange note code", segment="TA1")
    e = envelope.delimiters.element
    ta1 = e.join(("TA1", f"{int(control):09d}", _yymmdd(acknowledgment.date), time, acknowledgment.code, note))
    iea = e.join(("IEA", "0", f"{envelope.interchange_control_number:09d}"))
    return envelope.delimiters.segment.join((isa_segment(envelope), ta1, iea, ""))


def _yymmdd(day: date) -> str:
    return f"{day.year % 100:02d}{day.month:02d}{day.day:02d}"
