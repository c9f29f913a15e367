"""Claim's real subscriptions to registration's, eligibility's and charge's events: the consumers the
kernel built (group, batch size, manual acknowledgement) take a registered patient, an eligibility answer and
a captured encounter off the broker into a scrubbed claim, in memory and on the embedded broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.bootstrap import bootstrap
from rcm_claim.config import ClaimSettings
from rcm_claim.entrypoints.app import CLAIM_APP
from rcm_claim.testing import PRACTICE, charges_captured
from rcm_common.events.eligibility import EligibilityVerified
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import (
    BROKERS,
    broker_settings,
    deliver_through_subscriptions,
    sample_coverage_added,
    sample_patient_registered,
)
from rcm_common.topics import CHARGE_EVENTS, ELIGIBILITY_EVENTS, REGISTRATION_EVENTS
from rcm_common.types import utcnow


@pytest.mark.parametrize("real", BROKERS)
async def test_upstream_events_reach_a_scrubbed_claim_through_the_subscriptions(
    real: bool, request: pytest.FixtureRequest, tmp_path: Path, signing_keys: tuple[str, str]
) -> None:
    settings = ClaimSettings(
        environment="test",
        state_dir=tmp_path,
        jwt_public_key=SecretStr(signing_keys[1]),
        **broker_settings(request, real),
    )
    await asyncio.to_thread(upgrade_to_head, CLAIM_APP.migrations, settings.resolved_database_url)
    claim = bootstrap(settings)
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)
    today = utcnow().date()
    verified = EligibilityVerified.model_validate(
        {"check_id": str(coverage.coverage_id), "patient_id": str(patient.patient_id),
         "coverage_id": str(coverage.coverage_id), "payer_id": "ACME01", "date_of_service": today.isoformat(),
         "service_type": "30", "trigger": "coverage_added", "checked_at": utcnow().isoformat(),
         "benefits": {"active": True}}
    )  # fmt: skip
    captured = charges_captured(patient.patient_id, coverage.coverage_id, day=today)

    try:
        async with claim.uow() as uow:
            await uow.directories.replace_providers(PRACTICE, "test", utcnow())
            await uow.directories.replace_payers(default_payers(), utcnow())
            await uow.commit()
        await deliver_through_subscriptions(
            claim, REGISTRATION_EVENTS, (patient, coverage), producer="registration", real=real
        )
        await deliver_through_subscriptions(claim, ELIGIBILITY_EVENTS, (verified,), producer="eligibility", real=real)
        await deliver_through_subscriptions(claim, CHARGE_EVENTS, (captured,), producer="charge", real=real)
        async with claim.uow() as uow:
            [built] = await uow.claims.for_encounter(captured.encounter_id)
    finally:
        await claim.engine.dispose()

    assert (built.state, built.payer_id, built.patient_id) == ("ready", "ACME01", patient.patient_id)
    assert built.scrub is not None
    assert built.scrub.findings == ()
