"""The two aggregates: a remittance (one 835 transaction set) and a claim payment (one CLP of it).

A remittance is received whole, then posted in batches of its claim payments; it is held, with each
difference named, when its figures do not add up, and posted only once a poster releases it. A claim payment is
posted to the claim it matches (recording what others must hear: the payment, its denials, an underpayment, or a
reversal), or left unmatched for a poster. Money moves only by posting a claim payment, once: its natural key
(payer, TRN02, CLP01, CLP07, CLP02, and its occurrence in the remittance) is unique, so a file sent again posts
nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple
from uuid import UUID

from rcm_remittance.domain.advice import ClaimPaymentAdvice, ProviderAdjustmentAdvice, RemittanceAdvice
from rcm_remittance.domain.codes import CodeBook
from rcm_remittance.domain.matching import ClaimMatch, MatchedBy
from rcm_remittance.domain.posting import (
    Denials,
    Posting,
    Tolerance,
    Underpayment,
    denials_of,
    posting_of,
    underpayment_of,
)

RemittanceState = Literal["received", "held", "posting", "posted", "failed"]
PaymentState = Literal["posted", "unmatched"]


class RemittanceError(Exception):
    """A change the remittance or claim payment cannot take in its state; the message says why."""


# Domain events: what happened, for the mapper to tell the others.


@dataclass(frozen=True, slots=True)
class Received:
    held: bool
    repeats: UUID | None


@dataclass(frozen=True, slots=True)
class ProviderAdjustmentKept:
    adjustment: ProviderAdjustmentAdvice
    claim_id: UUID | None


@dataclass(frozen=True, slots=True)
class Posted:
    posting: Posting
    denied_lines: tuple[str, ...]  # the lines paid nothing for a denial, by control number (else code)
    underpaid_by: Decimal | None  # allowed below the contract by more than the tolerance


@dataclass(frozen=True, slots=True)
class Denied:
    denials: Denials


@dataclass(frozen=True, slots=True)
class Underpaid:
    underpayment: Underpayment


@dataclass(frozen=True, slots=True)
class Reversed:
    reversed_payment_id: UUID | None
    posting: Posting


@dataclass(frozen=True, slots=True)
class Unmatched:
    reason: str
    candidates: tuple[UUID, ...]


class PaymentKey(NamedTuple):
    """DESIGN §4's key of a claim payment, with the payer (trace numbers are unique per payer only) and the
    occurrence: the n-th claim payment of its remittance with the same numbers. A payer never repeats a claim
    in one 835, but de-identified or hand-made files do, and each such payment is money of its own; a file sent
    again repeats the same occurrences, so it still posts nothing twice."""

    payer_id: str
    trace_number: str
    patient_control_number: str
    payer_claim_number: str
    status: str
    occurrence: int


@dataclass(eq=False)
class Remittance:
    remittance_id: UUID
    file_id: UUID
    advice: RemittanceAdvice  # its claim payments only while it is received: they are read from the file
    figures: str  # the digest of what it pays (`RemittanceAdvice.figures`), part of its key
    claim_count: int
    received_at: datetime
    state: RemittanceState
    claims_done: int = 0  # claim payments worked so far, in the 835's order
    posted: int = 0
    unmatched: int = 0
    duplicates: int = 0  # claim payments already posted from another file
    posted_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None
    adjustment_claims: tuple[UUID | None, ...] = ()  # the claim each PLB adjustment names, once posted
    repeats: UUID | None = None  # the remittance first received with this payer and TRN02, when this repeats it
    failure: str | None = None  # why posting stopped, when it failed
    events: list[Any] = field(default_factory=list)

    @classmethod
    def receive(
        cls, remittance_id: UUID, file_id: UUID, advice: RemittanceAdvice, now: datetime, *, repeats: UUID | None
    ) -> Remittance:
        held = bool(advice.balance_problems)
        state: RemittanceState = "held" if held else "received"
        remittance = cls(
            remittance_id, file_id, advice, advice.figures, len(advice.claims), now, state, repeats=repeats
        )
        remittance.events.append(Received(held, repeats))
        return remittance

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.advice.payer_id, self.advice.trace_number, self.advice.interchange_control_number)

    @property
    def postable(self) -> bool:
        return self.state in ("received", "posting")

    def release(self, by: str, reason: str) -> None:
        """A poster has reviewed a held file's differences and posts it as the payer sent it; or has had the
        reason a failed one stopped seen to, and has its posting go on from where it stopped."""
        if self.state not in ("held", "failed"):
            raise RemittanceError(f"the remittance is {self.state}: only a held or failed one is released")
        self.state = "posting" if self.claims_done else "received"
        self.released_by, self.release_reason, self.failure = by, reason, None

    def fail(self, reason: str) -> None:
        """Posting met what trying again will not mend: it stops, kept as far as it got, for a person."""
        self.state, self.failure = "failed", reason

    def worked(self, payments: int, posted: int, unmatched: int, duplicates: int) -> None:
        """A batch of claim payments is done: posted, left unmatched, or found posted already."""
        if not self.postable:
            raise RemittanceError(f"the remittance is {self.state}: nothing of it is posted")
        self.state = "posting"
        self.claims_done += payments
        self.posted += posted
        self.unmatched += unmatched
        self.duplicates += duplicates

    def finish(self, adjustment_claims: tuple[UUID | None, ...], kept_before: tuple[bool, ...], now: datetime) -> None:
        """Every claim payment is worked: keep the PLB adjustments, linked to the claims they name, and announce
        those not kept before (by a remittance this one repeats)."""
        if not self.postable:
            raise RemittanceError(f"the remittance is {self.state}: it cannot be finished")
        if self.claims_done != self.claim_count:
            raise RemittanceError(f"{self.claim_count - self.claims_done} claim payments are not worked yet")
        self.state, self.posted_at, self.adjustment_claims = "posted", now, adjustment_claims
        for adjustment, claim_id, repeated in zip(
            self.advice.provider_adjustments, adjustment_claims, kept_before, strict=True
        ):
            if not repeated:
                self.events.append(ProviderAdjustmentKept(adjustment, claim_id))


@dataclass(eq=False)
class ClaimPayment:
    payment_id: UUID
    remittance_id: UUID
    payer_id: str
    trace_number: str
    payment_date: date | None
    advice: ClaimPaymentAdvice
    occurrence: int = 0
    state: PaymentState = "unmatched"
    claim_id: UUID | None = None
    patient_id: UUID | None = None
    matched_by: MatchedBy | None = None
    line_matches: tuple[str | None, ...] = ()
    unmatched_reason: str | None = None
    candidates: tuple[UUID, ...] = ()
    reverses_id: UUID | None = None
    reversed_by_id: UUID | None = None
    posted_at: datetime | None = None
    posted_by: str | None = None
    events: list[Any] = field(default_factory=list)

    @property
    def key(self) -> PaymentKey:
        advice = self.advice
        return PaymentKey(
            self.payer_id,
            self.trace_number,
            advice.patient_control_number,
            advice.payer_claim_number,
            advice.status,
            self.occurrence,
        )

    def post(
        self,
        match: ClaimMatch,
        codes: CodeBook,
        tolerance: Tolerance,
        now: datetime,
        *,
        by: str,
        reverses: ClaimPayment | None = None,
    ) -> None:
        """Post to the matched claim. A reversal takes back `reverses` whole (None only when a poster posts
        the reversal of a payment made before this service kept them)."""
        if self.state == "posted":
            raise RemittanceError("the claim payment is posted already")
        self.state, self.claim_id, self.patient_id = "posted", match.claim.claim_id, match.claim.patient_id
        self.matched_by, self.line_matches = match.matched_by, match.lines
        self.unmatched_reason, self.candidates = None, ()
        self.posted_at, self.posted_by = now, by
        posting = posting_of(self.advice, match.lines, codes)
        if self.advice.is_reversal:
            if reverses is not None:
                reverses.reversed_by(self.payment_id)
                self.reverses_id = reverses.payment_id
            self.events.append(Reversed(self.reverses_id, posting))
            return
        denials = denials_of(self.advice, posting, codes)
        underpayment = underpayment_of(self.advice, posting, match.claim, tolerance)
        denied_lines: tuple[str, ...] = ()
        if denials is not None and denials.whole_claim:  # every line the claim payment carries
            denied_lines = tuple(
                dict.fromkeys(line.line_control_number or line.procedure_code for line in posting.lines)
            )
        elif denials is not None:
            denied_lines = tuple(
                dict.fromkeys(d.line_control_number or d.procedure_code or "" for d in denials.denials)
            )
        self.events.append(Posted(posting, denied_lines, underpayment.shortfall if underpayment is not None else None))
        if denials is not None:
            self.events.append(Denied(denials))
        if underpayment is not None:
            self.events.append(Underpaid(underpayment))

    def leave_unmatched(self, reason: str, candidates: tuple[UUID, ...]) -> None:
        self.unmatched_reason, self.candidates = reason, candidates
        self.events.append(Unmatched(reason, candidates))

    def reversed_by(self, payment_id: UUID) -> None:
        if self.reversed_by_id is not None:
            raise RemittanceError("the claim payment is reversed already")
        self.reversed_by_id = payment_id
