"""The structural validator: walks each transaction set's segments through the loops its guide defines (the
definitions are in `rcm_x12.structures`), as an X12 parser does, and reports every place the data leaves them.

One pass, dictionary lookups: a segment is matched in the innermost open loop first, from the position the
loop has reached onwards; a segment that cannot be placed there closes loops until it can (a loop checks on
closing that its required children came), and one that fits nowhere is reported and skipped, the walk going
on from where it was. Messages name the segment, its position in the interchange, the loop and the rule,
never a value: the data is PHI.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcm_x12.reader import FunctionalGroup, Interchange, Segment, Transaction
from rcm_x12.structures import find, kind_of
from rcm_x12.structures.spec import Candidate, LoopRule, SegmentRule, TransactionSet

# Characters senders put between components when they forget what ISA16 declares.
LIKELY_COMPONENT_SEPARATORS = ":>^|\\<"


@dataclass(frozen=True, slots=True)
class Validation:
    """What `validate` found: structure problems, envelope problems (each prefixed "envelope:"), and notes on
    what was not checked. Envelope problems count as problems, for now."""

    structure: list[str]
    envelope: list[str]
    notes: list[str]

    @property
    def problems(self) -> list[str]:
        return [*self.envelope, *self.structure]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(interchanges: list[Interchange]) -> Validation:
    found = Validation(structure=[], envelope=[], notes=[])
    for interchange in interchanges:
        found.envelope.extend(f"envelope: {finding}" for finding in interchange.findings)
        if not interchange.groups:
            found.envelope.append("envelope: the interchange holds no functional group")
        for group in interchange.groups:
            for transaction in group.transactions:
                _check(interchange, group, transaction, found)
    return found


def _check(interchange: Interchange, group: FunctionalGroup, transaction: Transaction, found: Validation) -> None:
    where = f"ST at position {transaction.position}"
    if transaction.implementation and transaction.implementation != group.version:
        found.envelope.append(f"envelope: {where}: ST03 does not match GS08")
    guide = transaction.implementation or group.version
    definition = find(transaction.set_id, guide)
    if definition is None:
        note = f"structure: {kind_of(transaction.set_id, guide)} is not checked by this codec"
    elif not transaction.complete:  # what is missing at its end is missing because the data stops
        note = f"structure: the {definition.kind} opened at position {transaction.position} is cut short, not checked"
    else:
        if group.functional_id != definition.functional_id:
            found.envelope.append(
                f"envelope: {where}: {definition.kind} belongs in a functional group whose GS01 is "
                f"{definition.functional_id}"
            )
        walk = _Walk(definition, transaction, interchange)
        found.structure.extend(walk.problems)
        found.envelope.extend(walk.envelope)
        return
    if note not in found.notes:
        found.notes.append(note)


class _Frame:
    """An open loop: where the walk has reached in its children, and what it has seen of them."""

    __slots__ = ("counts", "name", "opened_at", "opener", "rule", "slot")

    def __init__(self, rule: LoopRule, opened_at: int, opener: Segment | None) -> None:
        self.rule = rule
        self.opened_at = opened_at
        self.opener = opener  # None for the transaction set itself
        self.name = f"loop {rule.id}" if opener is not None else f"the {rule.id} transaction set"
        self.slot = 0
        self.counts: dict[int, int] = {0: 1} if opener is not None else {}  # by child index


class _Walk:
    """One transaction set walked through its definition; `problems` and `envelope` hold what was found."""

    def __init__(self, definition: TransactionSet, transaction: Transaction, interchange: Interchange) -> None:
        self.definition = definition
        self.component = interchange.delimiters.component
        self.undeclared = set(LIKELY_COMPONENT_SEPARATORS) - interchange.delimiters.all()
        self.problems: list[str] = []
        self.envelope: list[str] = []
        self.stack = [_Frame(definition.body, transaction.position, None)]
        for position, segment in enumerate(transaction.segments, start=transaction.position + 1):
            self._place(segment, position)
        while self.stack:
            self._close(self.stack.pop())

    def _place(self, segment: Segment, position: int) -> None:
        if segment[0] not in self.definition.segment_ids:
            self.problems.append(
                f"{segment[0]} at position {position}: not a segment of the {self.definition.kind} transaction set"
            )
            return
        match = self._match(segment)
        if match is None:
            self._misplaced(segment, position)
            return
        depth, candidate = match
        while len(self.stack) > depth + 1:
            self._close(self.stack.pop())
        frame = self.stack[-1]
        frame.slot = candidate.slot
        rule = candidate.rule
        count = frame.counts[candidate.index] = frame.counts.get(candidate.index, 0) + 1
        if candidate.loop is not None:
            self._open(candidate.loop, segment, position, count)
        elif rule.max_use is not None and count > rule.max_use:
            self.problems.append(
                f"{rule.label} at position {position} in {frame.name}: used more than {_times(rule.max_use)}"
            )
        self._check_elements(rule, segment, f"{segment[0]} at position {position} in {self.stack[-1].name}")

    def _match(self, segment: Segment) -> tuple[int, Candidate] | None:
        """The innermost open loop that can take the segment from where it has reached, and the child it is."""
        for depth in range(len(self.stack) - 1, -1, -1):
            frame = self.stack[depth]
            for candidate in frame.rule.candidates.get(segment[0], ()):
                if candidate.slot >= frame.slot and _identifies(candidate.rule, segment):
                    return depth, candidate
        return None

    def _open(self, loop: LoopRule, segment: Segment, position: int, count: int) -> None:
        parent = self.stack[-1]
        if loop.max_repeat is not None and count > loop.max_repeat:
            self.problems.append(
                f"loop {loop.id} at position {position} in {parent.name}: repeats more than {_times(loop.max_repeat)}"
            )
        if (
            segment[0] == "HL"
            and parent.opener is not None
            and parent.opener[0] == "HL"
            and _value(parent.opener, 4) == "0"
        ):
            self.problems.append(
                f"HL at position {position} in {parent.name}: opens loop {loop.id}, but HL04 of the HL at "
                f"position {parent.opened_at} says no subordinate level follows"
            )
        self.stack.append(_Frame(loop, position, segment))

    def _misplaced(self, segment: Segment, position: int) -> None:
        """Reports why a segment of the transaction set fits nowhere: it comes after what should follow it (it
        is there all the same, so not missing too), its qualifier is not one the loop allows, or it has no
        place in the loops open."""
        segment_id = segment[0]
        where = f"{segment_id} at position {position} in"
        for frame in reversed(self.stack):
            for candidate in frame.rule.candidates.get(segment_id, ()):
                if _identifies(candidate.rule, segment):
                    frame.counts[candidate.index] = frame.counts.get(candidate.index, 0) + 1
                    self.problems.append(f"{where} {frame.name}: out of order")
                    return
        for frame in reversed(self.stack):
            if candidates := frame.rule.candidates.get(segment_id):
                reference = f"{segment_id}{candidates[0].rule.key:02d}"
                if _value(segment, candidates[0].rule.key):
                    self.problems.append(f"{where} {frame.name}: {reference} is not a code this loop allows")
                else:
                    self.problems.append(f"{where} {frame.name}: required element {reference} is missing")
                return
        self.problems.append(f"{where} {self.stack[-1].name}: unexpected here")

    def _close(self, frame: _Frame) -> None:
        for index, child in enumerate(frame.rule.children):
            if child.required and index not in frame.counts:
                what = f"loop {child.id}" if isinstance(child, LoopRule) else f"segment {child.label}"
                self.problems.append(f"{frame.name} at position {frame.opened_at}: required {what} is missing")

    def _check_elements(self, rule: SegmentRule, segment: Segment, where: str) -> None:
        absent: set[int] = set()  # composites reported missing as a whole
        for element in rule.elements:
            value = _value(segment, element.index)
            if element.component:
                if not value:
                    if element.required and element.index not in absent:
                        absent.add(element.index)
                        self.problems.append(f"{where}: required element {rule.id}{element.index:02d} is missing")
                    continue
                value = self._component(value, element.component, where)
            if not value:
                if element.required:
                    self.problems.append(f"{where}: required element {rule.id}{element.ref} is missing")
            elif element.codes is not None and value not in element.codes:
                self.problems.append(f"{where}: {rule.id}{element.ref} is not a valid code")
            elif element.max_length is not None and len(value) > element.max_length:
                self.problems.append(f"{where}: {rule.id}{element.ref} is longer than {element.max_length} characters")

    def _component(self, value: str, component: int, where: str) -> str:
        """A component of a composite; split by another separator when the sender used one ISA16 does not
        declare (an envelope problem, noted once), so that the composite itself is still checked."""
        separator = self.component
        if separator not in value:
            used = [c for c in self.undeclared if c in value]
            if len(used) == 1:
                separator = used[0]
                if not self.envelope:
                    self.envelope.append(
                        f"envelope: {where}: components are separated by a character ISA16 does not declare"
                    )
        parts = value.split(separator)
        return parts[component - 1] if component <= len(parts) else ""


def _identifies(rule: SegmentRule, segment: Segment) -> bool:
    return not rule.key or (len(segment) > rule.key and segment[rule.key] in rule.key_codes)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _value(segment: Segment, index: int) -> str:
    return segment[index] if len(segment) > index else ""
