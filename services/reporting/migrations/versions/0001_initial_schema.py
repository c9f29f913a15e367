"""Initial schema: the facts reporting keeps of the platform's events (visits, claims, the movements of the
receivables, denials held and answered, resolutions, reversals, claims' openings and closings, accounts, work
items, patients) and each claim's history.

The platform tables (outbox, inbox, audit log, idempotency records) are rcm_common's branch, which this
revision depends on.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "platform_0001"


def _id(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=36), nullable=nullable)


def _money(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Numeric(12, 2), nullable=False)


def _moment(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "report_visit",
        _id("encounter_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        _id("patient_id"),
        sa.Column("payer_id", sa.String(length=20), nullable=True),
        sa.Column("self_pay", sa.Boolean(), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        _moment("captured_at"),
        sa.Column("rendering_npi", sa.String(length=10), nullable=True),
        _money("total_charge"),
        sa.Column("procedure_codes", sa.Text(), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("encounter_id"),
    )
    op.create_table(
        "report_visit_version",
        _id("encounter_id"),
        sa.Column("version", sa.Integer(), nullable=False),
        _moment("occurred_at"),
        _id("patient_id"),
        sa.Column("self_pay", sa.Boolean(), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("encounter_id", "version"),
    )
    op.create_table(
        "report_claim",
        _id("claim_id"),
        _id("encounter_id"),
        _id("patient_id"),
        sa.Column("payer_id", sa.String(length=20), nullable=False),
        sa.Column("responsibility", sa.String(length=1), nullable=False),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        _money("total_charge"),
        _moment("created_at"),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        _moment("first_submitted_at", nullable=True),
        sa.Column("scrub_failures", sa.Integer(), nullable=False),
        sa.Column("rejections", sa.Integer(), nullable=False),
        _id("first_payment_id", nullable=True),
        _moment("first_decided_at", nullable=True),
        sa.Column("first_decision", sa.String(length=20), nullable=True),
        _money("initial_denial_amount"),
        sa.Column("initial_denial_category", sa.String(length=40), nullable=True),
        sa.Column("initial_denial_reasons", sa.Text(), nullable=False),
        _money("denied_amount"),
        sa.Column("closed_reason", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("claim_id"),
    )
    op.create_index("ix_report_claim_encounter_id", "report_claim", ["encounter_id"])
    op.create_table(
        "report_movement",
        _id("event_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _moment("occurred_at"),
        sa.Column("kind", sa.String(length=20), nullable=False),
        _money("amount"),
        _id("encounter_id", nullable=True),
        _id("claim_id", nullable=True),
        _id("account_id", nullable=True),
        _id("payment_id", nullable=True),
        sa.Column("payer_id", sa.String(length=20), nullable=True),
        sa.Column("at_visit", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "seq"),
    )
    op.create_index("ix_report_movement_payment_id", "report_movement", ["payment_id"])
    op.create_table(
        "report_denial_hold",
        _id("event_id"),
        sa.Column("line", sa.String(length=30), nullable=False),
        _id("payment_id"),
        _id("claim_id"),
        _money("amount"),
        _moment("held_at"),
        sa.PrimaryKeyConstraint("event_id", "line"),
    )
    op.create_table(
        "report_payment_answer",
        _id("payment_id"),
        _id("claim_id"),
        sa.Column("lines", sa.Text(), nullable=True),
        _moment("answered_at"),
        sa.PrimaryKeyConstraint("payment_id"),
    )
    op.create_table(
        "report_denial_resolution",
        _id("event_id"),
        _id("payment_id"),
        sa.Column("kind", sa.String(length=30), nullable=False),
        _money("amount"),
        _moment("occurred_at"),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "report_payment_reversal",
        _id("event_id"),
        _id("payment_id"),
        _moment("occurred_at"),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "report_claim_opening",
        _id("event_id"),
        _id("claim_id"),
        _moment("occurred_at"),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "report_account",
        _id("account_id"),
        *(_money(name) for name in ("insurance_pending", "patient_due", "credit", "balance")),
        sa.Column("placed", sa.Boolean(), nullable=False),
        sa.Column("on_plan", sa.Boolean(), nullable=False),
        sa.Column("plan_defaulted", sa.Boolean(), nullable=False),
        sa.Column("statements", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "report_work_item",
        sa.Column("queue", sa.String(length=30), nullable=False),
        _id("item_key"),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "item_key"),
    )
    op.create_table(
        "report_timeline_entry",
        _id("event_id"),
        sa.Column("seq", sa.Integer(), nullable=False),
        _moment("occurred_at"),
        sa.Column("producer", sa.String(length=30), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        _id("claim_id", nullable=True),
        _id("encounter_id", nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "seq"),
    )
    op.create_index("ix_report_timeline_entry_claim_id", "report_timeline_entry", ["claim_id"])
    op.create_index("ix_report_timeline_entry_encounter_id", "report_timeline_entry", ["encounter_id"])
    op.create_table(
        "report_patient",
        _id("patient_id"),
        _moment("registered_at", nullable=True),
        sa.Column("coverages", sa.Integer(), nullable=False),
        sa.Column("merged_away", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("patient_id"),
    )


def downgrade() -> None:
    for table in (
        "report_patient",
        "report_timeline_entry",
        "report_work_item",
        "report_account",
        "report_claim_opening",
        "report_payment_reversal",
        "report_denial_resolution",
        "report_payment_answer",
        "report_denial_hold",
        "report_movement",
        "report_claim",
        "report_visit_version",
        "report_visit",
    ):
        op.drop_table(table)
