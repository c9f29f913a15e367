"""The outbox relay on SQLite and PostgreSQL: order, failure bookkeeping, retention, and on PostgreSQL two
relays sharing the rows through FOR UPDATE SKIP LOCKED without publishing any row twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from rcm_common.outbox import OutboxMessage, OutboxRelay, OutgoingMessage, purge_sent
from rcm_common.testing import (
    announce,
    announcing,
    create_database,
    postgres_available,
    sample_patient_registered,
    throwaway_postgres_database,
)
from rcm_common.types import utcnow
from rcm_common.uow import SqlUnitOfWork


class RecordingPublisher:
    """Collects what would go to Kafka; can be told to fail, or to take its time like a real broker."""

    def __init__(self, *, fail: bool = False, delay: float = 0.0) -> None:
        self.fail = fail
        self.delay = delay
        self.published: list[OutgoingMessage] = []

    async def publish_all(self, messages: Sequence[OutgoingMessage]) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.published.extend(messages)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "sqlite":
        engine, made = await create_database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
        yield made
        await engine.dispose()
        return
    if not await postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    async with throwaway_postgres_database() as url:
        engine, made = await create_database(url)
        yield made
        await engine.dispose()


async def write(factory: async_sessionmaker[AsyncSession], count: int) -> list[str]:
    """Commit `count` events, one per unit of work; returns the ids of all the outbox holds."""
    for _ in range(count):
        async with SqlUnitOfWork(factory, producer="test", publication=announcing("rcm.test.events")) as uow:
            announce(uow, sample_patient_registered())
            await uow.commit()
    return [row.event_id for row in await rows(factory)]


async def rows(factory: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with factory() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all())


async def test_rows_are_published_in_commit_order_and_marked_sent(factory: async_sessionmaker[AsyncSession]) -> None:
    ids = await write(factory, 7)
    publisher = RecordingPublisher()
    relay = OutboxRelay(factory, publisher, batch_size=3)

    assert [await relay.publish_pending() for _ in range(4)] == [3, 3, 1, 0]
    assert [m.headers["ce_id"] for m in publisher.published] == ids
    assert all(row.sent_at is not None and row.attempts == 1 for row in await rows(factory))


async def test_the_relay_reports_what_it_published_what_failed_and_how_old_the_queue_is(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    published, failures = (
        REGISTRY.get_sample_value("rcm_outbox_published_total"),
        REGISTRY.get_sample_value("rcm_outbox_publish_failures_total"),
    )
    await write(factory, 2)
    with pytest.raises(ConnectionError):
        await OutboxRelay(factory, RecordingPublisher(fail=True)).publish_pending()
    assert (REGISTRY.get_sample_value("rcm_outbox_oldest_pending_seconds") or 0) > 0
    await OutboxRelay(factory, RecordingPublisher()).publish_pending()

    assert REGISTRY.get_sample_value("rcm_outbox_published_total") == (published or 0) + 2
    assert REGISTRY.get_sample_value("rcm_outbox_publish_failures_total") == (failures or 0) + 1
    assert REGISTRY.get_sample_value("rcm_outbox_oldest_pending_seconds") == 0


async def test_a_failed_publish_leaves_rows_pending_with_the_error_named(
    factory: async_sessionmaker[AsyncSession],
) -> None:
    await write(factory, 2)
    with pytest.raises(ConnectionError):
        await OutboxRelay(factory, RecordingPublisher(fail=True)).publish_pending()

    stored = await rows(factory)
    assert [(r.sent_at, r.attempts, r.last_error) for r in stored] == [(None, 1, "ConnectionError")] * 2
    assert await OutboxRelay(factory, RecordingPublisher()).publish_pending() == 2


async def test_sent_rows_older_than_the_retention_are_purged(factory: async_sessionmaker[AsyncSession]) -> None:
    await write(factory, 3)
    await OutboxRelay(factory, RecordingPublisher()).publish_pending()
    await write(factory, 1)  # pending: never purged, however old
    oldest = (await rows(factory))[0].id
    async with factory() as session, session.begin():
        await session.execute(
            update(OutboxMessage).where(col(OutboxMessage.id) == oldest).values(sent_at=utcnow() - timedelta(days=8))
        )
        await session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.sent_at).is_(None))
            .values(created_at=utcnow() - timedelta(days=30))
        )

    async with factory() as session, session.begin():
        assert await purge_sent(session, timedelta(days=7)) == 1
    assert len(await rows(factory)) == 3


async def test_the_running_relay_publishes_as_soon_as_it_is_woken(factory: async_sessionmaker[AsyncSession]) -> None:
    publisher = RecordingPublisher()
    relay = OutboxRelay(factory, publisher, idle_seconds=30)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    await asyncio.sleep(0.1)

    ids = await write(factory, 1)
    relay.wake()
    async with asyncio.timeout(5):
        while not publisher.published:  # noqa: ASYNC110 - the relay is a separate task
            await asyncio.sleep(0.01)
    stop.set()
    await running

    assert [m.headers["ce_id"] for m in publisher.published] == ids


@pytest.mark.postgres
async def test_replicas_take_turns_so_every_row_leaves_once_and_in_commit_order() -> None:
    if not await postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    async with throwaway_postgres_database() as url:
        engine, factory = await create_database(url)
        ids = await write(factory, 60)
        sent_in_order: list[str] = []

        class SharedLine(RecordingPublisher):
            async def publish_all(self, messages: Sequence[OutgoingMessage]) -> None:
                await super().publish_all(messages)
                sent_in_order.extend(m.headers["ce_id"] for m in messages)

        async def replica() -> None:
            relay = OutboxRelay(factory, SharedLine(delay=0.02), batch_size=7)
            while len(sent_in_order) < len(ids):
                await relay.publish_pending()
                await asyncio.sleep(0)

        async with asyncio.timeout(30):
            await asyncio.gather(replica(), replica(), replica())
        await engine.dispose()

    assert sent_in_order == ids  # every row once, none twice, none overtaking an earlier one
