"""Charge's use cases over in-memory fakes: capture, hold and release, correction, void, the review queue,
and registration's events."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from rcm_charge.adapters.x12_import import read_837p_claims
from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.service_layer import claim_import, coding_review, commands, encounters, handlers
from rcm_charge.service_layer.evaluation import EncounterEvaluator
from rcm_charge.service_layer.views import EncounterPublic
from rcm_charge.testing import (
    CHILD,
    PAYER,
    SUBSCRIBER,
    FakeStore,
    claim,
    encounter_body,
    envelope,
    fake_code_sets,
    line,
    registered,
    text_of,
)
from rcm_common.audit import AccessRecord
from rcm_common.errors import ConcurrentUpdate, Conflict, NotFound, PreconditionFailed, ValidationFailed
from rcm_common.events import charge as contract
from rcm_common.events import registration as reg
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import sample_coverage_added, sample_patient_registered
from rcm_common.types import utcnow
from rcm_x12.professional_claim_writer import Dependent

EVALUATOR = EncounterEvaluator(fake_code_sets(), utcnow)


async def correct(store: FakeStore, encounter_id: uuid.UUID, cmd: commands.CorrectEncounter) -> EncounterPublic:
    """A correction made on the encounter as it stands (its current revision)."""
    revision = store.encounters.rows[encounter_id].revision
    return await encounters.correct(encounter_id, cmd, store.uow(), EVALUATOR, revision=revision)


async def void(store: FakeStore, encounter_id: uuid.UUID, cmd: commands.VoidEncounter) -> EncounterPublic:
    revision = store.encounters.rows[encounter_id].revision
    return await encounters.void(encounter_id, cmd, store.uow(), utcnow, by="coder-1", revision=revision)


def capture_cmd(patient_id: uuid.UUID, coverage_id: uuid.UUID | None, **changes: Any) -> commands.CaptureEncounter:
    return commands.CaptureEncounter.model_validate(encounter_body(patient_id, coverage_id, **changes))


async def test_a_clean_encounter_is_captured_priced_and_published() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)

    view = await encounters.capture(capture_cmd(patient_id, coverage_id), store.uow(), EVALUATOR)

    assert view.status == "captured"
    assert view.version == 1
    assert view.lines[0].charge == Decimal("185.00")
    assert view.expected_reimbursement == Decimal("131.20")
    (event,) = store.published
    assert isinstance(event, contract.ChargesCaptured)
    assert event.encounter_id == view.id
    assert event.payer_id == "ACME01"
    assert [d.code for d in event.diagnoses] == ["E11.9", "I10"]
    assert event.diagnoses[0].description == "Type 2 diabetes mellitus without complications"
    assert event.lines[0].charge == Decimal("185.00")
    assert event.lines[0].expected_allowed == Decimal("131.20")
    assert event.total_charge == Decimal("185.00")
    assert store.accesses == [AccessRecord("create", "encounter", str(view.id), str(view.patient_id))]


async def test_a_header_code_is_held_in_the_queue_until_corrected_then_captured() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)

    held = await encounters.capture(
        capture_cmd(patient_id, coverage_id, diagnoses=["E11", "I10"]), store.uow(), EVALUATOR
    )

    assert held.status == "held"
    assert held.version == 0
    assert held.issues[0].code == "ICD10_NOT_BILLABLE"
    assert "E11.9" in held.issues[0].codes
    assert store.published == []
    (queued,) = await coding_review.review_queue(store.uow(), limit=10, offset=0, issue_code=None)
    assert queued.encounter_id == held.id

    fixed = await correct(store, held.id, commands.CorrectEncounter(diagnoses=("E11.9", "I10")))

    assert fixed.status == "captured"
    assert fixed.version == 1
    assert store.published_types() == ["ChargesCaptured"]
    assert await coding_review.review_queue(store.uow(), limit=10, offset=0, issue_code=None) == []
    encounter = store.encounters.rows[held.id]
    assert encounter.reviews[0].decision == "corrected"


async def test_a_correction_after_capture_publishes_the_next_version() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    view = await encounters.capture(capture_cmd(patient_id, coverage_id), store.uow(), EVALUATOR)
    line = commands.LineIn(code="99213", diagnosis_pointers=(1, 2))

    corrected = await correct(store, view.id, commands.CorrectEncounter(lines=(line,)))
    unchanged = await correct(store, view.id, commands.CorrectEncounter(lines=(line,)))

    assert corrected.version == unchanged.version == 2
    assert store.published_types() == ["ChargesCaptured", "ChargesCorrected"]
    event = store.published[1]
    assert isinstance(event, contract.ChargesCorrected)
    assert event.replaces_version == 1
    assert event.lines[0].charge == Decimal("125.00")


async def test_a_bad_correction_after_capture_goes_back_to_review_and_tells_the_claim_side_to_hold() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    view = await encounters.capture(capture_cmd(patient_id, coverage_id), store.uow(), EVALUATOR)

    held = await correct(store, view.id, commands.CorrectEncounter(diagnoses=("E11", "I10")))
    assert held.status == "held"
    assert held.version == 1
    assert store.published_types() == ["ChargesCaptured", "ChargesHeld"]
    hold = store.published[1]
    assert isinstance(hold, contract.ChargesHeld)
    assert (hold.version, hold.issue_codes) == (1, ("ICD10_NOT_BILLABLE",))

    fixed = await correct(store, view.id, commands.CorrectEncounter(diagnoses=("E11.65", "I10")))
    assert fixed.version == 2
    assert store.published_types() == ["ChargesCaptured", "ChargesHeld", "ChargesCorrected"]


async def test_a_decision_on_a_changed_encounter_is_refused() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    held = await encounters.capture(
        capture_cmd(patient_id, coverage_id, diagnoses=["E11", "I10"]), store.uow(), EVALUATOR
    )
    assert held.review is not None
    await correct(store, held.id, commands.CorrectEncounter(place_of_service="22"))

    with pytest.raises(PreconditionFailed):
        await encounters.correct(
            held.id, commands.CorrectEncounter(place_of_service="11"), store.uow(), EVALUATOR, revision=held.revision
        )
    with pytest.raises(PreconditionFailed):
        await coding_review.resolve_review(
            held.review.id,
            commands.ResolveReview(decision="void", note="dup", revision=held.revision),
            store.uow(),
            EVALUATOR,
            by="c",
        )


async def test_an_approval_accepts_only_the_flags_the_coder_saw() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    body = capture_cmd(
        patient_id, coverage_id, diagnoses=["J06.9"], lines=[{"code": "99215", "diagnosis_pointers": [1]}]
    )
    held = await encounters.capture(body, store.uow(), EVALUATOR)
    assert held.review is not None
    repeated = commands.LineIn(code="99215", diagnosis_pointers=(1,))

    still_held = await coding_review.resolve_review(
        held.review.id,
        commands.ResolveReview(
            decision="approve",
            note="supports 99215",
            revision=held.revision,
            correction=commands.CorrectEncounter(lines=(repeated, repeated)),  # raises LINE_DUPLICATE
        ),
        store.uow(),
        EVALUATOR,
        by="coder-1",
    )

    assert still_held.status == "held"
    queue = await coding_review.review_queue(store.uow(), limit=5, offset=0, issue_code=None)
    # the first line's flag was seen and is accepted; the second line's flags are new, and wait for a coder
    assert {(issue.code, issue.line) for issue in queue[0].issues} == {
        ("REVIEW_HIGH_LEVEL_VISIT", 2),
        ("LINE_DUPLICATE", 2),
    }
    assert store.published == []


async def test_a_stale_copy_is_never_saved_over_a_newer_one() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    view = await encounters.capture(capture_cmd(patient_id, coverage_id), store.uow(), EVALUATOR)
    stale = await store.encounters.get(view.id)
    assert stale is not None
    await correct(store, view.id, commands.CorrectEncounter(place_of_service="22"))

    with pytest.raises(ConcurrentUpdate):
        await store.encounters.save(stale)


async def test_diagnoses_are_kept_as_the_code_set_spells_them() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    view = await encounters.capture(
        capture_cmd(patient_id, coverage_id, diagnoses=["e11.9", "I10"]), store.uow(), EVALUATOR
    )
    assert view.diagnoses == ("E11.9", "I10")


async def test_review_flags_wait_for_a_coder_who_approves_them() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    body = capture_cmd(
        patient_id, coverage_id, diagnoses=["J06.9"], lines=[{"code": "99215", "diagnosis_pointers": [1]}]
    )
    held = await encounters.capture(body, store.uow(), EVALUATOR)
    assert [issue.code for issue in held.issues] == ["REVIEW_HIGH_LEVEL_VISIT"]
    assert held.review is not None

    approved = await coding_review.resolve_review(
        held.review.id,
        commands.ResolveReview(decision="approve", note="documentation supports 99215", revision=held.revision),
        store.uow(),
        EVALUATOR,
        by="coder-1",
    )

    assert approved.status == "captured"
    assert store.published_types() == ["ChargesCaptured"]
    review = store.encounters.rows[held.id].reviews[0]
    assert (review.decision, review.resolved_by, review.note) == ("approved", "coder-1", "documentation supports 99215")
    with pytest.raises(NotFound):
        await coding_review.resolve_review(
            held.review.id,
            commands.ResolveReview(decision="approve", note="again", revision=approved.revision),
            store.uow(),
            EVALUATOR,
            by="c",
        )


async def test_errors_cannot_be_approved_and_nothing_changes() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    held = await encounters.capture(capture_cmd(patient_id, coverage_id, diagnoses=["E11"]), store.uow(), EVALUATOR)
    assert held.review is not None

    with pytest.raises(ValidationFailed) as refused:
        await coding_review.resolve_review(
            held.review.id,
            commands.ResolveReview(decision="approve", note="ok", revision=held.revision),
            store.uow(),
            EVALUATOR,
            by="c",
        )

    assert "ICD10_NOT_BILLABLE" in refused.value.errors[0]["message"]
    assert store.encounters.rows[held.id].status == "held"
    assert store.published == []
    fixed = await coding_review.resolve_review(
        held.review.id,
        commands.ResolveReview(
            decision="approve",
            note="specific code",
            revision=held.revision,
            correction=commands.CorrectEncounter(diagnoses=("E11.9", "I10")),
        ),
        store.uow(),
        EVALUATOR,
        by="c",
    )
    assert fixed.status == "captured"


async def test_void_publishes_only_for_an_encounter_the_claim_side_has_seen() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    captured = await encounters.capture(capture_cmd(patient_id, coverage_id), store.uow(), EVALUATOR)
    held = await encounters.capture(capture_cmd(patient_id, coverage_id, diagnoses=["E11"]), store.uow(), EVALUATOR)

    voided = await void(store, captured.id, commands.VoidEncounter(reason="wrong_patient", note="the sister's"))
    await void(store, held.id, commands.VoidEncounter(reason="duplicate"))

    assert voided.status == "voided"
    assert voided.version == 2
    assert store.published_types() == ["ChargesCaptured", "ChargesVoided"]
    with pytest.raises(Conflict):
        await void(store, captured.id, commands.VoidEncounter(reason="duplicate"))
    with pytest.raises(Conflict):
        await correct(store, captured.id, commands.CorrectEncounter(place_of_service="22"))
    assert await coding_review.review_queue(store.uow(), limit=10, offset=0, issue_code=None) == []


async def test_an_encounter_waiting_for_its_patient_is_released_by_registrations_events() -> None:
    store = FakeStore()
    handlers_by_type = handlers.event_handlers(EVALUATOR)
    patient = sample_patient_registered(birth_date=date(1961, 5, 4))
    coverage = sample_coverage_added(patient.patient_id)

    held = await encounters.capture(capture_cmd(patient.patient_id, coverage.coverage_id), store.uow(), EVALUATOR)
    assert [issue.code for issue in held.issues] == ["PATIENT_UNKNOWN", "COVERAGE_UNKNOWN"]

    events: tuple[IntegrationEvent, ...] = (patient, coverage)
    for event in events:
        uow = store.uow()
        async with uow:
            await handlers_by_type[type(event)](event, envelope(event), uow)
            await uow.commit()

    assert store.encounters.rows[held.id].status == "captured"
    (captured,) = store.published
    assert isinstance(captured, contract.ChargesCaptured)
    assert captured.payer_id == "ACME01"


async def test_a_merge_repoints_encounters_and_coverage_to_the_survivor() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    view = await encounters.capture(capture_cmd(patient_id, coverage_id), store.uow(), EVALUATOR)
    survivor = uuid.uuid4()
    merged = reg.PatientsMerged(
        surviving_patient_id=survivor, merged_patient_id=patient_id, moved_coverage_ids=(coverage_id,)
    )

    uow = store.uow()
    async with uow:
        await handlers.event_handlers(EVALUATOR)[reg.PatientsMerged](merged, envelope(merged), uow)
        await uow.commit()

    assert store.encounters.rows[view.id].details.patient_id == survivor
    # the move of a patient's encounter is audited, under the survivor
    assert AccessRecord("update", "encounter", str(view.id), str(survivor)) in store.accesses
    assert store.coverages.rows[coverage_id].patient_id == survivor
    assert store.patients.rows[patient_id].merged_into == survivor


async def test_unknown_encounters_and_reviews_are_not_found() -> None:
    store = FakeStore()
    with pytest.raises(NotFound):
        await encounters.get_encounter(uuid.uuid4(), store.uow())
    with pytest.raises(NotFound):
        await coding_review.resolve_review(
            uuid.uuid4(), commands.ResolveReview(decision="void", note="x", revision=1), store.uow(), EVALUATOR, by="c"
        )


async def test_a_correction_cannot_clear_a_required_field() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    view = await encounters.capture(capture_cmd(patient_id, coverage_id), store.uow(), EVALUATOR)
    with pytest.raises(ValidationFailed):
        await correct(store, view.id, commands.CorrectEncounter.model_validate({"place_of_service": None}))
    cleared = await correct(store, view.id, commands.CorrectEncounter.model_validate({"coverage_id": None}))
    assert cleared.coverage_id is None
    assert cleared.expected_reimbursement is None


async def test_an_import_matches_the_patient_by_birth_date_and_takes_a_claim_once() -> None:
    store = FakeStore()
    mother = uuid.uuid4()
    child = uuid.uuid4()
    for patient_id, sex, born in ((mother, "F", SUBSCRIBER.birth_date), (child, "M", CHILD.birth_date)):
        assert born is not None
        store.patients.rows[patient_id] = PatientCopy(patient_id, sex, born)  # type: ignore[arg-type]
        coverage_id = uuid.uuid4()
        store.coverages.rows[coverage_id] = CoverageCopy(
            coverage_id, patient_id, PAYER.payer_id, SUBSCRIBER.member_id, date(2026, 1, 1)
        )
    text = text_of(claim("TOMS", diagnoses=("J069",), lines=(line("99213"),)), dependent=Dependent(CHILD, "19"))

    report = await claim_import.import_claims(
        text.encode(), read_837p_claims(text.encode()), store.uow(), EVALUATOR, by="coder-1"
    )
    (result,) = report.results
    assert result.encounter_id is not None
    assert store.encounters.rows[result.encounter_id].details.patient_id == child

    again = text.replace("BATCH1", "BATCH2")  # another file carrying the same claim
    second = await claim_import.import_claims(
        again.encode(), read_837p_claims(again.encode()), store.uow(), EVALUATOR, by="coder-1"
    )
    assert (second.duplicates, second.results[0].encounter_id) == (1, result.encounter_id)
    assert len(store.encounters.rows) == 1
    replayed = await claim_import.import_claims(
        again.encode(), read_837p_claims(again.encode()), store.uow(), EVALUATOR, by="coder-1"
    )
    assert replayed.replayed


async def test_what_an_import_could_not_take_as_sent_waits_for_a_coder() -> None:
    store = FakeStore()
    text = text_of(claim("SPAN", diagnoses=("I10",), lines=(line("99213", service_end=date(2026, 3, 3)),)))

    report = await claim_import.import_claims(
        text.encode(), read_837p_claims(text.encode()), store.uow(), EVALUATOR, by="coder-1"
    )

    (result,) = report.results
    assert "IMPORT_FINDINGS" in result.issue_codes


async def test_icd9_diagnoses_hold_an_import_until_recoded_and_its_findings_until_approved() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    text = text_of(claim("OLD9", diagnoses=("4019",), lines=(line("99213", service_end=date(2026, 3, 3)),)))
    text = text.replace("HI*ABK:", "HI*BK:")

    report = await claim_import.import_claims(
        text.encode(), read_837p_claims(text.encode()), store.uow(), EVALUATOR, by="coder-1"
    )
    (result,) = report.results
    assert {"DIAGNOSES_ICD9", "IMPORT_FINDINGS"} <= set(result.issue_codes)
    encounter_id = result.encounter_id
    assert encounter_id is not None

    linked = {"patient_id": str(patient_id), "coverage_id": str(coverage_id)}
    same_codes = await correct(
        store, encounter_id, commands.CorrectEncounter.model_validate(linked | {"diagnoses": ["401.9"]})
    )
    assert "DIAGNOSES_ICD9" in {
        issue.code for issue in same_codes.issues
    }  # the sender's codes sent back are not recoded
    recoded = await correct(store, encounter_id, commands.CorrectEncounter(diagnoses=("I10",)))
    codes_now = {issue.code for issue in recoded.issues}
    assert "DIAGNOSES_ICD9" not in codes_now
    assert "IMPORT_FINDINGS" in codes_now  # a correction does not dismiss them: a coder's approval does
    assert recoded.review is not None

    approved = await coding_review.resolve_review(
        recoded.review.id,
        commands.ResolveReview(decision="approve", note="span billed as its first day", revision=recoded.revision),
        store.uow(),
        EVALUATOR,
        by="coder-1",
    )
    assert approved.status == "captured"
    again = await correct(store, encounter_id, commands.CorrectEncounter(place_of_service="22"))
    assert again.status == "captured"  # the approved findings are not raised again
    assert store.published_types() == ["ChargesCaptured", "ChargesCorrected"]


async def test_an_accepted_flag_is_the_flag_as_seen_not_another_of_its_code() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    body = capture_cmd(
        patient_id, coverage_id, lines=[{"code": "99214", "modifiers": ["ZZ"], "diagnosis_pointers": [1, 2]}]
    )
    held = await encounters.capture(body, store.uow(), EVALUATOR)
    assert held.review is not None
    other = commands.LineIn(code="99214", modifiers=("QQ",), diagnosis_pointers=(1, 2))

    still = await coding_review.resolve_review(
        held.review.id,
        commands.ResolveReview(
            decision="approve", note="ok", revision=held.revision, correction=commands.CorrectEncounter(lines=(other,))
        ),
        store.uow(),
        EVALUATOR,
        by="coder-1",
    )

    assert still.status == "held"
    assert [issue.message for issue in still.issues if issue.code == "MODIFIER_UNKNOWN"] == [
        "QQ is not a modifier the platform knows; confirm it is current for this payer"
    ]


async def test_a_voided_import_gives_its_claim_up_to_a_later_import() -> None:
    store = FakeStore()
    text = text_of(claim("PM-7", diagnoses=("I10",), lines=(line("99213"),))).encode()
    first = await claim_import.import_claims(text, read_837p_claims(text), store.uow(), EVALUATOR, by="coder-1")
    encounter_id = first.results[0].encounter_id
    assert encounter_id is not None
    await void(store, encounter_id, commands.VoidEncounter(reason="entered_in_error"))

    resent = text.replace(b"BATCH1", b"BATCH9")
    second = await claim_import.import_claims(resent, read_837p_claims(resent), store.uow(), EVALUATOR, by="coder-1")

    assert second.duplicates == 0
    assert second.results[0].encounter_id not in (None, encounter_id)


async def test_an_import_links_the_coverage_in_effect_on_the_date_of_service() -> None:
    store = FakeStore()
    patient_id = uuid.uuid4()
    assert SUBSCRIBER.birth_date is not None
    store.patients.rows[patient_id] = PatientCopy(patient_id, "F", SUBSCRIBER.birth_date)
    ended, current = uuid.uuid4(), uuid.uuid4()
    store.coverages.rows[ended] = CoverageCopy(
        ended, patient_id, PAYER.payer_id, SUBSCRIBER.member_id, date(2024, 1, 1), date(2025, 12, 31)
    )
    store.coverages.rows[current] = CoverageCopy(
        current, patient_id, PAYER.payer_id, SUBSCRIBER.member_id, date(2026, 1, 1)
    )
    text = text_of(claim("PM-8", diagnoses=("I10",), lines=(line("99213"),))).encode()

    report = await claim_import.import_claims(text, read_837p_claims(text), store.uow(), EVALUATOR, by="coder-1")

    encounter_id = report.results[0].encounter_id
    assert encounter_id is not None
    assert store.encounters.rows[encounter_id].details.coverage_id == current


async def test_registrations_events_that_change_nothing_leave_a_held_encounter_unsaved() -> None:
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    held = await encounters.capture(capture_cmd(patient_id, coverage_id, diagnoses=["E11"]), store.uow(), EVALUATOR)
    moved = sample_patient_registered(patient_id, birth_date=date(1961, 5, 4))  # the same facts charge holds

    uow = store.uow()
    async with uow:
        await handlers.event_handlers(EVALUATOR)[type(moved)](moved, envelope(moved), uow)
        await uow.commit()

    assert store.encounters.rows[held.id].revision == held.revision


@pytest.mark.parametrize(
    ("visit_modifier", "status", "issue_codes"),
    [("57", "held", ["MODIFIER_57_MINOR_PROCEDURE"]), ("25", "captured", [])],
)
async def test_a_joint_injection_with_a_visit_takes_25_not_57(
    visit_modifier: str, status: str, issue_codes: list[str]
) -> None:
    """20610 has a 0-day global: the separate visit that day takes 25; 57 is the decision for a major
    surgery (MCPM ch. 12, §30.6.6). The reviewed case: 20610 with 99213-57 held, with 99213-25 captured."""
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    lines = [
        {"code": "20610", "units": 1, "diagnosis_pointers": [1]},
        {"code": "99213", "modifiers": [visit_modifier], "units": 1, "diagnosis_pointers": [1]},
    ]
    view = await encounters.capture(capture_cmd(patient_id, coverage_id, lines=lines), store.uow(), EVALUATOR)

    assert view.status == status
    assert [issue.code for issue in view.issues if issue.severity != "warning"] == issue_codes


async def test_a_bilateral_injection_billed_as_two_units_is_held() -> None:
    """MCPM ch. 12, §40.7.B: 20610-50 is one unit; billed as two it is held."""
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    lines = [{"code": "20610", "modifiers": ["50"], "units": 2, "diagnosis_pointers": [1]}]
    view = await encounters.capture(capture_cmd(patient_id, coverage_id, lines=lines), store.uow(), EVALUATOR)

    assert view.status == "held"
    assert [issue.code for issue in view.issues] == ["BILATERAL_ONE_UNIT"]


async def test_a_pair_edit_applies_across_encounters_of_one_patient_provider_and_day() -> None:
    """Payers apply NCCI procedure-to-procedure edits per patient, provider and day, not per claim (NCCI
    policy manual, chapter I): 97140 billed alone after 97530 (its column 1) was captured that day in another
    encounter is held; on another day it is not; 97530 billed after 97140 was captured is payable and warns
    that the earlier encounter is to be corrected."""
    store = FakeStore()
    patient_id, coverage_id = registered(store)
    therapy = [{"code": "97530", "units": 1, "diagnosis_pointers": [1]}]
    manual = [{"code": "97140", "units": 1, "diagnosis_pointers": [1]}]
    first = await encounters.capture(capture_cmd(patient_id, coverage_id, lines=therapy), store.uow(), EVALUATOR)
    second = await encounters.capture(capture_cmd(patient_id, coverage_id, lines=manual), store.uow(), EVALUATOR)
    other_day = await encounters.capture(
        capture_cmd(patient_id, coverage_id, lines=manual, date_of_service="2026-11-03"), store.uow(), EVALUATOR
    )

    assert first.status == "captured"
    assert (second.status, [issue.code for issue in second.issues]) == ("held", ["NCCI_PAIR_ACROSS_ENCOUNTERS"])
    assert other_day.status == "captured"
    later = await encounters.capture(
        capture_cmd(patient_id, coverage_id, lines=therapy, date_of_service="2026-11-03"), store.uow(), EVALUATOR
    )
    assert later.status == "captured"
    assert [(issue.code, issue.severity) for issue in later.issues] == [
        ("PAIR_ACROSS_ENCOUNTERS_OTHER_HELD", "warning")
    ]
