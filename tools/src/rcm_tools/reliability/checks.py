"""What a reliability run checks once the faults have stopped and the claims have settled: every dead letter is a
poison message and every poison message is dead-lettered by every consumer of its topic; each service's database
is whole (its outbox drained, its audit chain intact); and a full replay (every consumer group back to offset
zero) changes nothing, while reporting's projection rebuilt from the first event equals the live one.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from rcm_common.audit import verify_chain
from rcm_common.db import create_engine
from rcm_common.outbox import OutboxMessage
from rcm_common.topics import dlq_topic
from rcm_tools.benchmarks.cycle_watch import read_to_the_end
from rcm_tools.end_to_end import client, kpi_figures, replaying_reporting
from rcm_tools.stack import LocalStack

POISONS: Final = (
    [("ce_specversion", b"0.3"), ("content-type", b"application/json"), ("rcm_poison", b"1")],
    [("ce_specversion", b"1.0"), ("content-type", b"application/json"), ("rcm_poison", b"\xff")],
)
"""Two records no consumer can read: an envelope of another CloudEvents version over a payload that is not JSON,
and one with a header that is not UTF-8 (which faststream itself would have failed to read)."""
Position = tuple[str, int, int]  # topic, partition, offset


async def publish_poison(servers: str, topics: Sequence[str]) -> list[Position]:
    """Each poison record on each topic; their positions."""
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        positions = []
        for index, topic in enumerate(topics):
            for kind, headers in enumerate(POISONS):
                key = f"poison-{index}-{kind}".encode()
                sent = await producer.send_and_wait(topic, b'{"not an event', key=key, headers=headers)
                positions.append((topic, sent.partition, sent.offset))
        return positions
    finally:
        await producer.stop()


async def consumer_groups(servers: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        return sorted(group_id for group_id, _protocol in await admin.list_consumer_groups())
    finally:
        await admin.close()


async def dead_letter_verdict(servers: str, poison: Sequence[Position]) -> dict[str, int]:
    """The dead-letter topics against the poison published: each poison message dead-lettered once by each
    consumer group of its topic, and nothing else dead-lettered."""
    topics = sorted({topic for topic, _, _ in poison})
    groups = await consumer_groups(servers)
    readers = {topic: {g.removesuffix(f".{topic}") for g in groups if g.endswith(f".{topic}")} for topic in topics}
    letters: Counter[tuple[Position, str]] = Counter()
    for record in await read_to_the_end(servers, [dlq_topic(topic) for topic in topics]):
        headers = {name: value.decode() for name, value in record.headers}
        position = (
            headers["dlq_original_topic"], int(headers["dlq_original_partition"]), int(headers["dlq_original_offset"])
        )  # fmt: skip
        letters[(position, headers["dlq_consumer"])] += 1
    poisoned = set(poison)
    expected = {(position, reader) for position in poison for reader in readers[position[0]]}
    return {
        "poison_published": len(poison),
        "dead_letters": sum(letters.values()),
        "dead_letters_expected": len(expected),
        "poison_not_dead_lettered": len(expected - set(letters)),
        "dead_lettered_twice": sum(count - 1 for count in letters.values()),
        "dead_letters_not_poison": sum(count for (position, _), count in letters.items() if position not in poisoned),
    }


async def reset_to_the_first_offset(servers: str, service: str) -> int:
    """Commit offset zero for every partition of every consumer group of `service` (stopped: its groups are
    empty), so it reads every topic again from the first record. The number of groups reset."""
    groups = [group for group in await consumer_groups(servers) if group.startswith(f"{service}.")]
    for group in groups:
        topic = group.removeprefix(f"{service}.")
        consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topic, p) for p in await _partitions(consumer, topic)]
            consumer.assign(partitions)
            await consumer.commit({tp: OffsetAndMetadata(0, "") for tp in partitions})
        finally:
            await consumer.stop()
    return len(groups)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer.topics()
    return consumer.partitions_for_topic(topic) or set()


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    digest: str


async def fingerprint(database_url: str) -> dict[str, TableFingerprint]:
    """Each table of a service's PostgreSQL database: its rows and a digest of their contents in a fixed order."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        prints = {}
        for (table,) in tables:
            contents = "md5(string_agg(md5(t::text), '' ORDER BY md5(t::text)))"
            query = f'SELECT count(*), {contents} FROM "{table}" t'  # noqa: S608 - a table the database listed
            rows, digest = await connection.fetchrow(query)
            prints[table] = TableFingerprint(rows, digest)
        return prints
    finally:
        await connection.close()


def changed_tables(before: Mapping[str, TableFingerprint], after: Mapping[str, TableFingerprint]) -> list[str]:
    return sorted(table for table in before.keys() | after.keys() if before.get(table) != after.get(table))


async def database_verdict(database_urls: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """Per service: outbox rows never sent, and the audit chain's verdict (rows checked, broken 0 or 1)."""
    verdicts = {}
    for service, url in database_urls.items():
        engine = create_engine(url)
        try:
            async with AsyncSession(engine) as session:
                unsent = await session.scalar(
                    select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))
                )
                chain = await verify_chain(session)
        finally:
            await engine.dispose()
        verdicts[service] = {
            "outbox_unsent": int(unsent or 0), "audit_rows": chain.rows_checked, "audit_broken": int(not chain.ok)
        }  # fmt: skip
    return verdicts


async def reporting_rebuilt_equals_live(local: LocalStack, servers: str, within: float = 180) -> dict[str, Any]:
    """A second reporting service reads every topic from the first offset into an empty database: its KPIs, aging
    and work queues must equal the live service's."""
    async with client(local, "reporting", "biller") as live:
        kpis = (await live.get("/kpis")).json()
        moment = {"as_of": kpis["as_of"]}
        aging = (await live.get("/ar/aging", params=moment)).json()
        queues = (await live.get("/workqueues/summary")).json()["queues"]
    with replaying_reporting(local, servers, name="reporting-rebuilt") as rebuilt:
        started, deadline = time.monotonic(), time.monotonic() + within
        while kpi_figures(rebuilt.get("/kpis").json()) != kpi_figures(kpis):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        return {
            "kpis_equal": kpi_figures(rebuilt.get("/kpis").json()) == kpi_figures(kpis),
            "aging_equal": rebuilt.get("/ar/aging", params=moment).json() == aging,
            "workqueues_equal": rebuilt.get("/workqueues/summary").json()["queues"] == queues,
            "rebuilt_in_s": round(time.monotonic() - started, 1),
        }
