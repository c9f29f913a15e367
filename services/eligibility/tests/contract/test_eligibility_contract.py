"""The payloads eligibility claims to read (`contracts/examples/eligibility/`), replayed through its real
consumer into its real, migrated database: each is applied once, none is dead-lettered, and each leaves
the effect eligibility relies on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import UNREACHABLE_BROKER, replay_claimed
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_common.types import utcnow
from rcm_eligibility.bootstrap import Eligibility, bootstrap
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.app import ELIGIBILITY_APP
from rcm_eligibility.service_layer.handlers import event_handlers

CLAIMED = Path(__file__).resolve().parents[4] / "contracts" / "examples" / "eligibility"
# The order the examples tell their story in: a patient registered and corrected, coverage added and
# corrected, a duplicate folded in, a coverage ended.
STORY = (
    "rcm.registration.patient_registered",
    "rcm.registration.patient_updated",
    "rcm.registration.coverage_added",
    "rcm.registration.coverage_updated",
    "rcm.registration.patients_merged",
    "rcm.registration.coverage_ended",
)


@pytest.fixture
async def eligibility(tmp_path: Path) -> AsyncIterator[Eligibility]:
    settings = EligibilitySettings(
        environment="test", state_dir=tmp_path, kafka_bootstrap_servers=UNREACHABLE_BROKER,
        jwt_public_key=SecretStr(generate_keypair()[1]),
    )  # fmt: skip
    await asyncio.to_thread(upgrade_to_head, ELIGIBILITY_APP.migrations, settings.resolved_database_url)
    service = bootstrap(settings)
    yield service
    await service.close()
    await service.engine.dispose()


def test_eligibility_claims_an_example_of_every_event_it_handles() -> None:
    claimed = {path.parent.name for path in CLAIMED.glob("*/v1.json")}
    assert claimed == {model.event_type for model in event_handlers(utcnow)} == set(STORY)


async def test_every_claimed_example_is_applied_once_with_its_effect(eligibility: Eligibility) -> None:
    await replay_claimed(
        CLAIMED, STORY, consumer=eligibility.consumer_of(REGISTRATION_EVENTS), producer="registration",
    )  # fmt: skip

    async with eligibility.session_factory() as session:
        patients = (await session.execute(text("SELECT patient_id, merged_into_id FROM patient_copy"))).all()
        coverages = (
            await session.execute(text("SELECT coverage_id, patient_id, termination_date FROM coverage_copy"))
        ).all()
        checks = (
            await session.execute(text("SELECT coverage_id, trigger FROM eligibility_check ORDER BY created_at"))
        ).all()
    primary = json.loads((CLAIMED / "rcm.registration.coverage_added/v1.json").read_text())
    secondary = json.loads((CLAIMED / "rcm.registration.coverage_updated/v1.json").read_text())
    ended = json.loads((CLAIMED / "rcm.registration.coverage_ended/v1.json").read_text())
    assert [p.patient_id for p in patients] == [primary["patient_id"]]
    assert {c.coverage_id for c in coverages} == {primary["coverage_id"], secondary["coverage_id"]}
    assert {str(c.termination_date) for c in coverages if c.coverage_id == ended["coverage_id"]} == {
        ended["termination_date"]
    }
    assert [(c.coverage_id, c.trigger) for c in checks] == [
        (primary["coverage_id"], "coverage_added"),
        (secondary["coverage_id"], "coverage_updated"),
    ]
