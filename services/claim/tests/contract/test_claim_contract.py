"""The payloads claim claims to read (`contracts/examples/claim/`), replayed through its real consumers into
its real, migrated database: each is applied once, none is dead-lettered, and each leaves the effect claim
relies on (the subscriber and patient an 837P names, the latest eligibility answer, the authorisation on
file, and the encounter's claims as its versions came and went)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from rcm_claim.bootstrap import Claim, bootstrap
from rcm_claim.config import ClaimSettings
from rcm_claim.entrypoints.app import CLAIM_APP
from rcm_claim.service_layer.handlers import (
    charge_handlers,
    eligibility_handlers,
    registration_handlers,
    remittance_handlers,
)
from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import in_process_settings, replay_claimed
from rcm_common.topics import CHARGE_EVENTS, ELIGIBILITY_EVENTS, REGISTRATION_EVENTS, REMITTANCE_EVENTS

CLAIMED = Path(__file__).resolve().parents[4] / "contracts" / "examples" / "claim"
STORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (REGISTRATION_EVENTS, "registration", (
        "rcm.registration.patient_registered",
        "rcm.registration.patient_updated",
        "rcm.registration.coverage_added",
        "rcm.registration.coverage_updated",
        "rcm.registration.patients_merged",
        "rcm.registration.coverage_ended",
    )),
    (ELIGIBILITY_EVENTS, "eligibility", (
        "rcm.eligibility.eligibility_verified",
        "rcm.eligibility.eligibility_check_failed",
        "rcm.eligibility.prior_authorization_recorded",
    )),
    (CHARGE_EVENTS, "charge", (
        "rcm.charge.charges_captured",
        "rcm.charge.charges_corrected",
        "rcm.charge.charges_held",
        "rcm.charge.charges_voided",
    )),
    (REMITTANCE_EVENTS, "remittance", (  # about a claim this database never built: read, and passed over
        "rcm.remittance.payment_posted",
        "rcm.remittance.claim_denied",
        "rcm.remittance.claim_payment_reversed",
    )),
)  # fmt: skip


def _claimed(event_type: str) -> dict[str, Any]:
    example: dict[str, Any] = json.loads((CLAIMED / event_type / "v1.json").read_text())
    return example


@pytest.fixture
async def claim(tmp_path: Path) -> AsyncIterator[Claim]:
    settings = in_process_settings(ClaimSettings, tmp_path, generate_keypair()[1])
    await asyncio.to_thread(upgrade_to_head, CLAIM_APP.migrations, settings.resolved_database_url)
    service = bootstrap(settings)
    yield service
    await service.engine.dispose()


def test_claim_claims_an_example_of_every_event_it_handles(claim: Claim) -> None:
    claimed = {path.parent.name for path in CLAIMED.glob("*/v1.json")}
    handled = (
        registration_handlers(claim.scrubber)
        | eligibility_handlers(claim.scrubber)
        | charge_handlers(claim.scrubber)
        | remittance_handlers(claim.scrubber)
    )
    assert claimed == {model.event_type for model in handled} == {t for _, _, story in STORIES for t in story}


async def test_every_claimed_example_is_applied_once_with_its_effect(claim: Claim) -> None:
    for topic, producer, story in STORIES:
        await replay_claimed(CLAIMED, story, consumer=claim.consumer_of(topic), producer=producer)

    patient = _claimed("rcm.registration.patient_updated")
    secondary = _claimed("rcm.registration.coverage_updated")
    verified = _claimed("rcm.eligibility.eligibility_verified")
    failed = _claimed("rcm.eligibility.eligibility_check_failed")
    authorization = _claimed("rcm.eligibility.prior_authorization_recorded")
    captured = _claimed("rcm.charge.charges_captured")
    async with claim.uow() as uow:
        kept = await uow.patients.get(UUID(patient["patient_id"]))
        assert kept is not None
        assert (kept.person.last_name, kept.address.line1) == (patient["last_name"], patient["address"]["line1"])
        moved = await uow.coverages.get(UUID(secondary["coverage_id"]))
        assert moved is not None
        assert (moved.member_id, moved.relationship) == (secondary["member_id"], "spouse")
        assert moved.subscriber is not None
        assert moved.subscriber.first_name == secondary["subscriber"]["first_name"]
        assert str(moved.patient_id) == _claimed("rcm.registration.patients_merged")["surviving_patient_id"]
        answer = await uow.eligibility.latest(UUID(verified["coverage_id"]))
        assert answer is not None
        assert answer.status == "active"
        refused = await uow.eligibility.latest(UUID(failed["coverage_id"]))
        assert refused is not None
        assert refused.status == "not_found"
        [on_file] = await uow.authorizations.for_coverage(UUID(authorization["coverage_id"]))
        assert on_file.number == authorization["authorization_number"]
        claims = await uow.claims.for_encounter(UUID(captured["encounter_id"]))
    assert [(c.encounter_version, c.state) for c in claims] == [(1, "voided"), (2, "voided")]
    assert any(step.note.startswith("held: charge") for step in claims[1].timeline)  # ChargesHeld, then void
