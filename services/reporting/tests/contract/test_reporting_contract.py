"""The payloads reporting claims to read (`contracts/examples/reporting/`), replayed through its real consumers into
its real, migrated database, topic by topic as the platform produces them: each is applied once, none is
dead-lettered, the same records again are duplicates, and the reports read what they left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest

from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import in_process_settings, replay_claimed
from rcm_reporting.bootstrap import Reporting, bootstrap
from rcm_reporting.config import ReportingSettings
from rcm_reporting.entrypoints.app import REPORTING_APP
from rcm_reporting.service_layer.projection import subscriptions

CLAIMED = Path(__file__).resolve().parents[4] / "contracts" / "examples" / "reporting"


@pytest.fixture
async def reporting(tmp_path: Path) -> AsyncIterator[Reporting]:
    settings = in_process_settings(ReportingSettings, tmp_path, generate_keypair()[1])
    await asyncio.to_thread(upgrade_to_head, REPORTING_APP.migrations, settings.resolved_database_url)
    service = bootstrap(settings)
    yield service
    await service.engine.dispose()


def test_reporting_claims_an_example_of_every_event_it_handles() -> None:
    claimed = {path.parent.name for path in CLAIMED.glob("*/v1.json")}
    handled = {model.event_type for handlers in subscriptions().values() for model in handlers}
    assert claimed == handled


async def test_every_claimed_example_is_applied_once_and_reported(reporting: Reporting) -> None:
    for topic, handlers in subscriptions().items():
        story = [model.event_type for model in handlers]  # each topic's events in the order a claim lives them
        producer = topic.split(".")[1]
        await replay_claimed(CLAIMED, story, consumer=reporting.consumer_of(topic), producer=producer)

    kpis = await reporting.reports.kpis()
    assert kpis.volumes.visits == 0  # the example visit was voided in the end
    assert kpis.claims_by_state == {"denied": 1}  # the last word: a write-off of its denial withdrawn
    [claim_id] = await _claim_ids(reporting)
    history = await reporting.reports.claim_events(claim_id)
    types = [step.event_type for step in history.events]
    assert types[0] == "rcm.charge.charges_captured"
    assert {
        "rcm.claim.claim_created",
        "rcm.remittance.payment_posted",
        "rcm.collections.patient_payment_received",
    } <= set(types)
    aging = await reporting.reports.aging(None)
    assert aging.total == sum((row.total for row in aging.by_payer), Decimal(0))


async def _claim_ids(reporting: Reporting) -> list[UUID]:
    async with reporting.uow() as uow:
        log = await uow.facts.event_log()
    return list(log.claims)
