"""What the payer's 835 did to a claim, as the remittance service posted it: each payment (an adjudication)
with the lines it paid and denied, and each payment's denial in words. The claim's state follows from all the
payments that stand (none reversed), in the order they were posted (`settlement_of`):

- each line's latest word decides it: denied (by a line denial, or a whole-claim denial, CLP02 4, or 23: not
  the payer's claim) or paid (a later payment supersedes a denial, as a reconsideration or an overturned
  appeal does, and pays only the lines it names: a claim split into parts is decided by all of them);
- every line denied: `denied`; some lines denied, or an allowed amount below the contract: `partially_paid`;
  else `paid`, and closed when every paying payment was processed and not forwarded to another payer (CLP02
  1, 2, 3), with the patient's responsibility summed over them;
- a predetermination (CLP02 25) prices and pays nothing, and decides nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from rcm_claim.domain.copies import Person

Outcome = Literal["paid", "partially_paid", "denied"]
DENIED = "4"
NOT_OUR_CLAIM = "23"  # the payer says another should pay it, and forwarded it
WHOLE_CLAIM_DENIALS = frozenset({DENIED, NOT_OUR_CLAIM})
PREDETERMINATION = "25"
CLOSING_STATUSES = frozenset({"1", "2", "3"})  # processed, and not forwarded to another payer
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS adjustment as the payer gave it: group (CO, PR, OA, PI, CR), reason (CARC) and amount."""

    group: str
    reason: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LinePayment:
    """How the payer paid one of the claim's lines (SVC and its CAS), matched by its control number: what a
    claim to the next payer reports of it (2430)."""

    control_number: str
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    paid: Decimal
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True, slots=True)
class Adjudication:
    payment_id: UUID
    trace_number: str  # the 835's TRN02
    payer_claim_number: str  # CLP07
    claim_status: str  # CLP02
    charge: Decimal
    paid: Decimal
    allowed: Decimal
    patient_responsibility: Decimal
    paid_lines: tuple[str, ...]  # the lines it paid something on, by control number
    denied_lines: tuple[str, ...]  # the lines it paid nothing for a denial, as remittance judged them
    underpaid_by: Decimal | None  # allowed below the contract, as remittance judged it
    posted_at: datetime
    reversed: bool = False
    paid_on: date | None = None  # the 835's payment date (BPR16): the date the next payer is told (DTP*573)
    claim_adjustments: tuple[Adjustment, ...] = ()  # the claim's own CAS, beside its lines'
    line_payments: tuple[LinePayment, ...] = ()  # each line matched by its control number

    def negates(self, charge: Decimal, paid: Decimal, patient_responsibility: Decimal) -> bool:
        """Whether a reversal of these amounts takes this payment back exactly."""
        return (self.charge, self.paid, self.patient_responsibility) == (-charge, -paid, -patient_responsibility)


@dataclass(frozen=True, slots=True)
class PriorLine:
    """What an earlier payer did with one line (2430): by the line's number on the claim."""

    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    paid: Decimal
    adjustments: tuple[Adjustment, ...]


@dataclass(frozen=True, slots=True)
class PriorPayer:
    """An earlier payer of the claim, as the next payer must be told of it (2320, 2330A, 2330B, 2430)."""

    payer_id: str
    payer_name: str
    filing_indicator: str  # its SBR09
    responsibility: str  # its SBR01: P or S
    relationship: str  # the patient to that coverage's subscriber: self, spouse, child, other
    member_id: str
    subscriber: Person  # the patient when the relationship is self
    payer_claim_number: str
    payment_id: UUID
    paid: Decimal
    paid_on: date
    adjustments: tuple[Adjustment, ...]  # the claim-level CAS
    lines: tuple[PriorLine, ...]  # empty when the 835's lines could not be matched: all CAS is claim-level


