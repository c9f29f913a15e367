"""Batches: when ready claims go to a payer, and which ones.

A payer's ready claims go together once there are as many as its batch holds, or once the oldest has waited
the payer's batch interval, whichever comes first; the oldest go first, and a batch never holds more than the
payer's batch size. A held claim, or one waiting for the payer's answer to another, never goes. Each batch is
one 837P interchange with its own interchange control number, which a resend after an unanswered send keeps,
so the clearinghouse knows it and the claims are submitted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal
from uuid import UUID

from rcm_claim.domain.directories import PayerProfile
from rcm_claim.domain.model import Claim

INTERCHANGES: Final = "ISA13"  # the sequence claim's interchanges (its batches and 276s) number from
TRANSACTION_SET_CONTROL_NUMBER = 1  # a batch is one interchange, one group (GS06 = ISA13) and one set: ST02 0001
BatchState = Literal["built", "sent", "acknowledged", "refused"]
"""built: stored, not sent yet; sent: sent at least once without an answer; acknowledged: the 999 came;
refused: the clearinghouse refused the file itself (it could not read it), so its claims are rejected."""


@dataclass(slots=True)
class Batch:
    """One 837P interchange to one payer, stored (encrypted) before it is sent, so a send that went unanswered
    is sent again as the same bytes with the same interchange control number."""

    id: UUID
    payer_id: str
    interchange_control_number: int
    claim_ids: tuple[UUID, ...]
    x12: str  # PHI: the claims as the payer reads them
    built_at: datetime
    state: BatchState = "built"
    sent_at: datetime | None = None
    attempts: int = 0
    answered_at: datetime | None = None
    acknowledgment: str | None = None  # the 999 as it came (it echoes segment positions, not values)

    def attempted(self, now: datetime) -> None:
        """A send went unanswered: the next one is the same interchange again."""
        self.state = "sent"
        self.sent_at = now
        self.attempts += 1

    def answered(self, acknowledgment: str, now: datetime) -> None:
        self.state = "acknowledged"
        self.acknowledgment = acknowledgment
        self.answered_at = now
        self.sent_at = self.sent_at or now
        self.attempts += 1

    def refused(self, now: datetime) -> None:
        self.state = "refused"
        self.answered_at = now
        self.attempts += 1


def claims_due(ready: Sequence[Claim], payer: PayerProfile, now: datetime) -> list[Claim]:
    """The payer's ready claims to send now, oldest first: none until the batch is full or the oldest has
    waited the payer's interval."""
    waiting = sorted(
        (
            claim
            for claim in ready
            if claim.state == "ready" and not claim.kept_back and claim.payer_id == payer.payer_id
        ),
        key=lambda claim: (claim.in_state_since, str(claim.id)),
    )
    if not waiting:
        return []
    full = len(waiting) >= payer.batch_size
    waited = now - waiting[0].in_state_since >= timedelta(seconds=payer.batch_interval_seconds)
    return waiting[: payer.batch_size] if full or waited else []
