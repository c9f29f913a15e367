"""Denial work: an open denial's category and date on the claim (the denial queue's filter and its appeal
window), each payer's appeal window and appeals address, and the decided services the denial-risk warning
reads.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("claim") as claim:
        claim.add_column(sa.Column("denial_category", sa.String(length=40), nullable=True))
        claim.add_column(sa.Column("denied_on", sa.Date(), nullable=True))
        claim.create_index("ix_claim_denial_category", ["denial_category"])
    with op.batch_alter_table("payer_profile") as payer:
        payer.add_column(sa.Column("appeal_days", sa.Integer(), nullable=True))
        payer.add_column(sa.Column("appeals_address", sa.Text(), nullable=True))
    op.create_table(
        "decided_service",
        sa.Column("payment_id", sa.String(length=36), primary_key=True),
        sa.Column("line_number", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("denied", sa.Boolean(), nullable=False),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
    )
    op.create_index("ix_decided_service_claim_id", "decided_service", ["claim_id"])
    op.create_index("ix_decided_service_payer", "decided_service", ["payer_id", "decided_on"])


def downgrade() -> None:
    op.drop_table("decided_service")
    with op.batch_alter_table("payer_profile") as payer:
        payer.drop_column("appeals_address")
        payer.drop_column("appeal_days")
    with op.batch_alter_table("claim") as claim:
        claim.drop_index("ix_claim_denial_category")
        claim.drop_column("denied_on")
        claim.drop_column("denial_category")
