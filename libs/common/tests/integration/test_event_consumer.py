"""The event consumer's promises over faststream's in-memory TestKafkaBroker and a real SQLite database:
retries apply an effect once, a poison message goes to the DLQ and the partition moves on, a duplicate
event is applied once."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from typing import Any, cast

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from rcm_common.envelope import Envelope
from rcm_common.errors import ConcurrentUpdate, ValidationFailed
from rcm_common.events.base import schema_id
from rcm_common.events.registration import PatientRegistered
from rcm_common.messaging import EventConsumer, KafkaMessagePublisher, TransientFailure, leave_records_undecoded
from rcm_common.outbox import OutboxMessage, OutgoingMessage
from rcm_common.telemetry import configure_tracing
from rcm_common.testing import announce, envelope_for, fast_settings
from rcm_common.testing import sample_patient_registered as patient_registered
from rcm_common.topics import REGISTRATION_EVENTS, dlq_topic
from rcm_common.uow import SqlUnitOfWork


class Flaky:
    """Fails its first `failures` attempts, and always for the MRNs it is told to break; otherwise records."""

    def __init__(self, effects: Any, failures: int = 0, always_failing: set[str] | None = None) -> None:
        self.effects = effects
        self.failures = failures
        self.always_failing = always_failing or set()
        self.attempts = 0

    async def __call__(self, event: PatientRegistered, envelope: Envelope, uow: SqlUnitOfWork) -> None:
        self.attempts += 1
        if event.mrn in self.always_failing:
            raise RuntimeError("this event can never be applied")
        if self.attempts <= self.failures:
            raise ConnectionError("transient")
        await self.effects.record(event, envelope, uow)


def build(effects: Any, handler: Flaky) -> tuple[KafkaBroker, list[dict[str, Any]]]:
    broker = KafkaBroker()
    consumer = EventConsumer(
        name="test-consumer",
        topic=REGISTRATION_EVENTS,
        handlers={PatientRegistered: handler},
        uow_factory=effects.uow,
        dead_letters=KafkaMessagePublisher(broker),
        max_retries=3,
        retry_base_seconds=0.001,
    )
    consumer.subscribe(broker, fast_settings())
    dead: list[dict[str, Any]] = []

    @broker.subscriber(dlq_topic(REGISTRATION_EVENTS), group_id="dlq-reader", decoder=leave_records_undecoded)
    async def read_dlq(message: KafkaMessage) -> None:
        dead.append({"headers": dict(message.headers), "body": message.body})

    return broker, dead


async def publish(broker: KafkaBroker, event: PatientRegistered, event_id: uuid.UUID | None = None) -> Envelope:
    envelope = envelope_for(event, event_id)
    await broker.publish(
        event.model_dump_json().encode(),
        topic=REGISTRATION_EVENTS,
        key=event.subject.encode(),
        headers=envelope.to_headers(),
    )
    return envelope


async def test_a_handler_that_fails_twice_then_succeeds_applies_its_effect_once(
    effects: Any,
) -> None:
    handler = Flaky(effects, failures=2)
    broker, dead = build(effects, handler)
    async with TestKafkaBroker(broker):
        envelope = await publish(broker, patient_registered())

    assert handler.attempts == 3
    assert await effects.counts() == {str(envelope.event_id): 1}
    assert dead == []


async def test_a_poison_message_lands_in_the_dlq_and_the_next_message_is_processed(
    effects: Any,
) -> None:
    poison = patient_registered(mrn="999999990")
    handler = Flaky(effects, always_failing={poison.mrn})
    broker, dead = build(effects, handler)
    async with TestKafkaBroker(broker):
        await publish(broker, poison)
        healthy = await publish(broker, patient_registered(poison.patient_id))  # same key: same partition

    assert await effects.counts() == {str(healthy.event_id): 1}
    assert len(dead) == 1
    headers = dead[0]["headers"]
    assert headers["dlq_consumer"] == "test-consumer"
    assert headers["dlq_original_topic"] == REGISTRATION_EVENTS
    assert headers["dlq_error_type"] == "RuntimeError"
    assert headers["ce_type"] == PatientRegistered.event_type
    assert PatientRegistered.model_validate_json(dead[0]["body"]).patient_id == poison.patient_id


async def test_an_unreadable_message_goes_to_the_dlq_without_retries(
    effects: Any,
) -> None:
    handler = Flaky(effects)
    broker, dead = build(effects, handler)
    async with TestKafkaBroker(broker):
        event = patient_registered()
        headers = envelope_for(event).to_headers()
        await broker.publish(b'{"patient_id": "not-a-uuid"}', topic=REGISTRATION_EVENTS, headers=headers)
        await broker.publish(b"{}", topic=REGISTRATION_EVENTS, headers={"ce_type": "missing-the-rest"})

    assert handler.attempts == 0
    assert [d["headers"]["dlq_error_type"] for d in dead] == ["InvalidMessage", "InvalidMessage"]
    # The reason names fields, never their values (which can be PHI).
    assert "not-a-uuid" not in dead[0]["headers"]["dlq_error"]


async def deliver_batch(broker: KafkaBroker, records: tuple[ConsumerRecord[Any, Any], ...]) -> None:
    """The three records as one batch, the way the broker's fetch hands them to the subscriber."""
    [subscriber] = [s for s in broker.subscribers if REGISTRATION_EVENTS in cast("Any", s).topic_names]  # not the DLQ's
    await subscriber.process_message(records)


