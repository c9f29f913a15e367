"""Test helpers for every service: platform tables on a throwaway database, sample events and envelopes,
and a PostgreSQL database per test that is skipped, with its reason, where no server answers."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from aiokafka import ConsumerRecord
from alembic import command
from fastapi import FastAPI
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import SecretStr
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

from rcm_common import audit, http, inbox, merges, outbox
from rcm_common.aggregates import EventCollector, tracked
from rcm_common.audit import AccessRecord
from rcm_common.auth import mint_token
from rcm_common.control_numbers import next_control_number
from rcm_common.db import create_engine, create_session_factory
from rcm_common.envelope import Envelope, new_envelope
from rcm_common.errors import ConcurrentUpdate
from rcm_common.events import event_model
from rcm_common.events.base import IntegrationEvent
from rcm_common.events.registration import Address, CoverageAdded, Guarantor, PatientRegistered, PatientsMerged
from rcm_common.kernel import Kernel
from rcm_common.messaging import EventConsumer
from rcm_common.migrations import alembic_config, upgrade_to_head
from rcm_common.replica import CoverageCopy, PatientCopy
from rcm_common.schema_check import schema_differences, schema_snapshot
from rcm_common.settings import EMBEDDED_BROKER_GROUP_TIMINGS, ServiceSettings
from rcm_common.uow import Publication, SqlUnitOfWork

POSTGRES_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
UNREACHABLE_BROKER = "127.0.0.1:1"
"""A broker address nothing answers at: a service under test keeps every event it writes in its outbox."""

R = TypeVar("R")
K = TypeVar("K", bound=Kernel[Any, Any])
S = TypeVar("S", bound=ServiceSettings)
P = TypeVar("P", bound=PatientCopy)
C = TypeVar("C", bound=CoverageCopy)


def in_process_settings(
    settings_class: type[S], state_dir: Path, public_pem: str, database_url: str = "", **overrides: Any
) -> S:
    """A service's settings for running it in a test's process: the test environment, its own state directory
    and database (SQLite there unless `database_url` names one), a broker address nothing answers (its events
    stay in the outbox for the test to read), and the test's signing key."""
    fields: dict[str, Any] = {
        "environment": "test",
        "state_dir": state_dir,
        "database_url": database_url,
        "kafka_bootstrap_servers": UNREACHABLE_BROKER,
        "jwt_public_key": SecretStr(public_pem),
    }
    return settings_class(**(fields | overrides))


def fast_settings(**overrides: Any) -> ServiceSettings:
    """Settings for tests: the test environment and consumer groups that join the embedded broker quickly."""
    fields: dict[str, Any] = {
        "environment": "test",
        "consumer_session_timeout_ms": EMBEDDED_BROKER_GROUP_TIMINGS["session_timeout_ms"],
        "consumer_heartbeat_interval_ms": EMBEDDED_BROKER_GROUP_TIMINGS["heartbeat_interval_ms"],
        "consumer_rebalance_timeout_ms": EMBEDDED_BROKER_GROUP_TIMINGS["rebalance_timeout_ms"],
    }
    return ServiceSettings.model_validate(fields | overrides)


PLATFORM_TABLES: tuple[Table, ...] = (
    outbox.OutboxMessage.__table__,  # type: ignore[attr-defined]
    inbox.InboxMessage.__table__,  # type: ignore[attr-defined]
    audit.AuditRecord.__table__,  # type: ignore[attr-defined]
    http.IdempotencyRecord.__table__,  # type: ignore[attr-defined]
    merges.MergeRecord.__table__,  # type: ignore[attr-defined]
    merges.MovedCoverage.__table__,  # type: ignore[attr-defined]
)


