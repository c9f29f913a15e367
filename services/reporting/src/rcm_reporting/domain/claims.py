"""A claim's life as the claim service's events tell it, kept as the figures the KPIs count: how often it was
scrubbed out, submitted and rejected, what the payer first decided, and where it stands now.

The claim service publishes a claim's events on one partition (keyed by the claim), so they arrive in order; a
record is the fold of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final
from uuid import UUID

from rcm_reporting.domain.records import ZERO

VOID_FREQUENCY: Final = "8"  # CLM05-3: asks the payer to void an earlier claim
ORIGINAL_FREQUENCY: Final = "1"


class ClaimState(StrEnum):
    CREATED = "created"
    SCRUB_FAILED = "scrub_failed"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    CLOSED = "closed"
    REOPENED = "reopened"
    REPLACED = "replaced"
    VOIDED = "voided"


class Decision(StrEnum):
    """The payer's first answer: paid as billed, paid in part (below the contract), or denied (in whole or in
    part: a partial payment whose 835 denies a line is an initial denial)."""

    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"


@dataclass(slots=True)
class ClaimRecord:
    claim_id: UUID
    encounter_id: UUID
    patient_id: UUID
    payer_id: str
    responsibility: str
    frequency: str
    total_charge: Decimal
    created_at: datetime
    state: ClaimState = ClaimState.CREATED
    submissions: int = 0
    first_submitted_at: datetime | None = None
    scrub_failures: int = 0
    rejections: int = 0
    first_payment_id: UUID | None = None
    first_decided_at: datetime | None = None
    first_decision: Decision | None = None
    initial_denial_amount: Decimal = ZERO
    initial_denial_category: str | None = None
    initial_denial_reasons: tuple[str, ...] = ()
    """GROUP-CARC of each amount the first adjudication denied (CO-197, say)."""
    denied_amount: Decimal = ZERO
    """What its latest denial denied: the money at stake while it waits in the denial queue."""
    closed_reason: str | None = None

    @property
    def is_void(self) -> bool:
        return self.frequency == VOID_FREQUENCY

    @property
    def submitted(self) -> bool:
        return self.submissions > 0

    @property
    def adjudicated(self) -> bool:
        return self.first_decision is not None

    @property
    def initially_denied(self) -> bool:
        return self.first_decision is Decision.DENIED

    @property
    def clean(self) -> bool:
        """Submitted with no scrub failure and no rejection: the payer took it as first sent."""
        return self.submitted and self.scrub_failures == 0 and self.rejections == 0

    @property
    def paid_first_pass(self) -> bool:
        """Paid on its first submission: an original claim, never rejected, whose first answer paid it."""
        return (
            self.frequency == ORIGINAL_FREQUENCY
            and self.rejections == 0
            and self.first_decision in (Decision.PAID, Decision.PARTIALLY_PAID)
        )

    def scrub_failed(self) -> None:
        self.scrub_failures += 1
        self.state = ClaimState.SCRUB_FAILED

    def submit(self, at: datetime) -> None:
        self.submissions += 1
        if self.first_submitted_at is None or at < self.first_submitted_at:
            self.first_submitted_at = at
        self.state = ClaimState.SUBMITTED

    def accept(self) -> None:
        self.state = ClaimState.ACCEPTED

    def reject(self) -> None:
        self.rejections += 1
        self.state = ClaimState.REJECTED

    def decide(self, decision: Decision, payment_id: UUID, at: datetime) -> None:
        """A payment's answer. The first payment decides what the KPIs call the claim's first answer; a denial
        that comes with it (as its own event) makes it an initial denial."""
        if self.first_payment_id is None:
            self.first_payment_id, self.first_decided_at, self.first_decision = payment_id, at, decision
        elif payment_id == self.first_payment_id and decision is Decision.DENIED:
            self.first_decision = Decision.DENIED
        self.state = {
            Decision.PAID: ClaimState.PAID,
            Decision.PARTIALLY_PAID: ClaimState.PARTIALLY_PAID,
            Decision.DENIED: ClaimState.DENIED,
        }[decision]

    def deny(self, payment_id: UUID, amount: Decimal, category: str, reasons: tuple[str, ...], at: datetime) -> None:
        first = self.first_payment_id in (None, payment_id)
        self.decide(Decision.DENIED, payment_id, at)
        self.denied_amount = amount
        if first:
            self.initial_denial_amount += amount
            self.initial_denial_category = self.initial_denial_category or category
            self.initial_denial_reasons += tuple(r for r in reasons if r not in self.initial_denial_reasons)

    def appeal(self) -> None:
        self.state = ClaimState.APPEALED

    def denial_back(self) -> None:
        """A biller's resolution of a denial was withdrawn: the denial is to be worked again."""
        if self.state is not ClaimState.CLOSED:
            self.state = ClaimState.DENIED

    def close(self, reason: str) -> None:
        self.state, self.closed_reason = ClaimState.CLOSED, reason

    def reopen(self) -> None:
        self.state, self.closed_reason = ClaimState.REOPENED, None

    def replace(self) -> None:
        self.state = ClaimState.REPLACED

    def void(self) -> None:
        self.state = ClaimState.VOIDED


OPEN_STATES: Final = frozenset(
    {
        ClaimState.CREATED,
        ClaimState.SCRUB_FAILED,
        ClaimState.SUBMITTED,
        ClaimState.ACCEPTED,
        ClaimState.REJECTED,
        ClaimState.PAID,
        ClaimState.PARTIALLY_PAID,
        ClaimState.DENIED,
        ClaimState.APPEALED,
        ClaimState.REOPENED,
    }
)
"""States in which the claim is still the payer's to answer (or the billers' to send)."""
