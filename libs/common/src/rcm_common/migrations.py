"""Alembic for a service's own database, run from code at start-up and by the `rcm migrations` command.

Every service shares one environment (`rcm_common/alembic/env.py`) and the platform's branch of revisions
(`rcm_common/alembic/versions`: outbox, inbox, audit log, idempotency records); a service's own folder
(`services/<name>/migrations/versions`) holds only its own tables, its first revision depending on the
platform's. Both branches are upgraded together to their heads.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from alembic import command, context
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from rcm_common.db import create_engine

ENVIRONMENT: Final = Path(__file__).resolve().parent / "alembic"
PLATFORM_TABLE_MODULES: Final = (
    "rcm_common.outbox",
    "rcm_common.inbox",
    "rcm_common.audit",
    "rcm_common.http",
    "rcm_common.merges",
)
"""The modules that declare the platform tables on SQLModel's metadata."""
PLATFORM_TABLE_NAMES: Final = frozenset(
    {"outbox", "inbox", "audit_log", "idempotency_record", "replica_merge", "replica_moved_coverage"}
)
"""The tables the platform's branch of revisions makes in every service's database."""


def alembic_config(migrations: Path, database_url: str, *, tables_module: str | None = None) -> Config:
    """The configuration for a service whose own revisions are in `migrations/versions`."""
    config = Config()
    config.set_main_option("script_location", str(ENVIRONMENT))
    config.set_main_option("version_locations", f"{ENVIRONMENT / 'versions'} {migrations / 'versions'}")
    config.set_main_option("path_separator", "space")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if tables_module:
        config.set_main_option("rcm_tables_module", tables_module)
    return config


def script_heads(migrations: Path) -> frozenset[str]:
    """The newest revision of each branch (the platform's and the service's): where a migrated database is."""
    return frozenset(ScriptDirectory.from_config(alembic_config(migrations, "sqlite://")).get_heads())


class SchemaBehind(Exception):
    """The database is not at its migrations' newest revisions: its migration job has not run yet."""


async def refuse_schema_behind(engine: AsyncEngine, heads: frozenset[str]) -> None:
    """Raise SchemaBehind unless the database's Alembic revisions are exactly `heads` (the readiness check: a
    replica started before its migration job ran takes no traffic, rather than failing on missing tables)."""
    async with engine.connect() as connection:
        try:
            found = {row[0] for row in await connection.execute(text("SELECT version_num FROM alembic_version"))}
        except DBAPIError as missing:
            raise SchemaBehind("no alembic_version table") from missing
    if found != heads:
        raise SchemaBehind(f"at {sorted(found)}, not {sorted(heads)}")


def upgrade_to_head(migrations: Path, database_url: str) -> None:
    """Bring the database to the newest revision of both branches (blocking: call it in a thread from
    async code)."""
    command.upgrade(alembic_config(migrations, database_url), "heads")


def run_env(target_metadata: MetaData) -> None:
    """The body of the shared `env.py`: online migrations over the async engine."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to Alembic (sqlalchemy.url)")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())
