"""Claim's consumers over in-memory fakes: a captured encounter becomes a scrubbed claim, corrections, holds
and voids change it as a payer expects, and registration's and eligibility's events scrub it again, so a
cause fixed upstream releases the claim by itself."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rcm_claim.domain.rules import RULES
from rcm_claim.service_layer import directories
from rcm_claim.service_layer.handlers import (
    Handlers,
    charge_handlers,
    eligibility_handlers,
    registration_handlers,
    status_of_failure,
    take_patients_named,
)
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.testing import FakeStore, charges_captured
from rcm_common.audit import AccessRecord
from rcm_common.envelope import Envelope
from rcm_common.events import charge as charge_contract
from rcm_common.events import claim as claim_contract
from rcm_common.events import eligibility as eligibility_contract
from rcm_common.events import registration as registration_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import envelope_for, sample_coverage_added, sample_patient_registered

NOW = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)
SCRUBBER = Scrubber(RULES, lambda: NOW)
HANDLERS: Handlers = registration_handlers(SCRUBBER) | eligibility_handlers(SCRUBBER) | charge_handlers(SCRUBBER)


async def deliver(store: FakeStore, *events: IntegrationEvent) -> list[Envelope]:
    """Each event through its handler in a unit of work of its own, as the consumer applies them."""
    envelopes = []
    for event in events:
        envelope = envelope_for(event)
        async with store.uow() as uow:
            await HANDLERS[type(event)](event, envelope, uow)
            await uow.commit()
        envelopes.append(envelope)
    return envelopes


def verified(patient_id: uuid.UUID, coverage_id: uuid.UUID, *, active: bool = True, **changes: Any) -> IntegrationEvent:
    fields: dict[str, Any] = {
        "check_id": str(uuid.uuid4()),
        "patient_id": str(patient_id),
        "coverage_id": str(coverage_id),
        "payer_id": "ACME01",
        "date_of_service": DAY.isoformat(),
        "service_type": "30",
        "trigger": "coverage_added",
        "checked_at": (NOW - timedelta(days=1)).isoformat(),
        "benefits": {"active": active},
    }
    return eligibility_contract.EligibilityVerified.model_validate(fields | changes)


def check_failed(
    patient_id: uuid.UUID, coverage_id: uuid.UUID, kind: str, *codes: str
) -> eligibility_contract.EligibilityCheckFailed:
    return eligibility_contract.EligibilityCheckFailed.model_validate(
        {
            "check_id": str(uuid.uuid4()),
            "patient_id": str(patient_id),
            "coverage_id": str(coverage_id),
            "payer_id": "ACME01",
            "date_of_service": DAY.isoformat(),
            "service_type": "30",
            "trigger": "coverage_added",
            "checked_at": (NOW - timedelta(hours=1)).isoformat(),
            "kind": kind,
            "reason": "the payer refused the inquiry",
            "errors": [{"level": "subscriber", "code": code, "follow_up": "C"} for code in codes],
            "attempts": 1,
            "retry_scheduled": False,
        }
    )


def authorization(patient_id: uuid.UUID, coverage_id: uuid.UUID) -> IntegrationEvent:
    return eligibility_contract.PriorAuthorizationRecorded.model_validate(
        {
            "authorization_id": str(uuid.uuid4()),
            "patient_id": str(patient_id),
            "coverage_id": str(coverage_id),
            "payer_id": "ACME01",
            "authorization_number": "PA-2026-114",
            "procedure_codes": ["72148"],
            "units_authorized": 1,
            "start_date": "2026-10-15",
            "end_date": "2026-12-31",
        }
    )


async def registered(store: FakeStore, **coverage: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A patient with an ACME01 coverage, and eligibility's answer that it is active."""
    patient = sample_patient_registered()
    added = sample_coverage_added(patient.patient_id, **coverage)
    await deliver(store, patient, added, verified(patient.patient_id, added.coverage_id))
    return patient.patient_id, added.coverage_id


