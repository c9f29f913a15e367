"""Claim's settings: the common ones, the clearinghouse it submits to and who it submits as, and the pace of
its submission, acknowledgment and follow-up workers."""

from __future__ import annotations

from pydantic import Field

from rcm_common.clearinghouse import ClearinghouseSettings


class ClaimSettings(ClearinghouseSettings):
    service_name: str = "claim"
    http_port: int = 8004

    submitter_name: str = Field(default="RCM DEMO PRACTICE", description="1000A: who sends the claims.")
    submitter_contact: str = Field(default="BILLING OFFICE", description="1000A PER: whom the payer calls.")
    submitter_phone: str = Field(default="5555550100", pattern=r"^\d{10}$")
    clearinghouse_name: str = Field(default="RCM CLEARINGHOUSE", description="1000B: who receives the claims.")
    run_workers: bool = Field(
        default=True, description="Run the submission, 277CA and follow-up workers (off for an API-only replica)."
    )
    submission_poll_seconds: float = Field(default=1.0, gt=0, description="How often ready claims are batched.")
    mailbox_poll_seconds: float = Field(default=2.0, gt=0, description="How often the mailbox is read for 277CAs.")
    follow_up_poll_seconds: float = Field(default=3600.0, gt=0, description="How often 276s go for unpaid claims.")
    acknowledgment_wait_hours: float = Field(
        default=48.0, gt=0, description="A submitted claim with no 277CA after this is a follow-up work item."
    )
    status_batch_size: int = Field(default=50, ge=1, le=500, description="Claims asked about on one 276.")
