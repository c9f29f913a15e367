"""Remittance's settings: the common ones, the clearinghouse whose mailbox holds the 835s, the pace of the
mailbox and posting workers, and the tolerance below the contract before an allowed amount is an underpayment."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field

from rcm_common.clearinghouse import ClearinghouseSettings


class RemittanceSettings(ClearinghouseSettings):
    service_name: str = "remittance"
    http_port: int = 8005

    run_workers: bool = Field(
        default=True, description="Run the mailbox and posting workers (off for an API-only replica)."
    )
    mailbox_poll_seconds: float = Field(default=2.0, gt=0, description="How often the mailbox is read for 835s.")
    posting_poll_seconds: float = Field(default=0.5, gt=0, description="How often received remittances are posted.")
    posting_batch_size: int = Field(
        default=500, ge=1, le=5000, description="Claim payments posted per transaction: a crash redoes at most these."
    )
    max_upload_bytes: int = Field(default=50_000_000, ge=1000, description="The largest 835 file taken by upload.")
    underpayment_tolerance_amount: Decimal = Field(
        default=Decimal("1.00"), ge=0, description="A line allowed below the contract by more than this is underpaid."
    )
    underpayment_tolerance_share: Decimal = Field(
        default=Decimal("0.02"), ge=0, le=1, description="Or by more than this share of the contract's allowed."
    )
    carc_list: Path | None = Field(
        default=None,
        description="The published CARC list (CSV or tab-separated, as X12 publishes it), loaded over the curated "
        "descriptions at start; a list that cannot be read stops the start, naming the line.",
    )
    rarc_list: Path | None = Field(default=None, description="The published RARC list, likewise.")
