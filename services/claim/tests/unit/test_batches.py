"""When ready claims go to their payer: once the batch is full or the oldest has waited the payer's interval,
the oldest first, never more than a batch holds, never a held claim."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.domain.batches import claims_due
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import Claim, EncounterLine, EncounterVersion

NOW = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)
ACME = dataclasses.replace(
    next(payer for payer in default_payers() if payer.payer_id == "ACME01"), batch_size=3, batch_interval_seconds=60
)


def ready_at(seconds_ago: int, payer: str = "ACME01") -> Claim:
    encounter = EncounterVersion(
        encounter_id=uuid.uuid4(), version=1, patient_id=uuid.uuid4(), coverage_id=uuid.uuid4(), payer_id=payer,
        date_of_service=DAY, place_of_service="11", diagnoses=("I10",),
        lines=(EncounterLine("99213", (), Decimal(1), DAY, Decimal("125.00"), (1,)),),
        billing_provider_npi="1234567893",
    )  # fmt: skip
    at = NOW - timedelta(seconds=seconds_ago)
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=encounter, coverage_order="primary", now=at, cause="e")
    claim.scrubbed(ScrubRecord((), ()), at, "scrub")
    return claim


def test_claims_wait_until_the_batch_is_full_or_the_oldest_has_waited_the_interval() -> None:
    two_fresh = [ready_at(10), ready_at(5)]
    assert claims_due(two_fresh, ACME, NOW) == []

    full = [ready_at(3), ready_at(2), ready_at(1), ready_at(0)]
    assert claims_due(full, ACME, NOW) == full[:3]

    waited = [ready_at(5), ready_at(61)]
    assert claims_due(waited, ACME, NOW) == [waited[1], waited[0]]


def test_a_held_claim_another_payers_and_one_not_ready_never_go() -> None:
    held, elsewhere, blocked, due = ready_at(90), ready_at(90, payer="SUMMT1"), ready_at(90), ready_at(70)
    held.hold("waiting for a note", NOW, "api:biller-1")
    blocked.state = "scrub_failed"

    assert claims_due([held, elsewhere, blocked, due], ACME, NOW) == [due]
