"""Initial schema: the guarantor accounts with their hash-chained ledgers, the directories that lead a
patient's, a visit's and a claim's events to their account, the statements, and the events parked until what
they need arrives.

The platform tables (outbox, inbox, audit log, idempotency records) are rcm_common's branch, which this
revision depends on.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "platform_0001"

_TERMS = (
    "insurance_pending",
    "patient_due",
    "credit",
    "balance",
    "charges",
    "insurance_payments",
    "adjustments",
    "patient_payments",
    "write_offs",
    "refunds",
)


def upgrade() -> None:
    op.create_table(
        "guarantor_account",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("guarantor_digest", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        *(sa.Column(name, sa.Numeric(12, 2), nullable=False) for name in _TERMS),
        sa.Column("oldest_due_on", sa.Date(), nullable=True),
        sa.Column("last_statement_on", sa.Date(), nullable=True),
        sa.Column("open_requests", sa.Integer(), nullable=False),
        sa.Column("tip_seq", sa.Integer(), nullable=False),
        sa.Column("tip_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("guarantor_digest"),
    )
    op.create_index("ix_guarantor_account_state_due", "guarantor_account", ["state", "patient_due"])
    op.create_table(
        "ledger_entry",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "seq"),
    )
    op.create_table(
        "patient_account",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_index("ix_patient_account_account_id", "patient_account", ["account_id"])
    op.create_table(
        "encounter_account",
        sa.Column("encounter_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("encounter_id"),
    )
    op.create_table(
        "claim_encounter",
        sa.Column("claim_id", sa.String(length=36), nullable=False),
        sa.Column("encounter_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    op.create_table(
        "account_item",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_account_item_kind", "account_item", ["kind", "account_id"])
    op.create_table(
        "statement",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("amount_due", sa.Numeric(12, 2), nullable=False),
        sa.Column("dunning_level", sa.Integer(), nullable=True),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_statement_account_id", "statement", ["account_id"])
    op.create_index("ix_statement_issued_on", "statement", ["issued_on"])
    op.create_table(
        "parked_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("waits_for", sa.String(length=80), nullable=False),
        sa.Column("event_type", sa.String(length=120), nullable=False),
        sa.Column("event_version", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=200), nullable=False),
        sa.Column("payload_encrypted", sa.Text(), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_parked_event_waits_for", "parked_event", ["waits_for"])


def downgrade() -> None:
    for table in (
        "parked_event",
        "statement",
        "account_item",
        "claim_encounter",
        "encounter_account",
        "patient_account",
    ):
        op.drop_table(table)
    op.drop_table("ledger_entry")
    op.drop_table("guarantor_account")
