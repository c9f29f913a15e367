"""The claim's state holds the states after the payer's answer (paid, partially_paid, denied, closed): the
column grows from 12 characters to 16.

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
    with op.batch_alter_table("claim") as claim:
        claim.alter_column("state", existing_type=sa.String(length=12), type_=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("claim") as claim:
        claim.alter_column("state", existing_type=sa.String(length=16), type_=sa.String(length=12), nullable=False)
