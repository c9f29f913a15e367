"""Registration's migrations build exactly the schema its models declare, on SQLite and PostgreSQL, and
downgrade cleanly to nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Column, MetaData, String, Table
from sqlmodel import SQLModel

from rcm_common.audit import AuditRecord
from rcm_common.http import IdempotencyRecord
from rcm_common.inbox import InboxMessage
from rcm_common.merges import MergeRecord, MovedCoverage
from rcm_common.migrations import alembic_config, upgrade_to_head
from rcm_common.outbox import OutboxMessage
from rcm_common.schema_check import schema_differences, schema_snapshot
from rcm_registration.adapters.tables import CoverageRow, MrnSequence, PatientRow
from rcm_registration.entrypoints.app import REGISTRATION_APP

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
    MergeRecord,
    MovedCoverage,
]
OWNED_TABLES: dict[str, Table] = {model.__tablename__: model.__table__ for model in OWNED_MODELS}
PARTIAL_UNIQUE_INDEXES = {
    "uq_patient_identity": "status = 'active'",
    "uq_coverage_policy_holder": "status = 'active' AND relationship = 'self'",
}


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> str:
    return database_url or f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"


async def _compare(url: str, metadata: MetaData) -> list[Any]:
    return await schema_differences(url, metadata, OWNED_TABLES)


def _downgrade_to_base(url: str) -> None:
    command.downgrade(alembic_config(REGISTRATION_APP.migrations, url), "base")


def test_the_owned_tables_are_on_the_shared_metadata() -> None:
    for name, table in OWNED_TABLES.items():
        assert SQLModel.metadata.tables[name] is table


async def test_upgrade_head_matches_the_models(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, REGISTRATION_APP.migrations, fresh_url)

    # No differences at all: in particular the audit log's UTC TypeDecorator compares as the
    # DateTime(timezone=True) it stores, so no type difference needs to be ignored.
    assert await _compare(fresh_url, SQLModel.metadata) == []

    schema = await schema_snapshot(fresh_url)
    assert schema["tables"] == sorted([*OWNED_TABLES, "alembic_version"])
    # Autogenerate does not compare index predicates; duplicate detection depends on them, so check them here.
    for index, predicate in PARTIAL_UNIQUE_INDEXES.items():
        definition = " ".join(schema["indexes"][index].split())
        assert "UNIQUE" in definition.upper()
        normalised = definition.replace("(", "").replace(")", "").replace("::text", "").replace('"', "")
        assert f"WHERE {predicate}" in normalised, definition

    # Running it again is a no-op (the app migrates at every start).
    await asyncio.to_thread(upgrade_to_head, REGISTRATION_APP.migrations, fresh_url)
    assert await _compare(fresh_url, SQLModel.metadata) == []


async def test_the_comparison_would_catch_drift(fresh_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, REGISTRATION_APP.migrations, fresh_url)
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
    await asyncio.to_thread(upgrade_to_head, REGISTRATION_APP.migrations, fresh_url)
    await asyncio.to_thread(_downgrade_to_base, fresh_url)

    emptied = await schema_snapshot(fresh_url)
    assert emptied["tables"] == ["alembic_version"]
    assert not [name for name in emptied["indexes"] if not name.startswith(("sqlite_", "alembic_version"))]

    await asyncio.to_thread(upgrade_to_head, REGISTRATION_APP.migrations, fresh_url)
    assert await _compare(fresh_url, SQLModel.metadata) == []
