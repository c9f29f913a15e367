"""The inbox: a consumer records each event id it applies, in the same transaction as the effects.

A second delivery of the same event finds its id already there and is skipped, so at-least-once
delivery from Kafka becomes effectively-once application.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from rcm_common.db import is_postgres
from rcm_common.types import utcnow


class InboxMessage(SQLModel, table=True):
    """An event a named consumer has applied."""

    __tablename__ = "inbox"

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=36)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


async def claim_events(session: AsyncSession, consumer: str, event_ids: Sequence[str]) -> set[str]:
    """Record the ids not seen before by this consumer and return them; the others are duplicates.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING for the whole batch: no exception aborts the
    transaction, and a concurrent claim of the same id waits for the other transaction, then skips.
    """
    if not event_ids:
        return set()
    now = utcnow()
    rows = [{"consumer": consumer, "event_id": event_id, "received_at": now} for event_id in event_ids]
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = (
        insert(InboxMessage)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(col(InboxMessage.event_id))
    )
    result = await session.execute(statement)
    return set(result.scalars().all())
