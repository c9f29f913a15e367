"""The composition root: every concrete part of eligibility is built here and nowhere else."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rcm_common.audit import AuditContext
from rcm_common.auth import TokenVerifier, load_verifier
from rcm_common.crypto import FieldCipher, ciphers_from_settings
from rcm_common.db import create_engine, create_session_factory
from rcm_common.http import IdempotentRequest
from rcm_common.messaging import EventConsumer, KafkaMessagePublisher, create_broker
from rcm_common.outbox import OutboxRelay
from rcm_common.topics import ELIGIBILITY_EVENTS, REGISTRATION_EVENTS
from rcm_eligibility.adapters.clearinghouse import EligibilityGateway, HttpClearinghouse
from rcm_eligibility.adapters.unit_of_work import SqlEligibilityUnitOfWork
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.service_layer import handlers
from rcm_eligibility.service_layer.checking import Checker, worker_audit

logger = logging.getLogger(__name__)

CONSUMER_NAME = "eligibility"


@dataclass
class Eligibility:
    """The running service's parts, shared by the HTTP API, the consumer, the worker and the sweep."""

    settings: EligibilitySettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    broker: KafkaBroker
    relay: OutboxRelay
    token_verifier: TokenVerifier
    checker: Checker
    http_client: httpx.AsyncClient | None

    def uow(
        self, *, audit: AuditContext | None = None, idempotency: IdempotentRequest | None = None
    ) -> SqlEligibilityUnitOfWork:
        return SqlEligibilityUnitOfWork(
            self.session_factory,
            producer=self.settings.service_name,
            topic=ELIGIBILITY_EVENTS,
            audit=audit,
            idempotency=idempotency,
            on_commit=self.relay.wake,
            cipher=self.cipher,
        )

    async def run_worker(self, stop: asyncio.Event) -> None:
        await self.checker.run(
            stop, limit=self.settings.worker_batch_size, poll_seconds=self.settings.worker_poll_seconds
        )

    async def run_sweep(self, stop: asyncio.Event) -> None:
        """Every interval, queue checks for the appointments coming up within the sweep's window."""
        while not stop.is_set():
            try:
                queued = await handlers.sweep_appointments(
                    self.uow(),
                    today=handlers.utc_now().date(),
                    days_ahead=self.settings.sweep_days_ahead,
                    limit=self.settings.sweep_batch_size,
                )
                if queued:
                    logger.info("appointment sweep queued %d eligibility checks", queued)
                    self.checker.wake()
            except Exception:
                logger.exception("appointment sweep failed; it runs again at the next interval")
            try:
                await asyncio.wait_for(stop.wait(), self.settings.sweep_interval_seconds)
            except TimeoutError:
                continue

    async def close(self) -> None:
        if self.http_client is not None:
            await self.http_client.aclose()


def bootstrap(
    settings: EligibilitySettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    gateway: EligibilityGateway | None = None,
) -> Eligibility:
    settings = settings or EligibilitySettings()
    engine = create_engine(settings.resolved_database_url)
    session_factory = create_session_factory(engine)
    cipher, _blind_index = ciphers_from_settings(settings)
    broker = broker or create_broker(settings)
    relay = OutboxRelay(
        session_factory,
        KafkaMessagePublisher(broker),
        batch_size=settings.relay_batch_size,
        idle_seconds=settings.relay_idle_seconds,
    )
    http_client = None
    if gateway is None:
        http_client = httpx.AsyncClient(
            base_url=settings.clearinghouse_url, timeout=settings.clearinghouse_timeout_seconds
        )
        gateway = HttpClearinghouse(
            http_client,
            api_key=settings.clearinghouse_api_key.get_secret_value(),
            attempts=settings.clearinghouse_attempts,
            backoff_seconds=settings.clearinghouse_backoff_seconds,
            max_backoff_seconds=settings.clearinghouse_max_backoff_seconds,
        )
    eligibility: Eligibility
    # Late binding: the checker's units of work are the service's own, made once `eligibility` exists.
    checker = Checker(lambda: eligibility.uow(audit=worker_audit()), gateway, settings.asker, settings.retry_policy)
    eligibility = Eligibility(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        cipher=cipher,
        broker=broker,
        relay=relay,
        token_verifier=load_verifier(settings),
        checker=checker,
        http_client=http_client,
    )
    consumer: EventConsumer[SqlEligibilityUnitOfWork] = EventConsumer(
        name=CONSUMER_NAME,
        topic=REGISTRATION_EVENTS,
        handlers=handlers.EVENT_HANDLERS,
        uow_factory=eligibility.uow,
        dead_letters=KafkaMessagePublisher(broker),
        max_retries=settings.consumer_max_retries,
        retry_base_seconds=settings.consumer_retry_base_seconds,
    )
    consumer.subscribe(broker, settings)
    return eligibility
