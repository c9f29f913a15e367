"""Eligibility's settings: the common ones, the clearinghouse it asks, who it asks as, and the pace of its
worker and appointment sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Final, Literal

from pydantic import Field, SecretStr, model_validator

from rcm_common.settings import ServiceSettings
from rcm_eligibility.adapters.x12_eligibility import Asker
from rcm_eligibility.domain.model import RetryPolicy

# The clearinghouse simulator's documented development key; refused outside development.
DEV_CLEARINGHOUSE_API_KEY: Final = "rcm-clearinghouse-sim-development-key"


class EligibilitySettings(ServiceSettings):
    service_name: str = "eligibility"
    http_port: int = 8002

    clearinghouse_url: str = "http://127.0.0.1:8009"
    clearinghouse_api_key: SecretStr = SecretStr(DEV_CLEARINGHOUSE_API_KEY)
    clearinghouse_timeout_seconds: float = 10.0
    clearinghouse_attempts: int = Field(default=4, ge=1, le=10, description="Calls per attempt, retries included.")
    clearinghouse_backoff_seconds: float = 0.2
    clearinghouse_max_backoff_seconds: float = 2.0
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

    submitter_id: str = "RCMPLATFORM"
    clearinghouse_receiver_id: str = "RCMCLEARINGHSE"
    provider_name: str = "RCM DEMO PRACTICE"
    provider_npi: str = "1234567893"
    trace_originator: str = "9000000001"
    x12_usage: Literal["P", "T"] = "P"

    @model_validator(mode="after")
    def _refuse_development_clearinghouse_key(self) -> EligibilitySettings:
        if self.environment not in ("development", "test") and (
            self.clearinghouse_api_key.get_secret_value() == DEV_CLEARINGHOUSE_API_KEY
        ):
            raise ValueError(
                f"environment {self.environment!r} refuses development defaults; set: RCM_CLEARINGHOUSE_API_KEY"
            )
        return self

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
