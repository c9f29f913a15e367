"""Kafka messaging: the broker factory, an acknowledged publisher, and the event consumer.

The consumer reads a batch, applies it in one transaction with the inbox, and commits offsets only after
that transaction committed. When the batch fails it falls back to one message at a time with bounded,
jittered retries; a message that still fails is moved to `<topic>.dlq` with error headers and the
partition moves on. A failure that outlasts the retries but will pass (the database down, a concurrent
update) is never dead-lettered: the batch is read again after a pause. Offsets are never committed before
the effects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import BaseSecurity
from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import TracerProvider
from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy.exc import InterfaceError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from rcm_common.db import is_transient_database_error
from rcm_common.envelope import Envelope, InvalidMessage, current_causation_id, decode_event, decode_headers
from rcm_common.errors import ConcurrentUpdate, RcmError
from rcm_common.events.base import IntegrationEvent
from rcm_common.failpoints import armed_failpoint
from rcm_common.inbox import claim_events
from rcm_common.logs import bind_correlation_id, correlation_id_var
from rcm_common.outbox import MessagePublisher, OutgoingMessage
from rcm_common.settings import ServiceSettings
from rcm_common.topics import dlq_topic
from rcm_common.types import utcnow
from rcm_common.uow import SqlUnitOfWork

logger = logging.getLogger(__name__)

U = TypeVar("U", bound=SqlUnitOfWork)
W = TypeVar("W")
EventHandler = Callable[[Any, Envelope, W], Awaitable[None]]
"""A handler of one event type: the event, its envelope, and the unit of work it runs in."""


def create_broker(
    settings: ServiceSettings,
    *,
    tracer_provider: TracerProvider | None = None,
    metrics_registry: CollectorRegistry = REGISTRY,
) -> KafkaBroker:
    """A faststream Kafka broker with tracing and Prometheus middlewares; producers wait for all replicas."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=broker_security(settings),
        client_id=settings.service_name,
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        linger_ms=5,
        middlewares=[
            KafkaTelemetryMiddleware(tracer_provider=tracer_provider),
            KafkaPrometheusMiddleware(registry=metrics_registry, app_name=settings.service_name),
        ],
        logger=logging.getLogger(f"{settings.service_name}.broker"),
    )


def broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    """TLS to the brokers when the settings ask for it: their certificates checked against the cluster's CA and
    their host names, and the service's own certificate presented where one is given; else none."""
    if settings.kafka_security_protocol != "SSL":
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
    if settings.kafka_ssl_certfile is not None and settings.kafka_ssl_keyfile is not None:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return BaseSecurity(ssl_context=context)


class KafkaMessagePublisher:
    """Sends a batch without waiting message by message, then waits until the broker acknowledged all.

    Each message is sent inside the trace context stored with it, so the producer span (and the
    `traceparent` the tracing middleware writes) continues the request that caused the event, not the
    relay's own background task.
    """

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def publish_all(self, messages: Sequence[OutgoingMessage]) -> None:
        pending = []
        for message in messages:
            token = otel_context.attach(propagate.extract({"traceparent": message.headers.get("ce_traceparent", "")}))
            try:
                sent = await self._broker.publish(
                    message.payload,
                    topic=message.topic,
                    key=message.key,
                    headers=dict(message.headers),
                    correlation_id=message.headers.get("ce_correlationid"),
                    no_confirm=True,
                )
            finally:
                otel_context.detach(token)
            if isinstance(sent, asyncio.Future):
                pending.append(sent)
        if pending:
            await asyncio.gather(*pending)


@dataclass(slots=True)
class _Incoming:
    record: ConsumerRecord[Any, Any]
    envelope: Envelope
    event: IntegrationEvent


@dataclass(slots=True)
class ConsumeReport:
    """What one batch came to: applied, skipped as duplicates or unhandled types, and dead-lettered."""

    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: list[str] = field(default_factory=list)


class TransientFailure(Exception):
    """The batch met a failure that will pass (the database unreachable or busy, a concurrent update):
    it is read again after a pause, never dead-lettered."""


_TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError, TimeoutError, ConcurrentUpdate)


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT_ERRORS) or is_transient_database_error(exc)


def _is_permanent(exc: BaseException) -> bool:
    """Retrying cannot help: the message is unreadable, or breaks a rule of the service that applies it."""
    return isinstance(exc, InvalidMessage) or (isinstance(exc, RcmError) and not _is_transient(exc))


