"""Charge's migrations build exactly the schema its models declare, on SQLite and PostgreSQL, and downgrade
cleanly to nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlmodel import SQLModel

from rcm_charge.entrypoints.app import SOURCE_MIGRATIONS
from rcm_common.migrations import alembic_config, upgrade_to_head
from rcm_common.schema_check import schema_differences, schema_snapshot

OWNED_TABLES = frozenset(
    {
        "patient_facts",
        "coverage_facts",
        "encounter",
        "review_item",
        "chargemaster_entry",
        "contract_rate",
        "claim_import",
        "outbox",
        "inbox",
        "audit_log",
        "idempotency_record",
    }
)


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> str:
    return database_url or f"sqlite+aiosqlite:///{tmp_path / 'charge.db'}"


async def test_upgrade_head_matches_the_models_and_downgrades_to_nothing(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, SOURCE_MIGRATIONS, fresh_url)
    assert await schema_differences(fresh_url, SQLModel.metadata, OWNED_TABLES) == []
    assert (await schema_snapshot(fresh_url))["tables"] == sorted([*OWNED_TABLES, "alembic_version"])
    await asyncio.to_thread(upgrade_to_head, SOURCE_MIGRATIONS, fresh_url)  # again: a no-op

    await asyncio.to_thread(command.downgrade, alembic_config(SOURCE_MIGRATIONS, fresh_url), "base")
    assert (await schema_snapshot(fresh_url))["tables"] == ["alembic_version"]
