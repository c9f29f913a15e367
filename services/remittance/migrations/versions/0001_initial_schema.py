"""Initial schema: remittance's claim copies, the 835 files as they came, the remittances (one per 835
transaction set) with their PLB adjustments, the claim payments, and the bank deposits.

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


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric(12, 2), nullable=False)


def upgrade() -> None:
    op.create_table(
        "claim_copy",
        sa.Column("claim_id", sa.String(length=36), nullable=False),
        sa.Column("patient_id", sa.String(length=36), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("coverage_id", sa.String(length=36), nullable=False),
        sa.Column("patient_control_number", sa.String(length=38), nullable=False),
        sa.Column("payer_claim_number", sa.String(length=50), nullable=True),
        sa.Column("replaces_payer_claim_number", sa.String(length=50), nullable=True),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        _money("total_charge"),
        sa.Column("lines_encrypted", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
        sa.UniqueConstraint("patient_control_number"),
    )
    op.create_index("ix_claim_copy_payer_claim_number", "claim_copy", ["payer_claim_number"])
    op.create_table(
        "remittance_file",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("remittance_ids", sa.Text(), nullable=False),
        sa.Column("content_encrypted", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_table(
        "remittance",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("file_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("payer_name", sa.String(length=60), nullable=False),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("interchange_control_number", sa.String(length=9), nullable=False),
        sa.Column("figures", sa.String(length=64), nullable=False),
        sa.Column("handling_code", sa.String(length=2), nullable=False),
        sa.Column("payment_method", sa.String(length=3), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        _money("total_paid"),
        sa.Column("credit_debit", sa.String(length=1), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        _money("provider_adjustment_total"),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("claims_done", sa.Integer(), nullable=False),
        sa.Column("posted", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("balance_problems", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=200), nullable=True),
        sa.Column("release_reason", sa.String(length=500), nullable=True),
        sa.Column("repeats_id", sa.String(length=36), nullable=True),
        sa.Column("failure", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "payer_id", "trace_number", "interchange_control_number", "figures", name="uq_remittance_key"
        ),
    )
    op.create_index("ix_remittance_file_id", "remittance", ["file_id"])
    op.create_index("ix_remittance_queue", "remittance", ["state", "received_at"])
    op.create_index("ix_remittance_trace", "remittance", ["payer_id", "trace_number"])
    op.create_table(
        "claim_payment",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("remittance_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("patient_control_number", sa.String(length=38), nullable=False),
        sa.Column("payer_claim_number", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        _money("charge"),
        _money("paid"),
        _money("patient_responsibility"),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("claim_id", sa.String(length=36), nullable=True),
        sa.Column("patient_id", sa.String(length=36), nullable=True),
        sa.Column("matched_by", sa.String(length=30), nullable=True),
        sa.Column("unmatched_reason", sa.String(length=300), nullable=True),
        sa.Column("candidates", sa.Text(), nullable=False),
        sa.Column("reverses_id", sa.String(length=36), nullable=True),
        sa.Column("reversed_by_id", sa.String(length=36), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posted_by", sa.String(length=200), nullable=True),
        sa.Column("detail_encrypted", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "payer_id",
            "trace_number",
            "patient_control_number",
            "payer_claim_number",
            "status",
            "occurrence",
            name="uq_claim_payment_key",
        ),
    )
    op.create_index("ix_claim_payment_remittance_id", "claim_payment", ["remittance_id"])
    op.create_index("ix_claim_payment_state", "claim_payment", ["state"])
    op.create_index("ix_claim_payment_claim_id", "claim_payment", ["claim_id"])
    op.create_index(
        "ix_claim_payment_reversible", "claim_payment", ["payer_id", "patient_control_number", "payer_claim_number"]
    )
    op.create_index("uq_claim_payment_reverses", "claim_payment", ["reverses_id"], unique=True)
    op.create_table(
        "provider_adjustment",
        sa.Column("remittance_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=2), nullable=False),
        sa.Column("reference", sa.String(length=50), nullable=False),
        _money("amount"),
        sa.Column("fiscal_period_date", sa.Date(), nullable=True),
        sa.Column("claim_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("remittance_id", "position"),
    )
    op.create_index("ix_provider_adjustment_claim_id", "provider_adjustment", ["claim_id"])
    op.create_table(
        "deposit",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("deposit_date", sa.Date(), nullable=False),
        _money("amount"),
        sa.Column("trace_number", sa.String(length=50), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trace_number", "deposit_date", "amount", name="uq_deposit_line"),
    )
    op.create_index("ix_deposit_deposit_date", "deposit", ["deposit_date"])
    op.create_index("ix_deposit_trace_number", "deposit", ["trace_number"])


def downgrade() -> None:
    op.drop_table("deposit")
    op.drop_table("provider_adjustment")
    op.drop_table("claim_payment")
    op.drop_table("remittance")
    op.drop_table("remittance_file")
    op.drop_table("claim_copy")