BatchPreparation = Callable[[Sequence[IntegrationEvent], U], Awaitable[None]]
"""What a service does once per batch before its handlers run, in the batch's unit of work: take the locks
and read in a few set-based queries what the handlers would otherwise read one event at a time."""


class EventConsumer(Generic[U]):
    """Applies integration events from one topic to a service's datastore, effectively once."""

    def __init__(
        self,
        *,
        name: str,
        topic: str,
        handlers: Mapping[type[IntegrationEvent], EventHandler[U]],
        uow_factory: Callable[[], U],
        dead_letters: MessagePublisher,
        max_retries: int = 3,
        retry_base_seconds: float = 0.2,
        prepare: BatchPreparation[U] | None = None,
    ) -> None:
        self.name = name
        self._prepare = prepare
        self.topic = topic
        self._handlers = {(model.event_type, model.event_version): h for model, h in handlers.items()}
        self._handled_types = {model.event_type for model in handlers}
        self._uow_factory = uow_factory
        self._dead_letters = dead_letters
        self._max_retries = max_retries
        self._retry_base_seconds = retry_base_seconds
        self._pauses = 0

    def subscribe(self, broker: KafkaBroker, settings: ServiceSettings) -> None:
        """Attach to the broker as a batch subscriber, acknowledging by hand, in the consumer group
        `<name>.<topic>` (`claim.rcm.charge.events`): a group per topic a service reads, so one topic's
        rebalance never pauses the others, and the embedded broker, whose coordinator does not settle a group
        whose members read different topics, serves every service."""

        after_commit = armed_failpoint(settings.failpoints, "consumer.after_commit")

        async def on_batch(message: KafkaMessage) -> None:
            raw = message.raw_message
            records = tuple(raw) if isinstance(raw, tuple | list) else (raw,)
            try:
                await self.consume(records)
            except TransientFailure as failure:
                self._pauses += 1
                pause = min(0.5 * 2**self._pauses, 30.0)
                logger.warning(
                    "consumer %s: %s; reading the batch again in %.1fs",
                    self.name,
                    _safe_reason(failure.__cause__ or failure),
                    pause,
                )
                await asyncio.sleep(pause)
                await message.nack()
                return
            except Exception:
                # The dead-letter publish itself failed: rewind so the batch is read again.
                logger.exception("consumer %s could not settle a batch; it will be read again", self.name)
                await message.nack()
                return
            self._pauses = 0
            after_commit.pass_here()
            await message.ack()

        broker.subscriber(
            self.topic,
            group_id=f"{self.name}.{self.topic}",
            batch=True,
            max_records=settings.consumer_batch_size,
            batch_timeout_ms=50,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=settings.consumer_heartbeat_interval_ms,
            rebalance_timeout_ms=settings.consumer_rebalance_timeout_ms,
            ack_policy=AckPolicy.MANUAL,
            parser=parse_without_trusting_headers,
            decoder=leave_records_undecoded,
            title=f"{self.name}:{self.topic}",
        )(on_batch)

    async def consume(self, records: Sequence[ConsumerRecord[Any, Any]]) -> ConsumeReport:
        """Apply a batch of records and say what happened.

        Raises TransientFailure when the batch should be read again later, and any error of the dead-letter
        publish itself; a message that cannot be applied for good is dead-lettered instead.
        """
        report = ConsumeReport()
        incoming: list[_Incoming] = []
        poison: list[tuple[ConsumerRecord[Any, Any], Exception]] = []
        seen: set[str] = set()
        for record in records:
            try:
                item = self._decode(record)
            except InvalidMessage as exc:
                poison.append((record, exc))
                continue
            if item is None:
                report.ignored += 1
            elif str(item.envelope.event_id) in seen:
                report.duplicates += 1
            else:
                seen.add(str(item.envelope.event_id))
                incoming.append(item)

        if incoming:
            try:
                applied = await self._apply(incoming)
                report.applied += applied
                report.duplicates += len(incoming) - applied
            except Exception:
                logger.warning("consumer %s: batch of %d failed, retrying one by one", self.name, len(incoming))
                for item in incoming:
                    try:
                        applied = await self._apply_with_retries(item)
                    except Exception as item_exc:
                        if _is_transient(item_exc):
                            # Retries did not outlast it: read the batch again later (what was applied
                            # so far stays applied, and the inbox skips it then).
                            raise TransientFailure from item_exc
                        poison.append((item.record, item_exc))
                        continue
                    report.applied += applied
                    report.duplicates += 1 - applied

        if poison:
            await self._dead_letters.publish_all([self._dead_letter(record, error) for record, error in poison])
            report.dead_lettered = [_record_position(record) for record, _ in poison]
            for record, error in poison:
                logger.error(
                    "consumer %s moved %s to the DLQ: %s",
                    self.name,
                    _record_position(record),
                    _safe_reason(error),
                )
        return report

    def _decode(self, record: ConsumerRecord[Any, Any]) -> _Incoming | None:
        envelope = Envelope.from_headers(decode_headers(record.headers))
        if envelope.event_type not in self._handled_types:
            return None
        if (envelope.event_type, envelope.event_version) not in self._handlers:
            return None  # another version, published beside the one this consumer reads (DESIGN §3)
        return _Incoming(record, envelope, decode_event(envelope, record.value or b""))

    async def _apply(self, items: Sequence[_Incoming]) -> int:
        async with self._uow_factory() as uow:
            fresh = await claim_events(uow.session, self.name, [str(i.envelope.event_id) for i in items])
            if self._prepare is not None:
                await self._prepare([i.event for i in items if str(i.envelope.event_id) in fresh], uow)
            for item in items:
                if str(item.envelope.event_id) not in fresh:
                    continue
                handler = self._handlers[(item.envelope.event_type, item.envelope.event_version)]
                # The event's cause, correlation and trace are current while it is applied, so what the
                # handler publishes names its cause and stays in the same trace.
                causation = current_causation_id.set(str(item.envelope.event_id))
                correlation = bind_correlation_id(item.envelope.correlation_id)
                trace_token = otel_context.attach(propagate.extract({"traceparent": item.envelope.traceparent or ""}))
                try:
                    await handler(item.event, item.envelope, uow)
                finally:
                    otel_context.detach(trace_token)
                    correlation_id_var.reset(correlation)
                    current_causation_id.reset(causation)
            await uow.commit()
            return len(fresh)

    async def _apply_with_retries(self, item: _Incoming) -> int:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_retries + 1),
            wait=wait_exponential_jitter(multiplier=self._retry_base_seconds, max=10, jitter=self._retry_base_seconds),
            retry=retry_if_exception(lambda exc: not _is_permanent(exc)),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._apply([item])
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _dead_letter(self, record: ConsumerRecord[Any, Any], exc: Exception) -> OutgoingMessage:
        try:
            headers = decode_headers(record.headers)
        except InvalidMessage:
            headers = {}
        headers.update(
            {
                "dlq_consumer": self.name,
                "dlq_original_topic": record.topic,
                "dlq_original_partition": str(record.partition),
                "dlq_original_offset": str(record.offset),
                "dlq_error_type": type(exc).__name__,
                "dlq_error": _safe_reason(exc),
                "dlq_failed_at": utcnow().isoformat(),
            }
        )
        return OutgoingMessage(
            topic=dlq_topic(record.topic), key=record.key or b"", headers=headers, payload=record.value or b""
        )


