"""The simulator's ASGI application: the common problem+json errors, request context, metrics and health,
with no broker and no database (its state is in memory), and a background payment timer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rcm_clearinghouse_sim.bootstrap import Simulator, bootstrap
from rcm_clearinghouse_sim.config import ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints.api import ConnectionDropped, fault_router, router
from rcm_common.http import health_router, install_problem_handlers
from rcm_common.kernel import run_service
from rcm_common.logs import configure_logging
from rcm_common.telemetry import RequestContextMiddleware, metrics_router

logger = logging.getLogger(__name__)


class DropConnection:
    """Turns a "drop" fault into a connection closed without an answer: the response is started (so no
    error page can follow) and the error raised, on which the server closes the connection. An HTTP
    client sees the connection end with no response (httpx: RemoteProtocolError); httpx's ASGI transport
    raises `ConnectionDropped` itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ConnectionDropped:
            start: Message = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
            await send(start)
            raise


async def pay_on_schedule(simulator: Simulator, stop: asyncio.Event) -> None:
    """Every `payment_interval_seconds`, pay the claims accepted at least `payment_delay_seconds` ago."""
    interval = simulator.config.payment_interval_seconds
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
        try:
            simulator.clearinghouse.run_payments(due_only=True)
        except Exception:
            logger.exception("the timed payment run failed; it runs again at the next interval")


def create_app(settings: ClearinghouseSettings | None = None, *, simulator: Simulator | None = None) -> FastAPI:
    sim = simulator or bootstrap(settings)
    configure_logging(sim.settings.service_name, sim.settings.log_level, sim.settings.log_json)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        timer = asyncio.create_task(pay_on_schedule(sim, stop), name="payment-timer")
        logger.info("%s started with %d payers", sim.settings.service_name, len(sim.config.payers))
        try:
            yield
        finally:
            stop.set()
            await timer
            logger.info("%s stopped", sim.settings.service_name)

    app = FastAPI(
        title="RCM clearinghouse simulator",
        version="0.1.0",
        description="A stand-in clearinghouse with simulated payers, speaking X12 over HTTP.",
        lifespan=lifespan,
    )
    app.state.simulator = sim
    install_problem_handlers(app)
    # Innermost, inside the problem handlers' own catcher, so that a dropped answer is never turned into a 500.
    app.user_middleware.append(Middleware(DropConnection))
    app.add_middleware(RequestContextMiddleware, service_name=sim.settings.service_name)
    app.include_router(health_router({}))
    app.include_router(metrics_router())
    app.include_router(router)
    app.include_router(fault_router)
    return app


def main() -> None:
    run_service(create_app, ClearinghouseSettings)
