"""The vocabulary the transaction-set definitions are written in, shaped like an implementation guide's (TR3's)
tables so that a definition can be checked against the guide line by line: a loop is its id, usage, repeat
and children in order (its first child, the segment that opens it); a segment is its identifier, usage, max
use, the elements the guide requires and the code lists of its qualifiers.

A segment identifier reads like the segment itself: `NM1*85` is an NM1 whose NM101 is 85, `HL***22` an HL
whose HL03 is 22, `REF*0B 1G` a REF whose REF01 is 0B or 1G. That qualifier is what tells same-id segments
(and the loops they open) apart, as an X12 parser tells them apart; the other code lists only validate. Max
use counts every segment a rule takes, whatever its qualifier, as the guides count it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

Usage = Literal["R", "S"]
R: Final = "R"
S: Final = "S"
MANY: Final = None
"""A repeat or max use the guides write as ">1"."""

# Mandatory in the X12 base standard whatever the guide: applied to every segment with that id, so that the
# definitions list only what their guide adds.
_BASE_REQUIRED: Final[Mapping[str, str]] = {
    "AAA": "01", "AK1": "01 02", "AK2": "01 02", "AK9": "01 02 03 04", "AMT": "01 02", "BHT": "01 02",
    "BPR": "01 02 03 04 16", "CAS": "01 02 03", "CLM": "01 05", "CLP": "01 02 03 04", "CRC": "01 02 03",
    "CTX": "01", "CUR": "01 02", "DTM": "01", "DTP": "01 02 03", "EB": "01", "FRM": "01", "HCP": "01",
    "HI": "01", "HL": "01 03", "IK3": "01 02", "IK4": "01 03", "IK5": "01", "INS": "01 02", "K3": "01",
    "LE": "01", "LIN": "02 03", "LS": "01", "LX": "01", "MIA": "01", "MSG": "01", "N1": "01", "N3": "01",
    "NM1": "01 02", "NTE": "02", "PER": "01", "PLB": "01 02 03 04", "PRV": "01", "PS1": "01 02", "PWK": "01",
    "QTY": "01", "RDM": "01", "REF": "01", "SBR": "01", "STC": "01", "SV1": "01 02", "SV5": "01 02",
    "SVC": "01 02", "SVD": "01 02", "TRN": "01 02", "TS3": "01 02 03 04 05",
}  # fmt: skip

# Maximum lengths from the X12 data element dictionary, for the elements that carry names, identifiers and
# amounts: an over-long one is what a receiver's fixed-width store truncates.
_MAX_LENGTH: Final[Mapping[str, Mapping[str, int]]] = {
    "AMT": {"02": 18},
    "BHT": {"03": 50},
    "BPR": {"02": 18},
    "CAS": {"02": 5, "03": 18, "05": 5, "06": 18, "08": 5, "09": 18},
    "CLM": {"01": 38, "02": 18},
    "CLP": {"01": 38, "03": 18, "04": 18, "07": 50},
    "DMG": {"02": 35},
    "DTP": {"03": 35},
    "HL": {"01": 12, "02": 12},
    "LX": {"01": 6},
    "N1": {"02": 60, "04": 80},
    "N3": {"01": 55, "02": 55},
    "N4": {"01": 30, "02": 2, "03": 15},
    "NM1": {"03": 60, "04": 35, "05": 25, "07": 10, "09": 80},
    "PER": {"02": 60, "04": 256, "06": 256, "08": 256},
    "REF": {"02": 50},
    "SV1": {"02": 18},
    "SVC": {"02": 18, "03": 18},
    "TRN": {"02": 50},
}


@dataclass(frozen=True, slots=True)
class ElementRule:
    """What is checked of one element or component (`ref` "05-3" is the third component of element 05)."""

    ref: str
    index: int
    component: int  # counted from 1; 0 for the whole element
    required: bool
    codes: frozenset[str] | None
    max_length: int | None


@dataclass(frozen=True, slots=True, eq=False)
class SegmentRule:
    id: str
    label: str  # the identifier as the definition writes it, qualifier alternatives joined by "/"
    required: bool
    max_use: int | None
    key: int  # the element whose value identifies the segment, 0 for none
    key_codes: frozenset[str]
    elements: tuple[ElementRule, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Candidate:
    """A child a segment with a given id may be: the segment itself, or the loop it opens. `slot` is shared by
    consecutive same-id children, which a guide places at one position and so in any order."""

    index: int
    slot: int
    rule: SegmentRule
    loop: LoopRule | None


@dataclass(frozen=True, slots=True, eq=False)
class LoopRule:
    id: str
    required: bool
    max_repeat: int | None
    children: tuple[SegmentRule | LoopRule, ...]
    candidates: Mapping[str, tuple[Candidate, ...]]  # by segment id; a loop's opener is matched by its parent

    @property
    def opener(self) -> SegmentRule:
        first = self.children[0]
        assert isinstance(first, SegmentRule), f"loop {self.id} must open with a segment"
        return first


@dataclass(frozen=True, slots=True, eq=False)
class TransactionSet:
    """A transaction set as one guide defines it: `body` holds what lies between ST and SE."""

    kind: str
    set_id: str  # ST01
    guide: str  # the implementation guide, GS08 / ST03 without its addenda ("005010X222")
    functional_id: str  # the GS01 its groups carry
    body: LoopRule
    segment_ids: frozenset[str]


def seg(
    ident: str,
    usage: Usage,
    max_use: int | None,
    need: str = "",
    codes: Mapping[str, str] | None = None,
) -> SegmentRule:
    """A segment: `need` the elements the guide requires beyond the base standard ("03 08 09"), `codes` the
    allowed codes of qualifier elements, space-separated ({"05-3": "1 7 8"})."""
    segment_id, *qualifiers = ident.split("*")
    keyed = [(position, value) for position, value in enumerate(qualifiers, start=1) if value]
    assert len(keyed) <= 1, f"{ident}: one qualifier identifies a segment"
    key, key_codes = keyed[0] if keyed else (0, "")
    required = set(_BASE_REQUIRED.get(segment_id, "").split()) | set(need.split())
    required -= {ref.partition("-")[0] for ref in required if "-" in ref}  # a composite's components cover it
    listed = dict(codes or {})
    lengths = _MAX_LENGTH.get(segment_id, {})
    elements = tuple(
        _element(ref, ref in required, listed.get(ref), lengths.get(ref))
        for ref in sorted(required | set(listed) | set(lengths))
        if ref != f"{key:02d}"
    )
    label = segment_id + "*" * key + "/".join(key_codes.split()) if key else segment_id
    return SegmentRule(segment_id, label, usage == R, max_use, key, frozenset(key_codes.split()), elements)


def each(segment_id: str, qualifiers: str, usage: Usage, max_use: int | None) -> tuple[SegmentRule, ...]:
    """One segment per qualifier (element 01), as a guide lists dates or references: `each("DTP", "431 454",
    S, 1)` is DTP*431 and DTP*454, each used at most once; `seg("DTP*431 454", S, 1)` would be one of them."""
    return tuple(seg(f"{segment_id}*{qualifier}", usage, max_use) for qualifier in qualifiers.split())


def loop(loop_id: str, usage: Usage, repeat: int | None, *children: SegmentRule | LoopRule) -> LoopRule:
    return LoopRule(loop_id, usage == R, repeat, children, _candidates(children, start=1))


def transaction_set(
    kind: str, set_id: str, guide: str, functional_id: str, *children: SegmentRule | LoopRule
) -> TransactionSet:
    body = LoopRule(kind, True, 1, children, _candidates(children, start=0))
    return TransactionSet(kind, set_id, guide, functional_id, body, frozenset(_segment_ids(body)))


def _element(ref: str, required: bool, codes: str | None, max_length: int | None) -> ElementRule:
    element, _, component = ref.partition("-")
    return ElementRule(
        ref, int(element), int(component or 0), required, frozenset(codes.split()) if codes else None, max_length
    )


def _candidates(children: tuple[SegmentRule | LoopRule, ...], start: int) -> dict[str, tuple[Candidate, ...]]:
    found: dict[str, list[Candidate]] = {}
    slot, previous = start, ""
    for index in range(start, len(children)):
        child = children[index]
        loop_rule = child if isinstance(child, LoopRule) else None
        rule = loop_rule.opener if loop_rule else child
        assert isinstance(rule, SegmentRule)
        if rule.id != previous:
            slot, previous = index, rule.id
        found.setdefault(rule.id, []).append(Candidate(index, slot, rule, loop_rule))
    return {segment_id: tuple(candidates) for segment_id, candidates in found.items()}


def _segment_ids(rule: LoopRule) -> set[str]:
    ids: set[str] = set()
    for child in rule.children:
        ids |= _segment_ids(child) if isinstance(child, LoopRule) else {child.id}
    return ids
