"""Reference data kept in the process: price lists, payer profiles, a practice's directories.

Such data is read for nearly every claim or charge and changes a few times a year, so a process keeps what it
has read rather than reading it again per transaction. Each kind of reference data has a version in the
service's database (the `reference_version` table, which a service that uses this creates in its own
migrations). The transaction that changes the data moves its version on; every process, whichever replica
made the change, reads the versions once per unit of work (one small query) and drops its copies of a kind
whose version moved. A copy is therefore never older than what the transaction reading it could see.

The versions are read before any data, so what is kept under a version is at least as new as that version; a
transaction that changes a kind bypasses the kept copies of it until it ends, so nothing it had not
committed is ever kept.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from rcm_common.db import is_postgres


class ReferenceVersionRow(SQLModel, table=True):
    """How many times a kind of reference data has changed."""

    __tablename__ = "reference_version"

    name: str = Field(primary_key=True, max_length=40)
    version: int


Kept = dict[Hashable, Any]
"""What a process has read of one kind of reference data at one version, by whatever key its reader uses."""


class ReferenceCopies:
    """A process's copies of one database's reference data: per kind, the version they were read at and the
    entries read so far. Entries read at another version go into that version's own dictionary, so two
    transactions that see different versions never mix their reads."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[int, Kept]] = {}

    def at(self, name: str, version: int) -> Kept:
        """The entries of `name` read at `version`; a new, empty dictionary when the version moved."""
        kept = self._kept.get(name)
        if kept is None or kept[0] != version:
            kept = self._kept[name] = (version, {})
        return kept[1]


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
        """Where this transaction reads and keeps entries of `name`: the process's copies at the version this
        transaction sees, or, once it changes `name`, a dictionary of its own that dies with it."""
        if name in self._own:
            return self._own[name]
        if self._versions is None:
            rows = await self._session.execute(select(ReferenceVersionRow.__table__))  # type: ignore[attr-defined]
            self._versions = {row.name: row.version for row in rows}
        return self._copies.at(name, self._versions.get(name, 0))

    async def changed(self, name: str) -> None:
        """Move `name`'s version on in this transaction: once it commits, every process drops its copies."""
        self._own[name] = {}
        insert = postgresql.insert if is_postgres(self._session) else sqlite.insert
        await self._session.execute(
            insert(ReferenceVersionRow)
            .values(name=name, version=1)
            .on_conflict_do_update(index_elements=["name"], set_={"version": ReferenceVersionRow.version + 1})
        )