@dataclass(frozen=True, slots=True)
class DeniedPart:
    """One denied amount of a payment: the line (by control number; None for the claim as a whole), its reason
    (GROUP-CARC) and amount."""

    line: str | None
    reason: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Denial:
    payment_id: UUID
    whole_claim: bool
    category: str
    suggested_action: str
    amount: Decimal
    reasons: tuple[str, ...]  # GROUP-CARC, e.g. CO-197
    words: tuple[str, ...] = ()  # each CARC and RARC in words: "CO-197: Precertification ... absent."
    parts: tuple[DeniedPart, ...] = ()  # each denied amount by line and reason, as remittance gave them

    def narrowed_to(self, lines: AbstractSet[str], charges: Mapping[str, Decimal] | None = None) -> Denial:
        """The denial of these lines only (and of the claim as a whole, at most these lines' `charges` when
        given): the amount, the reasons and the patient's part of what is still denied, when remittance gave its
        parts."""
        if not self.parts:
            return self
        kept = tuple(part for part in self.parts if part.line is None or part.line in lines)
        known = charges is not None and set(lines) <= charges.keys()  # lines the payer named as the claim does
        cap = sum((charges[line] for line in lines), Decimal("0.00")) if charges is not None and known else None
        claim_level = sum((part.amount for part in kept if part.line is None), Decimal("0.00"))
        if cap is not None and claim_level > cap:  # lines paid since are no longer denied at the claim level
            scale = cap / claim_level
            kept = tuple(
                part if part.line is not None else replace(part, amount=(part.amount * scale).quantize(Decimal("0.01")))
                for part in kept
            )
        return replace(
            self, parts=kept, amount=sum((part.amount for part in kept), Decimal("0.00")),
            reasons=tuple(dict.fromkeys(part.reason for part in kept)) or self.reasons,
        )  # fmt: skip

    @property
    def patient_owes(self) -> Decimal:
        """The part in the patient's group (PR): the 835 made it the patient's already."""
        return sum((part.amount for part in self.parts if part.reason.startswith("PR-")), Decimal("0.00"))

    @property
    def provider_liable(self) -> Decimal:
        """What of the amount the 835 did not make the patient's: what a transfer to the patient moves."""
        return max(self.amount - self.patient_owes, Decimal("0.00"))

    def with_reasons(self, reasons: Sequence[str], words: Sequence[str] = ()) -> Denial:
        return replace(self, reasons=tuple(dict.fromkeys((*self.reasons, *reasons))),
                       words=tuple(dict.fromkeys((*self.words, *words))))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Settlement:
    """What the standing payments make of the claim: its outcome (None when no payment decides), whether no
    insurance balance is left, why it is not simply paid, the patient's responsibility, the shortfall against
    the contract, and the payment the events name (the latest deciding)."""

    outcome: Outcome | None
    closes: bool
    reasons: tuple[str, ...]
    patient_responsibility: Decimal
    underpaid_by: Decimal | None
    latest: Adjudication | None
    unanswered: tuple[str, ...] = ()  # lines of a claim the payer split that no part has answered yet


def deciding_payments(standing: Sequence[Adjudication]) -> list[Adjudication]:
    """The standing payments that decide something: all but predeterminations."""
    return [a for a in standing if a.claim_status != PREDETERMINATION]


def line_verdicts(deciding: Sequence[Adjudication]) -> dict[str, tuple[bool, Adjudication]]:
    """Each line's latest word over the deciding payments, in the order they were posted: denied or not, and the
    payment that said it (lines by control number, as the payments name them)."""
    verdicts: dict[str, tuple[bool, Adjudication]] = {}
    for payment in deciding:
        verdicts |= {line: (True, payment) for line in payment.denied_lines}
        verdicts |= {line: (False, payment) for line in payment.paid_lines}
    return verdicts


def settlement_of(standing: Sequence[Adjudication], lines: Sequence[str] = ()) -> Settlement:
    """What the standing payments make of a claim of these lines (control numbers). A line no payment answered,
    while the payments name the claim's lines by control number, is the rest of a claim the payer split: the
    claim stays open, partially paid, until it comes."""
    deciding = deciding_payments(standing)
    if not deciding:
        return Settlement(None, False, ("a predetermination: priced, nothing paid",), ZERO, None, None)
    latest = deciding[-1]
    last_word = {line: denied for line, (denied, _) in line_verdicts(deciding).items()}
    paying = [a for a in deciding if a.claim_status not in WHOLE_CLAIM_DENIALS]
    told_apart = bool(last_word) and all(line in lines for line in last_word)
    unanswered = [line for line in lines if line not in last_word] if told_apart else []
    if (last_word and all(last_word.values())) or (not last_word and latest.claim_status in WHOLE_CLAIM_DENIALS):
        why = ("not the payer's claim: forwarded to another payer",) if latest.claim_status == NOT_OUR_CLAIM else ()
        return Settlement("denied", False, why, latest.patient_responsibility, None, latest, tuple(unanswered))
    open_denied = [line for line, denied in last_word.items() if denied]
    underpaid = sum((a.underpaid_by for a in paying if a.underpaid_by is not None), ZERO)
    reasons: list[str] = []
    if open_denied:
        reasons.append(f"lines denied: {', '.join(open_denied)}")
    if unanswered:
        reasons.append(f"lines not answered yet: {', '.join(unanswered)}")
    if underpaid:
        reasons.append(f"allowed {underpaid} below the contract")
    outcome: Outcome = "partially_paid" if reasons else "paid"
    closes = outcome == "paid" and all(a.claim_status in CLOSING_STATUSES for a in paying)
    patient = sum((a.patient_responsibility for a in paying), ZERO)
    return Settlement(outcome, closes, tuple(reasons), patient, underpaid or None, latest, tuple(unanswered))
