"""Claim's settings: the common ones, the clearinghouse it submits to and who it submits as, and the pace of
its submission, acknowledgment and follow-up workers, how early a deadline becomes a work item, and the
practice's own appeal letter templates, and when the denial-risk warning speaks."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from rcm_claim.domain.denial_risk import RiskSettings
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
    deadline_warning_days: int = Field(
        default=14, ge=0, le=365, description="A timely-filing or appeal deadline is a work item this many days ahead."
    )
    appeal_templates_dir: Path | None = Field(
        default=None, description="A folder of the practice's appeal letter templates (<category>.txt) over ours."
    )
    denial_risk_window_days: int = Field(default=90, ge=1, le=730, description="How far back denial risk looks.")
    denial_risk_minimum_claims: int = Field(
        default=5, ge=1, description="Claims of a kind of service the denial-risk warning needs before it speaks."
    )
    denial_risk_threshold: float = Field(
        default=0.25, gt=0, le=1, description="The smoothed denial rate at which the scrub warns."
    )
    denial_risk_prior_strength: float = Field(
        default=10, gt=0, description="How many claims the payer's overall rate weighs as (the Beta prior)."
    )

    def risk_settings(self) -> RiskSettings:
        return RiskSettings(
            window_days=self.denial_risk_window_days, prior_strength=self.denial_risk_prior_strength,
            minimum_claims=self.denial_risk_minimum_claims, threshold=self.denial_risk_threshold,
        )  # fmt: skip
