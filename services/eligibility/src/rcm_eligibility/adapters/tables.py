"""Eligibility's tables. What names a person (demographics, member ids, the raw 271) is stored only as
AES-GCM ciphertext bound to its row and column; eligibility never searches by it, so it needs no index."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text
from sqlmodel import Field, SQLModel

from rcm_common.db import UtcDateTime


def _timestamp(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class PatientCopyRow(SQLModel, table=True):
    __tablename__ = "patient_copy"

    patient_id: str = Field(primary_key=True, max_length=36)
    person_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    merged_into_id: str | None = Field(default=None, max_length=36)
    updated_at: datetime = Field(sa_column=_timestamp())


class CoverageCopyRow(SQLModel, table=True):
    __tablename__ = "coverage_copy"

    coverage_id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36, index=True)
    payer_id: str = Field(max_length=80)
    payer_name: str = Field(max_length=60)
    member_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    group_number: str | None = Field(default=None, max_length=50)
    plan_type: str | None = Field(default=None, max_length=20)
    relationship: str = Field(max_length=10)
    effective_date: date
    termination_date: date | None = None
    coverage_order: str = Field(max_length=10)
    updated_at: datetime = Field(sa_column=_timestamp())


class EligibilityCheckRow(SQLModel, table=True):
    __tablename__ = "eligibility_check"
    __table_args__ = (Index("ix_eligibility_check_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36, index=True)
    coverage_id: str = Field(max_length=36, index=True)
    payer_id: str = Field(max_length=80)
    date_of_service: date
    service_type: str = Field(max_length=2)
    trigger: str = Field(max_length=20)
    status: str = Field(max_length=10)
    attempts: int
    next_attempt_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    created_at: datetime = Field(sa_column=_timestamp())
    completed_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    benefits: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    failure: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_271_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class PriorAuthorizationRow(SQLModel, table=True):
    __tablename__ = "prior_authorization"
    __table_args__ = (Index("uq_prior_authorization_number", "payer_id", "number", unique=True),)

    id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36, index=True)
    coverage_id: str = Field(max_length=36)
    payer_id: str = Field(max_length=80)
    number: str = Field(max_length=50)
    procedure_codes: str = Field(sa_column=Column(Text, nullable=False))
    service_type: str | None = Field(default=None, max_length=2)
    units_authorized: int
    start_date: date
    end_date: date
    uses: str = Field(sa_column=Column(Text, nullable=False))
    recorded_at: datetime = Field(sa_column=_timestamp())
    version: int


class AppointmentRow(SQLModel, table=True):
    __tablename__ = "appointment"
    __table_args__ = (Index("ix_appointment_due", "status", "date_of_service"),)

    id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36, index=True)
    coverage_id: str = Field(max_length=36)
    date_of_service: date
    service_type: str = Field(max_length=2)
    status: str = Field(max_length=10)
    check_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(sa_column=_timestamp())


class AllowedAmountRow(SQLModel, table=True):
    """A payer's expected allowed amount for a procedure code, as the practice's contract states it."""

    __tablename__ = "allowed_amount"

    payer_id: str = Field(primary_key=True, max_length=80)
    procedure_code: str = Field(primary_key=True, max_length=5)
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    updated_at: datetime = Field(sa_column=_timestamp())
