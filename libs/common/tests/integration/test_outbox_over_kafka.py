"""The outbox, the relay and the consumer over the real embedded Kafka-protocol broker: events written in
a transaction reach a consumer once, even when the relay or the consumer dies at the worst moment."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from cloudevents.core.bindings import kafka as cloudevents_kafka
from faststream.kafka import KafkaBroker
from opentelemetry import trace
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from rcm_common.events.base import schema_id
from rcm_common.events.registration import PatientRegistered
from rcm_common.failpoints import Failpoint
from rcm_common.messaging import EventConsumer, KafkaMessagePublisher, create_broker
from rcm_common.outbox import OutboxMessage, OutboxRelay
from rcm_common.settings import EMBEDDED_BROKER_GROUP_TIMINGS
from rcm_common.telemetry import configure_tracing
from rcm_common.testing import (
    announce,
    announcing,
    create_database,
    fast_settings,
    sample_patient_registered,
    wait_until,
)
from rcm_common.uow import SqlUnitOfWork
from rcm_tools.broker import EmbeddedBroker, ensure_topics

pytestmark = pytest.mark.broker


@pytest.fixture
async def topic(embedded_broker: EmbeddedBroker) -> str:
    name = f"rcm.test-{uuid.uuid4().hex[:8]}.events"
    await ensure_topics(embedded_broker.bootstrap_servers, [name, f"{name}.dlq"], partitions=3)
    return name


@pytest.fixture
async def producer_db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine, factory = await create_database(f"sqlite+aiosqlite:///{tmp_path / 'producer.db'}")
    yield factory
    await engine.dispose()


@pytest.fixture
async def kafka(embedded_broker: EmbeddedBroker) -> AsyncIterator[KafkaBroker]:
    broker = KafkaBroker(embedded_broker.bootstrap_servers, acks="all")
    await broker.connect()
    yield broker
    await broker.stop()


async def write_events(factory: async_sessionmaker[AsyncSession], topic: str, count: int) -> list[str]:
    """Commit `count` events through the unit of work, as a service's handler would; returns their ids."""
    ids = []
    for _ in range(count):
        event = sample_patient_registered()
        async with SqlUnitOfWork(factory, producer="test-producer", publication=announcing(topic)) as uow:
            announce(uow, event)
            await uow.commit()
        async with factory() as session:
            ids.append(
                str(
                    await session.scalar(
                        select(col(OutboxMessage.event_id)).where(col(OutboxMessage.key) == event.subject)
                    )
                )
            )
    return ids


