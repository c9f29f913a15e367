"""Interchange control numbers (ISA13), one named sequence each, for every service that sends X12.

A number is taken inside the transaction that uses it, from a row read for update on PostgreSQL (SQLite's
write transactions are serial), so no two interchanges ever take one number, whichever process builds
them; a number taken in a transaction that rolls back is simply never used. A service that uses these
creates the `control_number` table in its own migrations, seeded with the sequences it names.
"""

from __future__ import annotations

from typing import Final, Protocol

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from rcm_common.db import is_postgres

MAX_INTERCHANGE_CONTROL_NUMBER: Final = 999_999_999  # ISA13: nine digits


class ControlNumberRow(SQLModel, table=True):
    """The last number a sequence gave out."""

    __tablename__ = "control_number"

    name: str = Field(primary_key=True, max_length=20)
    value: int


def next_control_number(last: int) -> int:
    """One more than the last, from 1, wrapping after nine digits, as the standard allows: a billion
    interchanges later the receiver has long forgotten the number."""
    return last % MAX_INTERCHANGE_CONTROL_NUMBER + 1


class ControlNumbers(Protocol):
    async def next(self, name: str) -> int:
        """The sequence's next number, never given twice."""
        ...


class SqlControlNumbers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next(self, name: str) -> int:
        row = await self._session.get(ControlNumberRow, name, with_for_update=is_postgres(self._session))
        if row is None:
            row = ControlNumberRow(name=name, value=0)
            self._session.add(row)
        row.value = next_control_number(row.value)
        await self._session.flush()
        return row.value
