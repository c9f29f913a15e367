"""Initial schema: eligibility's copies of patients and coverages, checks, prior authorisations,
appointments, allowed amounts, the 270 control number.

The platform tables (outbox, inbox, audit log, idempotency records) are rcm_common's branch, which
this revision depends on.

Revision ID: 0001
Revises:
Create Date: 2026-12-03 08:12:22.212396
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
        "allowed_amount",
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("procedure_code", sa.String(length=5), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("payer_id", "procedure_code"),
    )
    op.create_table(
        "appointment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("service_type", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("check_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index("ix_appointment_due", ["status", "date_of_service"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_patient_id"), ["patient_id"], unique=False)
    control_number = op.create_table(
        "control_number",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(control_number, [{"name": "270", "value": 0}])
    op.create_table(
        "coverage_copy",
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("payer_name", sa.String(length=60), nullable=False),
        sa.Column("member_encrypted", sa.Text(), nullable=False),
        sa.Column("group_number", sa.String(length=50), nullable=True),
        sa.Column("plan_type", sa.String(length=20), nullable=True),
        sa.Column("relationship", sa.String(length=10), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("coverage_order", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("coverage_id"),
    )
    with op.batch_alter_table("coverage_copy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverage_copy_patient_id"), ["patient_id"], unique=False)
    op.create_table(
        "eligibility_check",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("date_of_service", sa.Date(), nullable=False),
        sa.Column("service_type", sa.String(length=2), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("benefits", sa.Text(), nullable=True),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("response_271_encrypted", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("eligibility_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_eligibility_check_coverage_id"), ["coverage_id"], unique=False)
        batch_op.create_index("ix_eligibility_check_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_eligibility_check_patient_id"), ["patient_id"], unique=False)
    op.create_table(
        "patient_copy",
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("person_encrypted", sa.Text(), nullable=False),
        sa.Column("merged_into_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("patient_id"),
    )
    op.create_table(
        "prior_authorization",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=50), nullable=False),
        sa.Column("procedure_codes", sa.Text(), nullable=False),
        sa.Column("service_type", sa.String(length=2), nullable=True),
        sa.Column("units_authorized", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("uses", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("prior_authorization", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prior_authorization_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("uq_prior_authorization_number", ["payer_id", "number"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("prior_authorization", schema=None) as batch_op:
        batch_op.drop_index("uq_prior_authorization_number")
        batch_op.drop_index(batch_op.f("ix_prior_authorization_patient_id"))
    op.drop_table("prior_authorization")
    op.drop_table("patient_copy")
    with op.batch_alter_table("eligibility_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_eligibility_check_patient_id"))
        batch_op.drop_index("ix_eligibility_check_due")
        batch_op.drop_index(batch_op.f("ix_eligibility_check_coverage_id"))
    op.drop_table("eligibility_check")
    with op.batch_alter_table("coverage_copy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coverage_copy_patient_id"))
    op.drop_table("coverage_copy")
    op.drop_table("control_number")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_patient_id"))
        batch_op.drop_index("ix_appointment_due")
    op.drop_table("appointment")
    op.drop_table("allowed_amount")
