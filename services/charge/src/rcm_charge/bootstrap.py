"""The composition root: every concrete part of charge is built here and nowhere else."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rcm_charge.adapters.icd10cm import load_catalog
from rcm_charge.adapters.ncci import load_edit_tables
from rcm_charge.adapters.unit_of_work import SqlChargeUnitOfWork
from rcm_charge.config import ChargeSettings
from rcm_charge.domain.code_sets import CodeSets
from rcm_charge.service_layer.handlers import consumer_audit, event_handlers
from rcm_common.audit import AuditContext
from rcm_common.auth import TokenVerifier, load_verifier
from rcm_common.crypto import BlindIndex, FieldCipher, ciphers_from_settings
from rcm_common.db import create_engine, create_session_factory
from rcm_common.http import IdempotentRequest
from rcm_common.messaging import EventConsumer, KafkaMessagePublisher, create_broker
from rcm_common.outbox import OutboxRelay
from rcm_common.topics import CHARGE_EVENTS, REGISTRATION_EVENTS

CONSUMER_NAME = "charge"


@functools.cache
def load_code_sets(directory: Path | None) -> CodeSets:
    """The shipped code sets with the operator's official files over them; loaded once per process (the
    ICD-10-CM tabular takes a second or so)."""
    return CodeSets(diagnoses=load_catalog(directory), edits=load_edit_tables(directory))


@dataclass
class Charge:
    """The running service's parts, shared by the HTTP API and the consumer."""

    settings: ChargeSettings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    blind_index: BlindIndex
    broker: KafkaBroker
    relay: OutboxRelay
    token_verifier: TokenVerifier
    code_sets: CodeSets

    def uow(
        self, *, audit: AuditContext | None = None, idempotency: IdempotentRequest | None = None
    ) -> SqlChargeUnitOfWork:
        return SqlChargeUnitOfWork(
            self.session_factory,
            producer=self.settings.service_name,
            topic=CHARGE_EVENTS,
            audit=audit,
            idempotency=idempotency,
            on_commit=self.relay.wake,
            cipher=self.cipher,
            blind_index=self.blind_index,
        )


def bootstrap(
    settings: ChargeSettings | None = None, *, broker: KafkaBroker | None = None, code_sets: CodeSets | None = None
) -> Charge:
    settings = settings or ChargeSettings()
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
    charge = Charge(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        cipher=cipher,
        blind_index=blind_index,
        broker=broker,
        relay=relay,
        token_verifier=load_verifier(settings),
        code_sets=code_sets or load_code_sets(settings.code_set_dir),
    )
    consumer: EventConsumer[SqlChargeUnitOfWork] = EventConsumer(
        name=CONSUMER_NAME,
        topic=REGISTRATION_EVENTS,
        handlers=event_handlers(charge.code_sets),
        uow_factory=lambda: charge.uow(audit=consumer_audit()),
        dead_letters=KafkaMessagePublisher(broker),
        max_retries=settings.consumer_max_retries,
        retry_base_seconds=settings.consumer_retry_base_seconds,
    )
    consumer.subscribe(broker, settings)
    return charge