async def read_all(servers: str, topic: str, group: str, expected: int) -> list[ConsumerRecord[Any, Any]]:
    """Read at least `expected` records as consumer group `group` without committing offsets."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **EMBEDDED_BROKER_GROUP_TIMINGS,
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        async with asyncio.timeout(20):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                records.extend(r for part in batch.values() for r in part)
    finally:
        await consumer.stop()
    return records


def consumer_for(effects: Any, topic: str, kafka: KafkaBroker) -> EventConsumer[SqlUnitOfWork]:
    return EventConsumer(
        name=f"consumer-{uuid.uuid4().hex[:6]}",
        topic=topic,
        handlers={PatientRegistered: effects.record},
        uow_factory=effects.uow,
        dead_letters=KafkaMessagePublisher(kafka),
    )


async def pending_rows(factory: async_sessionmaker[AsyncSession]) -> int:
    async with factory() as session:
        query = select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))
        return int(await session.scalar(query) or 0)


async def test_outbox_to_kafka_to_consumer_applies_each_event_once(
    embedded_broker: EmbeddedBroker, topic: str, producer_db: Any, kafka: KafkaBroker, effects: Any
) -> None:
    ids = await write_events(producer_db, topic, 20)
    assert await OutboxRelay(producer_db, KafkaMessagePublisher(kafka)).publish_pending() == 20
    assert await pending_rows(producer_db) == 0

    consumer_broker = KafkaBroker(embedded_broker.bootstrap_servers)
    consumer_for(effects, topic, consumer_broker).subscribe(consumer_broker, fast_settings(consumer_batch_size=7))
    async with consumer_broker:
        await consumer_broker.start()

        async def all_applied() -> bool:
            return len(await effects.counts()) == len(ids)

        await wait_until(all_applied)

    assert await effects.counts() == dict.fromkeys(ids, 1)
    records = await read_all(embedded_broker.bootstrap_servers, topic, "inspector", 20)
    headers = {name: value.decode() for name, value in records[0].headers}
    assert {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "ce_dataschema"} <= set(headers)
    assert headers["content-type"] == "application/json"
    assert records[0].key.decode() == headers["ce_subject"] == json.loads(records[0].value)["patient_id"]


async def test_a_cloudevents_sdk_reads_a_published_record_as_a_cloudevent(
    embedded_broker: EmbeddedBroker, topic: str, producer_db: Any, kafka: KafkaBroker
) -> None:
    """The CloudEvents Kafka protocol binding, binary mode: a generic reader gets every attribute."""
    [event_id] = await write_events(producer_db, topic, 1)
    await OutboxRelay(producer_db, KafkaMessagePublisher(kafka)).publish_pending()
    [record] = await read_all(embedded_broker.bootstrap_servers, topic, "cloudevents-reader", 1)

    cloud_event = cloudevents_kafka.from_binary_event(
        cloudevents_kafka.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
    )

    payload = json.loads(record.value)
    assert cloud_event.get_specversion() == "1.0"
    assert cloud_event.get_id() == event_id
    assert cloud_event.get_type() == PatientRegistered.event_type
    assert cloud_event.get_source() == "/rcm/test-producer"
    assert cloud_event.get_subject() == payload["patient_id"] == record.key.decode()
    assert cloud_event.get_dataschema() == schema_id(PatientRegistered.event_type, 1)
    assert cloud_event.get_datacontenttype() == "application/json"
    published_at = cloud_event.get_time()
    assert published_at is not None
    assert published_at.utcoffset() is not None
    assert cloud_event.get_data() == payload
    assert cloud_event.get_extension("correlationid")


async def test_a_crash_between_the_database_commit_and_the_offset_commit_does_not_apply_twice(
    embedded_broker: EmbeddedBroker, topic: str, producer_db: Any, kafka: KafkaBroker, effects: Any
) -> None:
    ids = await write_events(producer_db, topic, 10)
    await OutboxRelay(producer_db, KafkaMessagePublisher(kafka)).publish_pending()
    consumer = consumer_for(effects, topic, kafka)

    # First life: the effects commit, then the process dies before any offset is committed.
    first = await consumer.consume(await read_all(embedded_broker.bootstrap_servers, topic, consumer.name, 10))
    # Second life: the same group reads the same records again from the last committed offset.
    second = await consumer.consume(await read_all(embedded_broker.bootstrap_servers, topic, consumer.name, 10))

    assert (first.applied, second.applied, second.duplicates) == (10, 0, 10)
    assert await effects.counts() == dict.fromkeys(ids, 1)


class KilledHere(Failpoint):
    """The relay's failpoint, firing as a SystemExit rather than SIGKILL: the test process lives on."""

    def __init__(self) -> None:
        super().__init__("relay.after_publish", 1.0)

    def pass_here(self) -> None:
        raise SystemExit("relay process killed")


async def test_a_relay_crash_after_publishing_does_not_duplicate_the_effect_downstream(
    embedded_broker: EmbeddedBroker, topic: str, producer_db: Any, kafka: KafkaBroker, effects: Any
) -> None:
    ids = await write_events(producer_db, topic, 5)
    with pytest.raises(SystemExit):
        await OutboxRelay(producer_db, KafkaMessagePublisher(kafka), after_publish=KilledHere()).publish_pending()
    assert await pending_rows(producer_db) == 5  # the transaction that would have marked them never committed

    assert await OutboxRelay(producer_db, KafkaMessagePublisher(kafka)).publish_pending() == 5  # restarted relay
    records = await read_all(embedded_broker.bootstrap_servers, topic, "reader", 10)
    report = await consumer_for(effects, topic, kafka).consume(records)

    assert len(records) == 10  # every event is on the topic twice
    assert (report.applied, report.duplicates) == (5, 5)
    assert await effects.counts() == dict.fromkeys(ids, 1)


async def test_the_requests_trace_continues_onto_the_broker(
    embedded_broker: EmbeddedBroker, topic: str, producer_db: Any
) -> None:
    provider = configure_tracing("test-producer", None)
    with trace.get_tracer("test").start_as_current_span("POST /patients") as request_span:
        await write_events(producer_db, topic, 1)
    broker = create_broker(
        fast_settings(kafka_bootstrap_servers=embedded_broker.bootstrap_servers), tracer_provider=provider
    )
    await broker.connect()
    try:
        await OutboxRelay(producer_db, KafkaMessagePublisher(broker)).publish_pending()
    finally:
        await broker.stop()

    [record] = await read_all(embedded_broker.bootstrap_servers, topic, "trace-reader", 1)
    trace_id = format(request_span.get_span_context().trace_id, "032x")
    assert dict(record.headers)["traceparent"].decode().split("-")[1] == trace_id
    assert dict(record.headers)["ce_traceparent"].decode().split("-")[1] == trace_id
