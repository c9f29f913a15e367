"""Registration's migrations build exactly the schema its models declare, on SQLite and PostgreSQL, and
downgrade cleanly to nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from rcm_common.audit import AuditRecord
from rcm_common.db import create_engine
from rcm_common.http import IdempotencyRecord
from rcm_common.inbox import InboxMessage
from rcm_common.migrations import alembic_config, upgrade_to_head
from rcm_common.outbox import OutboxMessage
from rcm_registration.adapters.tables import CoverageRow, MrnSequence, PatientRow
from rcm_registration.entrypoints.app import SOURCE_MIGRATIONS

# The tables registration's database holds. SQLModel.metadata is process-wide, so it may also carry tables
# that other test modules declare; the comparison is limited to these, while any table found in the
# database and not declared here still shows up as a difference.
OWNED_MODELS: list[Any] = [
    PatientRow,
    CoverageRow,
    MrnSequence,
    OutboxMessage,
    InboxMessage,
    AuditRecord,
    IdempotencyRecord,
]
OWNED_TABLES: dict[str, Table] = {model.__tablename__: model.__table__ for model in OWNED_MODELS}
PARTIAL_UNIQUE_INDEXES = {
    "uq_patient_identity": "status = 'active'",
    "uq_coverage_policy_holder": "status = 'active' AND relationship = 'self'",
}


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Compare the owned tables; keep every table reflected from the database (an extra one is drift)."""
    return type_ != "table" or reflected or name in OWNED_TABLES


def _diff(connection: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True, "include_object": _include}
    )
    diffs: list[Any] = compare_metadata(context, metadata)
    return diffs


async def _compare(url: str, metadata: MetaData) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_diff, metadata)
    finally:
        await engine.dispose()


async def _inspect(url: str) -> dict[str, Any]:
    """Table names, and each partial unique index's SQL as the database reports it."""
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


def _downgrade_to_base(url: str) -> None:
    command.downgrade(alembic_config(SOURCE_MIGRATIONS, url), "base")


def test_the_owned_tables_are_on_the_shared_metadata() -> None:
    for name, table in OWNED_TABLES.items():
        assert SQLModel.metadata.tables[name] is table


async def test_upgrade_head_matches_the_models(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, SOURCE_MIGRATIONS, fresh_url)

    # No differences at all: in particular the audit log's UTC TypeDecorator compares as the
    # DateTime(timezone=True) it stores, so no type difference needs to be ignored.
    assert await _compare(fresh_url, SQLModel.metadata) == []

    schema = await _inspect(fresh_url)
    assert schema["tables"] == sorted([*OWNED_TABLES, "alembic_version"])
    # Autogenerate does not compare index predicates; duplicate detection depends on them, so check them here.
    for index, predicate in PARTIAL_UNIQUE_INDEXES.items():
        definition = " ".join(schema["indexes"][index].split())
        assert "UNIQUE" in definition.upper()
        normalised = definition.replace("(", "").replace(")", "").replace("::text", "").replace('"', "")
        assert f"WHERE {predicate}" in normalised, definition

    # Running it again is a no-op (the app migrates at every start).
    await asyncio.to_thread(upgrade_to_head, SOURCE_MIGRATIONS, fresh_url)
    assert await _compare(fresh_url, SQLModel.metadata) == []


async def test_the_comparison_would_catch_drift(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, SOURCE_MIGRATIONS, fresh_url)
    drifted = MetaData()
    for table in OWNED_TABLES.values():
        table.to_metadata(drifted)
    drifted.tables["patient"].append_column(Column("preferred_language", String(20), nullable=True))
    drifted.remove(drifted.tables["inbox"])
    drifted.tables["coverage"].c.payer_name.type = String(99)

    diffs = await _compare(fresh_url, drifted)
    kinds = sorted(_kind(diff) for diff in diffs)
    assert kinds == ["add_column patient", "modify_type coverage", "remove_table inbox"], diffs


def _kind(diff: Any) -> str:
    if isinstance(diff, list):  # modifications come as a list of tuples
        op, _, table = diff[0][:3]
        return f"{op} {table}"
    op, subject = diff[0], diff[1]
    if op == "remove_table":
        return f"{op} {subject.name}"
    return f"{op} {diff[2]}"


async def test_downgrade_to_base_and_back(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, SOURCE_MIGRATIONS, fresh_url)
    await asyncio.to_thread(_downgrade_to_base, fresh_url)

    emptied = await _inspect(fresh_url)
    assert emptied["tables"] == ["alembic_version"]
    assert not [name for name in emptied["indexes"] if not name.startswith(("sqlite_", "alembic_version"))]

    await asyncio.to_thread(upgrade_to_head, SOURCE_MIGRATIONS, fresh_url)
    assert await _compare(fresh_url, SQLModel.metadata) == []
