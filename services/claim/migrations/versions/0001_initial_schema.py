"""Initial schema of claim: none of its own tables yet; the platform's come with the revision it depends on.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "platform_0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
