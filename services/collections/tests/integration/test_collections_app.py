"""Collections runs on the kernel: its migrations build its tables and the platform's and downgrade to nothing, and the
app starts over its database, answers its health checks and says it is not ready without a broker."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from rcm_collections.config import CollectionsSettings
from rcm_collections.entrypoints.app import COLLECTIONS_APP, create_app
from rcm_common.migrations import PLATFORM_TABLE_NAMES
from rcm_common.testing import check_migrations, serving

OWNED_TABLES = (
    frozenset(
        {
            "guarantor_account",
            "ledger_entry",
            "patient_account",
            "encounter_account",
            "claim_encounter",
            "account_item",
            "statement",
            "parked_event",
        }
    )
    | PLATFORM_TABLE_NAMES
)


async def test_migrations_build_the_declared_schema_and_downgrade_to_nothing(database_url: str, tmp_path: Path) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'collections.db'}"
    await check_migrations(COLLECTIONS_APP.migrations, url, OWNED_TABLES)


async def test_the_app_starts_and_answers_its_health_checks(
    database_url: str, signing_keys: tuple[str, str], tmp_path: Path
) -> None:
    settings = CollectionsSettings(
        environment="test",
        state_dir=tmp_path,
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        jwt_public_key=SecretStr(signing_keys[1]),
    )
    async with serving(create_app(settings), "http://collections.test") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "unreachable"}
