"""Reporting runs on the kernel: its migrations build its tables and the platform's and downgrade to nothing, and
the app starts over its database, answers its health checks and says it is not ready without a broker."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from rcm_common.migrations import PLATFORM_TABLE_NAMES
from rcm_common.testing import check_migrations, serving
from rcm_reporting.adapters.repository import FACT_TABLES
from rcm_reporting.config import ReportingSettings
from rcm_reporting.entrypoints.app import REPORTING_APP, create_app

OWNED_TABLES = PLATFORM_TABLE_NAMES | {table.__tablename__ for table in FACT_TABLES}


async def test_migrations_build_the_declared_schema_and_downgrade_to_nothing(database_url: str, tmp_path: Path) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}"
    await check_migrations(REPORTING_APP.migrations, url, OWNED_TABLES)


async def test_the_app_starts_and_answers_its_health_checks(
    database_url: str, signing_keys: tuple[str, str], tmp_path: Path
) -> None:
    settings = ReportingSettings(
        environment="test",
        state_dir=tmp_path,
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        jwt_public_key=SecretStr(signing_keys[1]),
    )
    async with serving(create_app(settings), "http://reporting.test") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "unreachable"}