async def create_database(
    url: str, extra_tables: Sequence[Table] = ()
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """An engine and session factory over `url` with the platform tables (and any others) created."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all, tables=[*PLATFORM_TABLES, *extra_tables])
    return engine, create_session_factory(engine)


async def postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


@asynccontextmanager
async def throwaway_postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test; yields its SQLAlchemy async URL and drops it afterwards."""
    async with throwaway_postgres_databases(1) as [url]:
        yield url


@asynccontextmanager
async def throwaway_postgres_databases(count: int) -> AsyncIterator[list[str]]:
    """`count` fresh PostgreSQL databases (a stack's services each own one); yields their SQLAlchemy async URLs
    and drops them afterwards."""
    names = [f"rcm_test_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    created: list[str] = []
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
            created.append(name)
        yield [f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}" for name in names]
    finally:
        try:
            for name in created:
                with contextlib.suppress(asyncpg.PostgresError):  # one left behind must not keep the rest
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def wait_until(condition: Callable[[], Awaitable[bool]], *, within: float = 20, every: float = 0.05) -> None:
    """Poll `condition` until it holds; raise TimeoutError after `within` seconds."""
    async with asyncio.timeout(within):
        while not await condition():  # noqa: ASYNC110 - the state lives in a database, not in an Event
            await asyncio.sleep(every)


def sample_patient_registered(patient_id: uuid.UUID | None = None, **changes: Any) -> PatientRegistered:
    """A synthetic PatientRegistered (no real person's data)."""
    fields: dict[str, Any] = {
        "patient_id": patient_id or uuid.uuid4(),
        "mrn": "000000018",
        "first_name": "Jane",
        "last_name": "Doe",
        "birth_date": date(1980, 1, 15),
        "sex": "F",
        "address": Address(line1="12 Elm St", city="Anytown", state="PA", postal_code="19001"),
        "guarantor": Guarantor(relationship="self"),
    }
    return PatientRegistered.model_validate(fields | changes)


def sample_coverage_added(patient_id: uuid.UUID, **changes: Any) -> CoverageAdded:
    """A synthetic CoverageAdded for the patient (an invented member id)."""
    fields: dict[str, Any] = {
        "patient_id": patient_id,
        "coverage_id": uuid.uuid4(),
        "payer_id": "ACME01",
        "payer_name": "Acme Health Plan",
        "member_id": "ACM123456789",
        "group_number": "GRP100",
        "plan_type": "PPO",
        "relationship": "self",
        "effective_date": date(2026, 1, 1),
        "order": "primary",
    }
    return CoverageAdded.model_validate(fields | changes)


@dataclasses.dataclass(slots=True)
class Announcement:
    """An aggregate for the platform's own tests and benchmarks, which have no domain: it records the
    integration event it is given as its domain event, and `announced` is its mapper."""

    events: list[IntegrationEvent]


def announced(aggregate: Announcement, event: IntegrationEvent) -> IntegrationEvent:
    return event


def announcing(topic: str) -> Publication:
    """The publication of a test's unit of work: announced events go to `topic` as they are."""
    return Publication(topic, announced)


def announce(uow: SqlUnitOfWork, event: IntegrationEvent) -> None:
    """Have `event` written to the outbox when `uow` commits, as a handler's stored aggregate would."""
    uow.events.stored(Announcement([event]))


def envelope_for(event: IntegrationEvent, event_id: uuid.UUID | None = None, producer: str = "test") -> Envelope:
    """An envelope for `event` as a producer would write it, with a chosen event id where one is given."""
    envelope = new_envelope(event, producer)
    return dataclasses.replace(envelope, event_id=event_id) if event_id else envelope


BROKERS = (
    pytest.param(False, id="in-memory"),
    pytest.param(True, id="embedded-broker", marks=pytest.mark.broker),
)
"""A service's subscription test runs twice: in memory through faststream's TestKafkaBroker, and with
`with_real=True` on the session's embedded broker, so its consumer group, batch size and manual
acknowledgement meet a real Kafka-protocol broker."""


def broker_settings(request: pytest.FixtureRequest, real: bool) -> dict[str, Any]:
    """The settings that point a service at its BROKERS test's broker: the session's embedded broker (with the
    consumer-group timings it admits quickly), or an unreachable address for the in-memory run."""
    if not real:
        return {"kafka_bootstrap_servers": UNREACHABLE_BROKER}
    broker = request.getfixturevalue("embedded_broker")
    timings = {f"consumer_{name}": value for name, value in EMBEDDED_BROKER_GROUP_TIMINGS.items()}
    return {"kafka_bootstrap_servers": broker.bootstrap_servers, **timings}


async def publish_as(broker: KafkaBroker, topic: str, event: IntegrationEvent, producer: str) -> Envelope:
    """Publish `event` as its producer's relay would: the JSON payload, the subject as key and the envelope's
    CloudEvents headers."""
    envelope = new_envelope(event, producer)
    await broker.publish(
        event.model_dump_json().encode(), topic=topic, key=event.subject.encode(), headers=envelope.to_headers()
    )
    return envelope


async def wait_until_applied(
    session_factory: async_sessionmaker[AsyncSession], sent: Sequence[Envelope], *, within: float = 30
) -> None:
    """Wait until the service's inbox holds every event sent: its consumer applied them."""

    async def applied() -> bool:
        rows = await query_rows(session_factory, "SELECT event_id FROM inbox")
        return {str(envelope.event_id) for envelope in sent} <= {row["event_id"] for row in rows}

    await wait_until(applied, within=within)


async def deliver_through_subscriptions(
    kernel: Kernel[Any, Any], topic: str, events: Sequence[IntegrationEvent], *, producer: str, real: bool
) -> None:
    """Publish `events` to `topic` as `producer` would, through the service's own broker and its real
    subscriptions (in memory, or `with_real=True` on the broker its settings name), and wait until its
    consumer applied them all."""
    async with TestKafkaBroker(kernel.broker, with_real=real) as broker:
        sent = [await publish_as(broker, topic, event, producer) for event in events]
        await wait_until_applied(kernel.session_factory, sent)


@asynccontextmanager
async def serving(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Run a service app's lifespan and give an in-process client of it; the root logger is restored
    afterwards (the app's logging setup binds a handler to this test's stdout, later tests must not write
    to it)."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client,
        ):
            yield client
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@dataclasses.dataclass
class InProcessApp(Generic[K]):
    """A service's real app running in process (its lifespan included: migrations, broker link, relay) over
    a real database, a client of it, tokens minted with the test's key, and raw SQL on its database. A test
    points its broker nowhere, so every event the service writes stays in its outbox for the test to read."""

    app: FastAPI
    client: httpx.AsyncClient
    private_pem: str
    kernel: K
    default_roles: tuple[str, ...]
    default_subject: str | None = None
    """Who the token names when a test does not say: `<first role>-1` when None."""

    def auth(self, *roles: str, subject: str | None = None, **headers: str) -> dict[str, str]:
        """Request headers with a bearer token for `roles` (the default roles when none are named)."""
        roles = roles or self.default_roles
        subject = subject or self.default_subject or f"{roles[0]}-1"
        return bearer_headers(self.private_pem, roles, subject=subject, **headers)

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """One raw SQL statement on the service's own database, its rows as dicts."""
        return await query_rows(self.kernel.session_factory, sql, **params)

    async def outbox_types(self) -> list[str]:
        return [row["event_type"] for row in await self.rows("SELECT event_type FROM outbox ORDER BY id")]


def bearer_headers(private_pem: str, roles: Sequence[str], *, subject: str, **headers: str) -> dict[str, str]:
    """Request headers with a bearer token for `roles` from the local issuer; `idempotency_key=` style
    keyword names become `Idempotency-Key` style headers."""
    token = mint_token(private_pem, subject=subject, roles=list(roles), audience="rcm", issuer="rcm-local")
    return {"Authorization": f"Bearer {token}", **{k.replace("_", "-"): v for k, v in headers.items()}}


async def query_rows(
    session_factory: async_sessionmaker[AsyncSession], sql: str, **params: Any
) -> list[dict[str, Any]]:
    """One raw SQL statement on a service's own database, its rows as dicts."""
    async with session_factory() as session:
        result = await session.execute(text(sql), params)
        return [dict(row) for row in result.mappings().all()]


async def replay_claimed(
    claimed: Path,
    story: Sequence[str],
    *,
    consumer: EventConsumer[Any],
    producer: str,
) -> None:
    """Replay a consumer's claimed examples (`<claimed>/<event_type>/v1.json`) through the service's real
    consumer in the story's order: each is applied once and none is dead-lettered, and the story delivered
    again is taken for duplicates."""
    records = [
        _claimed_record(claimed, event_type, offset, topic=consumer.topic, producer=producer)
        for offset, event_type in enumerate(story)
    ]
    for record in records:
        report = await consumer.consume([record])
        assert (report.applied, report.dead_lettered) == (1, []), record.headers
    again = await consumer.consume(records)
    assert (again.applied, again.duplicates, again.dead_lettered) == (0, len(story), [])


def _claimed_record(
    claimed: Path, event_type: str, offset: int, *, topic: str, producer: str
) -> ConsumerRecord[Any, Any]:
    """A consumer's claimed example (`<claimed>/<event_type>/v1.json`) as the Kafka record its producer sends."""
    payload = (claimed / event_type / "v1.json").read_bytes()
    return record_of(event_model(event_type, 1).model_validate_json(payload), topic, offset, producer, payload)


def record_of(
    event: IntegrationEvent, topic: str, offset: int, producer: str, payload: bytes | None = None
) -> ConsumerRecord[Any, Any]:
    """The Kafka record a producer sends for `event` (its JSON, or `payload` as given), as a consumer reads it."""
    headers = [(name, value.encode()) for name, value in new_envelope(event, producer).to_headers().items()]
    value = payload if payload is not None else event.model_dump_json().encode()
    return ConsumerRecord(topic, 0, offset, 0, 0, event.subject.encode(), value, None, 0, 0, headers)


@dataclasses.dataclass
class RecordedStore:
    """What a service's in-memory fakes commit into: the events and audit records of every unit of work of a
    test, as they would have reached the outbox and the audit log. A service's store adds its repositories
    as further fields."""

    published: list[IntegrationEvent] = dataclasses.field(default_factory=list)
    accesses: list[AccessRecord] = dataclasses.field(default_factory=list)

    def published_types(self) -> list[str]:
        return [type(event).__name__ for event in self.published]

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """A deep copy of every repository's state, to put back when a unit of work rolls back."""
        return copy.deepcopy({name: vars(repository) for name, repository in self._repositories().items()})

    def restore(self, snapshot: dict[str, dict[str, Any]]) -> None:
        """Put the repositories back as the snapshot had them; the objects stay, so references stay valid."""
        for name, repository in self._repositories().items():
            state = vars(repository)
            state.clear()
            state.update(copy.deepcopy(snapshot[name]))

    def _repositories(self) -> dict[str, object]:
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in {"published", "accesses"}
        }


class InMemoryPatientCopies(Generic[P]):
    """The replica's patient copies for a service's fakes: each read and write is a copy, as a row is."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, P] = {}

    async def get(self, patient_id: uuid.UUID) -> P | None:
        found = self.rows.get(patient_id)
        return copy.copy(found) if found else None

    async def read_many(self, patient_ids: Collection[uuid.UUID]) -> None:
        """Nothing to do: the rows are in memory already (a SQL repository reads them at once)."""

    async def save(self, patient: P, now: datetime) -> None:
        self.rows[patient.patient_id] = copy.copy(patient)


class InMemoryControlNumbers:
    """The control number sequences for a service's fakes, counting as `SqlControlNumbers` does."""

    def __init__(self) -> None:
        self.last: dict[str, int] = {}

    async def next(self, name: str) -> int:
        self.last[name] = next_control_number(self.last.get(name, 0))
        return self.last[name]


class InMemoryCoverageCopies(Generic[C]):
    """The replica's coverage copies for a service's fakes; a service adds the queries it makes."""

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, C] = {}

    async def get(self, coverage_id: uuid.UUID) -> C | None:
        found = self.rows.get(coverage_id)
        return copy.copy(found) if found else None

    async def read_many(self, coverage_ids: Collection[uuid.UUID]) -> None:
        """Nothing to do: the rows are in memory already (a SQL repository reads them at once)."""

    async def save(self, coverage: C, now: datetime) -> None:
        self.rows[coverage.coverage_id] = copy.copy(coverage)


