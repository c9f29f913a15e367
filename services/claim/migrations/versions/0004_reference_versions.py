"""The versions of the directories the process keeps in memory (`rcm_common.reference`): any change
of a directory's table moves its version on, by a trigger, and every replica drops its copy.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from rcm_common.reference import create_reference_versions, drop_reference_versions

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


VERSIONED_TABLES = {"provider_directory": "provider_directory", "payer_profile": "payer_directory"}
"""Each table, and the kind of reference data whose version its changes move on."""


def upgrade() -> None:
    create_reference_versions(VERSIONED_TABLES)


def downgrade() -> None:
    drop_reference_versions(VERSIONED_TABLES)