@pytest.mark.parametrize(
    ("unreadable", "reason"),
    [
        ({"payload": b'{"not json'}, "payload of rcm.registration.patient_registered is invalid"),
        ({"extra": [("x-note", b"\xff")]}, "a header is not UTF-8"),
        ({"extra": [("x-note", None)]}, "a header has no value"),
    ],
    ids=["payload not json", "header not utf-8", "header without a value"],
)
async def test_an_unreadable_record_is_dead_lettered_and_the_events_of_its_batch_applied(
    effects: Any, unreadable: dict[str, Any], reason: str
) -> None:
    """faststream reads a batch's headers and payloads before the consumer does: one record it cannot read must
    still reach the consumer (and the DLQ) rather than fail its batch, the events beside it unapplied."""
    broker, dead = build(effects, Flaky(effects))
    events = [patient_registered() for _ in range(3)]
    envelopes = [envelope_for(event) for event in events]
    before, after = (record_of(events[n], envelopes[n].to_headers(), n) for n in (0, 2))
    bad = record_of(events[1], envelopes[1].to_headers(), 1, **unreadable)
    async with TestKafkaBroker(broker):
        await deliver_batch(broker, (before, bad, after))

    assert await effects.counts() == {str(envelopes[0].event_id): 1, str(envelopes[2].event_id): 1}
    assert [d["headers"]["dlq_error_type"] for d in dead] == ["InvalidMessage"]
    assert reason in dead[0]["headers"]["dlq_error"]


async def test_a_duplicate_event_is_applied_once(effects: Any) -> None:
    handler = Flaky(effects)
    broker, dead = build(effects, handler)
    event, event_id = patient_registered(), uuid.uuid4()
    async with TestKafkaBroker(broker):
        await publish(broker, event, event_id)
        await publish(broker, event, event_id)

    assert await effects.counts() == {str(event_id): 1}
    assert handler.attempts == 1
    assert dead == []


async def test_events_of_types_the_consumer_does_not_handle_are_skipped(
    effects: Any,
) -> None:
    handler = Flaky(effects)
    broker, dead = build(effects, handler)
    async with TestKafkaBroker(broker):
        headers = envelope_for(patient_registered()).to_headers() | {"ce_type": "rcm.other.something_new"}
        await broker.publish(b"{}", topic=REGISTRATION_EVENTS, headers=headers)

    assert handler.attempts == 0
    assert dead == []
    assert await effects.counts() == {}


def record_of(
    event: PatientRegistered,
    headers: dict[str, str],
    offset: int = 0,
    *,
    payload: bytes | None = None,
    extra: Sequence[tuple[str, bytes | None]] = (),
) -> ConsumerRecord[bytes, bytes]:
    """The event as the broker hands it over, with these envelope headers; `payload` and `extra` headers make it
    one no consumer can read."""
    return ConsumerRecord(
        topic=REGISTRATION_EVENTS,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=event.subject.encode(),
        value=event.model_dump_json().encode() if payload is None else payload,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=0,
        headers=[(name, value.encode()) for name, value in headers.items()] + list(extra),
    )


