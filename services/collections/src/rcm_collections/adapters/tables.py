"""Collections' tables (SQLModel); the migrations in `migrations/versions` build exactly these.

An account's row keeps in the clear what lists, queues and the daily cycle filter on (its balances, the
invariant's terms, its state, the tip of its chain) and nothing about who the guarantor is: the guarantor
is known by a keyed digest, and the account's content (the guarantor's name and address, the visits with
their dates and services, plans, statements, payments and requests) is encrypted. Ledger entries carry ids,
amounts and memos in words that name no one. Money is NUMERIC(12,2).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text
from sqlmodel import Field, SQLModel

from rcm_common.db import UtcDateTime


def _timestamp() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=False)


def _text() -> Column[str]:
    return Column(Text, nullable=False)


def _money() -> Column[Decimal]:
    return Column(Numeric(12, 2), nullable=False)


class AccountRow(SQLModel, table=True):
    __tablename__ = "guarantor_account"
    __table_args__ = (Index("ix_guarantor_account_state_due", "state", "patient_due"),)

    id: str = Field(primary_key=True, max_length=36)
    guarantor_digest: str = Field(max_length=64, unique=True)
    state: str = Field(max_length=12)  # active, on_plan, placed
    insurance_pending: Decimal = Field(sa_column=_money())
    patient_due: Decimal = Field(sa_column=_money())
    credit: Decimal = Field(sa_column=_money())
    balance: Decimal = Field(sa_column=_money())
    charges: Decimal = Field(sa_column=_money())
    insurance_payments: Decimal = Field(sa_column=_money())
    adjustments: Decimal = Field(sa_column=_money())
    patient_payments: Decimal = Field(sa_column=_money())
    write_offs: Decimal = Field(sa_column=_money())
    refunds: Decimal = Field(sa_column=_money())
    oldest_due_on: date | None = None  # when the oldest amount due became the patient's: aging and the cycle
    last_statement_on: date | None = None
    open_requests: int  # refunds and write-offs awaiting a collector's decision
    tip_seq: int
    tip_hash: str = Field(max_length=64)
    version: int
    content_encrypted: str = Field(sa_column=_text())
    updated_at: datetime = Field(sa_column=_timestamp())


class LedgerEntryRow(SQLModel, table=True):
    __tablename__ = "ledger_entry"

    account_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)
    encounter_id: str | None = Field(default=None, max_length=36)
    kind: str = Field(max_length=20)
    amount: Decimal = Field(sa_column=_money())
    cause: str = Field(max_length=200)
    reference: str = Field(max_length=80)
    memo: str = Field(max_length=200)
    posted_at: datetime = Field(sa_column=_timestamp())
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class PatientAccountRow(SQLModel, table=True):
    """The account a patient's new visits go to (their guarantor's, as registration last said)."""

    __tablename__ = "patient_account"

    patient_id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(max_length=36, index=True)


class EncounterAccountRow(SQLModel, table=True):
    """The account a visit was posted to; it stays there."""

    __tablename__ = "encounter_account"

    encounter_id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(max_length=36)


class ClaimEncounterRow(SQLModel, table=True):
    """Which visit a claim bills, so the payer's answers reach the visit."""

    __tablename__ = "claim_encounter"

    claim_id: str = Field(primary_key=True, max_length=36)
    encounter_id: str = Field(max_length=36)


class AccountItemRow(SQLModel, table=True):
    """Which account a payment, refund, write-off, plan or placement belongs to, so it is found by its own id."""

    __tablename__ = "account_item"
    __table_args__ = (Index("ix_account_item_kind", "kind", "account_id"),)

    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(max_length=36)
    kind: str = Field(max_length=12)  # payment, refund, write_off, plan, placement


class StatementRow(SQLModel, table=True):
    __tablename__ = "statement"

    id: str = Field(primary_key=True, max_length=36)
    account_id: str = Field(max_length=36, index=True)
    issued_on: date = Field(index=True)
    amount_due: Decimal = Field(sa_column=_money())
    dunning_level: int | None = None
    content_encrypted: str = Field(sa_column=_text())


class ParkedEventRow(SQLModel, table=True):
    """An event that arrived before what it needs (the patient's registration, the claim's creation), kept until
    that comes and then applied in the order it arrived."""

    __tablename__ = "parked_event"

    id: int | None = Field(default=None, primary_key=True)
    waits_for: str = Field(max_length=80, index=True)  # "patient:<id>" or "claim:<id>"
    event_type: str = Field(max_length=120)
    event_version: int
    cause: str = Field(max_length=200)
    payload_encrypted: str = Field(sa_column=_text())
    parked_at: datetime = Field(sa_column=_timestamp())
