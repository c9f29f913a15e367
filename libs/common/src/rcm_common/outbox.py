"""The transactional outbox: events are rows written in the same transaction as the state they describe.

A relay in the service process publishes pending rows in batches (key, envelope headers, acks=all) and
marks them sent. On PostgreSQL it claims rows with FOR UPDATE SKIP LOCKED, so replicas share the work;
a relay that dies after publishing and before marking publishes the rows again, and the consumers' inbox
drops the duplicates (at-least-once out, effectively-once in). Replicas take turns batch by batch, so one
aggregate's events always leave in the order they were committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from prometheus_client import Counter, Gauge
from sqlalchemy import Column, DateTime, Index, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col

from rcm_common.db import is_postgres
from rcm_common.envelope import Envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.failpoints import Failpoint
from rcm_common.types import utcnow

logger = logging.getLogger(__name__)

PUBLISHED = Counter("rcm_outbox_published", "Outbox events published to the broker")
PUBLISH_FAILURES = Counter("rcm_outbox_publish_failures", "Outbox batches the broker did not take")
OLDEST_PENDING = Gauge(
    "rcm_outbox_oldest_pending_seconds", "Age of the oldest event waiting to be published (alert when it grows)"
)

# pg_advisory lock key (any constant unique among the service's advisory locks): "outbox" in ASCII.
RELAY_LOCK_KEY = 0x6F7574626F78


class OutboxMessage(SQLModel, table=True):
    """One integration event waiting to be published (`sent_at` is null) or already published."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=36, unique=True)
    topic: str = Field(max_length=255)
    key: str = Field(max_length=64)
    event_type: str = Field(max_length=255)
    headers: str = Field(sa_column=Column(Text, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=255)


def outbox_values(topic: str, event: IntegrationEvent, envelope: Envelope) -> dict[str, Any]:
    """An outbox row's columns, for a transaction's events to be inserted in one statement (no ORM objects:
    a consumer's batch may publish hundreds)."""
    return {
        "event_id": str(envelope.event_id),
        "topic": topic,
        "key": envelope.subject,
        "event_type": envelope.event_type,
        "headers": json.dumps(envelope.to_headers()),
        "payload": event.model_dump_json(),
        "created_at": envelope.occurred_at,
        "sent_at": None,
        "attempts": 0,
        "last_error": None,
    }


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    topic: str
    key: bytes
    headers: dict[str, str]
    payload: bytes


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """An outbox row waiting to be sent: its id (to mark it sent) and the message it carries."""

    id: int
    message: OutgoingMessage


class MessagePublisher(Protocol):
    """Publishes messages in order and returns only when the broker has acknowledged every one."""

    async def publish_all(self, messages: Sequence[OutgoingMessage]) -> None: ...


async def purge_sent(session: AsyncSession, older_than: timedelta) -> int:
    """Delete rows published longer ago than `older_than`: the outbox is a queue (of PHI), not an archive."""
    result = await session.execute(delete(OutboxMessage).where(col(OutboxMessage.sent_at) < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class OutboxRelay:
    """Moves pending outbox rows to the broker, a batch per transaction, until asked to stop."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        publisher: MessagePublisher,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.2,
        after_publish: Failpoint | None = None,
    ) -> None:
        self._after_publish = after_publish or Failpoint("relay.after_publish")
        self._session_factory = session_factory
        self._publisher = publisher
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit that wrote outbox rows, so they leave now rather than at the next poll."""
        self._wakeup.set()

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; the number published (0 when nothing was waiting)."""
        async with self._session_factory() as session:
            if is_postgres(session):
                return await self._publish_claimed(session)
            return await self._publish_unlocked(session)

    async def _pending(self, session: AsyncSession, *, lock: bool) -> list[PendingMessage]:
        """The oldest pending rows, read as plain columns: no ORM object is built for a row sent at once."""
        query = (
            select(
                col(OutboxMessage.id),
                col(OutboxMessage.topic),
                col(OutboxMessage.key),
                col(OutboxMessage.headers),
                col(OutboxMessage.payload),
                col(OutboxMessage.created_at),
            )
            .where(col(OutboxMessage.sent_at).is_(None))
            .order_by(col(OutboxMessage.id))
            .limit(self._batch_size)
        )
        if lock:
            query = query.with_for_update(skip_locked=True)
        rows = (await session.execute(query)).all()
        if rows:
            OLDEST_PENDING.set((utcnow() - _as_utc(rows[0].created_at)).total_seconds())
        return [
            PendingMessage(
                row.id, OutgoingMessage(row.topic, row.key.encode(), json.loads(row.headers), row.payload.encode())
            )
            for row in rows
        ]

    async def _publish_claimed(self, session: AsyncSession) -> int:
        """PostgreSQL: claim, publish and mark a batch in one transaction.

        Replicas take turns batch by batch: an advisory lock lets one relay at a time claim, so no later
        event of an aggregate can overtake an earlier one still in another replica's failed batch; FOR
        UPDATE SKIP LOCKED keeps a row from ever being claimed twice.
        """
        claimed: list[int] = []
        try:
            async with session.begin():
                if not await session.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_KEY))):
                    return 0  # another replica is publishing the batch before ours
                rows = await self._pending(session, lock=True)
                claimed = [row.id for row in rows]
                if rows:
                    await self._publisher.publish_all([row.message for row in rows])
                    self._after_publish.pass_here()
                    await self._mark_sent(session, rows)
                return self._published(rows)
        except Exception as exc:
            if claimed:
                await self._record_failure(claimed, exc)
            raise

    async def _publish_unlocked(self, session: AsyncSession) -> int:
        """SQLite: one process owns the file, so read, publish with no transaction open, then mark.

        Holding SQLite's single write lock across the broker's round trip would stall every API write.
        """
        async with session.begin():
            rows = await self._pending(session, lock=False)
        if not rows:
            return 0
        try:
            await self._publisher.publish_all([row.message for row in rows])
        except Exception as exc:
            await self._record_failure([row.id for row in rows], exc)
            raise
        self._after_publish.pass_here()
        async with session.begin():
            await self._mark_sent(session, rows)
        return self._published(rows)

    def _published(self, rows: Sequence[PendingMessage]) -> int:
        PUBLISHED.inc(len(rows))
        if len(rows) < self._batch_size:
            OLDEST_PENDING.set(0)  # the batch was the tail of the queue
        return len(rows)

    async def _mark_sent(self, session: AsyncSession, rows: Sequence[PendingMessage]) -> None:
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_([row.id for row in rows]))
            .values(sent_at=utcnow(), attempts=OutboxMessage.attempts + 1)
        )

    async def _record_failure(self, row_ids: Sequence[int], exc: Exception) -> None:
        """Note the attempt on rows that stay pending; the claiming transaction has rolled back by now."""
        PUBLISH_FAILURES.inc()
        async with self._session_factory() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(row_ids))
                .values(attempts=OutboxMessage.attempts + 1, last_error=type(exc).__name__)
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set: drain while rows wait, else sleep until woken or the idle time passes."""
        failures = 0
        while not stop.is_set():
            # Cleared before reading, so a commit made while this batch is in flight wakes the next pass.
            self._wakeup.clear()
            try:
                published = await self.publish_pending()
                failures = 0
            except Exception:
                failures += 1
                logger.exception("outbox relay failed to publish a batch (attempt %d)", failures)
                await _sleep_or_stop(stop, min(0.2 * 2**failures, 10.0))
                continue
            if published == 0:
                await _wait_any(stop, self._wakeup, self._idle_seconds)


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _wait_any(stop: asyncio.Event, wakeup: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wakeup.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