class RecordingDeadLetters:
    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def publish_all(self, messages: Sequence[OutgoingMessage]) -> None:
        self.sent.extend(messages)


def direct_consumer(effects: Any, handler: Any, dead: RecordingDeadLetters) -> EventConsumer[SqlUnitOfWork]:
    return EventConsumer(
        name="direct",
        topic=REGISTRATION_EVENTS,
        handlers={PatientRegistered: handler},
        uow_factory=effects.uow,
        dead_letters=dead,
        max_retries=2,
        retry_base_seconds=0.001,
    )


async def test_a_database_outage_is_never_dead_lettered_but_read_again(effects: Any) -> None:
    async def database_down(event: PatientRegistered, envelope: Envelope, uow: SqlUnitOfWork) -> None:
        raise OperationalError("INSERT ...", {}, ConnectionRefusedError("database unreachable"))

    dead = RecordingDeadLetters()
    event = patient_registered()
    with pytest.raises(TransientFailure):
        await direct_consumer(effects, database_down, dead).consume(
            [record_of(event, envelope_for(event).to_headers())]
        )

    assert dead.sent == []


async def test_a_concurrent_update_is_retried_until_it_applies(effects: Any) -> None:
    attempts = 0

    async def contended(event: PatientRegistered, envelope: Envelope, uow: SqlUnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConcurrentUpdate("changed by another transaction")
        await effects.record(event, envelope, uow)

    dead = RecordingDeadLetters()
    event = patient_registered()
    envelope = envelope_for(event)
    report = await direct_consumer(effects, contended, dead).consume([record_of(event, envelope.to_headers())])

    assert (report.applied, attempts, dead.sent) == (1, 3, [])
    assert await effects.counts() == {str(envelope.event_id): 1}


async def test_a_rule_the_event_breaks_goes_to_the_dlq_at_once(effects: Any) -> None:
    attempts = 0

    async def refuses(event: PatientRegistered, envelope: Envelope, uow: SqlUnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        raise ValidationFailed([{"field": "mrn", "message": "is not known here"}])

    dead = RecordingDeadLetters()
    event = patient_registered()
    await direct_consumer(effects, refuses, dead).consume([record_of(event, envelope_for(event).to_headers())])

    assert attempts == 2  # once in the batch, once alone: no retries for a rule
    assert [m.headers["dlq_error_type"] for m in dead.sent] == ["ValidationFailed"]


async def test_another_version_of_a_handled_event_is_left_to_its_own_readers(effects: Any) -> None:
    dead = RecordingDeadLetters()
    event = patient_registered()
    headers = envelope_for(event).to_headers() | {"ce_dataschema": schema_id(event.event_type, 2)}
    report = await direct_consumer(effects, effects.record, dead).consume([record_of(event, headers)])

    assert (report.applied, report.ignored, dead.sent) == (0, 1, [])


async def test_what_a_handler_publishes_names_its_cause_and_stays_in_its_trace(effects: Any) -> None:
    async def follow_up(event: PatientRegistered, envelope: Envelope, uow: SqlUnitOfWork) -> None:
        announce(uow, patient_registered())

    event = patient_registered()
    trace_id = uuid.uuid4().hex
    incoming = dataclasses.replace(envelope_for(event), traceparent=f"00-{trace_id}-{'1' * 16}-01")
    configure_tracing("test-consumer", None)
    await direct_consumer(effects, follow_up, RecordingDeadLetters()).consume([record_of(event, incoming.to_headers())])

    async with effects.session_factory() as session:
        [headers] = (await session.scalars(select(col(OutboxMessage.headers)))).all()
    envelope = Envelope.from_headers(json.loads(headers))
    assert envelope.causation_id == str(incoming.event_id)
    assert envelope.correlation_id == incoming.correlation_id
    assert envelope.traceparent is not None
    assert envelope.traceparent.split("-")[1] == trace_id
