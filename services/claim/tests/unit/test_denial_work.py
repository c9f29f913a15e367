"""A denial worked by a biller, as plain Python: resolved by a transfer to the patient (on a basis that allows it),
a write-off or an acceptance, each closing the claim; appealed, level by level, and decided by the payer's next
payment (overturned, partly, upheld); refused when there is nothing to appeal or the level is taken."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from rcm_claim.domain import events
from rcm_claim.domain.adjudication import Adjudication, Denial, DeniedPart
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import Claim, ClaimError
from rcm_claim.testing import ADJUDICATED_AT as NOW
from rcm_claim.testing import ENCOUNTER, accepted_claim, payment

LATER = NOW + timedelta(days=20)


def denied_claim(reason: str = "CO-197", category: str = "authorisation") -> tuple[Claim, Adjudication]:
    claim = accepted_claim()
    posted = payment("4")
    claim.adjudicated(posted, NOW, "event:p1")
    words = (f"{reason}: the payer's words for it.", "N54: a remark in words.")
    claim.denied(Denial(posted.payment_id, True, category, "Obtain it.", Decimal("185.00"), (reason,), words), NOW,
                 "event:d1")  # fmt: skip
    claim.events.clear()
    return claim, posted


def appeal(claim: Claim, level: int = 1) -> None:
    claim.appeal(level=level, reason="authorised by phone", argument="The authorisation was obtained before the "
                 "service.", attachments=("auth-letter.pdf",), appeal_days=180, by="biller", now=LATER)  # fmt: skip


def test_a_denial_is_open_until_a_biller_resolves_it() -> None:
    claim, posted = denied_claim()
    assert claim.open_denial is not None
    assert claim.open_denial.payment_id == posted.payment_id
    assert claim.denied_on(claim.open_denial) == NOW.date()


def test_moving_a_contractual_denial_to_the_patient_is_refused_waiver_or_not() -> None:
    claim, _ = denied_claim()  # CO-197: no authorisation, the provider's by contract
    with pytest.raises(ClaimError, match="may not be billed for CO-197: only PR amounts"):
        claim.resolve_denial("transferred_to_patient", "patient asked", by="biller", now=LATER, basis="not_contractual")
    with pytest.raises(ClaimError, match="a waiver makes only a non-covered"):
        claim.resolve_denial("transferred_to_patient", "patient asked", by="biller", now=LATER, basis="waiver_on_file")
    with pytest.raises(ClaimError, match="basis"):
        claim.resolve_denial("transferred_to_patient", "patient asked", by="biller", now=LATER)
    assert (claim.state, claim.resolutions, claim.events) == ("denied", (), [])


@pytest.mark.parametrize("reason", ["OA-18", "PI-204", "CO-29", "CLP02-23"])
def test_no_waiver_moves_a_denial_the_patient_owes_nothing_for(reason: str) -> None:
    claim, _ = denied_claim(reason, "other")
    for basis in ("not_contractual", "waiver_on_file"):
        with pytest.raises(ClaimError, match=f"may not be billed for {reason}"):
            claim.resolve_denial("transferred_to_patient", "asked", by="biller", now=LATER, basis=basis)


def test_a_transfer_on_a_waiver_bills_the_patient_and_closes_the_claim() -> None:
    claim, posted = denied_claim("CO-50", "medical_necessity")
    claim.resolve_denial("transferred_to_patient", "ABN signed 2026-11-01", by="biller", now=LATER,
                         basis="waiver_on_file")  # fmt: skip
    denial = claim.denials[0]
    assert claim.events == [
        events.PatientResponsibilityTransferred(denial, Decimal("185.00"), "waiver_on_file"),
        events.ClaimClosed(posted.payment_id, "moved_to_patient", Decimal("185.00")),
    ]
    assert (claim.state, claim.open_denial, claim.resolutions[0].kind) == ("closed", None, "transferred_to_patient")
    assert claim.timeline[-1].cause == "api:biller"


def test_a_patient_responsibility_denial_moves_to_the_patient_without_a_waiver() -> None:
    claim, _ = denied_claim("PR-204", "patient_responsibility")
    claim.resolve_denial("transferred_to_patient", "not a covered benefit", by="biller", now=LATER,
                         basis="not_contractual")  # fmt: skip
    assert claim.state == "closed"


def test_a_write_off_is_published_for_collections_and_closes_the_claim() -> None:
    claim, posted = denied_claim("CO-97", "bundling")
    claim.resolve_denial("written_off", "bundled under NCCI, no modifier applies", by="biller", now=LATER)
    assert claim.events == [
        events.ClaimWriteOffRequested(claim.denials[0], Decimal("185.00")),
        events.ClaimClosed(posted.payment_id, "written_off", Decimal("0.00")),
    ]


def test_an_accepted_denial_closes_the_claim_and_moves_nothing() -> None:
    claim, posted = denied_claim("CO-18", "duplicate")
    claim.resolve_denial("accepted", "the original claim was paid", by="biller", now=LATER)
    assert claim.events == [events.ClaimClosed(posted.payment_id, "denial_accepted", Decimal("0.00"))]
    with pytest.raises(ClaimError, match="closed claim has no denial"):
        claim.resolve_denial("written_off", "again", by="biller", now=LATER)


def test_a_resolved_denial_leaves_an_underpayment_open() -> None:
    claim = accepted_claim()
    posted = payment(denied=("L2",), underpaid_by="20.00")
    claim.adjudicated(posted, NOW, "event:p1")
    claim.denied(Denial(posted.payment_id, False, "bundling", "Check.", Decimal("30.00"), ("CO-97",)), NOW, "e:d")
    claim.events.clear()
    claim.resolve_denial("written_off", "bundled", by="biller", now=LATER)
    assert (claim.state, claim.open_denial) == ("partially_paid", None)
    assert [type(e) for e in claim.events] == [events.ClaimWriteOffRequested]


def test_an_appeal_takes_the_denial_out_of_the_queue_and_is_published() -> None:
    claim, posted = denied_claim()
    appeal(claim)
    made = claim.appeals[0]
    assert (made.number, made.level, made.payment_id, made.outcome) == (1, 1, posted.payment_id, "pending")
    assert made.deadline == NOW.date() + timedelta(days=180)
    assert claim.open_denial is None
    assert claim.state == "denied"
    assert claim.events == [events.ClaimAppealed(made)]


def test_an_appeal_of_a_paid_claim_is_refused() -> None:
    claim = accepted_claim()
    claim.adjudicated(payment(), NOW, "event:p1")
    with pytest.raises(ClaimError, match="closed claim has no denial"):
        appeal(claim)
    assert claim.appeals == ()


def test_a_second_appeal_at_the_same_level_is_refused() -> None:
    claim, _ = denied_claim()
    appeal(claim)
    with pytest.raises(ClaimError, match="already being worked"):
        appeal(claim)
    again = denied_claim()[0]
    with pytest.raises(ClaimError, match="follows a first-level appeal"):
        appeal(again, level=2)
    assert (again.appeals, again.events) == ((), [])


def test_the_payer_overturns_an_appeal_by_reprocessing_the_claim() -> None:
    claim, denied_payment = denied_claim()
    appeal(claim)
    claim.payment_reversed(denied_payment.payment_id, (Decimal(0), Decimal(0), Decimal(0)), LATER, "event:r1")
    assert claim.appeals[0].outcome == "pending"  # a reversal alone decides nothing
    claim.adjudicated(payment(), LATER, "event:p2")
    decided = claim.appeals[0]
    assert (decided.outcome, decided.recovered, claim.state) == ("overturned", Decimal("104.96"), "closed")


def test_an_upheld_appeal_opens_the_new_denial_for_a_second_level() -> None:
    claim, _ = denied_claim()
    appeal(claim)
    again = payment("4")
    claim.adjudicated(again, LATER, "event:p2")
    claim.denied(Denial(again.payment_id, True, "authorisation", "Obtain it.", Decimal("185.00"), ("CO-197",)), LATER,
                 "event:d2")  # fmt: skip
    assert claim.appeals[0].outcome == "upheld"
    assert claim.open_denial is not None
    assert claim.open_denial.payment_id == again.payment_id
    appeal(claim, level=2)
    assert [a.level for a in claim.appeals] == [1, 2]


def test_an_appeal_paid_in_part_is_partly_overturned() -> None:
    claim = accepted_claim()
    posted = payment("4", denied=("L1", "L2"))
    claim.adjudicated(posted, NOW, "event:p1")
    claim.denied(Denial(posted.payment_id, True, "authorisation", "Obtain it.", Decimal("185.00"), ("CO-197",)), NOW,
                 "event:d1")  # fmt: skip
    appeal(claim)
    claim.adjudicated(payment(paid="50.00", denied=("L2",)), LATER, "event:p2")
    assert (claim.appeals[0].outcome, claim.appeals[0].recovered) == ("partly_overturned", Decimal("50.00"))


def test_a_denial_corrected_replaces_the_claim() -> None:
    claim, _ = denied_claim()
    replacement = uuid.uuid4()
    claim.corrected_for_denial(replacement, "authorisation obtained", by="biller", now=LATER)
    assert claim.state == "replaced"
    assert claim.resolutions[0].replacement_id == replacement
    assert claim.events == [events.ClaimReplaced(replacement)]


def test_an_appeal_after_the_window_is_recorded_and_says_so() -> None:
    claim, _ = denied_claim()
    claim.appeal(level=1, reason="late", argument="Good cause: the denial letter came late.", attachments=(),
                 appeal_days=10, by="biller", now=NOW + timedelta(days=30))  # fmt: skip
    assert "past the payer's window" in claim.timeline[-1].note
    assert claim.appeals[0].at.tzinfo is UTC or claim.appeals[0].at == NOW + timedelta(days=30)
    assert isinstance(claim.appeals[0].at, datetime)


def line_denied_claim() -> tuple[Claim, Adjudication, Denial]:
    """A claim whose L1 was paid and L2 denied CO-97 for 30.00 (bundled)."""
    claim = accepted_claim()
    posted = payment(denied=("L2",))
    claim.adjudicated(posted, NOW, "event:p1")
    denial = Denial(posted.payment_id, False, "bundling", "Check.", Decimal("30.00"), ("CO-97",),
                    parts=(DeniedPart("L2", "CO-97", Decimal("30.00")),))  # fmt: skip
    claim.denied(denial, NOW, "event:d1")
    claim.events.clear()
    return claim, posted, denial


def test_a_reprocessed_claim_withdraws_the_write_off_and_the_denial_is_worked_again() -> None:
    claim, posted, denial = line_denied_claim()
    claim.resolve_denial("written_off", "bundled", by="biller", now=LATER)
    assert [type(e) for e in claim.events] == [events.ClaimWriteOffRequested, events.ClaimClosed]
    claim.events.clear()

    claim.payment_reversed(posted.payment_id, (Decimal(0), Decimal(0), Decimal(0)), LATER, "event:r1")
    again = payment(denied=("L2",))
    claim.adjudicated(again, LATER, "event:p2")
    claim.denied(dataclasses.replace(denial, payment_id=again.payment_id), LATER, "event:d2")

    withdrawn = [e for e in claim.events if isinstance(e, events.DenialResolutionWithdrawn)]
    assert [(e.resolution.kind, e.resolution.amount) for e in withdrawn] == [("written_off", Decimal("30.00"))]
    assert claim.state == "partially_paid"
    assert claim.open_denial is not None
    assert claim.open_denial.payment_id == again.payment_id


def test_a_transfer_is_withdrawn_when_the_payer_pays_the_denied_line() -> None:
    claim, _, _ = line_denied_claim()
    claim.denials = tuple(
        dataclasses.replace(d, reasons=("CO-50",), parts=(DeniedPart("L2", "CO-50", Decimal("30.00")),))
        for d in claim.denials
    )
    claim.resolve_denial("transferred_to_patient", "ABN signed", by="biller", now=LATER, basis="waiver_on_file")
    claim.events.clear()

    claim.adjudicated(payment(paid="24.00", paid_lines=("L2",), patient="0.00"), LATER, "event:p2")

    [withdrawn] = [e for e in claim.events if isinstance(e, events.DenialResolutionWithdrawn)]
    assert (withdrawn.resolution.kind, withdrawn.resolution.money) == ("transferred_to_patient", Decimal("30.00"))
    assert claim.open_denial is None


def test_a_pr_denial_is_the_patients_on_the_835_already_so_a_transfer_moves_nothing() -> None:
    claim, posted, _ = line_denied_claim()  # L1 paid, 26.24 coinsurance; L2 denied PR-204 (not in CLP05 here)
    claim.denials = tuple(
        dataclasses.replace(d, reasons=("PR-204",), parts=(DeniedPart("L2", "PR-204", Decimal("30.00")),))
        for d in claim.denials
    )
    claim.resolve_denial("transferred_to_patient", "not a benefit", by="biller", now=LATER, basis="not_contractual")
    assert claim.events == [events.ClaimClosed(posted.payment_id, "moved_to_patient", Decimal("26.24"))]
    assert claim.resolutions[0].money == Decimal("0.00")


def test_a_denial_the_payer_paid_since_is_not_open_and_cannot_be_moved_to_the_patient() -> None:
    claim, _ = denied_claim("PR-204", "patient_responsibility")
    claim.adjudicated(payment(paid_lines=("L1",)), LATER, "event:p2")
    assert claim.open_denial is None
    with pytest.raises(ClaimError, match="no denial"):
        claim.resolve_denial("transferred_to_patient", "asked", by="biller", now=LATER, basis="not_contractual")


def test_an_appeal_upheld_by_letter_opens_the_denial_for_the_next_level() -> None:
    claim, _ = denied_claim()
    appeal(claim)
    with pytest.raises(ClaimError, match="already being worked"):
        claim.resolve_denial("written_off", "give up", by="biller", now=LATER)

    claim.appeal_answered_by_letter(1, "upheld", "letter of 2026-12-20", by="biller", now=LATER)

    assert claim.appeals[0].outcome == "upheld"
    assert claim.open_denial is not None
    appeal(claim, level=2)
    with pytest.raises(ClaimError, match="not awaiting"):
        claim.appeal_answered_by_letter(1, "dismissed", "again", by="biller", now=LATER)


def test_a_payment_for_another_part_of_a_split_claim_does_not_decide_the_appeal() -> None:
    claim, posted, _ = line_denied_claim()
    appeal(claim)
    claim.adjudicated(payment(paid="80.00", paid_lines=("L3",)), LATER, "event:p2")
    assert claim.appeals[0].outcome == "pending"
    claim.adjudicated(payment(paid="24.00", paid_lines=("L2",)), LATER, "event:p3")
    assert claim.appeals[0].outcome in ("overturned", "partly_overturned")
    assert posted.denied_lines == ("L2",)


def test_a_transfer_is_withdrawn_when_the_payer_reverses_its_payment_and_none_stands() -> None:
    claim, posted, _ = line_denied_claim()
    claim.denials = tuple(
        dataclasses.replace(d, reasons=("CO-50",), parts=(DeniedPart("L2", "CO-50", Decimal("30.00")),))
        for d in claim.denials
    )
    claim.resolve_denial("transferred_to_patient", "ABN signed", by="biller", now=LATER, basis="waiver_on_file")
    claim.events.clear()

    claim.payment_reversed(posted.payment_id, (Decimal(0), Decimal(0), Decimal(0)), LATER, "event:r1")

    assert claim.state == "accepted"
    assert [type(e) for e in claim.events] == [events.DenialResolutionWithdrawn, events.ClaimReopened]


def test_a_write_off_of_a_pr_denial_lets_go_nothing_the_835_billed_the_patient() -> None:
    claim, posted = denied_claim("PR-27", "eligibility")
    claim.denials = tuple(
        dataclasses.replace(d, parts=(DeniedPart(None, "PR-27", Decimal("185.00")),)) for d in claim.denials
    )
    claim.resolve_denial("written_off", "coverage ended", by="biller", now=LATER)
    assert claim.events == [events.ClaimClosed(posted.payment_id, "written_off", Decimal("0.00"))]
    assert claim.resolutions[0].money == Decimal("0.00")


def test_a_transfer_moves_what_is_still_denied_and_only_its_co_part() -> None:
    claim = accepted_claim()
    first = payment(denied=("L1", "L2"), paid="0.00", patient="80.00")
    claim.adjudicated(first, NOW, "event:p1")
    parts = (DeniedPart("L1", "CO-50", Decimal("100.00")), DeniedPart("L2", "PR-96", Decimal("80.00")))
    claim.denied(Denial(first.payment_id, False, "medical_necessity", "Check.", Decimal("180.00"), ("CO-50", "PR-96"),
                        parts=parts), NOW, "event:d1")  # fmt: skip
    claim.adjudicated(payment(paid="60.00", paid_lines=("L2",), patient="0.00"), LATER, "event:p2")
    claim.events.clear()

    assert claim.open_denial is not None
    assert (claim.open_denial.amount, claim.open_denial.reasons) == (Decimal("100.00"), ("CO-50",))
    claim.resolve_denial("transferred_to_patient", "ABN signed", by="biller", now=LATER, basis="waiver_on_file")
    [moved] = [e for e in claim.events if isinstance(e, events.PatientResponsibilityTransferred)]
    assert moved.amount == Decimal("100.00")


def test_a_new_payments_denial_is_worked_before_the_claim_closes_again() -> None:
    claim, _, _ = line_denied_claim()
    claim.resolve_denial("written_off", "bundled", by="biller", now=LATER)
    claim.events.clear()

    again = payment(denied=("L2",))
    claim.adjudicated(again, LATER, "event:p2")  # its ClaimDenied comes after

    assert claim.state == "partially_paid"
    claim.denied(Denial(again.payment_id, False, "bundling", "Check.", Decimal("30.00"), ("CO-97",),
                        parts=(DeniedPart("L2", "CO-97", Decimal("30.00")),)), LATER, "event:d2")  # fmt: skip
    assert claim.open_denial is not None
    assert claim.open_denial.payment_id == again.payment_id


def test_a_denial_read_before_its_payment_decides_with_it() -> None:
    claim = accepted_claim()
    posted = payment("4")
    claim.denied(Denial(posted.payment_id, True, "authorisation", "Obtain it.", Decimal("185.00"), ("CO-197",)), NOW,
                 "event:d1")  # fmt: skip
    claim.adjudicated(posted, NOW, "event:p1")
    assert claim.open_denial is not None
    assert [type(e) for e in claim.events] == [events.ClaimDenied]


def test_a_reversal_read_before_its_payment_takes_it_back_when_it_comes() -> None:
    claim = accepted_claim()
    posted = payment()
    claim.payment_reversed(posted.payment_id, (Decimal(0), Decimal(0), Decimal(0)), NOW, "event:r1")
    claim.adjudicated(posted, NOW, "event:p1")
    assert claim.state == "accepted"
    assert claim.standing_payments == []


def test_an_underpayment_is_accepted_and_the_claim_closes() -> None:
    claim = accepted_claim()
    claim.adjudicated(payment(underpaid_by="12.00"), NOW, "event:p1")
    assert claim.open_underpayment == Decimal("12.00")
    claim.events.clear()

    claim.accept_underpayment("the payer's 2026 fee schedule", by="biller", now=LATER)

    assert claim.open_underpayment is None
    assert [(type(e), getattr(e, "reason", None)) for e in claim.events] == [
        (events.ClaimClosed, "underpayment_accepted")
    ]
    with pytest.raises(ClaimError, match="no underpayment"):
        claim.accept_underpayment("again", by="biller", now=LATER)


def three_line_claim() -> Claim:
    """An accepted claim of three lines, whose control numbers the payments name."""
    line = ENCOUNTER.lines[0]
    encounter = dataclasses.replace(ENCOUNTER, lines=(line, line, line))
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=encounter, coverage_order="primary", now=NOW, cause="e:1")
    claim.scrubbed(ScrubRecord((), ()), NOW, "scrub")
    claim.batch(uuid.uuid4(), NOW, "batch")
    claim.submit("000000001", NOW, "batch")
    claim.accept("ACME777", NOW, "277ca")
    claim.events.clear()
    return claim


def test_an_accepted_underpayment_leaves_a_later_reversal_and_a_denial_alone() -> None:
    claim, posted, _ = line_denied_claim()
    claim.adjudications = tuple(dataclasses.replace(a, underpaid_by=Decimal("12.00")) for a in claim.adjudications)
    claim.underpaid_by = Decimal("12.00")
    claim.accept_underpayment("fee schedule", by="biller", now=LATER)
    assert claim.open_denial is not None  # the denial on the same payment is still to work
    assert not [e for e in claim.events if isinstance(e, events.ClaimClosed)]

    claim.payment_reversed(posted.payment_id, (Decimal(0), Decimal(0), Decimal(0)), LATER, "event:r1")

    assert [type(e) for e in claim.events][-1] == events.ClaimReopened


def test_a_split_claim_is_not_closed_by_resolving_its_first_parts_denial() -> None:
    claim = three_line_claim()
    first, second, third = (line.control_number for line in claim.lines)
    part = payment(paid_lines=(first,), denied=(second,))
    claim.adjudicated(part, NOW, "event:p1")
    claim.denied(Denial(part.payment_id, False, "bundling", "Check.", Decimal("185.00"), ("CO-97",),
                        parts=(DeniedPart(second, "CO-97", Decimal("185.00")),)), NOW, "event:d1")  # fmt: skip

    claim.resolve_denial("written_off", "bundled", by="biller", now=LATER)

    assert claim.state == "partially_paid"
    assert any(f"lines not answered yet: {third}" in step.note for step in claim.timeline)


def test_a_claim_level_denial_is_capped_at_the_lines_still_denied() -> None:
    claim = three_line_claim()
    lines = tuple(line.control_number for line in claim.lines)
    denied = payment("4", denied=lines)
    claim.adjudicated(denied, NOW, "event:p1")
    claim.denied(Denial(denied.payment_id, True, "authorisation", "Obtain it.", Decimal("555.00"), ("CO-197",),
                        parts=(DeniedPart(None, "CO-197", Decimal("555.00")),)), NOW, "event:d1")  # fmt: skip
    claim.adjudicated(payment(paid_lines=lines[:1]), LATER, "event:p2")

    assert claim.open_denial is not None
    assert claim.open_denial.amount == Decimal("370.00")  # two lines of 185.00 still denied


def test_a_denial_read_before_its_payment_is_raised_on_a_claim_already_partly_paid() -> None:
    claim, _, _ = line_denied_claim()
    claim.events.clear()
    again = payment(denied=("L2",))
    claim.denied(Denial(again.payment_id, False, "bundling", "Check.", Decimal("30.00"), ("CO-97",)), LATER, "e:d2")
    claim.adjudicated(again, LATER, "event:p2")
    assert [type(e) for e in claim.events if isinstance(e, events.ClaimDenied)] == [events.ClaimDenied]


def test_an_accepted_underpayment_stands_when_another_part_is_paid_in_full() -> None:
    claim = three_line_claim()
    first, second, third = (line.control_number for line in claim.lines)
    claim.adjudicated(payment(paid_lines=(first, second), underpaid_by="12.00"), NOW, "event:p1")
    claim.accept_underpayment("fee schedule", by="biller", now=LATER)
    assert claim.state == "partially_paid"  # the third line is still the payer's
    claim.events.clear()

    claim.adjudicated(payment(paid_lines=(third,)), LATER, "event:p2")

    assert claim.open_underpayment is None
    assert [getattr(e, "reason", None) for e in claim.events if isinstance(e, events.ClaimClosed)] == [
        "underpayment_accepted"
    ]
