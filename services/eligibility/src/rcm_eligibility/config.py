"""Eligibility's settings: the common ones, the clearinghouse it asks, who it asks as, and the pace of its
worker and appointment sweep."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from rcm_common.clearinghouse import ClearinghouseSettings
from rcm_eligibility.adapters.x12_eligibility import Asker
from rcm_eligibility.domain.model import RetryPolicy


class EligibilitySettings(ClearinghouseSettings):
    service_name: str = "eligibility"
    http_port: int = 8002

    retry_delays_seconds: tuple[float, ...] = Field(
        default=(30.0, 300.0, 1800.0),
        description="Waits before each deferred attempt after the clearinghouse or payer could not answer.",
    )
    check_lease_seconds: float = 120.0
    worker_batch_size: int = 8
    worker_poll_seconds: float = 0.5
    sweep_days_ahead: int = Field(default=2, ge=0, le=30)
    estimate_max_benefits_age_days: int = Field(
        default=30, ge=1, le=366, description="An estimate refuses benefits on file older than this."
    )
    sweep_interval_seconds: float = 300.0
    sweep_batch_size: int = 500

    provider_name: str = "RCM DEMO PRACTICE"
    provider_npi: str = "1234567893"
    trace_originator: str = "9000000001"

    @property
    def asker(self) -> Asker:
        return Asker(
            sender_id=self.submitter_id,
            receiver_id=self.clearinghouse_receiver_id,
            provider_name=self.provider_name,
            provider_npi=self.provider_npi,
            trace_originator=self.trace_originator,
            usage=self.x12_usage,
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            delays=tuple(timedelta(seconds=s) for s in self.retry_delays_seconds),
            lease=timedelta(seconds=self.check_lease_seconds),
        )
