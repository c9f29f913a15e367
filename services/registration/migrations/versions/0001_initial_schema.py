"""Initial schema: patients and coverages, the MRN counter.

The platform tables (outbox, inbox, audit log, idempotency records) are rcm_common's branch, which
this revision depends on.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:03:30.140758
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "platform_0001"


def upgrade() -> None:
    mrn_sequence = op.create_table(
        "mrn_sequence",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.bulk_insert(mrn_sequence, [{"name": "mrn", "value": 0}])
    op.create_table(
        "patient",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("mrn", sa.String(length=16), nullable=False),
        sa.Column("first_name", sa.String(length=35), nullable=False),
        sa.Column("middle_name", sa.String(length=25), nullable=True),
        sa.Column("last_name", sa.String(length=60), nullable=False),
        sa.Column("first_name_key", sa.String(length=35), nullable=False),
        sa.Column("last_name_key", sa.String(length=60), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("address_line1", sa.String(length=55), nullable=False),
        sa.Column("address_line2", sa.String(length=55), nullable=True),
        sa.Column("city", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=10), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("guarantor", sa.Text(), nullable=False),
        sa.Column("ssn_encrypted", sa.Text(), nullable=True),
        sa.Column("ssn_index", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("merged_into_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mrn"),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index("ix_patient_last_name_birth", ["last_name_key", "birth_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_patient_ssn_index"), ["ssn_index"], unique=False)
        batch_op.create_index(
            "uq_patient_identity",
            ["last_name_key", "first_name_key", "birth_date"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
    op.create_table(
        "coverage",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("payer_name", sa.String(length=60), nullable=False),
        sa.Column("member_id_encrypted", sa.Text(), nullable=False),
        sa.Column("policy_index", sa.String(length=64), nullable=False),
        sa.Column("group_number", sa.String(length=50), nullable=True),
        sa.Column("plan_type", sa.String(length=20), nullable=True),
        sa.Column("relationship", sa.String(length=10), nullable=False),
        sa.Column("subscriber", sa.Text(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("termination_date", sa.Date(), nullable=True),
        sa.Column("coverage_order", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("end_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coverage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coverage_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "uq_coverage_policy_holder",
            ["policy_index"],
            unique=True,
            sqlite_where=sa.text("status = 'active' AND relationship = 'self'"),
            postgresql_where=sa.text("status = 'active' AND relationship = 'self'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("coverage", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_coverage_policy_holder",
            sqlite_where=sa.text("status = 'active' AND relationship = 'self'"),
            postgresql_where=sa.text("status = 'active' AND relationship = 'self'"),
        )
        batch_op.drop_index(batch_op.f("ix_coverage_patient_id"))
    op.drop_table("coverage")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_patient_identity",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_patient_ssn_index"))
        batch_op.drop_index("ix_patient_last_name_birth")
    op.drop_table("patient")
    op.drop_table("mrn_sequence")
