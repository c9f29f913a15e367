"""Which claim a claim payment pays, and which of the claim's lines each service line pays.

A claim is found only by a number it carries: CLP01 (our CLM01, unique to the claim), else the payer's own
claim number (CLP07, from the 277CA). Anything looser (same payer, charge and dates) only names candidates for
a poster: posting money to a guessed claim is worse than leaving it in the unmatched queue for a minute.

Lines are matched by REF*6R, the control number the claim sent, else by what the line billed: the code (or
SVC06's code as billed, when the payer re-bundled), the date of service, then the modifiers and units, so a
dropped or changed modifier still finds its line.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from rcm_remittance.domain.advice import ClaimPaymentAdvice, LineAdvice
from rcm_remittance.domain.copies import ClaimCopy, LineCopy

MatchedBy = Literal["patient_control_number", "payer_claim_number", "poster"]


@dataclass(frozen=True, slots=True)
class ClaimMatch:
    claim: ClaimCopy
    matched_by: MatchedBy
    lines: tuple[str | None, ...]  # per line of the payment: the claim line's control number, or None


@dataclass(frozen=True, slots=True)
class NoMatch:
    reason: str
    candidates: tuple[UUID, ...] = ()


class CopyIndex:
    """The claim copies a batch of claim payments may name, looked up in memory."""

    def __init__(self, copies: Iterable[ClaimCopy]) -> None:
        self._by_control: dict[str, ClaimCopy] = {}
        self._by_payer_number: dict[str, list[ClaimCopy]] = defaultdict(list)
        for copy in copies:
            self.add(copy)

    def add(self, copy: ClaimCopy) -> None:
        self._by_control[copy.patient_control_number] = copy
        if copy.payer_claim_number:
            self._by_payer_number[copy.payer_claim_number].append(copy)

    def by_control_number(self, control_number: str) -> ClaimCopy | None:
        return self._by_control.get(control_number)

    def by_payer_claim_number(self, number: str) -> list[ClaimCopy]:
        return self._by_payer_number.get(number, [])


def find_claim(advice: ClaimPaymentAdvice, payer_id: str, index: CopyIndex) -> ClaimMatch | NoMatch:
    """The claim the payment names by CLP01 (ours, unique to the claim), else by CLP07: the payer's own number,
    which only stands for a claim sent to this payer for this charge (two payers may use the same numbers)."""
    claim = index.by_control_number(advice.patient_control_number)
    if claim is not None:
        return ClaimMatch(claim, "patient_control_number", match_lines(advice.lines, claim.lines))
    named = index.by_payer_claim_number(advice.payer_claim_number) if advice.payer_claim_number else []
    fitting = [copy for copy in named if copy.payer_id == payer_id and copy.total_charge == advice.charge]
    if len(fitting) == 1:
        return ClaimMatch(fitting[0], "payer_claim_number", match_lines(advice.lines, fitting[0].lines))
    if named:
        return NoMatch(
            f"payer claim number {advice.payer_claim_number} names {len(named)} claims, "
            f"{len(fitting)} of them sent to this payer for this charge",
            tuple(copy.claim_id for copy in named),
        )
    return NoMatch(f"no claim has control number {advice.patient_control_number} or this payer claim number")


def by_hand(advice: ClaimPaymentAdvice, claim: ClaimCopy) -> ClaimMatch:
    """A poster's match: the claim they chose, its lines matched as for any other."""
    return ClaimMatch(claim, "poster", match_lines(advice.lines, claim.lines))


def candidates(advice: ClaimPaymentAdvice, payer_id: str, copies: Iterable[ClaimCopy]) -> tuple[UUID, ...]:
    """Claims a poster may mean: the same payer and charge, and a date of service the payment names."""
    dates = set(advice.dates)
    return tuple(
        copy.claim_id
        for copy in copies
        if copy.payer_id == payer_id
        and copy.total_charge == advice.charge
        and (not dates or any(line.date_of_service in dates for line in copy.lines))
    )


def match_lines(lines: Sequence[LineAdvice], claim_lines: Sequence[LineCopy]) -> tuple[str | None, ...]:
    """Each service line's claim line, by REF*6R first, then by what it billed; a claim line is paid by one
    service line at most, and a line that matches nothing is posted at the claim level."""
    matched: list[str | None] = [None] * len(lines)
    taken: set[str] = set()
    by_control = {line.control_number: line for line in claim_lines}
    for position, line in enumerate(lines):
        found = by_control.get(line.control_number) if line.control_number else None
        if found is not None and found.control_number not in taken:
            matched[position] = found.control_number
            taken.add(found.control_number)
    for position, line in enumerate(lines):
        if matched[position] is not None:
            continue
        scored = [
            (_likeness(line, c), -order, c) for order, c in enumerate(claim_lines) if c.control_number not in taken
        ]
        scored = [entry for entry in scored if entry[0] > 0]
        if scored:
            best = max(scored, key=lambda entry: (entry[0], entry[1]))[2]
            matched[position] = best.control_number
            taken.add(best.control_number)
    return tuple(matched)


def _likeness(line: LineAdvice, claim_line: LineCopy) -> int:
    """0 when the lines cannot be the same (another code or date); else higher the more they agree."""
    if claim_line.procedure_code not in (line.procedure_code, line.billed_code):
        return 0
    if line.service_date is not None and line.service_date != claim_line.date_of_service:
        return 0
    modifiers = line.billed_modifiers if line.billed_code == claim_line.procedure_code else line.modifiers
    return 1 + 4 * (modifiers == claim_line.modifiers) + 2 * (line.units_billed == claim_line.units)
