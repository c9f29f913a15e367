"""The registration replica's merge ledger: the merges a service has read and the coverages they moved.

Revision ID: platform_0002
Revises: platform_0001
Create Date: 2026-12-06 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "platform_0002"
down_revision: str | None = "platform_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replica_merge",
        sa.Column("merged_patient_id", sa.String(length=36), nullable=False),
        sa.Column("surviving_patient_id", sa.String(length=36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("merged_patient_id"),
    )
    op.create_table(
        "replica_moved_coverage",
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("surviving_patient_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("coverage_id"),
    )


def downgrade() -> None:
    op.drop_table("replica_moved_coverage")
    op.drop_table("replica_merge")
