"""Registration's events leave through the kernel's relay and broker: a registration committed to the outbox
reaches a subscriber of registration's topic with its CloudEvents headers, in memory and on the embedded
broker."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import SecretStr

from rcm_common.audit import AuditContext
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import BROKERS, broker_settings, wait_until
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_registration.bootstrap import bootstrap
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.app import REGISTRATION_APP
from rcm_registration.service_layer import commands, handlers
from rcm_registration.testing import patient_body, unique_name


@pytest.mark.parametrize("real", BROKERS)
async def test_a_registration_reaches_the_topic_through_the_relay(
    real: bool, request: pytest.FixtureRequest, tmp_path: Path, signing_keys: tuple[str, str]
) -> None:
    settings = RegistrationSettings(
        environment="test",
        state_dir=tmp_path,
        jwt_public_key=SecretStr(signing_keys[1]),
        **broker_settings(request, real),
    )
    await asyncio.to_thread(upgrade_to_head, REGISTRATION_APP.migrations, settings.resolved_database_url)
    registration = bootstrap(settings)
    received: dict[str, dict[str, str]] = {}

    @registration.broker.subscriber(REGISTRATION_EVENTS, auto_offset_reset="earliest")  # no group: reads it all
    async def read(message: KafkaMessage) -> None:
        received[message.headers["ce_subject"]] = dict(message.headers)

    audit = AuditContext("desk-clerk-1", frozenset({"front_desk"}), "treatment", uuid.uuid4().hex)
    try:
        async with TestKafkaBroker(registration.broker, with_real=real):
            command = commands.RegisterPatient.model_validate(patient_body(unique_name()))
            view = await handlers.register_patient(command, registration.uow(audit=audit))
            assert await registration.relay.publish_pending() == 1

            async def arrived() -> bool:
                return str(view.id) in received

            await wait_until(arrived, within=30)
    finally:
        await registration.engine.dispose()

    headers = received[str(view.id)]
    assert (headers["ce_type"], headers["ce_source"], headers["ce_subject"]) == (
        "rcm.registration.patient_registered",
        "/rcm/registration",
        str(view.id),
    )
