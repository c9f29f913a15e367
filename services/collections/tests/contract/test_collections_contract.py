"""The payloads collections claims to read (`contracts/examples/collections/`), replayed through its real
consumers into its real, migrated database, topic by topic as the platform produces them: each is applied
once, none is dead-lettered, the same records again are duplicates, and the account they build verifies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rcm_collections.bootstrap import Collections, bootstrap
from rcm_collections.config import CollectionsSettings
from rcm_collections.entrypoints.app import COLLECTIONS_APP
from rcm_collections.entrypoints.ledger_check import verify_ledgers
from rcm_collections.service_layer.handlers import Posting, subscriptions
from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import in_process_settings, replay_claimed
from rcm_common.topics import CHARGE_EVENTS, CLAIM_EVENTS, REGISTRATION_EVENTS, REMITTANCE_EVENTS

CLAIMED = Path(__file__).resolve().parents[4] / "contracts" / "examples" / "collections"
STORIES = {
    REGISTRATION_EVENTS: (
        "registration",
        ("rcm.registration.patient_registered", "rcm.registration.patient_updated", "rcm.registration.patients_merged"),
    ),
    CHARGE_EVENTS: ("charge", ("rcm.charge.charges_captured", "rcm.charge.charges_corrected")),
    CLAIM_EVENTS: (
        "claim",
        (
            "rcm.claim.claim_created",
            "rcm.claim.claim_closed",
            "rcm.claim.patient_responsibility_transferred",
            "rcm.claim.claim_write_off_requested",
            "rcm.claim.denial_resolution_withdrawn",
            "rcm.claim.claim_reopened",
            "rcm.claim.claim_replaced",
            "rcm.claim.claim_voided",
        ),
    ),
    REMITTANCE_EVENTS: (
        "remittance",
        ("rcm.remittance.payment_posted", "rcm.remittance.claim_denied", "rcm.remittance.claim_payment_reversed"),
    ),
}
VOIDED = (CHARGE_EVENTS, ("charge", ("rcm.charge.charges_voided",)))


@pytest.fixture
async def collections(tmp_path: Path) -> AsyncIterator[Collections]:
    settings = in_process_settings(CollectionsSettings, tmp_path, generate_keypair()[1], run_cycle=False)
    await asyncio.to_thread(upgrade_to_head, COLLECTIONS_APP.migrations, settings.resolved_database_url)
    service = bootstrap(settings)
    yield service
    await service.engine.dispose()


def test_collections_claims_an_example_of_every_event_it_handles(collections: Collections) -> None:
    claimed = {path.parent.name for path in CLAIMED.glob("*/v1.json")}
    handled = {
        model.event_type for handlers in subscriptions(Posting(collections.clock)).values() for model in handlers
    }
    stories = {t for _, events in (*STORIES.values(), VOIDED[1]) for t in events}
    assert claimed == handled == stories


async def test_every_claimed_example_is_applied_once_and_the_ledger_verifies(collections: Collections) -> None:
    for topic, (producer, story) in (*STORIES.items(), VOIDED):
        await replay_claimed(CLAIMED, story, consumer=collections.consumer_of(topic), producer=producer)
    async with collections.session_factory() as session:
        verdicts = await verify_ledgers(session)
    assert len(verdicts) == 1
    assert verdicts[0].ok
    assert verdicts[0].entries > 0
    async with collections.uow() as uow:
        [summary] = await uow.accounts.search()
    assert summary.balance == 0  # the visit was voided in the end: nothing is owed, and nothing was lost