class RevisedAggregate(Protocol):
    """An aggregate stored with a revision, which a save names so a stale one is refused."""

    id: uuid.UUID
    revision: int
    events: list[Any]


A = TypeVar("A", bound=RevisedAggregate)


class InMemoryAggregates(Generic[A]):
    """A repository of revised aggregates for a service's fakes: each read and write is a deep copy, as a row
    is; a save over a newer revision is refused with ConcurrentUpdate; a stored copy holds no events (they
    left with the unit of work). A service adds the queries it makes."""

    noun = "aggregate"

    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, A] = {}

    async def get(self, aggregate_id: uuid.UUID, *, for_update: bool = False) -> A | None:
        found = self.rows.get(aggregate_id)
        return copy.deepcopy(found) if found else None

    async def add(self, aggregate: A) -> None:
        aggregate.revision = 1
        self._store(aggregate)

    async def save(self, aggregate: A) -> None:
        if self.rows[aggregate.id].revision != aggregate.revision:
            raise ConcurrentUpdate(f"The {self.noun} was changed by someone else meanwhile.")
        aggregate.revision += 1
        self._store(aggregate)

    def _store(self, aggregate: A) -> None:
        stored = copy.deepcopy(aggregate)
        stored.events.clear()
        self.rows[aggregate.id] = stored


