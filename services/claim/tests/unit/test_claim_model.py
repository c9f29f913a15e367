"""The claim aggregate: built from an encounter version at its coverage's payer with a CLM01 that carries no
PHI, and moved only along its state machine, each step on its timeline with its cause."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from rcm_claim.domain import events
from rcm_claim.domain.findings import Finding, Override, RuleRun, ScrubRecord
from rcm_claim.domain.model import (
    TRANSITIONS,
    BillingNotes,
    Claim,
    ClaimError,
    EncounterLine,
    EncounterVersion,
    patient_control_number,
)

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)
CLEAN = ScrubRecord((RuleRun("PRIOR_AUTH", 1),), ())
UNAUTHORISED = Finding("PRIOR_AUTH", 1, "blocking", "72148 needs a prior authorisation on file", line=1)


def encounter(**changes: Any) -> EncounterVersion:
    fields: dict[str, Any] = {
        "encounter_id": uuid.uuid4(),
        "version": 1,
        "patient_id": uuid.uuid4(),
        "coverage_id": uuid.uuid4(),
        "payer_id": "ACME01",
        "date_of_service": DAY,
        "place_of_service": "11",
        "diagnoses": ("E11.9", "I10"),
        "billing_provider_npi": "1234567893",
        "lines": (
            EncounterLine("99214", (), Decimal(1), DAY, Decimal("185.00"), (1, 2), Decimal("131.20")),
            EncounterLine("82962", (), Decimal(1), DAY, Decimal("30.00"), (1,)),
        ),
    }
    return EncounterVersion(**(fields | changes))


def built(**changes: Any) -> Claim:
    return Claim.build(claim_id=uuid.uuid4(), encounter=encounter(**changes), coverage_order="primary", now=NOW,
                       cause="event:charges-captured-1")  # fmt: skip


def test_a_claim_is_built_as_a_draft_at_its_coverages_payer_with_line_control_numbers() -> None:
    claim = built()

    assert (claim.state, claim.payer_id, claim.responsibility, claim.frequency) == ("draft", "ACME01", "P", "1")
    assert claim.total_charge == Decimal("215.00")
    assert [line.control_number for line in claim.lines] == [
        f"{claim.patient_control_number}01",
        f"{claim.patient_control_number}02",
    ]
    assert claim.events == [events.ClaimCreated()]
    assert [(t.from_state, t.to_state, t.cause) for t in claim.timeline] == [
        (None, "draft", "event:charges-captured-1")
    ]


def test_clm01_is_short_unique_and_free_of_phi() -> None:
    """CLM01 holds at most 20 characters (837P 2300 CLM01); it is drawn from the claim id alone."""
    numbers = {patient_control_number(uuid.uuid4()) for _ in range(2000)}
    assert len(numbers) == 2000
    assert all(len(number) == 17 and number.isalnum() and number.isupper() for number in numbers)


def test_the_coverage_order_decides_sbr01_and_a_self_pay_encounter_makes_no_claim() -> None:
    secondary = Claim.build(claim_id=uuid.uuid4(), encounter=encounter(), coverage_order="secondary", now=NOW,
                            cause="event:e")  # fmt: skip
    assert secondary.responsibility == "S"
    with pytest.raises(ClaimError, match="self-pay"):
        built(coverage_id=None, payer_id=None)


def test_a_claim_goes_from_draft_to_accepted_with_each_step_and_its_cause_on_the_timeline() -> None:
    claim = built()
    batch = uuid.uuid4()

    claim.scrubbed(CLEAN, NOW, "scrub:rules-v1")
    claim.batch(batch, NOW, "batch:send")
    claim.submit("000000417", NOW, "batch:send")
    claim.accept("PAYER123", NOW, "event:277ca-file")

    assert claim.state == "accepted"
    assert claim.payer_claim_number == "PAYER123"
    assert [(t.from_state, t.to_state, t.cause) for t in claim.timeline] == [
        (None, "draft", "event:charges-captured-1"),
        ("draft", "ready", "scrub:rules-v1"),
        ("ready", "batched", "batch:send"),
        ("batched", "submitted", "batch:send"),
        ("submitted", "accepted", "event:277ca-file"),
    ]
    assert claim.events[-2:] == [events.ClaimSubmitted(batch, "000000417"), events.ClaimAccepted("PAYER123")]


def test_a_blocking_rule_holds_the_claim_naming_it_until_a_scrub_passes() -> None:
    claim = built()
    blocked = ScrubRecord(CLEAN.ran, (UNAUTHORISED, UNAUTHORISED))
    claim.scrubbed(blocked, NOW, "scrub:rules-v1")
    assert (claim.state, claim.events[-1]) == ("scrub_failed", events.ClaimScrubFailed(("PRIOR_AUTH",)))
    assert claim.scrub == blocked
    assert claim.timeline[-1].note == "PRIOR_AUTH"
    claim.scrubbed(CLEAN, NOW, "event:authorization-recorded")
    assert (claim.state, claim.scrub) == ("ready", CLEAN)


def test_a_standing_override_releases_a_blocking_rule_and_a_warning_never_blocks() -> None:
    override = Override("PRIOR_AUTH", "authorised by phone, ref 44", "biller-1", NOW, frozenset({UNAUTHORISED.key}))
    warning = Finding("ELIGIBILITY_UNVERIFIED", 1, "warning", "no eligibility answer on file")
    claim = built()

    claim.scrubbed(ScrubRecord(CLEAN.ran, (UNAUTHORISED, warning), (override,)), NOW, "api:biller-1")

    assert claim.state == "ready"
    assert claim.overrides == (override,)


@pytest.mark.parametrize(
    ("state", "move"),
    [
        ("draft", lambda c: c.accept("X", NOW, "api:biller-1")),
        ("submitted", lambda c: c.void("withdrawn", NOW, "api:biller-1")),
        ("voided", lambda c: c.scrubbed(CLEAN, NOW, "api:biller-1")),
        ("replaced", lambda c: c.void("withdrawn", NOW, "api:biller-1")),
        ("accepted", lambda c: c.submit("000000001", NOW, "api:biller-1")),
    ],
)
def test_an_illegal_transition_is_refused_and_changes_nothing(state: str, move: Any) -> None:
    claim = built()
    claim.state = state  # type: ignore[assignment]
    before = (list(claim.timeline), list(claim.events))

    with pytest.raises(ClaimError, match=f"a {state} claim cannot become"):
        move(claim)

    assert claim.state == state
    assert (claim.timeline, claim.events) == before


def test_replaced_and_voided_are_final() -> None:
    assert TRANSITIONS["replaced"] == TRANSITIONS["voided"] == frozenset()


def test_a_scrub_that_changes_nothing_a_biller_would_see_adds_no_step() -> None:
    claim = built()
    claim.scrubbed(CLEAN, NOW, "scrub:1")
    blocked = ScrubRecord(CLEAN.ran, (UNAUTHORISED,))
    claim.scrubbed(blocked, NOW, "scrub:2")
    steps, recorded = len(claim.timeline), len(claim.events)

    claim.scrubbed(ScrubRecord(CLEAN.ran, (UNAUTHORISED, UNAUTHORISED)), NOW, "scrub:3")

    assert (len(claim.timeline), len(claim.events)) == (steps, recorded)
    assert claim.scrub is not None
    assert len(claim.scrub.findings) == 2
    other = Finding("DUPLICATE_CLAIM", 1, "blocking", "99214 duplicates line 1 of another claim", 1)
    claim.scrubbed(ScrubRecord(CLEAN.ran, (UNAUTHORISED, other)), NOW, "scrub:4")
    assert claim.timeline[-1].note == "PRIOR_AUTH, DUPLICATE_CLAIM"
    assert claim.events[-1] == events.ClaimScrubFailed(("PRIOR_AUTH", "DUPLICATE_CLAIM"))


def test_a_held_claim_keeps_its_state_is_not_submitted_until_released_and_a_sent_one_cannot_be_held() -> None:
    claim = built()
    claim.scrubbed(CLEAN, NOW, "scrub:1")

    claim.hold("charge held the encounter: NCCI_PAIR_MODIFIER_REQUIRED", NOW, "event:held-1")

    assert (claim.state, claim.timeline[-1].note) == (
        "ready",
        "held: charge held the encounter: NCCI_PAIR_MODIFIER_REQUIRED",
    )
    with pytest.raises(ClaimError, match="release it first"):
        claim.batch(uuid.uuid4(), NOW, "batch:1")
    claim.release(NOW, "api:biller-1")
    claim.batch(uuid.uuid4(), NOW, "batch:1")
    claim.submit("000000001", NOW, "batch:1")
    with pytest.raises(ClaimError, match="a submitted claim cannot be held"):
        claim.hold("late", NOW, "api:biller-1")
    with pytest.raises(ClaimError, match="not held"):
        claim.release(NOW, "api:biller-1")


def test_an_unsent_claim_follows_its_coverages_order_and_a_sent_one_keeps_what_it_sent() -> None:
    claim = built()
    claim.follow_coverage_order("secondary")
    assert claim.responsibility == "S"
    claim.scrubbed(CLEAN, NOW, "scrub:1")
    claim.batch(uuid.uuid4(), NOW, "batch:1")
    claim.submit("000000001", NOW, "batch:1")
    claim.follow_coverage_order("primary")
    assert claim.responsibility == "S"


def test_a_rejected_claim_names_the_problems_on_its_timeline_and_goes_again_once_scrubbed() -> None:
    claim = built()
    claim.scrubbed(CLEAN, NOW, "scrub:1")
    claim.batch(uuid.uuid4(), NOW, "batch:1")
    claim.submit("000000001", NOW, "batch:1")
    unknown_member = events.Problem("A7:562", "Entity's Identification Number", "check the member id")

    claim.reject("277CA", (unknown_member,), NOW, "event:277ca-1")

    assert (claim.state, claim.timeline[-1].note) == ("rejected", "277CA: A7:562")
    assert claim.events[-1] == events.ClaimRejected("277CA", (unknown_member,))
    claim.scrubbed(CLEAN, NOW, "api:biller-1")
    claim.batch(uuid.uuid4(), NOW, "batch:2")
    claim.submit("000000002", NOW, "batch:2")
    assert claim.state == "submitted"


def test_billing_notes_are_set_before_the_payer_has_the_claim_and_name_what_changed() -> None:
    claim = built()
    claim.scrubbed(ScrubRecord(CLEAN.ran, (), (), "PA-ON-FILE"), NOW, "scrub:1")
    assert claim.authorization_number == "PA-ON-FILE"

    claim.annotate(BillingNotes(prior_authorization_number="PA-BY-PHONE", note="SEE RECORDS"), NOW, "api:biller-1")

    assert claim.authorization_number == "PA-BY-PHONE"
    assert claim.timeline[-1].note == "set prior authorisation, note"
    claim.batch(uuid.uuid4(), NOW, "batch:1")
    with pytest.raises(ClaimError, match="with the payer as it was sent"):
        claim.annotate(BillingNotes(), NOW, "api:biller-1")
    assert claim.billing_notes.note == "SEE RECORDS"
