"""Initial schema: charge's copies of patients and coverages, encounters, the coding review queue, the
chargemaster, contract rates, 837P imports.

The platform tables (outbox, inbox, audit log, idempotency records) are rcm_common's branch, which
this revision depends on.

Revision ID: 0001
Revises:
Create Date: 2026-12-03 11:46:32.189032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "platform_0001"


def upgrade() -> None:
    op.create_table(
        "chargemaster_entry",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("modifier", sa.String(length=2), nullable=False),
        sa.Column("location", sa.String(length=20), nullable=False),
        sa.Column("charge", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", "modifier", "location"),
    )
    op.create_table(
        "claim_import",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.Column("imported_by", sa.String(length=200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_sha256"),
    )
    op.create_table(
        "contract_rate",
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("modifier", sa.String(length=2), nullable=False),
        sa.Column("allowed", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payer_id", "code", "modifier"),
    )
    op.create_table(
        "coverage_facts",
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("member_index", sa.String(length=64), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("coverage_id"),
    )
    with op.batch_alter_table("coverage_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverage_facts_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_coverage_facts_payer_member", ["payer_id", "member_index"], unique=False)
    op.create_table(
        "encounter",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.Column("coverage_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("source_kind", sa.String(length=10), nullable=False),
        sa.Column("import_id", sa.String(length=36), nullable=True),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_encounter_import_id"), ["import_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_encounter_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_encounter_status"), ["status"], unique=False)
    op.create_table(
        "patient_facts",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date_encrypted", sa.Text(), nullable=False),
        sa.Column("merged_into_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_table(
        "review_item",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("encounter_id", sa.String(length=36), nullable=False),
        sa.Column("issue_codes", sa.String(length=2000), nullable=False),
        sa.Column("issues_encrypted", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("note_encrypted", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_item_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index("ix_review_item_open", ["resolved_at", "opened_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_index("ix_review_item_open")
        batch_op.drop_index(batch_op.f("ix_review_item_encounter_id"))
    op.drop_table("review_item")
    op.drop_table("patient_facts")
    with op.batch_alter_table("encounter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounter_status"))
        batch_op.drop_index(batch_op.f("ix_encounter_patient_id"))
        batch_op.drop_index(batch_op.f("ix_encounter_import_id"))
    op.drop_table("encounter")
    with op.batch_alter_table("coverage_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_coverage_facts_payer_member")
        batch_op.drop_index(batch_op.f("ix_coverage_facts_patient_id"))
    op.drop_table("coverage_facts")
    op.drop_table("contract_rate")
    op.drop_table("claim_import")
    op.drop_table("chargemaster_entry")
