"""The FastAPI application every service is built from: problem+json errors, request context, metrics,
tracing, health, and a lifespan that migrates the database, connects to the broker (retrying until it
answers), runs the outbox relay and stops them all in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rcm_common.auth import TokenVerifier
from rcm_common.db import ping
from rcm_common.http import health_router, install_problem_handlers, purge_idempotency_records
from rcm_common.logs import configure_logging
from rcm_common.migrations import upgrade_to_head
from rcm_common.outbox import OutboxRelay, purge_sent
from rcm_common.settings import ServiceSettings
from rcm_common.telemetry import (
    RequestContextMiddleware,
    configure_tracing,
    instrument_fastapi,
    metrics_router,
)

logger = logging.getLogger(__name__)


@dataclass
class ServiceParts:
    """What the shared lifespan needs from a service's composition root."""

    settings: ServiceSettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    broker: KafkaBroker
    relay: OutboxRelay
    token_verifier: TokenVerifier
    migrate: Callable[[], None] | None = None
    background: Sequence[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(default=())
    """The service's own loops (a worker, a sweep), started after the migrations and stopped with the rest."""
    closers: Sequence[Callable[[], Awaitable[None]]] = field(default=())
    """Clients to close at shutdown, after the loops that use them have stopped."""


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


async def housekeeping(parts: ServiceParts, stop: asyncio.Event) -> None:
    """Now and then, forget what has done its job: published outbox rows and expired idempotency keys.

    Both hold PHI or point at it, and neither is an archive (the audit log and the topics are)."""
    settings = parts.settings
    while not stop.is_set():
        try:
            async with parts.session_factory() as session, session.begin():
                sent = await purge_sent(session, timedelta(hours=settings.outbox_retention_hours))
                keys = await purge_idempotency_records(session, timedelta(hours=settings.idempotency_retention_hours))
            if sent or keys:
                logger.info("housekeeping purged %d published outbox rows and %d idempotency keys", sent, keys)
        except Exception:
            logger.exception("housekeeping failed; it runs again at the next interval")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.housekeeping_interval_seconds)


def create_service_app(
    parts: ServiceParts, *, title: str, version: str, routers: Sequence[APIRouter], description: str = ""
) -> FastAPI:
    settings = parts.settings
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    tracer_provider = configure_tracing(settings.service_name, settings.otel_exporter_otlp_endpoint)
    link = _BrokerLink(parts.broker)

    async def check_database() -> None:
        await ping(parts.engine)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if parts.migrate is not None:
            await asyncio.to_thread(parts.migrate)
        stop = asyncio.Event()

        async def connect_then_relay() -> None:
            await link.connect(stop)
            if link.connected.is_set():
                await parts.relay.run(stop)

        background = [
            asyncio.create_task(connect_then_relay(), name="broker-and-relay"),
            asyncio.create_task(housekeeping(parts, stop), name="housekeeping"),
            *(asyncio.create_task(loop(stop), name=getattr(loop, "__name__", "loop")) for loop in parts.background),
        ]
        logger.info("%s started", settings.service_name)
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*background)
            await parts.broker.stop()
            for close in parts.closers:
                await close()
            await parts.engine.dispose()
            logger.info("%s stopped", settings.service_name)

    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    app.state.token_verifier = parts.token_verifier
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service_name=settings.service_name)
    instrument_fastapi(app, tracer_provider)
    app.include_router(health_router({"database": check_database, "broker": link.check}))
    app.include_router(metrics_router())
    for router in routers:
        app.include_router(router)
    return app


def migrations(settings: ServiceSettings, source: Path) -> Callable[[], None] | None:
    """The service's own migrations, to apply at start, unless a deployment runs them as a Job instead."""
    if not settings.migrate_on_start:
        return None
    return partial(upgrade_to_head, settings.migrations_dir or source, settings.resolved_database_url)


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
