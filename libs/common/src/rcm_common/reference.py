"""Reference data kept in the process: price lists, payer profiles, a practice's directories.

Such data is read for nearly every claim or charge and changes a few times a year, so a process keeps what it
has read rather than reading it again per transaction. Each kind of reference data has a version in the
service's database (the `reference_version` table), and triggers on its tables move the version on at any
change of them, however it is made: through the service, by a replica still running older code, by hand in
SQL, by a restore. Every process reads the versions once per unit of work (one small query, at the first use)
and drops its copies of a kind whose version moved, so what a unit of work reads is as new as the versions
it read.

What is kept under a version is at least as new as it: the versions are read before any data, and the rows
are read from the database itself, never from objects the session loaded earlier (`FRESH`). A transaction
that changes a kind (`changing`) keeps what it reads of it to itself, so nothing it had not committed is
ever kept. A unit of work that read an older version than the process's copies (it began before a change
another one has already seen) reads for itself too, rather than dropping the newer copies.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping
from typing import Any, Final
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from alembic import op
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

_PLAIN_NAME: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")
FRESH: Final = {"populate_existing": True}
"""Execution options for reading reference rows: from the database, never an object the session holds."""


class ReferenceVersionRow(SQLModel, table=True):
    """How many times a kind of reference data has changed."""

    __tablename__ = "reference_version"

    name: str = Field(primary_key=True, max_length=40)
    version: int


Kept = dict[Hashable, Any]
"""What a process has read of one kind of reference data at one version, by whatever key its reader uses."""


class ReferenceCopies:
    """A process's copies of one database's reference data: per kind, the version they were read at and the
    entries read so far."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[int, Kept]] = {}

    def at(self, name: str, version: int) -> Kept | None:
        """The entries of `name` read at `version`, a new, empty dictionary when the version moved on, or None
        for a version older than the copies' (the reader reads for itself)."""
        kept = self._kept.get(name)
        if kept is None or kept[0] < version:
            kept = self._kept[name] = (version, {})
        return kept[1] if kept[0] == version else None


_COPIES: WeakKeyDictionary[async_sessionmaker[AsyncSession], ReferenceCopies] = WeakKeyDictionary()


def copies_for(session_factory: async_sessionmaker[AsyncSession]) -> ReferenceCopies:
    """The process's copies of the reference data of the database `session_factory` opens (one per database,
    so two services or two test databases in one process never share them)."""
    found = _COPIES.get(session_factory)
    if found is None:
        found = _COPIES[session_factory] = ReferenceCopies()
    return found


class ReferenceReads:
    """One unit of work's view of the process's copies: the versions read once, at its first use."""

    def __init__(self, session: AsyncSession, copies: ReferenceCopies) -> None:
        self._session = session
        self._copies = copies
        self._versions: dict[str, int] | None = None
        self._own: dict[str, Kept] = {}

    async def kept(self, name: str) -> Kept:
        """Where this unit of work reads and keeps entries of `name`: the process's copies at the version it
        sees, or a dictionary of its own that dies with it (once it changes `name`, or when its version is
        older than the copies'). Entries are read with `FRESH` options."""
        if name in self._own:
            return self._own[name]
        if self._versions is None:
            rows = await self._session.execute(select(ReferenceVersionRow.__table__))  # type: ignore[attr-defined]
            self._versions = {row.name: row.version for row in rows}
        shared = self._copies.at(name, self._versions.get(name, 0))
        return shared if shared is not None else self._own.setdefault(name, {})

    def changing(self, name: str) -> None:
        """Say this unit of work changes `name`: what it reads of it from now on is its own (the triggers move
        the version on when the change is written, for every process once it commits)."""
        self._own[name] = {}


def reference_version_statements(dialect: str, tables: Mapping[str, str]) -> list[str]:
    """The SQL that makes a change of each table (to the name of its kind of reference data) move that kind's
    version on, for `sqlite` or `postgresql`: the kinds' rows, and a trigger per table (per statement on
    PostgreSQL, per row on SQLite, which has no statement triggers). The `reference_version` table must
    exist. Table and kind names are the migration's own constants, refused unless plain lowercase words."""
    for word in (*tables, *tables.values()):
        if not _PLAIN_NAME.fullmatch(word):
            raise ValueError(f"not a plain table or kind name: {word!r}")
    statements = [
        f"INSERT INTO reference_version (name, version) VALUES ('{name}', 0)"  # noqa: S608 - plain names, checked
        for name in sorted(set(tables.values()))
    ]
    if dialect == "postgresql":
        statements.append(
            "CREATE FUNCTION reference_version_moved() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "UPDATE reference_version SET version = version + 1 WHERE name = TG_ARGV[0]; RETURN NULL; END $$"
        )
        statements += [
            f"CREATE TRIGGER {table}_moves_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION reference_version_moved('{name}')"
            for table, name in tables.items()
        ]
        return statements
    statements += [
        f"CREATE TRIGGER {table}_{change.lower()}_moves_version AFTER {change} ON {table} BEGIN "  # noqa: S608 - plain names
        f"UPDATE reference_version SET version = version + 1 WHERE name = '{name}'; END"
        for table, name in tables.items()
        for change in ("INSERT", "UPDATE", "DELETE")
    ]
    return statements


def create_reference_versions(tables: Mapping[str, str]) -> None:
    """Migration step: the `reference_version` table and the triggers of `reference_version_statements`."""
    op.create_table(
        "reference_version",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    for statement in reference_version_statements(op.get_context().dialect.name, tables):
        op.execute(statement)


def drop_reference_versions(tables: Mapping[str, str]) -> None:
    """Migration step: undo `create_reference_versions`."""
    postgres = op.get_context().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(f"DROP TRIGGER {table}_moves_version ON {table}")
        else:
            for change in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{change}_moves_version")
    if postgres:
        op.execute("DROP FUNCTION reference_version_moved()")
    op.drop_table("reference_version")
