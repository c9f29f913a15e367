"""The payloads charge claims to read (`contracts/examples/charge/`), replayed through its real consumer into
its real, migrated database: each is applied once, none is dead-lettered, and each leaves the effect charge
relies on (the patient's sex and birth date, the coverage's payer and dates, the survivor of a merge)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
from pydantic import SecretStr

from rcm_charge.bootstrap import Charge, bootstrap
from rcm_charge.config import ChargeSettings
from rcm_charge.entrypoints.app import CHARGE_APP
from rcm_charge.service_layer.handlers import event_handlers
from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import UNREACHABLE_BROKER, replay_claimed
from rcm_common.topics import REGISTRATION_EVENTS

CLAIMED = Path(__file__).resolve().parents[4] / "contracts" / "examples" / "charge"
STORY = (
    "rcm.registration.patient_registered",
    "rcm.registration.patient_updated",
    "rcm.registration.coverage_added",
    "rcm.registration.coverage_updated",
    "rcm.registration.patients_merged",
    "rcm.registration.coverage_ended",
)


def _claimed(event_type: str) -> dict[str, str]:
    example: dict[str, str] = json.loads((CLAIMED / event_type / "v1.json").read_text())
    return example


@pytest.fixture
async def charge(tmp_path: Path) -> AsyncIterator[Charge]:
    settings = ChargeSettings(
        environment="test", state_dir=tmp_path, kafka_bootstrap_servers=UNREACHABLE_BROKER,
        jwt_public_key=SecretStr(generate_keypair()[1]),
    )  # fmt: skip
    await asyncio.to_thread(upgrade_to_head, CHARGE_APP.migrations, settings.resolved_database_url)
    service = bootstrap(settings)
    yield service
    await service.engine.dispose()


def test_charge_claims_an_example_of_every_event_it_handles(charge: Charge) -> None:
    claimed = {path.parent.name for path in CLAIMED.glob("*/v1.json")}
    assert claimed == {model.event_type for model in event_handlers(charge.evaluator)} == set(STORY)


async def test_every_claimed_example_is_applied_once_with_its_effect(charge: Charge) -> None:
    await replay_claimed(
        CLAIMED, STORY, consumer=charge.consumer_of(REGISTRATION_EVENTS), producer="registration",
    )  # fmt: skip

    patient = _claimed("rcm.registration.patient_updated")
    primary = _claimed("rcm.registration.coverage_added")
    secondary = _claimed("rcm.registration.coverage_updated")
    ended = _claimed("rcm.registration.coverage_ended")
    async with charge.uow() as uow:
        kept = await uow.patients.get(UUID(patient["patient_id"]))
        assert kept is not None
        assert (kept.sex, kept.birth_date.isoformat()) == (patient["sex"], patient["birth_date"])
        first = await uow.coverages.get(UUID(primary["coverage_id"]))
        assert first is not None
        assert (first.payer_id, first.effective_date.isoformat()) == (primary["payer_id"], primary["effective_date"])
        matched = await uow.coverages.find_by_member(primary["payer_id"], primary["member_id"])
        assert [coverage.coverage_id for coverage in matched] == [first.coverage_id]
        moved = await uow.coverages.get(UUID(secondary["coverage_id"]))
        assert moved is not None
        assert str(moved.patient_id) == _claimed("rcm.registration.patients_merged")["surviving_patient_id"]
        assert moved.termination_date is not None
        assert moved.termination_date.isoformat() == ended["termination_date"]
        assert await uow.coverages.find_by_member(secondary["payer_id"], secondary["member_id"]) == [moved]
