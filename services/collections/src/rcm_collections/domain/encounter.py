"""One visit on a guarantor's account: its charges, the claims its payers answer, and whether what is left is
still the insurance's to answer or already the patient's.

The balance stays insurance-pending until the last payer has adjudicated: the encounter has a claim, every
claim still standing for it is closed, the payment that closed each has been posted here, and the last payer
in order did not pass the balance on to a next payer. Until then the patient is never billed for it. A
self-pay visit is the patient's from the start.

A denial is held, not adjusted off: the payer's denied amount (other than what the 835 already made the
patient's) stays on the visit, insurance-pending, while a biller works it. A write-off takes it off; a
transfer leaves it, to become the patient's when the claim closes; whatever is neither when the claim closes
is the payer's last word and is adjusted off then (and put back if the claim reopens).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final
from uuid import UUID

from rcm_collections.domain.ledger import ZERO, EntryKind, Totals

RESPONSIBILITY_ORDER: Final = {"P": 1, "S": 2, "T": 3}


@dataclass(frozen=True, slots=True)
class ServiceItem:
    procedure_code: str
    modifiers: tuple[str, ...]
    date_of_service: date
    charge: Decimal

    @property
    def label(self) -> str:
        return "-".join((self.procedure_code, *self.modifiers))


@dataclass(frozen=True, slots=True)
class PatientShare:
    """The patient's part of a claim payment as the 835 gave it (PR-1, PR-2, PR-3 and any other PR)."""

    deductible: Decimal = ZERO
    coinsurance: Decimal = ZERO
    copay: Decimal = ZERO
    other: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.deductible + self.coinsurance + self.copay + self.other


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """A payer's payment of one claim, as posted by remittance: `adjustments` is what the payer adjusted off,
    by group, leaving out the patient's part (PR, which stays on the balance) and a later payer's restatement of
    the prior payer's adjudication (CARC 23, posted already from the prior payer's 835)."""

    payment_id: UUID
    claim_id: UUID
    payer_id: str
    charge: Decimal
    paid: Decimal
    adjustments: tuple[tuple[str, Decimal], ...]
    patient_share: PatientShare
    lines_answered: tuple[str, ...] | None = ()
    """The lines it paid or processed without denying them, by control number; None when it answered the claim
    as a whole (no line detail), and no line when it answered none (a denial)."""


@dataclass(frozen=True, slots=True)
class PostedPayment:
    """What the visit keeps of a claim payment posted to it: enough to find it by its amounts (a reversal posted
    by hand names no payment) and to show the patient's share."""

    claim_id: UUID
    charge: Decimal
    paid: Decimal
    patient_share: PatientShare

    def negated_by(self, charge: Decimal, paid: Decimal, patient_responsibility: Decimal) -> bool:
        """A reversal of exactly this payment (negative amounts), as the claim service matches one."""
        return (self.charge, self.paid, self.patient_share.total) == (-charge, -paid, -patient_responsibility)


@dataclass
class ClaimLink:
    claim_id: UUID
    responsibility: str
    payer_id: str
    encounter_version: int = 1
    live: bool = True
    closed_reason: str | None = None
    closing_payment: UUID | None = None


@dataclass
class DenialHold:
    """A payer's denial on one payment, held on the visit until a biller's resolution or the claim's close."""

    claim_id: UUID
    held: Decimal = ZERO
    lines: dict[str, Decimal] = field(default_factory=dict)
    """The held amount by line control number ("" for the claim as a whole) still waiting for an answer."""
    superseded_by: dict[UUID, dict[str, Decimal]] = field(default_factory=dict)
    """What later payments answered (an appeal won, say), by the payment: their own entries count instead, and a
    reversal of one puts its lines back."""
    written_off: Decimal = ZERO
    transferred: Decimal = ZERO
    released: Decimal = ZERO

    @property
    def superseded(self) -> Decimal:
        return sum((sum(lines.values(), ZERO) for lines in self.superseded_by.values()), ZERO)

    @property
    def unresolved(self) -> Decimal:
        return max(self.held - self.superseded - self.written_off - self.transferred, ZERO)

    def supersede(self, payment_id: UUID, lines_answered: tuple[str, ...] | None) -> None:
        """A later payment answered these lines (None: the whole claim): their held amounts no longer wait."""
        answered = {
            line: self.lines.pop(line)
            for line in list(self.lines)
            if lines_answered is None or line in lines_answered or line == ""  # the claim-level part: answered too
        }
        if answered:
            self.superseded_by.setdefault(payment_id, {}).update(answered)

    def restore(self, payment_id: UUID) -> None:
        """The payment that answered lines was taken back: they wait again."""
        for line, amount in self.superseded_by.pop(payment_id, {}).items():
            self.lines[line] = self.lines.get(line, ZERO) + amount


