"""A database made by the migrations as they were before the platform tables became a branch of their own
(each service's first revision made them) upgrades under today's migrations with every row intact.

The pre-kernel scripts are read from the repository's history at the last commit that had them, so the
database is made by exactly the code that made databases then."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from rcm_common.db import create_engine
from rcm_common.migrations import alembic_config, upgrade_to_head
from rcm_common.schema_check import schema_snapshot
from rcm_common.testing import postgres_available, throwaway_postgres_database

REPOSITORY: Final = Path(__file__).resolve().parents[2]
PRE_KERNEL_COMMIT: Final = "b471709"
SERVICES: Final = ("registration", "eligibility", "charge")

ROWS: Final = {
    "outbox": (
        "INSERT INTO outbox (event_id, topic, key, event_type, headers, payload, created_at, attempts) "
        "VALUES ('5f0c8f3e-0000-4000-8000-000000000001', 'rcm.test.events', 'k1', 'rcm.test.happened', '{}', "
        "'{}', '2026-12-01 10:00:00+00:00', 0)"
    ),
    "inbox": "INSERT INTO inbox (consumer, event_id, received_at) VALUES ('svc', 'e-1', '2026-12-01 10:00:00+00:00')",
    "audit_log": (
        "INSERT INTO audit_log (occurred_at, actor, actor_roles, action, resource_type, purpose, prev_hash, hash) "
        "VALUES ('2026-12-01 10:00:00+00:00', 'clerk', 'front_desk', 'read', 'patient', 'treatment', "
        f"'{'0' * 64}', '{'a' * 64}')"
    ),
    "idempotency_record": (
        "INSERT INTO idempotency_record (scope, key, request_hash, status_code, resource_id, created_at) "
        f"VALUES ('POST /patients', 'key-1', '{'b' * 64}', 201, 'r-1', '2026-12-01 10:00:00+00:00')"
    ),
}


def pre_kernel_migrations(service: str, into: Path) -> Path:
    """The service's `migrations/` folder as it was at the pre-kernel commit, written under `into`."""
    folder = f"services/{service}/migrations"
    listing = subprocess.run(
        ["git", "-C", str(REPOSITORY), "ls-tree", "-r", "--name-only", PRE_KERNEL_COMMIT, folder],
        capture_output=True,
        text=True,
        check=False,
    )
    if listing.returncode != 0:
        pytest.fail(f"the repository's history lacks commit {PRE_KERNEL_COMMIT}: clone it whole, not shallow")
    for name in listing.stdout.split():
        target = into / service / Path(name).relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        content = subprocess.run(
            ["git", "-C", str(REPOSITORY), "show", f"{PRE_KERNEL_COMMIT}:{name}"], capture_output=True, check=True
        )
        target.write_bytes(content.stdout)
    return into / service


def migrate_as_before(script_location: Path, url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


async def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def select_all(url: str, *queries: str) -> list[list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return [[tuple(row) for row in await connection.execute(text(query))] for query in queries]
    finally:
        await engine.dispose()


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
)
async def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """Two empty databases of one kind: one made the old way, one the new way, to compare."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
        return
    if not await postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432: postgres tests need it")
    async with throwaway_postgres_database() as old, throwaway_postgres_database() as new:
        yield old, new


@pytest.mark.parametrize("service", SERVICES)
async def test_a_pre_kernel_database_upgrades_with_its_rows_intact(
    service: str, database_urls: tuple[str, str], tmp_path: Path
) -> None:
    old_url, new_url = database_urls
    await asyncio.to_thread(migrate_as_before, pre_kernel_migrations(service, tmp_path / "before"), old_url)
    await execute(old_url, *ROWS.values())
    tables = [f"SELECT * FROM {table}" for table in ROWS]
    before = await select_all(old_url, *tables)

    migrations = REPOSITORY / "services" / service / "migrations"
    await asyncio.to_thread(upgrade_to_head, migrations, old_url)
    await asyncio.to_thread(upgrade_to_head, migrations, new_url)

    assert [len(rows) for rows in before] == [1, 1, 1, 1]
    assert await select_all(old_url, *tables) == before
    assert await schema_snapshot(old_url) == await schema_snapshot(new_url)
    versions = "SELECT version_num FROM alembic_version ORDER BY version_num"
    heads = [[(head,) for head in sorted(ScriptDirectory.from_config(alembic_config(migrations, new_url)).get_heads())]]
    assert len(heads[0]) == 2  # the service's head, and the platform's past the service's base
    assert await select_all(old_url, versions) == await select_all(new_url, versions) == heads
