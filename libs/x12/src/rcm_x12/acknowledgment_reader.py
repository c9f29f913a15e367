"""The typed acknowledgment readers: the 999 implementation acknowledgment (005010X231A1), which says
whether each transaction set of a functional group passed the receiver's syntax and implementation checks
and where it did not, and the TA1 interchange acknowledgment, which judges an interchange's envelope.

The error codes come with their meanings (`rcm_x12.codes.acknowledgment`) so that a biller can read a
rejection without the TR3 at hand. The IK404 copy of a bad element may be PHI: it is kept on the object,
out of its repr, and out of the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rcm_x12.codes.acknowledgment import (
    ACCEPTED_CODES,
    ELEMENT_ERRORS,
    GROUP_ACKNOWLEDGMENTS,
    GROUP_SYNTAX_ERRORS,
    INTERCHANGE_ACKNOWLEDGMENTS,
    INTERCHANGE_NOTES,
    SEGMENT_ERRORS,
    SET_ACKNOWLEDGMENTS,
    SET_SYNTAX_ERRORS,
)
from rcm_x12.elements import element, parse_date
from rcm_x12.errors import X12Error
from rcm_x12.reader import Interchange, Segment, Transaction, read, transaction_sets


@dataclass(frozen=True, slots=True)
class ElementPosition:
    """Where in a segment (C030: IK401, CTX05): element, then component and repetition when they matter."""

    element: int
    component: int | None
    repetition: int | None


@dataclass(frozen=True, slots=True)
class Context:
    """A CTX segment: a business identifier of the data in error (CTX01, e.g. CLM01 and the claim id), or a
    situational trigger's segment, position, loop and element."""

    name: str  # CTX01-1
    reference: str = field(repr=False)  # CTX01-2
    segment_id: str  # CTX02
    segment_position: int | None  # CTX03
    loop_id: str  # CTX04
    element_position: ElementPosition | None  # CTX05


@dataclass(slots=True)
class ElementError:
    """An IK4 segment and its contexts."""

    position: ElementPosition  # IK401
    reference: str  # IK402, the data element reference number
    code: str  # IK403
    bad_value: str = field(repr=False)  # IK404, a copy of the element in error
    contexts: list[Context] = field(default_factory=list)

    @property
    def meaning(self) -> str | None:
        return ELEMENT_ERRORS.get(self.code)


@dataclass(slots=True)
class SegmentError:
    """An IK3 segment (loop 2100), its contexts and element errors."""

    segment_id: str  # IK301
    position: int  # IK302, counted from ST in the acknowledged transaction set
    loop_id: str  # IK303
    code: str  # IK304
    contexts: list[Context] = field(default_factory=list)
    element_errors: list[ElementError] = field(default_factory=list)

    @property
    def meaning(self) -> str | None:
        return SEGMENT_ERRORS.get(self.code)


@dataclass(slots=True)
class TransactionSetResponse:
    """Loop 2000: an AK2, the errors found in that transaction set, and its verdict (IK5)."""

    set_id: str  # AK201
    control_number: str  # AK202
    implementation: str  # AK203
    segment_errors: list[SegmentError] = field(default_factory=list)
    code: str = ""  # IK501
    syntax_errors: tuple[str, ...] = ()  # IK502-IK506

    @property
    def meaning(self) -> str | None:
        return SET_ACKNOWLEDGMENTS.get(self.code)

    @property
    def accepted(self) -> bool:
        return self.code in ACCEPTED_CODES

    @property
    def syntax_error_meanings(self) -> list[str | None]:
        return [SET_SYNTAX_ERRORS.get(code) for code in self.syntax_errors]


@dataclass(slots=True)
class ImplementationAcknowledgment:
    """One 999 transaction set: the functional group it acknowledges (AK1) and the verdict per transaction
    set and on the group (AK9)."""

    control_number: str
    position: int
    functional_id: str  # AK101, e.g. HC for an 837 group
    group_control_number: str  # AK102, the GS06 being acknowledged
    version: str  # AK103
    responses: list[TransactionSetResponse]
    code: str  # AK901
    sets_included: int  # AK902, the transaction sets the group's GE counted
    sets_received: int  # AK903
    sets_accepted: int  # AK904
    group_errors: tuple[str, ...]  # AK905-AK909

    @property
    def meaning(self) -> str | None:
        return GROUP_ACKNOWLEDGMENTS.get(self.code)

    @property
    def group_error_meanings(self) -> list[str | None]:
        return [GROUP_SYNTAX_ERRORS.get(code) for code in self.group_errors]


