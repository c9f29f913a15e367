"""The composition root: every concrete part of eligibility is built here and nowhere else."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx
from faststream.kafka import KafkaBroker

from rcm_common.kernel import Kernel, kernel_parts, periodic
from rcm_common.topics import ELIGIBILITY_EVENTS, REGISTRATION_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication
from rcm_eligibility.adapters.clearinghouse import EligibilityGateway, HttpClearinghouse
from rcm_eligibility.adapters.unit_of_work import SqlEligibilityUnitOfWork
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.service_layer import handlers
from rcm_eligibility.service_layer.checking import Checker, worker_audit
from rcm_eligibility.service_layer.mapping import to_integration_event

logger = logging.getLogger(__name__)


@dataclass
class Eligibility(Kernel[EligibilitySettings, SqlEligibilityUnitOfWork]):
    """The running service: the kernel's parts, the checker that asks payers, and the clearinghouse client."""

    checker: Checker
    http_client: httpx.AsyncClient | None

    async def run_worker(self, stop: asyncio.Event) -> None:
        await self.checker.run(
            stop, limit=self.settings.worker_batch_size, poll_seconds=self.settings.worker_poll_seconds
        )

    async def sweep(self) -> None:
        """Queue checks for the appointments coming up within the sweep's window."""
        queued = await handlers.sweep_appointments(
            self.uow(), self.clock, days_ahead=self.settings.sweep_days_ahead, limit=self.settings.sweep_batch_size
        )
        if queued:
            logger.info("appointment sweep queued %d eligibility checks", queued)
            self.checker.wake()

    async def close(self) -> None:
        if self.http_client is not None:
            await self.http_client.aclose()


def bootstrap(
    settings: EligibilitySettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    gateway: EligibilityGateway | None = None,
    clock: Clock = utcnow,
) -> Eligibility:
    settings = settings or EligibilitySettings()
    http_client = None
    if gateway is None:
        http_client = settings.http_client()
        gateway = HttpClearinghouse(http_client, **settings.client_options())
    eligibility: Eligibility
    # Late binding: the checker's units of work are the service's own, made once `eligibility` exists.
    checker = Checker(
        lambda: eligibility.uow(audit=worker_audit()), gateway, settings.asker, settings.retry_policy, clock=clock
    )
    eligibility = Eligibility(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlEligibilityUnitOfWork,
        publishes=Publication(ELIGIBILITY_EVENTS, to_integration_event),
        clock=clock,
        checker=checker,
        http_client=http_client,
    )
    eligibility.subscribe({REGISTRATION_EVENTS: handlers.event_handlers(clock)})
    eligibility.loops += [
        eligibility.run_worker,
        periodic("appointment sweep", settings.sweep_interval_seconds, eligibility.sweep),
    ]
    eligibility.closers.append(eligibility.close)
    return eligibility