async def parse_without_trusting_headers(
    records: tuple[ConsumerRecord[Any, Any], ...],
    parse: Callable[[tuple[ConsumerRecord[Any, Any], ...]], Awaitable[KafkaMessage]],
) -> KafkaMessage:
    """faststream decodes every header of a batch as UTF-8 while it builds its message: one record with a header
    that is not UTF-8 (or has no value) would fail its whole batch before the consumer saw it, the events beside
    it neither applied nor dead-lettered. faststream is given copies with readable headers; the consumer still
    reads the records as they came (`raw_message`), and dead-letters that one."""
    readable = tuple(
        dataclasses.replace(
            record,
            headers=[(name, (value or b"").decode("utf-8", "replace").encode()) for name, value in record.headers],
        )
        for record in records
    )
    message = await parse(readable)
    message.raw_message = records
    return message


def _readable(headers: Sequence[tuple[str, bytes | None]]) -> list[tuple[str, bytes]]:
    return [(name, (value or b"").decode("utf-8", "replace").encode()) for name, value in headers]


async def leave_records_undecoded(message: KafkaMessage) -> None:
    """The consumer reads each record of a batch itself (`consume`): faststream's own decoding would parse every
    payload as JSON before the handler runs, and one record that is not JSON would fail its whole batch, the
    events beside it unapplied and never dead-lettered."""
    return None


def _record_position(record: ConsumerRecord[Any, Any]) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _safe_reason(exc: BaseException) -> str:
    """Our own errors are written PHI-free; any other exception is named by its type only."""
    if isinstance(exc, InvalidMessage | RcmError):
        return str(exc)
    return type(exc).__name__