@dataclass(frozen=True, slots=True)
class InterchangeAcknowledgment:
    """A TA1 segment: the verdict on the interchange whose ISA13 is `control_number`."""

    control_number: str  # TA101
    date: date | None  # TA102, YYMMDD (CCYYMMDD from some senders); None when it is not a date
    time: str  # TA103, HHMM
    code: str  # TA104: A, E or R
    note_code: str  # TA105

    @property
    def meaning(self) -> str | None:
        return INTERCHANGE_ACKNOWLEDGMENTS.get(self.code)

    @property
    def note(self) -> str | None:
        return INTERCHANGE_NOTES.get(self.note_code)


@dataclass(slots=True)
class Acknowledgments:
    interchange: list[InterchangeAcknowledgment] = field(default_factory=list)  # TA1
    implementation: list[ImplementationAcknowledgment] = field(default_factory=list)  # 999


def read_acknowledgments(data: bytes | str) -> Acknowledgments:
    """Every TA1 and every 999 transaction set in the data, in order."""
    found = Acknowledgments()
    for interchange in read(data):
        found.interchange.extend(interchange_acknowledgments(interchange))
        found.implementation.extend(
            acknowledgment_of(transaction, interchange) for transaction, _ in transaction_sets([interchange], "999")
        )
    return found


def interchange_acknowledgments(interchange: Interchange) -> list[InterchangeAcknowledgment]:
    """The interchange's TA1 segments; a TA1's date that is not one is None, as the verdict still stands."""
    return [
        InterchangeAcknowledgment(
            control_number=element(ta1, 1),
            date=_ta1_date(element(ta1, 2)),
            time=element(ta1, 3),
            code=element(ta1, 4),
            note_code=element(ta1, 5),
        )
        for ta1 in interchange.ta1
    ]


def acknowledgment_of(transaction: Transaction, interchange: Interchange) -> ImplementationAcknowledgment:
    """One 999 as typed objects; raises X12Error when AK1 or AK9 is missing or an IK segment is out of place."""
    if transaction.set_id != "999":
        raise X12Error("the transaction set is not a 999", segment="ST", position=transaction.position)
    component = interchange.delimiters.component
    ak1: Segment | None = None
    ak9: tuple[Segment, int] | None = None
    responses: list[TransactionSetResponse] = []
    segment_error: SegmentError | None = None
    element_error: ElementError | None = None
    for position, segment in enumerate(transaction.segments, start=transaction.position + 1):
        segment_id = segment[0]
        if segment_id == "AK1":
            ak1 = segment
        elif segment_id == "AK2":
            responses.append(TransactionSetResponse(element(segment, 1), element(segment, 2), element(segment, 3)))
            segment_error = element_error = None
        elif segment_id == "IK3":
            segment_error = _segment_error(segment, position)
            _open(responses, segment_id, position).segment_errors.append(segment_error)
            element_error = None
        elif segment_id == "IK4":
            if segment_error is None:
                raise X12Error("IK4 comes before any IK3", segment=segment_id, position=position)
            element_error = _element_error(segment, position, component)
            segment_error.element_errors.append(element_error)
        elif segment_id == "CTX":
            if segment_error is None:
                raise X12Error("CTX comes before any IK3", segment=segment_id, position=position)
            (element_error or segment_error).contexts.append(_context(segment, position, component))
        elif segment_id == "IK5":
            response = _open(responses, segment_id, position)
            response.code = element(segment, 1)
            response.syntax_errors = _codes(segment, 2, 6)
            segment_error = element_error = None
        elif segment_id == "AK9":
            ak9 = (segment, position)
    if ak1 is None or ak9 is None:
        missing = "AK1" if ak1 is None else "AK9"
        raise X12Error(f"the 999 has no {missing} segment", segment="ST", position=transaction.position)
    segment, position = ak9
    return ImplementationAcknowledgment(
        control_number=transaction.control_number,
        position=transaction.position,
        functional_id=element(ak1, 1),
        group_control_number=element(ak1, 2),
        version=element(ak1, 3),
        responses=responses,
        code=element(segment, 1),
        sets_included=_count(segment, 2, position),
        sets_received=_count(segment, 3, position),
        sets_accepted=_count(segment, 4, position),
        group_errors=_codes(segment, 5, 9),
    )


