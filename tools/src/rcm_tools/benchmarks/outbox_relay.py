"""How fast the outbox relay moves committed events to the broker, on SQLite and on PostgreSQL.

The baseline is a bare aiokafka producer sending the same messages (acks=all) in the same run: the relay's
ratio to it is what the database round trips cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rcm_common.messaging import KafkaMessagePublisher
from rcm_common.outbox import OutboxRelay, OutgoingMessage
from rcm_common.testing import (
    announce,
    announcing,
    create_database,
    envelope_for,
    postgres_available,
    sample_patient_registered,
    throwaway_postgres_database,
)
from rcm_common.uow import SqlUnitOfWork
from rcm_tools.broker import EmbeddedBroker, ensure_topics

TOPIC = "rcm.bench.events"
EVENTS_PER_COMMIT = 100


async def fill_outbox(factory: async_sessionmaker[AsyncSession], events: int) -> float:
    """Commit `events` events through the unit of work; returns events written per second."""
    started = time.perf_counter()
    for first in range(0, events, EVENTS_PER_COMMIT):
        async with SqlUnitOfWork(factory, producer="bench", publication=announcing(TOPIC)) as uow:
            for _ in range(min(EVENTS_PER_COMMIT, events - first)):
                announce(uow, sample_patient_registered())
            await uow.commit()
    return events / (time.perf_counter() - started)


async def relay_rate(url: str, servers: str, events: int, batch_size: int) -> dict[str, float]:
    engine, factory = await create_database(url)
    try:
        write_rate = await fill_outbox(factory, events)
        broker = KafkaBroker(servers, acks="all", linger_ms=5)
        await broker.connect()
        try:
            relay = OutboxRelay(factory, KafkaMessagePublisher(broker), batch_size=batch_size)
            started = time.perf_counter()
            published = 0
            while batch := await relay.publish_pending():
                published += batch
            seconds = time.perf_counter() - started
        finally:
            await broker.stop()
    finally:
        await engine.dispose()
    if published != events:
        raise RuntimeError(f"relay published {published} of {events} events")
    return {"write_events_per_s": round(write_rate), "relay_events_per_s": round(events / seconds)}


async def raw_producer_rate(servers: str, messages: Sequence[OutgoingMessage]) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [
            await producer.send(m.topic, m.payload, key=m.key, headers=[(k, v.encode()) for k, v in m.headers.items()])
            for m in messages
        ]
        await asyncio.gather(*futures)
        return len(messages) / (time.perf_counter() - started)
    finally:
        await producer.stop()


def sample_messages(count: int) -> list[OutgoingMessage]:
    messages = []
    for _ in range(count):
        event = sample_patient_registered()
        headers = envelope_for(event, producer="bench").to_headers()
        messages.append(OutgoingMessage(TOPIC, event.subject.encode(), headers, event.model_dump_json().encode()))
    return messages


async def run(events: int, batch_size: int) -> dict[str, object]:
    figures: dict[str, object] = {"benchmark": "outbox_relay", "events": events, "batch_size": batch_size}
    with EmbeddedBroker(topics=[TOPIC]) as broker, tempfile.TemporaryDirectory() as scratch:
        servers = broker.bootstrap_servers
        await ensure_topics(servers, [TOPIC], partitions=6)
        baseline = await raw_producer_rate(servers, sample_messages(events))
        figures["raw_producer_events_per_s"] = round(baseline)
        sqlite = await relay_rate(f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}", servers, events, batch_size)
        figures["sqlite"] = sqlite | {"ratio_to_raw_producer": round(sqlite["relay_events_per_s"] / baseline, 3)}
        if await postgres_available():
            async with throwaway_postgres_database() as url:
                postgres = await relay_rate(url, servers, events, batch_size)
            figures["postgresql"] = postgres | {
                "ratio_to_raw_producer": round(postgres["relay_events_per_s"] / baseline, 3)
            }
        else:
            figures["postgresql"] = "skipped: not reachable at 127.0.0.1:5432"
    return figures


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench outbox`, shared with `python -m rcm_tools.benchmarks.outbox_relay`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--events", type=int, default=20_000, help="events to commit and relay per database")
    parser.add_argument("--batch-size", type=int, default=500, help="outbox rows the relay takes per batch")
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(run(args.events, args.batch_size))))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
