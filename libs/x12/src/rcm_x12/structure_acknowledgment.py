"""The 999 a receiver owes for what it read: `acknowledge(interchange)` turns `structure.validate`'s problems
into the acknowledgment writer's model, one `GroupAcknowledgment` per functional group, each transaction set
accepted (IK5 A) or rejected (IK5 R) with its segment errors (IK3) and element errors (IK4).

The problems are the validator's messages, whose shapes it defines (segment, interchange position, loop,
rule); each shape maps to its IK304 or IK403 code here, beside the validator, and the tests hold the two
together. A problem of a shape not known here still rejects its set (IK502 5), without an IK3, and every
set of the interchange when it names no position inside one. The SE's count and control number are checked
as a strict receiver checks them (IK502 4 and 3).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from rcm_x12.acknowledgment_writer import ElementFault, GroupAcknowledgment, SegmentFault, SetAcknowledgment
from rcm_x12.reader import FunctionalGroup, Interchange, Transaction
from rcm_x12.structure import validate

__all__ = ["acknowledge"]

_AT = r"(?P<label>\S+) at position (?P<position>\d+)"
_IN = r"(?: in (?:loop (?P<loop>\S+)|the \S+ transaction set))?"
_SEGMENT_PROBLEM = re.compile(rf"^{_AT}{_IN}: (?P<rule>.+)$")
_MISSING = re.compile(
    r"^(?:loop (?P<loop>\S+)|the \S+ transaction set) at position (?P<position>\d+): "
    r"required (?:loop (?P<missing_loop>\S+)|segment (?P<missing>\S+)) is missing$"
)
_REPEATED_LOOP = re.compile(r"^loop (?P<loop>\S+) at position (?P<position>\d+) in .*: repeats more than")
_ELEMENT_RULES = (
    (re.compile(r"^required element (?P<ref>\S+) is missing$"), "1"),
    (re.compile(r"^(?P<ref>\S+) is not a code this loop allows$"), "7"),
    (re.compile(r"^(?P<ref>\S+) is not a valid code$"), "7"),
    (re.compile(r"^(?P<ref>\S+) is longer than \d+ characters$"), "5"),
)
_SEGMENT_RULES = (
    ("not a segment of the", "6"),
    ("used more than", "5"),
    ("out of order", "7"),
    ("unexpected here", "2"),
    ("opens loop", "2"),
)
_POSITION = re.compile(r"at position (?P<position>\d+)")
_SE_COUNT = re.compile(r"^SE at position (?P<position>\d+) counts ")
_SE_CONTROL = re.compile(r"^SE at position (?P<position>\d+): control number does not match")


@dataclass(slots=True)
class _SetFaults:
    """What was found in one transaction set: segment faults by (position, segment), other syntax codes."""

    transaction: Transaction
    segments: dict[tuple[int, str], tuple[str, str, list[ElementFault]]] = field(default_factory=dict)
    syntax: set[str] = field(default_factory=set)

    def add(self, segment_id: str, position: int, loop: str, code: str, element: ElementFault | None = None) -> None:
        key = (position - self.transaction.position + 1, segment_id)
        _code, _loop, elements = self.segments.setdefault(key, (code, loop[:4], []))
        if element is not None:
            elements.append(element)

    def acknowledgment(self) -> SetAcknowledgment:
        transaction = self.transaction
        faults = tuple(
            SegmentFault(segment_id, position, code, loop, element_faults=tuple(elements))
            for (position, segment_id), (code, loop, elements) in sorted(self.segments.items())
        )
        syntax = sorted(self.syntax | ({"5"} if faults else set()))
        return SetAcknowledgment(
            transaction.set_id,
            transaction.control_number,
            transaction.implementation,
            code="R" if syntax else "A",
            syntax_errors=tuple(syntax),
            segment_faults=faults,
        )


def acknowledge(interchange: Interchange) -> list[GroupAcknowledgment]:
    """The 999s for an interchange `rcm_x12.read` found: one per functional group."""
    sets = [_SetFaults(transaction) for group in interchange.groups for transaction in group.transactions]
    validation = validate([interchange])
    for problem in validation.structure:
        _place(problem, sets)
    for finding in interchange.findings:
        for pattern, code in ((_SE_COUNT, "4"), (_SE_CONTROL, "3")):
            match = pattern.match(finding)
            if match and (found := _owner(int(match["position"]), sets)) is not None:
                found.syntax.add(code)
    by_transaction = {id(faults.transaction): faults for faults in sets}
    return [_group(group, by_transaction) for group in interchange.groups]


def _group(group: FunctionalGroup, by_transaction: dict[int, _SetFaults]) -> GroupAcknowledgment:
    responses = tuple(by_transaction[id(t)].acknowledgment() for t in group.transactions)
    return GroupAcknowledgment(group.functional_id, group.control_number, group.version, responses)


def _owner(position: int, sets: list[_SetFaults]) -> _SetFaults | None:
    """The transaction set holding the segment at this interchange position (its SE included)."""
    for faults in sets:
        start = faults.transaction.position
        if start <= position <= start + len(faults.transaction.segments) + 1:
            return faults
    return None


def _place(problem: str, sets: list[_SetFaults]) -> None:
    """The problem on its set, by the first shape it has. One of no known shape, or naming no position in a
    set, still rejects (its set, else every set), so no problem the validator found lets a set through."""
    for pattern, place in _PLACERS:
        if match := pattern.match(problem):
            if (faults := _owner(int(match["position"]), sets)) is not None:
                place(match, faults)
                return
            break
    position = _POSITION.search(problem)
    owner = _owner(int(position["position"]), sets) if position else None
    for faults in [owner] if owner is not None else sets:
        faults.syntax.add("5")


def _place_missing(match: re.Match[str], faults: _SetFaults) -> None:
    position = int(match["position"])
    if match["missing_loop"]:  # reported on the segment opening the loop that lacks it
        faults.add(_segment_id(faults.transaction, position), position, match["loop"] or "", "I7")
    else:
        faults.add(match["missing"].split("*")[0], position, match["loop"] or "", "3")


def _place_repeated_loop(match: re.Match[str], faults: _SetFaults) -> None:
    position = int(match["position"])
    faults.add(_segment_id(faults.transaction, position), position, match["loop"], "4")


def _place_segment_problem(match: re.Match[str], faults: _SetFaults) -> None:
    segment_id, position, loop, rule = (
        match["label"].split("*")[0],
        int(match["position"]),
        match["loop"] or "",
        match["rule"],
    )
    for pattern, code in _ELEMENT_RULES:
        if element := pattern.match(rule):
            faults.add(segment_id, position, loop, "8", _element_fault(element["ref"][len(segment_id) :], code))
            return
    segment_code = next((code for phrase, code in _SEGMENT_RULES if phrase in rule), None)
    if segment_code is None:
        faults.syntax.add("5")
    else:
        faults.add(segment_id, position, loop, segment_code)


_PLACERS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], _SetFaults], None]], ...] = (
    (_MISSING, _place_missing),
    (_REPEATED_LOOP, _place_repeated_loop),
    (_SEGMENT_PROBLEM, _place_segment_problem),
)


def _element_fault(reference: str, code: str) -> ElementFault:
    """IK4 from an element reference such as "05" or "05-3" (the third component of element 5)."""
    element, _, component = reference.partition("-")
    return ElementFault(int(element), code, component=int(component) if component else None)


def _segment_id(transaction: Transaction, position: int) -> str:
    index = position - transaction.position - 1
    segments = transaction.segments
    return segments[index][0] if 0 <= index < len(segments) else "ST"
