"""Charge's migrations build exactly the schema its models declare, on SQLite and PostgreSQL, and downgrade
cleanly to nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm_charge.entrypoints.app import CHARGE_APP
from rcm_common.migrations import PLATFORM_TABLE_NAMES
from rcm_common.testing import check_migrations

OWNED_TABLES = frozenset(
    {
        "patient_facts",
        "coverage_facts",
        "encounter",
        "review_item",
        "chargemaster_entry",
        "contract_rate",
        "claim_import",
        "reference_version",
    }
    | PLATFORM_TABLE_NAMES
)


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> str:
    return database_url or f"sqlite+aiosqlite:///{tmp_path / 'charge.db'}"


async def test_upgrade_head_matches_the_models_and_downgrades_to_nothing(fresh_url: str) -> None:
    await check_migrations(CHARGE_APP.migrations, fresh_url, OWNED_TABLES)
