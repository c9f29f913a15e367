"""Registration's tables. SSN and member id are stored only as AES-GCM ciphertext, found through HMAC
blind-index columns; partial unique indexes back the duplicate rules under concurrent requests."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, String, Text, text
from sqlmodel import Field, SQLModel

_ACTIVE = text("status = 'active'")
_ACTIVE_HOLDER = text("status = 'active' AND relationship = 'self'")


class PatientRow(SQLModel, table=True):
    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_last_name_birth", "last_name_key", "birth_date"),
        Index(
            "uq_patient_identity",
            "last_name_key",
            "first_name_key",
            "birth_date",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    mrn: str = Field(max_length=16, unique=True)
    first_name: str = Field(max_length=35)
    middle_name: str | None = Field(default=None, max_length=25)
    last_name: str = Field(max_length=60)
    first_name_key: str = Field(max_length=35)
    last_name_key: str = Field(max_length=60)
    birth_date: date
    sex: str = Field(max_length=1)
    address_line1: str = Field(max_length=55)
    address_line2: str | None = Field(default=None, max_length=55)
    city: str = Field(max_length=30)
    state: str = Field(max_length=2)
    postal_code: str = Field(max_length=10)
    phone: str | None = Field(default=None, max_length=10)
    email: str | None = Field(default=None, max_length=254)
    guarantor: str = Field(sa_column=Column(Text, nullable=False))
    ssn_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    ssn_index: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(max_length=10)
    merged_into_id: str | None = Field(default=None, max_length=36)
    version: int
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CoverageRow(SQLModel, table=True):
    __tablename__ = "coverage"
    __table_args__ = (
        Index(
            "uq_coverage_policy_holder",
            "policy_index",
            unique=True,
            sqlite_where=_ACTIVE_HOLDER,
            postgresql_where=_ACTIVE_HOLDER,
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(sa_column=Column(String(36), ForeignKey("patient.id"), nullable=False, index=True))
    payer_id: str = Field(max_length=80)
    payer_name: str = Field(max_length=60)
    member_id_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    policy_index: str = Field(max_length=64)
    group_number: str | None = Field(default=None, max_length=50)
    plan_type: str | None = Field(default=None, max_length=20)
    relationship: str = Field(max_length=10)
    subscriber: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    effective_date: date
    termination_date: date | None = None
    coverage_order: str = Field(max_length=10)
    status: str = Field(max_length=10)
    end_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class MrnSequence(SQLModel, table=True):
    """The last medical record number handed out; one row, bumped inside the registering transaction."""

    __tablename__ = "mrn_sequence"

    name: str = Field(primary_key=True, max_length=20)
    value: int
