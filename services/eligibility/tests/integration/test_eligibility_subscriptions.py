"""Eligibility's real subscription to registration's events: the consumer the kernel built (its group, batch
size and manual acknowledgement) takes a patient and a coverage off the broker into eligibility's copies and
queues the coverage's first check, in memory and on the embedded broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import (
    BROKERS,
    broker_settings,
    deliver_through_subscriptions,
    sample_coverage_added,
    sample_patient_registered,
)
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_eligibility.bootstrap import bootstrap
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.app import ELIGIBILITY_APP
from rcm_eligibility.testing import ScriptedClearinghouse


@pytest.mark.parametrize("real", BROKERS)
async def test_registrations_events_reach_the_copies_through_the_subscription(
    real: bool, request: pytest.FixtureRequest, tmp_path: Path, signing_keys: tuple[str, str]
) -> None:
    settings = EligibilitySettings(
        environment="test",
        state_dir=tmp_path,
        jwt_public_key=SecretStr(signing_keys[1]),
        **broker_settings(request, real),
    )
    await asyncio.to_thread(upgrade_to_head, ELIGIBILITY_APP.migrations, settings.resolved_database_url)
    eligibility = bootstrap(settings, gateway=ScriptedClearinghouse([]))
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)
    try:
        await deliver_through_subscriptions(
            eligibility, REGISTRATION_EVENTS, (patient, coverage), producer="registration", real=real
        )
        async with eligibility.uow() as uow:
            kept_patient = await uow.patients.get(patient.patient_id)
            kept_coverage = await uow.coverages.get(coverage.coverage_id)
            [check] = await uow.checks.for_patient(patient.patient_id)
    finally:
        await eligibility.close()
        await eligibility.engine.dispose()

    assert kept_patient is not None
    assert kept_patient.person.last_name == patient.last_name
    assert kept_coverage is not None
    assert kept_coverage.member_id == coverage.member_id
    assert (check.coverage_id, check.trigger, check.status) == (coverage.coverage_id, "coverage_added", "pending")
