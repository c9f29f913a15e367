"""Reporting's tables (SQLModel); the migrations in `migrations/versions` build exactly these.

They hold ids, codes, dates and amounts, never a name, an address or a member id (the events carry none). Money
is NUMERIC(12,2). The fact tables (movements, holds, answers, resolutions, reversals, openings, the timeline) are
only ever appended to, keyed by the event that caused each row; the others (visits, claims, accounts, work items)
are each written by one topic's consumer, so the order in which topics are read never changes them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text
from sqlmodel import Field, SQLModel

from rcm_common.db import UtcDateTime


def _timestamp() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=False)


def _optional_timestamp() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=True)


def _money() -> Column[Decimal]:
    return Column(Numeric(12, 2), nullable=False)


class VisitRow(SQLModel, table=True):
    __tablename__ = "report_visit"

    encounter_id: str = Field(primary_key=True, max_length=36)
    version: int
    patient_id: str = Field(max_length=36)
    payer_id: str | None = Field(default=None, max_length=20)
    self_pay: bool
    date_of_service: date
    captured_at: datetime = Field(sa_column=_timestamp())
    rendering_npi: str | None = Field(default=None, max_length=10)
    total_charge: Decimal = Field(sa_column=_money())
    procedure_codes: str = Field(sa_column=Column(Text, nullable=False))  # comma-separated
    voided: bool
    held: bool


class VisitVersionRow(SQLModel, table=True):
    """Each version of a visit as charge published it, and when: A/R on a past date reads the version in force then."""

    __tablename__ = "report_visit_version"

    encounter_id: str = Field(primary_key=True, max_length=36)
    version: int = Field(primary_key=True)
    occurred_at: datetime = Field(sa_column=_timestamp())
    patient_id: str = Field(max_length=36)
    self_pay: bool
    date_of_service: date


class ClaimRow(SQLModel, table=True):
    __tablename__ = "report_claim"
    __table_args__ = (Index("ix_report_claim_encounter_id", "encounter_id"),)

    claim_id: str = Field(primary_key=True, max_length=36)
    encounter_id: str = Field(max_length=36)
    patient_id: str = Field(max_length=36)
    payer_id: str = Field(max_length=20)
    responsibility: str = Field(max_length=1)
    frequency: str = Field(max_length=1)
    total_charge: Decimal = Field(sa_column=_money())
    created_at: datetime = Field(sa_column=_timestamp())
    state: str = Field(max_length=20)
    submissions: int
    first_submitted_at: datetime | None = Field(default=None, sa_column=_optional_timestamp())
    scrub_failures: int
    rejections: int
    first_payment_id: str | None = Field(default=None, max_length=36)
    first_decided_at: datetime | None = Field(default=None, sa_column=_optional_timestamp())
    first_decision: str | None = Field(default=None, max_length=20)
    initial_denial_amount: Decimal = Field(sa_column=_money())
    initial_denial_category: str | None = Field(default=None, max_length=40)
    initial_denial_reasons: str = Field(sa_column=Column(Text, nullable=False))  # comma-separated GROUP-CARC
    denied_amount: Decimal = Field(sa_column=_money())  # what its latest denial denied
    closed_reason: str | None = Field(default=None, max_length=40)


class MovementRow(SQLModel, table=True):
    __tablename__ = "report_movement"
    __table_args__ = (Index("ix_report_movement_payment_id", "payment_id"),)

    event_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)
    occurred_at: datetime = Field(sa_column=_timestamp())
    kind: str = Field(max_length=20)
    amount: Decimal = Field(sa_column=_money())
    encounter_id: str | None = Field(default=None, max_length=36)
    claim_id: str | None = Field(default=None, max_length=36)
    account_id: str | None = Field(default=None, max_length=36)
    payment_id: str | None = Field(default=None, max_length=36)
    payer_id: str | None = Field(default=None, max_length=20)
    at_visit: bool


class HoldRow(SQLModel, table=True):
    __tablename__ = "report_denial_hold"

    event_id: str = Field(primary_key=True, max_length=36)
    line: str = Field(primary_key=True, max_length=30)  # "" for the claim as a whole
    payment_id: str = Field(max_length=36)
    claim_id: str = Field(max_length=36)
    amount: Decimal = Field(sa_column=_money())
    held_at: datetime = Field(sa_column=_timestamp())


class AnswerRow(SQLModel, table=True):
    __tablename__ = "report_payment_answer"

    payment_id: str = Field(primary_key=True, max_length=36)
    claim_id: str = Field(max_length=36)
    lines: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # comma-separated; None: whole
    answered_at: datetime = Field(sa_column=_timestamp())


class ResolutionRow(SQLModel, table=True):
    __tablename__ = "report_denial_resolution"

    event_id: str = Field(primary_key=True, max_length=36)
    payment_id: str = Field(max_length=36)
    kind: str = Field(max_length=30)
    amount: Decimal = Field(sa_column=_money())
    occurred_at: datetime = Field(sa_column=_timestamp())


class ReversalRow(SQLModel, table=True):
    __tablename__ = "report_payment_reversal"

    event_id: str = Field(primary_key=True, max_length=36)
    payment_id: str = Field(max_length=36)
    occurred_at: datetime = Field(sa_column=_timestamp())


class OpeningRow(SQLModel, table=True):
    __tablename__ = "report_claim_opening"

    event_id: str = Field(primary_key=True, max_length=36)
    claim_id: str = Field(max_length=36)
    occurred_at: datetime = Field(sa_column=_timestamp())
    open: bool
    reason: str = Field(max_length=40)


class AccountRow(SQLModel, table=True):
    __tablename__ = "report_account"

    account_id: str = Field(primary_key=True, max_length=36)
    insurance_pending: Decimal = Field(sa_column=_money())
    patient_due: Decimal = Field(sa_column=_money())
    credit: Decimal = Field(sa_column=_money())
    balance: Decimal = Field(sa_column=_money())
    placed: bool
    on_plan: bool
    plan_defaulted: bool
    statements: int


class WorkItemRow(SQLModel, table=True):
    """An item of a queue that is not a claim's state (see domain.workqueues.ITEM_QUEUES). `settled` stays once
    set, so an item settled by another topic's event stays settled whichever event is read first."""

    __tablename__ = "report_work_item"

    queue: str = Field(primary_key=True, max_length=30)
    item_key: str = Field(primary_key=True, max_length=36)
    open: bool
    settled: bool


class TimelineRow(SQLModel, table=True):
    """One event about a claim or its visit, in words that name no one, for a claim's history across services."""

    __tablename__ = "report_timeline_entry"
    __table_args__ = (
        Index("ix_report_timeline_entry_claim_id", "claim_id"),
        Index("ix_report_timeline_entry_encounter_id", "encounter_id"),
    )

    event_id: str = Field(primary_key=True, max_length=36)
    seq: int = Field(primary_key=True)  # an event about several visits (a payment applied to each) has a row each
    occurred_at: datetime = Field(sa_column=_timestamp())
    producer: str = Field(max_length=30)
    event_type: str = Field(max_length=80)
    claim_id: str | None = Field(default=None, max_length=36)
    encounter_id: str | None = Field(default=None, max_length=36)
    summary: str = Field(sa_column=Column(Text, nullable=False))


class PatientRow(SQLModel, table=True):
    """A registered patient, by id only: how many coverages registration added for them, and whether another
    record was merged into theirs (the merged one is not counted)."""

    __tablename__ = "report_patient"

    patient_id: str = Field(primary_key=True, max_length=36)
    registered_at: datetime | None = Field(default=None, sa_column=_optional_timestamp())
    coverages: int
    merged_away: bool
