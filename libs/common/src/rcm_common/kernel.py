"""The service kernel: one way to build a service.

A service declares what is its own (its settings, unit of work, what it publishes, its clock, its subscriptions,
its loops, routers and migrations) and the kernel builds the rest the same way for every service: the
database engine, the field ciphers, the broker, the outbox relay, one consumer per subscribed topic, the
housekeeping loop, and the FastAPI app whose lifespan migrates the database, connects to the broker
(retrying until it answers), runs the relay and the loops, and stops them all in order.

A service's composition root reads, in order:

    charge = Charge(settings=settings, **kernel_parts(settings, broker=broker), unit_of_work=SqlChargeUnitOfWork,
                    publishes=Publication(CHARGE_EVENTS, event_mapper(code_sets.diagnoses)), clock=clock,
                    evaluator=EncounterEvaluator(code_sets, clock))
    charge.subscribe({REGISTRATION_EVENTS: event_handlers(charge.evaluator)}, audit=consumer_audit("charge"))

and its app is `service_app(charge, CHARGE_APP)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Generic, TypedDict, TypeVar

import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rcm_common.audit import AuditContext
from rcm_common.auth import TokenVerifier, load_verifier
from rcm_common.crypto import BlindIndex, FieldCipher, ciphers_from_settings
from rcm_common.db import create_engine, create_session_factory, ping
from rcm_common.events.base import IntegrationEvent
from rcm_common.failpoints import armed_failpoint
from rcm_common.http import (
    BodyLimitMiddleware,
    IdempotentRequest,
    health_router,
    install_problem_handlers,
    purge_idempotency_records,
)
from rcm_common.logs import configure_logging
from rcm_common.messaging import BatchPreparation, EventConsumer, EventHandler, KafkaMessagePublisher, create_broker
from rcm_common.migrations import refuse_schema_behind, script_heads, upgrade_to_head
from rcm_common.outbox import OutboxRelay, purge_sent
from rcm_common.reencryption import ReencryptionError, Resealed, reencrypt
from rcm_common.settings import ServiceSettings
from rcm_common.telemetry import RequestContextMiddleware, configure_tracing, instrument_fastapi, metrics_router
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication, SqlUnitOfWork

logger = logging.getLogger(__name__)

S = TypeVar("S", bound=ServiceSettings)
U = TypeVar("U", bound=SqlUnitOfWork)

Loop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A background loop of the service's own (a worker, a sweep): runs until the event is set."""


def periodic(name: str, interval_seconds: float, work: Callable[[], Awaitable[object]]) -> Loop:
    """A loop doing `work` now and then every interval until stopped; a round that fails is logged (by type,
    never its values) and the next round runs as usual, so one bad round never stops a worker."""

    async def loop(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await work()
            except Exception:
                logger.exception("%s failed; it runs again at the next interval", name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_seconds)

    loop.__name__ = name
    return loop


Subscriptions = Mapping[str, Mapping[type[IntegrationEvent], EventHandler[U]]]
"""What a service consumes: per topic, the handler of each event it reads there."""


class KernelParts(TypedDict):
    """The shared parts `kernel_parts` builds, spread into a service's `Kernel` subclass."""

    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    blind_index: BlindIndex
    broker: KafkaBroker
    relay: OutboxRelay
    token_verifier: TokenVerifier


def kernel_parts(settings: ServiceSettings, *, broker: KafkaBroker | None = None) -> KernelParts:
    """Build what every service runs on from its settings; a test may hand in its own broker."""
    engine = create_engine(settings.resolved_database_url)
    session_factory = create_session_factory(engine)
    cipher, blind_index = ciphers_from_settings(settings)
    broker = broker or create_broker(settings)
    relay = OutboxRelay(
        session_factory,
        KafkaMessagePublisher(broker),
        batch_size=settings.relay_batch_size,
        idle_seconds=settings.relay_idle_seconds,
        after_publish=armed_failpoint(settings.failpoints, "relay.after_publish"),
    )
    return KernelParts(
        engine=engine,
        session_factory=session_factory,
        cipher=cipher,
        blind_index=blind_index,
        broker=broker,
        relay=relay,
        token_verifier=load_verifier(settings),
    )


@dataclass
class Kernel(Generic[S, U]):
    """A running service's shared parts. Each service subclasses it with the parts that are its own
    (a checker, code sets, an HTTP client), so its HTTP API, consumers and loops reach all of them."""

    settings: S
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    blind_index: BlindIndex
    broker: KafkaBroker
    relay: OutboxRelay
    token_verifier: TokenVerifier
    unit_of_work: type[U]
    publishes: Publication | None
    """The topic the service's events go to and the mapper that makes them; None for a service that
    publishes nothing."""
    clock: Clock = field(default=utcnow, kw_only=True)
    """Where the service reads the time; a test hands in its own."""
    consumers: list[EventConsumer[U]] = field(default_factory=list, kw_only=True)
    loops: list[Loop] = field(default_factory=list, kw_only=True)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list, kw_only=True)
    """Clients to close at shutdown, after the loops that use them have stopped."""

    def uow(self, *, audit: AuditContext | None = None, idempotency: IdempotentRequest | None = None) -> U:
        """A unit of work over the service's database; its events leave through the relay once committed."""
        return self.unit_of_work(
            self.session_factory,
            producer=self.settings.service_name,
            publication=self.publishes,
            audit=audit,
            idempotency=idempotency,
            on_commit=self.relay.wake,
            cipher=self.cipher,
            blind_index=self.blind_index,
            clock=self.clock,
        )

    def subscribe(
        self,
        subscriptions: Subscriptions[U],
        *,
        audit: Callable[[], AuditContext] | None = None,
        prepare: Mapping[str, BatchPreparation[U]] | None = None,
    ) -> None:
        """One consumer per topic, each in its own consumer group (`<service>.<topic>`), applying each batch in
        one unit of work (with `audit` naming who the consumer acts as, where its handlers read or change PHI,
        and `prepare` what is done once per batch of a topic before its handlers run)."""

        def consumer_uow() -> U:
            return self.uow(audit=audit() if audit is not None else None)

        for topic, handlers in subscriptions.items():
            consumer: EventConsumer[U] = EventConsumer(
                name=self.settings.service_name,
                topic=topic,
                handlers=handlers,
                uow_factory=consumer_uow,
                dead_letters=KafkaMessagePublisher(self.broker),
                max_retries=self.settings.consumer_max_retries,
                retry_base_seconds=self.settings.consumer_retry_base_seconds,
                prepare=(prepare or {}).get(topic),
            )
            consumer.subscribe(self.broker, self.settings)
            self.consumers.append(consumer)

    def consumer_of(self, topic: str) -> EventConsumer[U]:
        """The service's consumer of `topic` (its contract tests replay claimed examples through it)."""
        for consumer in self.consumers:
            if consumer.topic == topic:
                return consumer
        raise LookupError(f"{self.settings.service_name} does not consume {topic}")


