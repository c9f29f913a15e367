"""A corrected or voided encounter changes its claim as a payer expects: unsent claims are voided and
rebuilt, accepted ones are replaced (frequency 7) or voided with a void claim (frequency 8), and claims the
payer has not answered yet are followed by a held claim."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from rcm_claim.domain import events
from rcm_claim.domain.corrections import after_answer, corrected, live_claim, withdrawn
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import Claim, ClaimError, EncounterLine, EncounterVersion

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)
ENCOUNTER = EncounterVersion(
    encounter_id=uuid.uuid4(),
    version=1,
    patient_id=uuid.uuid4(),
    coverage_id=uuid.uuid4(),
    payer_id="ACME01",
    date_of_service=DAY,
    place_of_service="11",
    diagnoses=("I10",),
    lines=(EncounterLine("99214", (), Decimal(1), DAY, Decimal("185.00"), (1,)),),
    billing_provider_npi="1234567893",
)
VERSION_2 = dataclasses.replace(
    ENCOUNTER, version=2, lines=(EncounterLine("99213", (), Decimal(1), DAY, Decimal("125.00"), (1,)),)
)


def claim_in(state: str) -> Claim:
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=ENCOUNTER, coverage_order="primary", now=NOW, cause="e:1")
    if state != "draft":
        claim.scrubbed(ScrubRecord((), ()), NOW, "scrub")
    if state in ("submitted", "accepted"):
        claim.batch(uuid.uuid4(), NOW, "batch")
        claim.submit("000000001", NOW, "batch")
    if state == "accepted":
        claim.accept("ACME777", NOW, "277ca")
    claim.events.clear()
    return claim


def test_an_unsent_claim_is_voided_and_the_correction_built_as_a_new_original() -> None:
    live = claim_in("ready")

    succession = corrected(live, VERSION_2, "primary", uuid.uuid4, NOW, "event:corrected")

    assert succession.changed == [live]
    assert (live.state, live.events) == ("voided", [events.ClaimVoided("encounter_corrected")])
    [original] = succession.built
    assert (original.frequency, original.encounter_version, original.state, original.held) == ("1", 2, "draft", None)


def test_an_accepted_claim_is_replaced_by_a_frequency_7_claim_naming_the_payers_number() -> None:
    live = claim_in("accepted")

    succession = corrected(live, VERSION_2, "primary", uuid.uuid4, NOW, "event:corrected")

    [replacement] = succession.built
    assert (replacement.frequency, replacement.replaces_payer_claim_number) == ("7", "ACME777")
    assert replacement.lines[0].procedure_code == "99213"
    assert (live.state, live.events) == ("replaced", [events.ClaimReplaced(replacement.id)])


def test_a_correction_to_another_payer_voids_the_accepted_claim_and_bills_the_new_payer() -> None:
    live = claim_in("accepted")
    moved = dataclasses.replace(VERSION_2, coverage_id=uuid.uuid4(), payer_id="SUMMT1")

    succession = corrected(live, moved, "primary", uuid.uuid4, NOW, "event:corrected")

    void_claim, original = succession.built
    assert (void_claim.frequency, void_claim.replaces_payer_claim_number, void_claim.payer_id) == (
        "8",
        "ACME777",
        "ACME01",
    )
    assert void_claim.lines[0].procedure_code == "99214"
    assert void_claim.patient_control_number != live.patient_control_number
    assert (original.frequency, original.payer_id) == ("1", "SUMMT1")
    assert live.events == [events.ClaimVoided("encounter_corrected", void_sent=True)]


def test_a_claim_the_payer_has_not_answered_is_followed_by_a_claim_waiting_for_the_answer() -> None:
    live = claim_in("submitted")

    replaced = corrected(live, VERSION_2, "primary", uuid.uuid4, NOW, "event:corrected")
    voided = withdrawn(live, "encounter_voided", uuid.uuid4, NOW, "event:voided")

    assert (replaced.changed, voided.changed, live.state) == ([], [], "submitted")
    [replacement] = replaced.built
    [void_claim] = voided.built
    assert (replacement.frequency, replacement.waits_for, replacement.held) == ("7", live.id, None)
    assert (void_claim.frequency, void_claim.waits_for, void_claim.held) == ("8", live.id, None)
    assert replacement.timeline[-1].note == f"waits for the payer's answer to claim {live.patient_control_number}"


def test_a_self_pay_correction_withdraws_the_unsent_claim_and_builds_nothing() -> None:
    live = claim_in("scrub_failed")
    self_pay = dataclasses.replace(VERSION_2, coverage_id=None, payer_id=None)

    succession = corrected(live, self_pay, "primary", uuid.uuid4, NOW, "event:corrected")

    assert (succession.changed, succession.built, live.state) == ([live], [], "voided")


def test_a_void_withdraws_an_unsent_claim_sends_a_void_claim_for_an_accepted_one_and_leaves_a_final_one() -> None:
    unsent, accepted, final = claim_in("draft"), claim_in("accepted"), claim_in("ready")
    final.void("withdrawn", NOW, "api:biller-1")

    assert withdrawn(unsent, "encounter_voided", uuid.uuid4, NOW, "e").built == []
    assert unsent.state == "voided"
    [void_claim] = withdrawn(accepted, "encounter_voided", uuid.uuid4, NOW, "e").built
    assert (void_claim.frequency, accepted.state) == ("8", "voided")
    nothing = withdrawn(final, "encounter_voided", uuid.uuid4, NOW, "e")
    assert (nothing.changed, nothing.built) == ([], [])


def test_the_live_claim_is_the_latest_neither_voided_nor_replaced() -> None:
    old, newer = claim_in("ready"), claim_in("draft")
    old.void("encounter_corrected", NOW, "e")
    newer.encounter_version = 2

    assert live_claim([old, newer]) is newer
    assert live_claim([old]) is None


VERSION_3 = dataclasses.replace(VERSION_2, version=3)
LATER = NOW + timedelta(minutes=5)


def test_a_second_correction_after_acceptance_is_still_a_replacement_naming_the_payers_number() -> None:
    original = claim_in("accepted")
    [replacement] = corrected(original, VERSION_2, "primary", uuid.uuid4, NOW, "e:2").built
    replacement.events.clear()

    live = live_claim([original, replacement])
    succession = corrected(live, VERSION_3, "primary", uuid.uuid4, NOW, "e:3")

    assert live is replacement
    assert (replacement.state, succession.changed) == ("voided", [replacement])
    [again] = succession.built
    assert (again.frequency, again.replaces_payer_claim_number, again.encounter_version) == ("7", "ACME777", 3)


def test_a_void_after_an_unsent_replacement_sends_a_void_of_the_payers_claim() -> None:
    original = claim_in("accepted")
    [replacement] = corrected(original, VERSION_2, "primary", uuid.uuid4, NOW, "e:2").built

    succession = withdrawn(replacement, "encounter_voided", uuid.uuid4, NOW, "e:3")

    [void_claim] = succession.built
    assert (void_claim.frequency, void_claim.replaces_payer_claim_number) == ("8", "ACME777")
    assert replacement.state == "voided"


def test_a_further_correction_while_the_payer_has_not_answered_still_waits_as_a_replacement() -> None:
    original = claim_in("submitted")
    [waiting] = corrected(original, VERSION_2, "primary", uuid.uuid4, NOW, "e:2").built

    [again] = corrected(live_claim([original, waiting]), VERSION_3, "primary", uuid.uuid4, NOW, "e:3").built

    assert (again.frequency, again.waits_for) == ("7", original.id)
    assert (waiting.state, waiting.waits_for) == ("voided", None)


def test_a_correction_then_a_void_while_the_payer_has_not_answered_leave_one_void_to_go_once_it_accepts() -> None:
    original = claim_in("submitted")
    [first] = corrected(original, VERSION_2, "primary", uuid.uuid4, NOW, "e:2").built
    [void_claim] = withdrawn(first, "encounter_voided", uuid.uuid4, NOW, "e:3").built
    original.accept("ACME900", NOW, "277ca:1")

    changed = after_answer(original, [first, void_claim], NOW, "277ca:1")

    assert changed == [original, void_claim]
    assert (void_claim.waits_for, void_claim.replaces_payer_claim_number) == (None, "ACME900")
    assert original.state == "voided"
    assert original.events[-1] == events.ClaimVoided("encounter_voided", void_sent=True)


def test_a_rejected_replacement_leaves_what_waits_for_it_replacing_or_voiding_the_claim_the_payer_still_has() -> None:
    original = claim_in("accepted")
    [replacement] = corrected(original, VERSION_2, "primary", uuid.uuid4, NOW, "e:2").built
    replacement.scrubbed(ScrubRecord((), ()), NOW, "scrub")
    replacement.batch(uuid.uuid4(), NOW, "batch")
    replacement.submit("000000002", NOW, "batch")
    [again] = corrected(replacement, VERSION_3, "primary", uuid.uuid4, NOW, "e:3").built
    [void_claim] = withdrawn(replacement, "encounter_voided", uuid.uuid4, NOW, "e:4").built
    assert (again.replaces_payer_claim_number, void_claim.replaces_payer_claim_number) == ("ACME777", "ACME777")
    replacement.reject("277CA", (events.Problem("A7:464", "no such claim"),), NOW, "277ca:1")

    after_answer(replacement, [again], NOW, "277ca:1")

    assert (again.frequency, again.replaces_payer_claim_number, again.waits_for) == ("7", "ACME777", None)
    assert replacement.state == "voided"
    assert void_claim.replaces_payer_claim_number == "ACME777"


def test_a_biller_cannot_release_a_claim_that_waits_for_the_payers_answer_nor_cut_the_wait_by_a_hold() -> None:
    original = claim_in("submitted")
    [void_claim] = withdrawn(original, "encounter_voided", uuid.uuid4, NOW, "e:2").built

    with pytest.raises(ClaimError, match="waits for the payer's answer"):
        void_claim.release(NOW, "api:biller-1")
    void_claim.hold("checking with the payer", NOW, "api:biller-1")
    void_claim.release(NOW, "api:biller-1")
    original.accept("ACME900", NOW, "277ca:1")
    after_answer(original, [void_claim], NOW, "277ca:1")

    assert (void_claim.replaces_payer_claim_number, original.state) == ("ACME900", "voided")


def test_a_correction_to_another_payer_after_an_unsent_replacement_voids_at_the_old_payer_and_bills_the_new() -> None:
    original = claim_in("accepted")
    [replacement] = corrected(original, VERSION_2, "primary", uuid.uuid4, NOW, "e:2").built
    moved = dataclasses.replace(VERSION_3, coverage_id=uuid.uuid4(), payer_id="SUMMT1")

    void_claim, new_original = corrected(replacement, moved, "primary", uuid.uuid4, NOW, "e:3").built

    assert (void_claim.frequency, void_claim.payer_id, void_claim.replaces_payer_claim_number) == (
        "8",
        "ACME01",
        "ACME777",
    )
    assert (new_original.frequency, new_original.payer_id) == ("1", "SUMMT1")
    assert live_claim([original, replacement, void_claim, new_original]) is new_original


def test_once_the_payer_accepts_the_claim_a_held_replacement_names_its_number_and_the_claim_is_replaced() -> None:
    original = claim_in("submitted")
    [replacement] = corrected(original, VERSION_2, "primary", uuid.uuid4, NOW, "e:2").built
    original.accept("ACME900", NOW, "277ca:1")

    changed = after_answer(original, [replacement], NOW, "277ca:1")

    assert changed == [original, replacement]
    assert (replacement.held, replacement.frequency, replacement.replaces_payer_claim_number) == (None, "7", "ACME900")
    assert original.state == "replaced"


def test_once_the_payer_accepts_the_claim_a_held_void_goes_and_the_claim_is_voided_with_the_void_sent() -> None:
    original = claim_in("submitted")
    [void_claim] = withdrawn(original, "encounter_voided", uuid.uuid4, NOW, "e:2").built
    original.accept("ACME900", NOW, "277ca:1")

    after_answer(original, [void_claim], NOW, "277ca:1")

    assert (void_claim.held, void_claim.replaces_payer_claim_number) == (None, "ACME900")
    assert original.state == "voided"
    assert original.events[-1] == events.ClaimVoided("encounter_voided", void_sent=True)


def test_once_the_payer_rejects_the_claim_a_held_void_has_nothing_to_void() -> None:
    original = claim_in("submitted")
    [void_claim] = withdrawn(original, "encounter_voided", uuid.uuid4, NOW, "e:2").built
    original.reject("277CA", (events.Problem("A3:33", "not found"),), NOW, "277ca:1")

    after_answer(original, [void_claim], NOW, "277ca:1")

    assert (original.state, void_claim.state) == ("voided", "voided")


def test_an_answer_no_claim_waits_for_changes_nothing() -> None:
    original = claim_in("submitted")
    original.accept("ACME900", NOW, "277ca:1")
    unrelated = claim_in("ready")

    assert after_answer(original, [unrelated], NOW, "277ca:1") == []
    assert original.state == "accepted"


def test_a_correction_back_to_the_payer_supersedes_the_void_waiting_beside_it() -> None:
    original = claim_in("submitted")
    self_pay = dataclasses.replace(VERSION_2, coverage_id=None, payer_id=None)
    [void_claim] = corrected(original, self_pay, "primary", uuid.uuid4, NOW, "e:2").built
    [replacement] = corrected(live_claim([original, void_claim]), VERSION_3, "primary", uuid.uuid4, LATER, "e:3").built
    original.accept("ACME900", LATER, "277ca:1")

    after_answer(original, [void_claim, replacement], LATER, "277ca:1")

    assert void_claim.state == "voided"  # superseded: it never goes
    assert (replacement.frequency, replacement.replaces_payer_claim_number, replacement.waits_for) == (
        "7",
        "ACME900",
        None,
    )
    assert original.state == "replaced"


def test_an_encounter_moved_away_and_back_while_the_payer_answers_goes_as_a_replacement_not_a_second_original() -> None:
    original = claim_in("submitted")
    elsewhere = dataclasses.replace(VERSION_2, coverage_id=uuid.uuid4(), payer_id="SUMMT1")
    void_claim, summit = corrected(original, elsewhere, "primary", uuid.uuid4, NOW, "e:2").built
    succession = corrected(live_claim([original, void_claim, summit]), VERSION_3, "primary", uuid.uuid4, LATER, "e:3")
    [back] = succession.built
    assert (summit.state, back.frequency, back.waits_for) == ("voided", "1", original.id)
    original.accept("ACME900", LATER, "277ca:1")

    after_answer(original, [void_claim, summit, back], LATER, "277ca:1")

    assert (back.frequency, back.replaces_payer_claim_number) == ("7", "ACME900")
    assert void_claim.state == "voided"
    assert original.state == "replaced"


def test_a_void_the_rejection_leaves_nothing_to_void_still_says_the_encounter_was_voided() -> None:
    original = claim_in("submitted")
    [void_claim] = withdrawn(original, "encounter_voided", uuid.uuid4, NOW, "e:2").built
    original.reject("277CA", (events.Problem("A3:33", "not found"),), NOW, "277ca:1")

    after_answer(original, [void_claim], NOW, "277ca:1")

    assert original.events[-1] == events.ClaimVoided("encounter_voided")