def _open(responses: list[TransactionSetResponse], segment_id: str, position: int) -> TransactionSetResponse:
    if not responses:
        raise X12Error(f"{segment_id} comes before any AK2", segment=segment_id, position=position)
    return responses[-1]


def _codes(segment: Segment, first: int, last: int) -> tuple[str, ...]:
    return tuple(code for index in range(first, last + 1) if (code := element(segment, index)))


def _count(segment: Segment, index: int, position: int) -> int:
    value = element(segment, index)
    if not (value.isascii() and value.isdigit()):
        raise X12Error(f"{segment[0]}{index:02d} is not a count", segment=segment[0], position=position)
    return int(value)


def _segment_error(ik3: Segment, position: int) -> SegmentError:
    return SegmentError(
        segment_id=element(ik3, 1),
        position=_count(ik3, 2, position),
        loop_id=element(ik3, 3),
        code=element(ik3, 4),
    )


def _element_error(ik4: Segment, position: int, component: str) -> ElementError:
    where = _position(ik4, 1, position, component)
    if where is None:
        raise X12Error("IK401 (the element's position) is missing", segment="IK4", position=position)
    return ElementError(
        position=where,
        reference=element(ik4, 2),
        code=element(ik4, 3),
        bad_value=element(ik4, 4),
    )


def _context(ctx: Segment, position: int, component: str) -> Context:
    name, _, value = element(ctx, 1).partition(component)
    return Context(
        name=name,
        reference=value,
        segment_id=element(ctx, 2),
        segment_position=_count(ctx, 3, position) if element(ctx, 3) else None,
        loop_id=element(ctx, 4),
        element_position=_position(ctx, 5, position, component),
    )


def _position(segment: Segment, index: int, position: int, component: str) -> ElementPosition | None:
    """A C030 position composite: element, then component and repetition numbers."""
    composite = element(segment, index)
    if not composite:
        return None
    parts = [part.strip() for part in composite.split(component)] + ["", ""]
    if not parts[0] or not all(part.isascii() and part.isdigit() for part in parts[:3] if part):
        raise X12Error(f"{segment[0]}{index:02d} is not an element position", segment=segment[0], position=position)
    component_number, repetition = (int(part) if part else None for part in parts[1:3])
    return ElementPosition(int(parts[0]), component_number, repetition)


def _ta1_date(value: str) -> date | None:
    """TA102 is YYMMDD; some senders write CCYYMMDD."""
    return parse_date("20" + value if len(value) == 6 else value)


def summary(transaction: Transaction, interchange: Interchange) -> dict[str, Any]:
    """The 999 as JSON-able data for the CLI; the copies of bad elements (IK404) are left out."""
    acknowledgment = acknowledgment_of(transaction, interchange)
    return {
        "functional_id": acknowledgment.functional_id,
        "group_control_number": acknowledgment.group_control_number,
        "code": acknowledgment.code,
        "meaning": acknowledgment.meaning,
        "sets_included": acknowledgment.sets_included,
        "sets_received": acknowledgment.sets_received,
        "sets_accepted": acknowledgment.sets_accepted,
        "group_errors": [
            {"code": code, "meaning": meaning}
            for code, meaning in zip(acknowledgment.group_errors, acknowledgment.group_error_meanings, strict=True)
        ],
        "transaction_sets": [_response_json(response) for response in acknowledgment.responses],
    }


def _response_json(response: TransactionSetResponse) -> dict[str, Any]:
    return {
        "set_id": response.set_id,
        "control_number": response.control_number,
        "code": response.code,
        "meaning": response.meaning,
        "accepted": response.accepted,
        "syntax_errors": [
            {"code": code, "meaning": meaning}
            for code, meaning in zip(response.syntax_errors, response.syntax_error_meanings, strict=True)
        ],
        "segment_errors": [
            {
                "segment_id": error.segment_id,
                "position": error.position,
                "loop_id": error.loop_id,
                "code": error.code,
                "meaning": error.meaning,
                "contexts": [
                    {
                        "name": context.name,
                        "reference": context.reference,
                        "segment_id": context.segment_id,
                        "segment_position": context.segment_position,
                    }
                    for context in error.contexts
                ],
                "element_errors": [
                    {
                        "position": element_error.position.element,
                        "component": element_error.position.component,
                        "reference": element_error.reference,
                        "code": element_error.code,
                        "meaning": element_error.meaning,
                    }
                    for element_error in error.element_errors
                ],
            }
            for error in response.segment_errors
        ],
    }