@dataclass(frozen=True)
class ServiceApp:
    """What a service's HTTP app says of itself; the kernel adds health, metrics, errors and the lifespan."""

    title: str
    description: str
    routers: Sequence[APIRouter]
    migrations: Path
    """The service's own Alembic revisions (`services/<name>/migrations/versions`); the platform's come along."""
    state_name: str
    """The service object is `app.state.<state_name>` for the routers' dependencies."""
    upload_paths: Sequence[str] = ()
    """The paths whose routes read their body themselves (`read_body`): an X12 or CSV file, a directory replaced
    whole. The edge bounds them at `UPLOAD_BODY_LIMIT`, every other body at `JSON_BODY_LIMIT`."""
    version: str = "0.1.0"


class _BrokerLink:
    """Connects to the broker in the background, so the service starts (and says it is not ready)
    while Kafka is still coming up, instead of crashing."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker
        self.connected = asyncio.Event()

    async def connect(self, stop: asyncio.Event) -> None:
        delay = 0.2
        while not stop.is_set():
            try:
                await self.broker.start()
            except Exception as exc:
                logger.warning("broker not reachable yet (%s); retrying in %.1fs", type(exc).__name__, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 5.0)
                continue
            self.connected.set()
            return

    async def check(self) -> None:
        if not self.connected.is_set() or not await self.broker.ping(timeout=1.0):
            raise ConnectionError("broker unreachable")


async def housekeeping(kernel: Kernel[Any, Any], stop: asyncio.Event) -> None:
    """Now and then, forget what has done its job: published outbox rows and expired idempotency keys.

    Both hold PHI or point at it, and neither is an archive (the audit log and the topics are)."""
    settings = kernel.settings
    while not stop.is_set():
        try:
            async with kernel.session_factory() as session, session.begin():
                sent = await purge_sent(session, timedelta(hours=settings.outbox_retention_hours))
                keys = await purge_idempotency_records(session, timedelta(hours=settings.idempotency_retention_hours))
            if sent or keys:
                logger.info("housekeeping purged %d published outbox rows and %d idempotency keys", sent, keys)
        except Exception:
            logger.exception("housekeeping failed; it runs again at the next interval")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.housekeeping_interval_seconds)


def service_app(kernel: Kernel[Any, Any], declared: ServiceApp) -> FastAPI:
    """The service's ASGI app: problem+json errors, request context, tracing, health, metrics, its routers,
    and a lifespan that runs its migrations, broker link, relay, housekeeping and loops."""
    settings = kernel.settings
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    tracer_provider = configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    link = _BrokerLink(kernel.broker)

    migrations = settings.migrations_dir or declared.migrations
    heads = script_heads(migrations)

    async def check_database() -> None:
        await ping(kernel.engine)

    async def check_schema() -> None:
        await refuse_schema_behind(kernel.engine, heads)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await asyncio.to_thread(upgrade_to_head, migrations, settings.resolved_database_url)
        stop = asyncio.Event()

        async def connect_then_relay() -> None:
            await link.connect(stop)
            if link.connected.is_set():
                await kernel.relay.run(stop)

        background = [
            asyncio.create_task(connect_then_relay(), name="broker-and-relay"),
            asyncio.create_task(housekeeping(kernel, stop), name="housekeeping"),
            *(asyncio.create_task(loop(stop), name=getattr(loop, "__name__", "loop")) for loop in kernel.loops),
        ]
        logger.info("%s started", settings.service_name)
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*background)
            await kernel.broker.stop()
            for close in kernel.closers:
                await close()
            await kernel.engine.dispose()
            logger.info("%s stopped", settings.service_name)

    app = FastAPI(title=declared.title, version=declared.version, description=declared.description, lifespan=lifespan)
    app.state.token_verifier = kernel.token_verifier
    app.state.migrations = migrations  # for `python -m rcm_<service> migrate`
    setattr(app.state, declared.state_name, kernel)
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, upload_paths=declared.upload_paths)
    app.add_middleware(RequestContextMiddleware, service_name=settings.service_name)
    instrument_fastapi(app, tracer_provider)
    app.include_router(
        health_router({"database": check_database, "schema": check_schema}, reported_checks={"broker": link.check})
    )
    app.include_router(metrics_router())
    for router in declared.routers:
        app.include_router(router)
    return app


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run a service under uvicorn, its own logging off: ours redacts PHI."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        server_header=False,
    )


YOUNG_COLLECTION_THRESHOLD = 50_000
"""Container objects allocated and still alive between two collections of the youngest generation (Python's
default: 700)."""


def settle_collector() -> None:
    """Set the cyclic garbage collector for a long-running service: what start-up built (modules, the app, the
    code sets) is frozen out of every later collection, and the youngest generation is collected once 50,000
    more objects are alive rather than 700. A batch of events, the rows and objects its unit of work holds, an
    X12 file being read all live long enough to count, so with the default a batch set off dozens of
    collections, each walking what the batch had built so far and, every tenth, the older generation too."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def run_service(create_app: Callable[[S], FastAPI], settings_type: type[S]) -> None:
    """`python -m rcm_<name>`: the service's app with its settings read from the environment, served. Or a
    maintenance command, run once beside the replicas, serving nothing:

    - `migrate`: its database brought to the newest revision (a deployment's migration job, so its replicas
      start with `RCM_MIGRATE_ON_START=false`);
    - `reencrypt`: every sealed value moved to the current field key (after a rotation, so the older key can
      be dropped from `RCM_FIELD_PREVIOUS_ENCRYPTION_KEYS`)."""
    command = sys.argv[1:]
    if command not in ([], ["migrate"], ["reencrypt"]):
        raise SystemExit(f"usage: python -m rcm_<service> [migrate|reencrypt] ({' '.join(command)!r} is not a command)")
    settings = settings_type()
    app = create_app(settings)
    if command == ["migrate"]:
        migrate(app, settings)
        return
    if command == ["reencrypt"]:
        reencrypt_sealed_values(app, settings)
        return
    settle_collector()
    serve(app, settings)