@dataclass
class Encounter:
    id: UUID
    patient_id: UUID
    version: int = 0  # 0: known from a claim or a copay only, its charges not captured yet
    self_pay: bool = False
    voided: bool = False
    date_of_service: date | None = None
    provider_npi: str | None = None
    items: tuple[ServiceItem, ...] = ()
    claims: dict[UUID, ClaimLink] = field(default_factory=dict)
    posted: dict[UUID, PostedPayment] = field(default_factory=dict)
    """Claim payments posted here, in the order they came."""
    reversed: set[UUID] = field(default_factory=set)
    """Claim payments the payer took back (a reversal read before its payment keeps the payment from posting)."""
    holds: dict[UUID, DenialHold] = field(default_factory=dict)
    nets: dict[UUID, dict[EntryKind, Decimal]] = field(default_factory=dict)
    """Per claim payment, what its entries add up to by kind: a reversal undoes exactly this."""
    terms: Totals = field(default_factory=Totals)
    patient_written_off: Decimal = ZERO
    """What the practice wrote off of the patient's own balance (small balance, hardship, bad debt)."""
    bad_debt: Decimal = ZERO
    """Of that, what was written off as bad debt: money the patient (or the agency) pays later recovers it.
    Hardship and small balances are let go for good."""
    due_since: date | None = None

    @property
    def balance(self) -> Decimal:
        return self.terms.balance

    def standing(self, payment_id: UUID | None) -> bool:
        """The payment is posted here and the payer has not taken it back."""
        return payment_id in self.posted and payment_id not in self.reversed

    def closed(self, claim: ClaimLink) -> bool:
        """The claim is closed by a payment that stands here."""
        return claim.closed_reason is not None and self.standing(claim.closing_payment)

    @property
    def settled(self) -> bool:
        """The payers are done with it: what is left is the patient's. That needs a claim for the visit as it
        stands now (a correction waits for its replacement claim), every claim still standing closed by a payment
        posted here and not taken back, and the last payer not passing the balance on."""
        if self.voided:
            return True
        if self.version == 0:
            return False
        if self.self_pay:
            return True
        live = [claim for claim in self.claims.values() if claim.live]
        if not any(claim.encounter_version >= self.version for claim in live):
            return False
        if not all(self.closed(claim) for claim in live):
            return False
        last = max(live, key=lambda claim: RESPONSIBILITY_ORDER.get(claim.responsibility, 0))
        return last.closed_reason != "next_payer_billed"

    @property
    def patient_share(self) -> PatientShare:
        """The patient's share as the last payer to answer left it (a secondary's PR replaces the primary's)."""
        standing = [p for payment_id, p in self.posted.items() if self.standing(payment_id)]
        order = {claim_id: RESPONSIBILITY_ORDER.get(c.responsibility, 0) for claim_id, c in self.claims.items()}
        last = max((order.get(p.claim_id, 0) for p in standing), default=0)
        shares = [p.patient_share for p in standing if order.get(p.claim_id, 0) == last]
        return PatientShare(
            sum((s.deductible for s in shares), ZERO),
            sum((s.coinsurance for s in shares), ZERO),
            sum((s.copay for s in shares), ZERO),
            sum((s.other for s in shares), ZERO),
        )

    @property
    def patient_owes(self) -> Decimal:
        """What the payers left the patient: their share, and any denial a biller moved to the patient."""
        transferred = sum((hold.transferred for hold in self.holds.values()), ZERO)
        return self.patient_share.total + transferred

    def net(self, payment_id: UUID, kind: EntryKind, amount: Decimal) -> None:
        by_kind = self.nets.setdefault(payment_id, {})
        by_kind[kind] = by_kind.get(kind, ZERO) + amount

    def wanted_releases(self) -> dict[UUID, Decimal]:
        """Per held denial, what should be adjusted off now: what is unresolved once its claim has closed (the
        payer's word stands), nothing while the claim is open or its denying payment was taken back."""
        wanted = {}
        for payment_id, hold in self.holds.items():
            claim = self.claims.get(hold.claim_id)
            closed = claim is not None and self.closed(claim) and payment_id not in self.reversed
            wanted[payment_id] = hold.unresolved if closed else ZERO
        return wanted
