"""The encounter aggregate on its own: what holds it, what it publishes, and what a coder may accept."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from rcm_charge.domain.events import EncounterCaptured, EncounterCorrected, EncounterHeld, EncounterVoided
from rcm_charge.domain.model import Encounter, EncounterDetails, EncounterError, Issue, ServiceLine

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
WARNING = Issue("ICD10_EDITION_STALE", "no edition in force", severity="warning")
REVIEW = Issue("LINE_DUPLICATE", "repeats line 1", severity="review", line=2)
ERROR = Issue("ICD10_NOT_BILLABLE", "E11 is a header")


def opened(*issues: Issue) -> Encounter:
    details = EncounterDetails(
        patient_id=uuid.uuid4(),
        coverage_id=None,
        date_of_service=date(2026, 11, 2),
        place_of_service="11",
        billing_provider_npi="1234567893",
        diagnoses=("I10",),
        lines=(ServiceLine("99213", diagnosis_pointers=(1,)),),
    )
    return Encounter.open(
        encounter_id=uuid.uuid4(), details=details, issues=issues, now=NOW, review_id=uuid.uuid4(), payer_id="ACME01"
    )


def test_a_warning_is_told_but_holds_nothing() -> None:
    encounter = opened(WARNING)
    assert encounter.status == "captured"
    assert encounter.issues == (WARNING,)
    assert encounter.events == [EncounterCaptured(1, "ACME01")]
    assert encounter.reviews == []


def test_a_review_flag_holds_until_accepted_and_an_error_until_corrected() -> None:
    flagged = opened(REVIEW, WARNING)
    assert flagged.blocking_issues == (REVIEW,)
    assert flagged.open_review is not None
    assert flagged.open_review.issues == (REVIEW,)
    flagged.approve(
        flagged.details,
        (REVIEW, WARNING),
        by="coder-1",
        note="two sites",
        now=NOW,
        review_id=uuid.uuid4(),
        payer_id=None,
    )
    assert flagged.status == "captured"
    assert flagged.accepted_reviews == {REVIEW.key}

    wrong = opened(ERROR)
    with pytest.raises(EncounterError):
        wrong.approve(wrong.details, (ERROR,), by="coder-1", note="ok", now=NOW, review_id=uuid.uuid4(), payer_id=None)
    assert wrong.status == "held"
    assert wrong.events == []


def test_a_captured_encounter_corrected_into_review_is_held_then_corrected() -> None:
    encounter = opened()
    corrected = replace(encounter.details, place_of_service="22")
    assert encounter.correct(corrected, (ERROR,), NOW, uuid.uuid4(), payer_id="ACME01")
    assert encounter.status == "held"
    assert encounter.correct(corrected, (ERROR,), NOW, uuid.uuid4(), payer_id="ACME01") is False  # nothing changed
    encounter.revalidate((), NOW, uuid.uuid4(), payer_id="ACME01")
    assert encounter.events == [EncounterCaptured(1, "ACME01"), EncounterHeld(1), EncounterCorrected(2, "ACME01")]
    assert encounter.reviews[0].decision == "corrected"


def test_a_void_publishes_only_once_seen_and_ends_the_encounter() -> None:
    unseen = opened(ERROR)
    unseen.void("duplicate", None, by="coder-1", now=NOW)
    assert unseen.events == []
    assert unseen.open_review is None

    seen = opened()
    seen.void("wrong_date", "seen on the 3rd", by="coder-1", now=NOW)
    assert seen.events[-1] == EncounterVoided(2)
    with pytest.raises(EncounterError):
        seen.void("duplicate", None, by="coder-1", now=NOW)