def migrate(app: FastAPI, settings: ServiceSettings) -> None:
    """Bring the service's database to the newest revision of its migrations and the platform's; a service
    without a database (the clearinghouse simulator) has nothing to do."""
    migrations: Path | None = getattr(app.state, "migrations", None)
    if migrations is None:
        logger.info("%s keeps no database: nothing to migrate", settings.service_name)
        return
    upgrade_to_head(migrations, settings.resolved_database_url)
    logger.info("%s database migrated", settings.service_name)


def reencrypt_sealed_values(app: FastAPI, settings: ServiceSettings) -> None:
    """Seal every sealed value of the service's database with the current field key; fail, naming where, if a
    value cannot be opened or one under an older key remains. A service without a database has nothing to do."""
    if getattr(app.state, "migrations", None) is None:
        logger.info("%s keeps no database: nothing to re-encrypt", settings.service_name)
        return
    cipher, _ = ciphers_from_settings(settings)

    async def run() -> list[Resealed]:
        engine = create_engine(settings.resolved_database_url)
        try:
            return await reencrypt(engine, cipher)
        finally:
            await engine.dispose()

    try:
        done = asyncio.run(run())
    except ReencryptionError as refused:
        raise SystemExit(f"{settings.service_name}: re-encryption stopped: {refused}") from None
    logger.info(
        "%s: %d values in %d sealed columns sealed again with key %r; none left under an older key",
        settings.service_name,
        sum(column.resealed for column in done),
        len(done),
        settings.field_encryption_key_id,
    )
