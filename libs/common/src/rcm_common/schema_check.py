"""Migration checks every service's tests run: does the schema its migrations build equal the one its
models declare, table for table, and what does the database report it holds."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection

from rcm_common.db import create_engine


async def schema_differences(url: str, metadata: MetaData, owned_tables: Collection[str]) -> list[Any]:
    """Alembic's differences between the database and `metadata`, types and server defaults included.

    SQLModel's metadata is process-wide, so it may carry other test modules' tables: only `owned_tables`
    are compared, while a table found in the database and not owned still counts as a difference."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return type_ != "table" or reflected or name in owned_tables

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True, "include_object": include}
        )
        found: list[Any] = compare_metadata(context, metadata)
        return found

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(diff)
    finally:
        await engine.dispose()


async def schema_snapshot(url: str) -> dict[str, Any]:
    """Table names, and each index's SQL as the database reports it (autogenerate ignores predicates)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: sorted(inspect(c).get_table_names()))
            if connection.dialect.name == "sqlite":
                query = "SELECT name, sql AS definition FROM sqlite_master WHERE type = 'index'"
            else:
                query = "SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = 'public'"
            indexes = {row.name: row.definition for row in (await connection.execute(text(query))).all()}
            return {"tables": tables, "indexes": indexes}
    finally:
        await engine.dispose()
