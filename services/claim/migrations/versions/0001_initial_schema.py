"""Initial schema: claim's copies of patients, coverages, eligibility answers and prior authorisations,
its claims and their batches with the interchange control numbers, the 277CA files taken, and the provider and
payer directories.

The platform tables (outbox, inbox, audit log, idempotency records, merge ledger) are rcm_common's branch,
which this revision depends on.

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


def upgrade() -> None:
    op.create_table(
        "patient_demographics",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.Column("merged_into_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_table(
        "coverage_membership",
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("coverage_order", sa.String(length=10), nullable=False),
        sa.Column("relationship", sa.String(length=10), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("coverage_id"),
    )
    op.create_index("ix_coverage_membership_patient_id", "coverage_membership", ["patient_id"])
    op.create_table(
        "eligibility_answer",
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("plan_begin", sa.Date(), nullable=True),
        sa.Column("plan_end", sa.Date(), nullable=True),
        sa.Column("reject_codes", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("coverage_id"),
    )
    op.create_table(
        "authorization_on_file",
        sa.Column("authorization_id", sa.String(length=36), nullable=False),
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("number_encrypted", sa.Text(), nullable=False),
        sa.Column("procedure_codes", sa.String(length=2000), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("units_authorized", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("authorization_id"),
    )
    op.create_index("ix_authorization_on_file_coverage_id", "authorization_on_file", ["coverage_id"])
    op.create_table(
        "claim",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("encounter_id", sa.String(length=36), nullable=False),
        sa.Column("encounter_version", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("patient_control_number", sa.String(length=20), nullable=False),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("payer_claim_number", sa.String(length=50), nullable=True),
        sa.Column("batch_id", sa.String(length=36), nullable=True),
        sa.Column("waits_for", sa.String(length=36), nullable=True),
        sa.Column("status_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("blocking_rules", sa.String(length=2000), nullable=False),
        sa.Column("rejection_codes", sa.String(length=2000), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("patient_control_number"),
    )
    op.create_index("ix_claim_encounter_id", "claim", ["encounter_id"])
    op.create_index("ix_claim_patient_id", "claim", ["patient_id"])
    op.create_index("ix_claim_payer_id", "claim", ["payer_id"])
    op.create_index("ix_claim_date_of_service", "claim", ["date_of_service"])
    op.create_index("ix_claim_queue", "claim", ["state", "state_since"])
    op.create_index("ix_claim_batch_id", "claim", ["batch_id"])
    op.create_index("ix_claim_waits_for", "claim", ["waits_for"])
    op.create_table(
        "claim_batch",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("interchange_control_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("claim_ids", sa.Text(), nullable=False),
        sa.Column("x12_encrypted", sa.Text(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledgment_encrypted", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_claim_batch_state", "claim_batch", ["state"])
    op.create_index("ix_claim_batch_interchange_control_number", "claim_batch", ["interchange_control_number"])
    control_number = op.create_table(
        "control_number",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    # The interchanges' sequence (rcm_common.control_numbers), there before any two builders race for it.
    op.bulk_insert(control_number, [{"name": "ISA13", "value": 0}])
    op.create_table(
        "acknowledgment_file",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("mailbox_file_id", sa.String(length=100), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_table(
        "provider_directory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "payer_profile",
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filing_indicator", sa.String(length=2), nullable=False),
        sa.Column("timely_filing_days", sa.Integer(), nullable=False),
        sa.Column("follow_up_days", sa.Integer(), nullable=False),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("batch_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("eligibility_max_age_days", sa.Integer(), nullable=False),
        sa.Column("prior_authorization_codes", sa.String(length=4000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payer_id"),
    )


def downgrade() -> None:
    for table in (
        "payer_profile",
        "provider_directory",
        "acknowledgment_file",
        "control_number",
        "claim_batch",
        "claim",
        "authorization_on_file",
        "eligibility_answer",
        "coverage_membership",
        "patient_demographics",
    ):
        op.drop_table(table)
