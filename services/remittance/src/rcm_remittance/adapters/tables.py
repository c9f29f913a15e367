"""Remittance's tables (SQLModel); the migrations in `migrations/versions` build exactly these.

The 835 files are kept whole and encrypted (they name patients). What a query filters or sums on stays in
the clear and says nothing about who the patient is: payers, trace numbers, control numbers (CLP01 is our own
CLM01, which carries no PHI), claim statuses, amounts and states. A claim payment's lines (codes and dates of
service) and a claim copy's lines are encrypted. Money is NUMERIC(12,2).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from rcm_common.db import UtcDateTime


def _timestamp(*, nullable: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable)


def _text(*, nullable: bool = False) -> Column[str]:
    return Column(Text, nullable=nullable)


def _money() -> Column[Decimal]:
    return Column(Numeric(12, 2), nullable=False)


class ClaimCopyRow(SQLModel, table=True):
    """A claim as the claim service said: what matching and the underpayment check need."""

    __tablename__ = "claim_copy"

    claim_id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36)
    payer_id: str = Field(max_length=80)
    coverage_id: str = Field(max_length=36)
    patient_control_number: str = Field(max_length=38, unique=True)
    payer_claim_number: str | None = Field(default=None, max_length=50, index=True)
    replaces_payer_claim_number: str | None = Field(default=None, max_length=50)
    frequency: str = Field(max_length=1)
    state: str = Field(max_length=10)
    total_charge: Decimal = Field(sa_column=_money())
    lines_encrypted: str = Field(sa_column=_text())  # codes, units, dates, charges, expected allowed
    updated_at: datetime = Field(sa_column=_timestamp())


class RemittanceFileRow(SQLModel, table=True):
    """An 835 file as it came (uploaded or from the mailbox), known by its content's SHA-256."""

    __tablename__ = "remittance_file"

    id: str = Field(primary_key=True, max_length=36)
    digest: str = Field(max_length=64, unique=True)
    source: str = Field(max_length=120)  # "upload" or "mailbox:<file id>"
    remittance_ids: str = Field(sa_column=_text())  # JSON list: its sets' remittances, new or known before
    content_encrypted: str = Field(sa_column=_text())
    received_at: datetime = Field(sa_column=_timestamp())


class RemittanceRow(SQLModel, table=True):
    """One 835 transaction set: its payment, how far its posting has gone, and why it is held."""

    __tablename__ = "remittance"
    __table_args__ = (
        UniqueConstraint("payer_id", "trace_number", "interchange_control_number", "figures", name="uq_remittance_key"),
        Index("ix_remittance_queue", "state", "received_at"),
        Index("ix_remittance_trace", "payer_id", "trace_number"),
    )

    id: str = Field(primary_key=True, max_length=36)
    file_id: str = Field(max_length=36, index=True)
    position: int  # in its file, from 0
    payer_id: str = Field(max_length=80)
    payer_name: str = Field(max_length=60)
    trace_number: str = Field(max_length=50)
    interchange_control_number: str = Field(max_length=9)  # "" for a bare transaction set
    figures: str = Field(max_length=64)  # the digest of what it pays: its key's set only when they agree
    handling_code: str = Field(max_length=2)
    payment_method: str = Field(max_length=3)
    payment_date: date | None = None
    total_paid: Decimal = Field(sa_column=_money())
    credit_debit: str = Field(max_length=1)
    claim_count: int
    provider_adjustment_total: Decimal = Field(sa_column=_money())
    state: str = Field(max_length=10)
    claims_done: int
    posted: int
    unmatched: int
    duplicates: int
    balance_problems: str = Field(sa_column=_text())  # JSON list: claim control numbers and amounts, no PHI
    findings: str = Field(sa_column=_text())  # JSON list: what the reader tolerated, by segment and position
    received_at: datetime = Field(sa_column=_timestamp())
    posted_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    released_by: str | None = Field(default=None, max_length=200)
    release_reason: str | None = Field(default=None, max_length=500)
    repeats_id: str | None = Field(default=None, max_length=36)  # the first remittance of this payer and TRN02
    failure: str | None = Field(default=None, max_length=300)  # why posting it failed, for a person


class ClaimPaymentRow(SQLModel, table=True):
    """One CLP, known by payer, TRN02, CLP01, CLP07, CLP02 and its occurrence: posted to its claim, or waiting
    unmatched."""

    __tablename__ = "claim_payment"
    __table_args__ = (
        UniqueConstraint(
            "payer_id",
            "trace_number",
            "patient_control_number",
            "payer_claim_number",
            "status",
            "occurrence",
            name="uq_claim_payment_key",
        ),
        Index("ix_claim_payment_reversible", "payer_id", "patient_control_number", "payer_claim_number"),
        Index("uq_claim_payment_reverses", "reverses_id", unique=True),  # a payment is taken back once
    )

    id: str = Field(primary_key=True, max_length=36)
    remittance_id: str = Field(max_length=36, index=True)
    position: int  # in its remittance, from 0
    payer_id: str = Field(max_length=80)
    trace_number: str = Field(max_length=50)
    patient_control_number: str = Field(max_length=38)
    payer_claim_number: str = Field(max_length=50)
    status: str = Field(max_length=2)
    occurrence: int  # the n-th payment with these numbers in its remittance, from 0
    payment_date: date | None = None
    charge: Decimal = Field(sa_column=_money())
    paid: Decimal = Field(sa_column=_money())
    patient_responsibility: Decimal = Field(sa_column=_money())
    state: str = Field(max_length=10, index=True)
    claim_id: str | None = Field(default=None, max_length=36, index=True)
    patient_id: str | None = Field(default=None, max_length=36)
    matched_by: str | None = Field(default=None, max_length=30)
    unmatched_reason: str | None = Field(default=None, max_length=300)
    candidates: str = Field(sa_column=_text())  # JSON list of claim ids
    reverses_id: str | None = Field(default=None, max_length=36)
    reversed_by_id: str | None = Field(default=None, max_length=36)
    posted_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    posted_by: str | None = Field(default=None, max_length=200)
    detail_encrypted: str = Field(sa_column=_text())  # adjustments, remarks, lines and their matches


class ProviderAdjustmentRow(SQLModel, table=True):
    """A PLB reason and amount, kept per remittance and linked to the claim it names where that is known."""

    __tablename__ = "provider_adjustment"

    remittance_id: str = Field(primary_key=True, max_length=36)
    position: int = Field(primary_key=True)
    reason: str = Field(max_length=2)
    reference: str = Field(max_length=50)
    amount: Decimal = Field(sa_column=_money())
    fiscal_period_date: date | None = None
    claim_id: str | None = Field(default=None, max_length=36, index=True)


class DepositRow(SQLModel, table=True):
    """A bank deposit line: date, amount and trace. The same line twice is refused (its natural key)."""

    __tablename__ = "deposit"
    __table_args__ = (UniqueConstraint("trace_number", "deposit_date", "amount", name="uq_deposit_line"),)

    id: str = Field(primary_key=True, max_length=36)
    deposit_date: date = Field(index=True)
    amount: Decimal = Field(sa_column=_money())
    trace_number: str = Field(max_length=50, index=True)
    recorded_at: datetime = Field(sa_column=_timestamp())
    recorded_by: str = Field(max_length=200)