async def test_a_captured_encounter_becomes_a_clean_claim_ready_for_its_batch() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    captured = charges_captured(patient_id, coverage_id)

    [envelope] = await deliver(store, captured)

    [claim] = store.claims.rows.values()
    assert (claim.state, claim.payer_id, claim.responsibility, claim.encounter_version) == ("ready", "ACME01", "P", 1)
    assert claim.scrub is not None
    assert claim.scrub.findings == ()
    assert [(step.to_state, step.cause) for step in claim.timeline] == [
        ("draft", f"event:{envelope.event_id}"),
        ("ready", f"event:{envelope.event_id}"),
    ]
    assert store.published_types()[-1:] == ["ClaimCreated"]
    assert store.accesses[-1] == AccessRecord.of("create", "claim", claim.id, patient_id)


async def test_a_self_pay_encounter_and_a_redelivered_one_make_no_claim() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    captured = charges_captured(patient_id, coverage_id)

    await deliver(store, charges_captured(patient_id, None), captured, captured)

    assert len(store.claims.rows) == 1


async def test_a_missing_authorisation_blocks_and_recording_it_releases_the_claim_with_its_number() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)

    await deliver(store, charges_captured(patient_id, coverage_id, codes=("72148",)))
    [claim] = store.claims.rows.values()
    assert (claim.state, claim.scrub.blocking_rules if claim.scrub else None) == ("scrub_failed", ("PRIOR_AUTH",))
    [failed] = [event for event in store.published if isinstance(event, claim_contract.ClaimScrubFailed)]
    assert failed.findings[0].message == "72148 needs a prior authorisation on file for 2026-11-02"

    [envelope] = await deliver(store, authorization(patient_id, coverage_id))

    [claim] = store.claims.rows.values()
    assert claim.state == "ready"
    assert claim.scrub is not None
    assert claim.scrub.authorization_number == "PA-2026-114"
    assert (claim.timeline[-1].to_state, claim.timeline[-1].cause) == ("ready", f"event:{envelope.event_id}")


async def test_a_payer_that_does_not_know_the_member_blocks_until_a_later_answer_says_active() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    await deliver(store, charges_captured(patient_id, coverage_id))

    await deliver(store, check_failed(patient_id, coverage_id, "payer_rejected", "75"))
    [claim] = store.claims.rows.values()
    assert claim.state == "scrub_failed"
    assert claim.scrub is not None
    assert claim.scrub.blocking_rules == ("COVERAGE_INACTIVE",)

    stale = verified(patient_id, coverage_id, checked_at=(NOW - timedelta(days=2)).isoformat())
    await deliver(store, stale)
    assert store.claims.rows[claim.id].state == "scrub_failed"  # older than the answer kept: ignored

    await deliver(store, verified(patient_id, coverage_id, checked_at=NOW.isoformat()))
    assert store.claims.rows[claim.id].state == "ready"


def test_a_failed_check_says_inactive_unknown_member_or_nothing() -> None:
    patient_id, coverage_id = uuid.uuid4(), uuid.uuid4()

    assert status_of_failure(check_failed(patient_id, coverage_id, "coverage_inactive")) == "inactive"
    assert status_of_failure(check_failed(patient_id, coverage_id, "payer_rejected", "72")) == "not_found"
    assert status_of_failure(check_failed(patient_id, coverage_id, "payer_rejected", "42")) == "unanswered"
    assert status_of_failure(check_failed(patient_id, coverage_id, "attempts_exhausted")) == "unanswered"


async def test_registrations_changes_scrub_the_claim_again_with_the_coverages_order_and_dates() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    await deliver(store, charges_captured(patient_id, coverage_id))
    coverage = store.coverages.rows[coverage_id]
    updated = registration_contract.CoverageUpdated.model_validate(
        sample_coverage_added(patient_id, coverage_id=coverage_id, order="secondary").model_dump()
        | {"changed_fields": ["order"]}
    )

    await deliver(store, updated)
    [claim] = store.claims.rows.values()
    assert (claim.responsibility, claim.state) == ("S", "scrub_failed")  # a secondary's claim waits for the primary
    assert claim.scrub is not None
    assert claim.scrub.blocking_rules == ("PRIOR_PAYERS",)

    ended = registration_contract.CoverageEnded(
        patient_id=patient_id, coverage_id=coverage.coverage_id, termination_date=date(2026, 10, 31), reason="ended"
    )
    [envelope] = await deliver(store, ended)
    claim = store.claims.rows[claim.id]
    assert claim.state == "scrub_failed"
    assert claim.scrub is not None
    assert claim.scrub.blocking_rules == ("COVERAGE_INACTIVE", "PRIOR_PAYERS")
    assert claim.timeline[-1].cause == f"event:{envelope.event_id}"


