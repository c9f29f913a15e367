"""Charge's tables. An encounter's coding (its diagnoses say what the patient has) and an imported claim's
patient are stored as AES-GCM ciphertext bound to their row; birth dates too. Member ids are never stored:
a keyed hash (blind index) is enough to match an imported claim to a registered coverage."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text
from sqlmodel import Field, SQLModel

from rcm_common.db import UtcDateTime


def _timestamp(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


def _money() -> Column[Decimal]:
    return Column(Numeric(12, 2), nullable=False)


class PatientFactsRow(SQLModel, table=True):
    __tablename__ = "patient_facts"

    patient_id: str = Field(primary_key=True, max_length=36)
    sex: str = Field(max_length=1)
    birth_date_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    merged_into_id: str | None = Field(default=None, max_length=36)
    updated_at: datetime = Field(sa_column=_timestamp())


class CoverageFactsRow(SQLModel, table=True):
    __tablename__ = "coverage_facts"
    __table_args__ = (Index("ix_coverage_facts_payer_member", "payer_id", "member_index"),)

    coverage_id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36, index=True)
    payer_id: str = Field(max_length=80)
    member_index: str = Field(max_length=64)
    effective_date: date
    termination_date: date | None = None
    updated_at: datetime = Field(sa_column=_timestamp())


class EncounterRow(SQLModel, table=True):
    __tablename__ = "encounter"

    id: str = Field(primary_key=True, max_length=36)
    patient_id: str | None = Field(default=None, max_length=36, index=True)
    coverage_id: str | None = Field(default=None, max_length=36)
    status: str = Field(max_length=10, index=True)
    version: int
    date_of_service: date
    revision: int
    source_kind: str = Field(max_length=10)
    import_id: str | None = Field(default=None, max_length=36, index=True)
    # An imported claim's natural key as a keyed hash: a claim sent again in another file is not taken twice.
    source_key: str | None = Field(default=None, max_length=64, unique=True)
    content_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_timestamp())
    updated_at: datetime = Field(sa_column=_timestamp())


class ReviewItemRow(SQLModel, table=True):
    __tablename__ = "review_item"
    __table_args__ = (Index("ix_review_item_open", "resolved_at", "opened_at"),)

    id: str = Field(primary_key=True, max_length=36)
    encounter_id: str = Field(max_length=36, index=True)
    issue_codes: str = Field(max_length=2000)  # ",CODE,CODE," for filtering the queue by an exact code
    issues_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    opened_at: datetime = Field(sa_column=_timestamp())
    resolved_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    resolved_by: str | None = Field(default=None, max_length=200)
    decision: str | None = Field(default=None, max_length=10)
    note_encrypted: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ChargemasterRow(SQLModel, table=True):
    __tablename__ = "chargemaster_entry"

    code: str = Field(primary_key=True, max_length=5)
    modifier: str = Field(primary_key=True, max_length=2)  # "" for every modifier
    location: str = Field(primary_key=True, max_length=20)  # "" for every location
    charge: Decimal = Field(sa_column=_money())
    description: str = Field(default="", max_length=200)
    updated_at: datetime = Field(sa_column=_timestamp())


class ContractRateRow(SQLModel, table=True):
    __tablename__ = "contract_rate"

    payer_id: str = Field(primary_key=True, max_length=80)
    code: str = Field(primary_key=True, max_length=5)
    modifier: str = Field(primary_key=True, max_length=2)  # "" for every modifier
    allowed: Decimal = Field(sa_column=_money())
    updated_at: datetime = Field(sa_column=_timestamp())


class ImportRow(SQLModel, table=True):
    """One 837P file read into encounters; the same file (by its SHA-256) is read once."""

    __tablename__ = "claim_import"

    id: str = Field(primary_key=True, max_length=36)
    file_sha256: str = Field(max_length=64, unique=True)
    report_json: str = Field(sa_column=Column(Text, nullable=False))  # counts and codes: no PHI
    imported_by: str = Field(max_length=200)
    imported_at: datetime = Field(sa_column=_timestamp())