class InMemoryMerges:
    """The replica's merge ledger for a service's fakes."""

    def __init__(self) -> None:
        self.survivors: dict[uuid.UUID, uuid.UUID] = {}
        self.moved: dict[uuid.UUID, uuid.UUID] = {}

    async def record(self, merge: PatientsMerged, now: datetime) -> None:
        self.survivors[merge.merged_patient_id] = merge.surviving_patient_id
        self.moved |= dict.fromkeys(merge.moved_coverage_ids, merge.surviving_patient_id)

    async def survivor_of(self, patient_id: uuid.UUID) -> uuid.UUID | None:
        return self.survivors.get(patient_id)

    async def moved_to(self, coverage_id: uuid.UUID) -> uuid.UUID | None:
        return self.moved.get(coverage_id)


class RecordingUnitOfWork:
    """The unit of work of a service's fakes. Repositories write through to the store at once; leaving the
    block without committing puts the store back as it was, as a rolled-back transaction would. Events (from
    the aggregates its tracked repositories saw, by the service's real mapper) and audit records (naming the
    patient each concerns) reach the store only on commit, as an outbox and an audit log would."""

    def __init__(self, store: RecordedStore, producer: str, publication: Publication | None) -> None:
        self.store = store
        self.events = EventCollector(producer, publication.mapper if publication else None)
        self.committed = False
        self._accesses: list[AccessRecord] = []
        self._before: dict[str, dict[str, Any]] = {}

    def tracked(self, repository: R) -> R:
        """`repository`, with the aggregates it loads and stores remembered for their events."""
        return tracked(repository, self.events)

    async def __aenter__(self) -> Self:
        self._before = self.store.snapshot()
        self.events.forget()
        self.committed = False
        self._accesses = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Put back what was not committed: everything since entry, or since the last commit. (Two fakes open
        at once share the store, so one's rollback would undo the other's commit: tests run them in turn.)"""
        self.store.restore(self._before)
        self._accesses = []

    def record_access(
        self, action: str, resource_type: str, resource_id: object | None, patient_id: object | None
    ) -> None:
        self._accesses.append(AccessRecord.of(action, resource_type, resource_id, patient_id))

    def respond(self, status_code: int, resource_id: object) -> None:
        return None

    async def commit(self) -> None:
        self.store.published += [event for event, _ in self.events.collect()]
        self.store.accesses += self._accesses
        self._accesses = []
        self._before = self.store.snapshot()
        self.committed = True


async def check_migrations(source: Path, url: str, owned_tables: frozenset[str]) -> None:
    """A service's migrations build exactly the schema its models declare (compared on the tables it owns, as
    SQLModel's metadata is process-wide), run again as a no-op, and downgrade cleanly to nothing."""
    await asyncio.to_thread(upgrade_to_head, source, url)
    assert await schema_differences(url, SQLModel.metadata, owned_tables) == []
    assert (await schema_snapshot(url))["tables"] == sorted([*owned_tables, "alembic_version"])
    await asyncio.to_thread(upgrade_to_head, source, url)
    await asyncio.to_thread(command.downgrade, alembic_config(source, url), "base")
    assert (await schema_snapshot(url))["tables"] == ["alembic_version"]


class OtlpCollector(ThreadingHTTPServer):
    """An OpenTelemetry collector's OTLP/HTTP receiver on loopback: it answers every export and keeps each
    request's path and body, for a test to read what the services sent (`/v1/traces` holds the spans)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _OtlpHandler)
        self.received: list[tuple[str, bytes]] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _OtlpHandler(BaseHTTPRequestHandler):
    server: OtlpCollector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what arrived, not a log."""


@contextmanager
def otlp_collector() -> Iterator[OtlpCollector]:
    """An `OtlpCollector` serving in a thread while the block runs."""
    server = OtlpCollector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
