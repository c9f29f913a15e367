"""Claim's tables (SQLModel); the migrations in `migrations/versions` build exactly these.

What names or describes a patient (demographics, member ids, subscribers, a claim's diagnoses and lines,
an authorisation's number) is stored as AES-GCM ciphertext bound to its table, row and column. Columns a
query filters on (states, payers, dates of service, the rules that hold a claim) stay in the clear and say
nothing about who the patient is. The directories hold the practice's providers and its payers: public
identifiers (NPIs, tax ids, payer ids), not PHI.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from rcm_common.db import UtcDateTime


def _timestamp(*, nullable: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable)


def _encrypted(*, nullable: bool = False) -> Column[str]:
    return Column(Text, nullable=nullable)


class PatientCopyRow(SQLModel, table=True):
    __tablename__ = "patient_demographics"

    patient_id: str = Field(primary_key=True, max_length=36)
    content_encrypted: str = Field(sa_column=_encrypted())  # names, birth date, sex, address
    merged_into_id: str | None = Field(default=None, max_length=36)
    updated_at: datetime = Field(sa_column=_timestamp())


class CoverageCopyRow(SQLModel, table=True):
    __tablename__ = "coverage_membership"

    coverage_id: str = Field(primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36, index=True)
    payer_id: str = Field(max_length=80)
    coverage_order: str = Field(max_length=10)
    relationship: str = Field(max_length=10)
    effective_date: date
    termination_date: date | None = None
    content_encrypted: str = Field(sa_column=_encrypted())  # member id and subscriber
    updated_at: datetime = Field(sa_column=_timestamp())


class EligibilityAnswerRow(SQLModel, table=True):
    """The latest eligibility answer per coverage: what the payer said and when, nothing about the person."""

    __tablename__ = "eligibility_answer"

    coverage_id: str = Field(primary_key=True, max_length=36)
    status: str = Field(max_length=10)
    checked_at: datetime = Field(sa_column=_timestamp())
    date_of_service: date
    plan_begin: date | None = None
    plan_end: date | None = None
    reject_codes: str = Field(default="", max_length=100)  # ",75," the AAA03 codes of a refusal


class AuthorizationRow(SQLModel, table=True):
    __tablename__ = "authorization_on_file"

    authorization_id: str = Field(primary_key=True, max_length=36)
    coverage_id: str = Field(max_length=36, index=True)
    number_encrypted: str = Field(sa_column=_encrypted())
    procedure_codes: str = Field(max_length=2000)  # ",CODE,CODE,"
    start_date: date
    end_date: date
    units_authorized: int


class ClaimRow(SQLModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (Index("ix_claim_queue", "state", "state_since"),)

    id: str = Field(primary_key=True, max_length=36)
    encounter_id: str = Field(max_length=36, index=True)
    encounter_version: int
    patient_id: str = Field(max_length=36, index=True)
    coverage_id: str = Field(max_length=36)
    payer_id: str = Field(max_length=80, index=True)
    state: str = Field(max_length=16)  # "partially_paid" the longest
    state_since: datetime = Field(sa_column=_timestamp())
    date_of_service: date = Field(index=True)
    patient_control_number: str = Field(max_length=20, unique=True)
    frequency: str = Field(max_length=1)
    payer_claim_number: str | None = Field(default=None, max_length=50)
    batch_id: str | None = Field(default=None, max_length=36, index=True)
    waits_for: str | None = Field(default=None, max_length=36, index=True)  # the claim whose answer it waits for
    status_checked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))  # the last 276
    held: bool  # kept out of batches: held, or waiting for the payer's answer to another claim
    blocking_rules: str = Field(default="", max_length=2000)  # ",RULE,RULE," for the scrub queue's filter
    rejection_codes: str = Field(default="", max_length=2000)  # ",A3:33," for the rejection queue's filter
    denial_category: str | None = Field(default=None, max_length=40, index=True)  # an open denial's, for its queue
    denied_on: date | None = None  # when that denial was posted: its appeal window runs from it
    revision: int
    content_encrypted: str = Field(sa_column=_encrypted())  # diagnoses, lines, providers, scrub, timeline
    created_at: datetime = Field(sa_column=_timestamp())


class BatchRow(SQLModel, table=True):
    """An 837P interchange as built: its claims (ids), its interchange control number, and its X12 encrypted."""

    __tablename__ = "claim_batch"

    id: str = Field(primary_key=True, max_length=36)
    payer_id: str = Field(max_length=80)
    interchange_control_number: int = Field(index=True)  # unique but for a wrap after nine digits
    state: str = Field(max_length=12, index=True)
    claim_ids: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of ids: no PHI
    x12_encrypted: str = Field(sa_column=_encrypted())
    built_at: datetime = Field(sa_column=_timestamp())
    sent_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    attempts: int
    answered_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    acknowledgment_encrypted: str | None = Field(default=None, sa_column=_encrypted(nullable=True))  # the 999


class AcknowledgmentFileRow(SQLModel, table=True):
    """A 277CA taken from the clearinghouse's mailbox, known by its content's SHA-256 so that the same file
    picked up again changes nothing; its X12 encrypted (it names patients)."""

    __tablename__ = "acknowledgment_file"

    digest: str = Field(primary_key=True, max_length=64)
    mailbox_file_id: str = Field(max_length=100)
    payer_id: str = Field(max_length=80)
    claims: int  # how many claims it answered
    content_encrypted: str = Field(sa_column=_encrypted())
    received_at: datetime = Field(sa_column=_timestamp())


class ProviderDirectoryRow(SQLModel, table=True):
    """The practice's provider directory: one document, replaced whole."""

    __tablename__ = "provider_directory"

    id: int = Field(primary_key=True)
    document: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(sa_column=_timestamp())


class PayerProfileRow(SQLModel, table=True):
    __tablename__ = "payer_profile"

    payer_id: str = Field(primary_key=True, max_length=80)
    name: str = Field(max_length=200)
    filing_indicator: str = Field(max_length=2)
    timely_filing_days: int
    follow_up_days: int
    batch_size: int
    batch_interval_seconds: int
    eligibility_max_age_days: int
    prior_authorization_codes: str = Field(max_length=4000)  # ",CODE,CODE,"
    appeal_days: int | None = None  # the payer's appeal window after a denial
    appeals_address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON: an Address
    updated_at: datetime = Field(sa_column=_timestamp())


class DecidedServiceRow(SQLModel, table=True):
    """A claim line as a payer's payment decided it (paid or denied), the denial-risk warning's history: what was
    billed and why it was denied (the procedure code and modifiers, the diagnosis category, the reasons) is
    ciphertext, since a code tells a patient's condition; the payer, the day and the verdict are in the clear for
    the window's query."""

    __tablename__ = "decided_service"
    __table_args__ = (Index("ix_decided_service_payer", "payer_id", "decided_on"),)

    payment_id: str = Field(primary_key=True, max_length=36)
    line_number: int = Field(primary_key=True)
    claim_id: str = Field(max_length=36, index=True)
    payer_id: str = Field(max_length=80)
    decided_on: date
    denied: bool
    content_encrypted: str = Field(sa_column=_encrypted())  # procedure code, modifiers, diagnosis category, reasons