async def test_a_merge_moves_the_merged_patients_claims_to_the_survivor() -> None:
    store = FakeStore()
    merged_id, coverage_id = await registered(store)
    survivor = sample_patient_registered()
    await deliver(store, survivor, charges_captured(merged_id, coverage_id))

    await deliver(
        store,
        registration_contract.PatientsMerged(
            surviving_patient_id=survivor.patient_id, merged_patient_id=merged_id, moved_coverage_ids=(coverage_id,)
        ),
    )

    [claim] = store.claims.rows.values()
    assert claim.patient_id == survivor.patient_id
    assert AccessRecord.of("update", "claim", claim.id, survivor.patient_id) in store.accesses


async def test_a_correction_before_submission_voids_the_claim_and_builds_the_new_version() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    captured = charges_captured(patient_id, coverage_id)
    corrected = charge_contract.ChargesCorrected.model_validate(
        captured.model_dump() | {"version": 2, "replaces_version": 1}
    )

    await deliver(store, captured, corrected, corrected)

    first, second = sorted(store.claims.rows.values(), key=lambda claim: claim.encounter_version)
    assert (first.state, second.state, second.encounter_version, second.frequency) == ("voided", "ready", 2, "1")
    voided = [event for event in store.published if isinstance(event, claim_contract.ClaimVoided)]
    assert [(event.claim_id, event.reason) for event in voided] == [(first.id, "encounter_corrected")]


async def test_a_hold_keeps_the_claim_out_and_a_void_withdraws_it() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    captured = charges_captured(patient_id, coverage_id)
    held = charge_contract.ChargesHeld(
        encounter_id=captured.encounter_id,
        version=1,
        patient_id=patient_id,
        issue_codes=("NCCI_PAIR_MODIFIER_REQUIRED",),
    )
    voided = charge_contract.ChargesVoided(
        encounter_id=captured.encounter_id, version=2, patient_id=patient_id, reason="entered_in_error"
    )

    await deliver(store, captured, held, held)
    [claim] = store.claims.rows.values()
    assert claim.held == "charge is correcting the encounter (NCCI_PAIR_MODIFIER_REQUIRED)"
    assert sum(step.note.startswith("held") for step in claim.timeline) == 1

    await deliver(store, voided)
    claim = store.claims.rows[claim.id]
    assert claim.state == "voided"
    assert store.published_types()[-1] == "ClaimVoided"


async def test_a_handler_that_fails_changes_nothing() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    store.directories.payer_profiles.clear()
    captured = charges_captured(patient_id, coverage_id)
    before = len(store.published)

    async with store.uow() as uow:
        await HANDLERS[type(captured)](captured, envelope_for(captured), uow)
        # left without committing, as a consumer's failed batch is

    assert store.claims.rows == {}
    assert len(store.published) == before


async def test_of_two_claims_for_one_service_the_first_stands_and_voiding_it_releases_the_second() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    first, second = charges_captured(patient_id, coverage_id), charges_captured(patient_id, coverage_id)

    await deliver(store, first, second)
    await deliver(store, verified(patient_id, coverage_id, checked_at=NOW.isoformat()))  # every claim scrubbed again

    states = {claim.encounter_id: claim.state for claim in store.claims.rows.values()}
    assert (states[first.encounter_id], states[second.encounter_id]) == ("ready", "scrub_failed")
    await deliver(
        store,
        charge_contract.ChargesVoided(
            encounter_id=first.encounter_id, version=2, patient_id=patient_id, reason="duplicate"
        ),
    )
    states = {claim.encounter_id: claim.state for claim in store.claims.rows.values()}
    assert (states[first.encounter_id], states[second.encounter_id]) == ("voided", "ready")


