"""Charge's real subscription to registration's events: the consumer the kernel built (its group, batch size
and manual acknowledgement) takes a patient and a coverage off the broker into charge's copies, each event
in memory and on the embedded broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from rcm_charge.bootstrap import bootstrap
from rcm_charge.config import ChargeSettings
from rcm_charge.entrypoints.app import CHARGE_APP
from rcm_charge.testing import fake_code_sets
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import (
    BROKERS,
    broker_settings,
    deliver_through_subscriptions,
    sample_coverage_added,
    sample_patient_registered,
)
from rcm_common.topics import REGISTRATION_EVENTS


@pytest.mark.parametrize("real", BROKERS)
async def test_registrations_events_reach_the_copies_through_the_subscription(
    real: bool, request: pytest.FixtureRequest, tmp_path: Path, signing_keys: tuple[str, str]
) -> None:
    settings = ChargeSettings(
        environment="test",
        state_dir=tmp_path,
        jwt_public_key=SecretStr(signing_keys[1]),
        **broker_settings(request, real),
    )
    await asyncio.to_thread(upgrade_to_head, CHARGE_APP.migrations, settings.resolved_database_url)
    charge = bootstrap(settings, code_sets=fake_code_sets())
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)

    try:
        await deliver_through_subscriptions(
            charge, REGISTRATION_EVENTS, (patient, coverage), producer="registration", real=real
        )
        async with charge.uow() as uow:
            kept_patient = await uow.patients.get(patient.patient_id)
            kept_coverage = await uow.coverages.get(coverage.coverage_id)
    finally:
        await charge.engine.dispose()

    assert kept_patient is not None
    assert (kept_patient.sex, kept_patient.birth_date) == (patient.sex, patient.birth_date)
    assert kept_coverage is not None
    assert (kept_coverage.patient_id, kept_coverage.payer_id) == (
        patient.patient_id,
        coverage.payer_id,
    )
