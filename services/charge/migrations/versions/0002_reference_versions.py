"""The versions of the price lists the process keeps in memory (`rcm_common.reference`): any change
of the chargemaster or the contract rates moves its version on, by a trigger, and every replica drops its copy.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from rcm_common.reference import create_reference_versions, drop_reference_versions

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


VERSIONED_TABLES = {"chargemaster_entry": "chargemaster", "contract_rate": "contract_rates"}
"""Each table, and the kind of reference data whose version its changes move on."""


def upgrade() -> None:
    create_reference_versions(VERSIONED_TABLES)


def downgrade() -> None:
    drop_reference_versions(VERSIONED_TABLES)