async def test_a_check_no_payer_answered_never_replaces_what_a_payer_said() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    await deliver(
        store, charges_captured(patient_id, coverage_id), check_failed(patient_id, coverage_id, "payer_rejected", "75")
    )

    later = check_failed(patient_id, coverage_id, "payer_rejected", "42")
    await deliver(store, later)

    [claim] = store.claims.rows.values()
    assert claim.state == "scrub_failed"
    assert store.eligibility.rows[coverage_id].reject_codes == ("75",)


async def test_a_rejected_claim_goes_again_only_for_a_change_to_what_it_carries() -> None:
    store = FakeStore()
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)
    await deliver(store, patient, coverage, verified(patient.patient_id, coverage.coverage_id))
    await deliver(store, charges_captured(patient.patient_id, coverage.coverage_id))
    [claim] = store.claims.rows.values()
    claim.state = "rejected"  # as a 277CA would have left it

    phone = registration_contract.PatientUpdated.model_validate(
        patient.model_dump() | {"phone": "802-555-0143", "changed_fields": ["phone"]}
    )
    await deliver(store, phone, verified(patient.patient_id, coverage.coverage_id, checked_at=NOW.isoformat()))
    assert store.claims.rows[claim.id].state == "rejected"

    name = registration_contract.PatientUpdated.model_validate(
        patient.model_dump() | {"last_name": "Doe-Smith", "changed_fields": ["last_name"]}
    )
    await deliver(store, name)
    assert store.claims.rows[claim.id].state == "ready"


async def test_events_naming_a_merged_patient_reach_the_survivors_claims() -> None:
    store = FakeStore()
    merged_id, coverage_id = await registered(store)
    survivor = sample_patient_registered()
    await deliver(
        store,
        survivor,
        registration_contract.PatientsMerged(
            surviving_patient_id=survivor.patient_id, merged_patient_id=merged_id, moved_coverage_ids=(coverage_id,)
        ),
    )

    await deliver(store, charges_captured(merged_id, coverage_id, codes=("72148",)))
    [claim] = store.claims.rows.values()
    assert (claim.patient_id, claim.state) == (survivor.patient_id, "scrub_failed")

    await deliver(store, authorization(merged_id, coverage_id))
    assert store.claims.rows[claim.id].state == "ready"


async def test_a_hold_leaves_the_time_the_claim_entered_its_state() -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    captured = charges_captured(patient_id, coverage_id)
    await deliver(store, captured)
    [claim] = store.claims.rows.values()
    entered = claim.in_state_since

    async with store.uow() as uow:
        held = await uow.claims.get(claim.id)
        assert held is not None
        held.hold("waiting for a note", NOW + timedelta(hours=3), "api:biller-1")
        await uow.claims.save(held)
        await uow.commit()

    assert store.claims.rows[claim.id].in_state_since == entered


async def test_a_directory_fix_releases_every_claim_it_held_however_many(monkeypatch: Any) -> None:
    store = FakeStore()
    patient_id, coverage_id = await registered(store)
    payers = list(store.directories.payer_profiles.values())
    store.directories.payer_profiles.pop("ACME01")
    await deliver(store, *(charges_captured(patient_id, coverage_id, codes=(code,)) for code in
                           ("99211", "99212", "99213", "99214", "99215")))  # fmt: skip
    assert {claim.state for claim in store.claims.rows.values()} == {"scrub_failed"}
    monkeypatch.setattr(directories, "RESCRUB_PAGE", 2)

    await directories.replace_payers(payers, store.uow(), SCRUBBER, by="admin-1")

    assert {claim.state for claim in store.claims.rows.values()} == {"ready"}


async def test_a_batch_of_registration_or_eligibility_events_takes_every_patient_it_names_at_once() -> None:
    store = FakeStore()
    first, second = sample_patient_registered(), sample_patient_registered()
    merged = registration_contract.PatientsMerged(
        surviving_patient_id=first.patient_id, merged_patient_id=second.patient_id, moved_coverage_ids=()
    )
    uow = store.uow()

    await take_patients_named([second, first, merged], uow)

    assert uow.locked == sorted({first.patient_id, second.patient_id}, key=str)
