"""The versions of the price lists the process keeps in memory (`rcm_common.reference`): replacing the
chargemaster or a payer's contract rates moves its version on, and every replica drops its copy.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_version",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reference_version")
