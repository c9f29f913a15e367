"""The composition root: every concrete part of registration is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rcm_common.audit import AuditContext
from rcm_common.auth import TokenVerifier, load_verifier
from rcm_common.crypto import BlindIndex, FieldCipher, ciphers_from_settings
from rcm_common.db import create_engine, create_session_factory
from rcm_common.http import IdempotentRequest
from rcm_common.messaging import KafkaMessagePublisher, create_broker
from rcm_common.outbox import OutboxRelay
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_registration.adapters.unit_of_work import SqlRegistrationUnitOfWork
from rcm_registration.config import RegistrationSettings


@dataclass
class Registration:
    """The running service's parts, shared by the HTTP API and the background relay."""

    settings: RegistrationSettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    blind_index: BlindIndex
    broker: KafkaBroker
    relay: OutboxRelay
    token_verifier: TokenVerifier

    def uow(
        self, *, audit: AuditContext | None = None, idempotency: IdempotentRequest | None = None
    ) -> SqlRegistrationUnitOfWork:
        return SqlRegistrationUnitOfWork(
            self.session_factory,
            producer=self.settings.service_name,
            topic=REGISTRATION_EVENTS,
            audit=audit,
            idempotency=idempotency,
            on_commit=self.relay.wake,
            cipher=self.cipher,
            blind_index=self.blind_index,
        )


def bootstrap(settings: RegistrationSettings | None = None, *, broker: KafkaBroker | None = None) -> Registration:
    settings = settings or RegistrationSettings()
    engine = create_engine(settings.resolved_database_url)
    session_factory = create_session_factory(engine)
    cipher, blind_index = ciphers_from_settings(settings)
    broker = broker or create_broker(settings)
    relay = OutboxRelay(
        session_factory,
        KafkaMessagePublisher(broker),
        batch_size=settings.relay_batch_size,
        idle_seconds=settings.relay_idle_seconds,
    )
    return Registration(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        cipher=cipher,
        blind_index=blind_index,
        broker=broker,
        relay=relay,
        token_verifier=load_verifier(settings),
    )
