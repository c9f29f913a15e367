"""The payloads remittance claims to read (`contracts/examples/remittance/`), replayed through its real consumer
into its real, migrated database: each is applied once, none is dead-lettered, and the claim copy they leave is
the one a claim payment is matched to (its CLM01, its lines' control numbers, its payer claim number)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import in_process_settings, replay_claimed
from rcm_common.topics import CLAIM_EVENTS
from rcm_remittance.bootstrap import Remittance, bootstrap
from rcm_remittance.config import RemittanceSettings
from rcm_remittance.entrypoints.app import REMITTANCE_APP
from rcm_remittance.service_layer.handlers import claim_handlers

CLAIMED = Path(__file__).resolve().parents[4] / "contracts" / "examples" / "remittance"
STORY = (
    "rcm.claim.claim_submitted",
    "rcm.claim.claim_accepted",
    "rcm.claim.claim_replaced",
    "rcm.claim.claim_voided",
)


def _claimed(event_type: str) -> dict[str, Any]:
    example: dict[str, Any] = json.loads((CLAIMED / event_type / "v1.json").read_text())
    return example


@pytest.fixture
async def remittance(tmp_path: Path) -> AsyncIterator[Remittance]:
    settings = in_process_settings(RemittanceSettings, tmp_path, generate_keypair()[1], run_workers=False)
    await asyncio.to_thread(upgrade_to_head, REMITTANCE_APP.migrations, settings.resolved_database_url)
    service = bootstrap(settings)
    yield service
    await service.close()
    await service.engine.dispose()


def test_remittance_claims_an_example_of_every_event_it_handles(remittance: Remittance) -> None:
    claimed = {path.parent.name for path in CLAIMED.glob("*/v1.json")}
    assert claimed == {model.event_type for model in claim_handlers(remittance.clock)} == set(STORY)


async def test_every_claimed_example_is_applied_once_and_keeps_the_claim_copy(remittance: Remittance) -> None:
    await replay_claimed(CLAIMED, STORY, consumer=remittance.consumer_of(CLAIM_EVENTS), producer="claim")

    sent = _claimed("rcm.claim.claim_submitted")
    async with remittance.uow() as uow:
        copy = await uow.copies.get(UUID(sent["claim_id"]))
    assert copy is not None
    assert copy.patient_control_number == sent["patient_control_number"]
    assert [line.control_number for line in copy.lines] == [line["line_control_number"] for line in sent["lines"]]
    assert copy.payer_claim_number == _claimed("rcm.claim.claim_accepted")["payer_claim_number"]
    assert copy.state == "voided"  # replaced, then voided: the last word stands
