"""The claim after the payer answers on an 835, as plain Python: a payment makes it paid (and closed when no
insurance balance is left), partially paid (lines denied, or allowed below the contract) or denied; a
reversal reopens it; a correction or void of a paid claim goes as a replacement or void naming the payer's
claim number; a payment for a claim replaced meanwhile is kept on it without moving it."""

from __future__ import annotations

import dataclasses
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from rcm_claim.domain import events
from rcm_claim.domain.adjudication import Adjudication, Denial
from rcm_claim.domain.corrections import corrected, withdrawn
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import Claim
from rcm_claim.domain.rules import RULES
from rcm_claim.service_layer.handlers import adjudication_of, remittance_handlers
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.testing import ADJUDICATED_AT as NOW
from rcm_claim.testing import ENCOUNTER, FakeStore, accepted_claim, payment, payment_posted
from rcm_common.events import remittance as remittance_contract
from rcm_common.testing import envelope_for

NEGATED = (Decimal("-185.00"), Decimal("-104.96"), Decimal("-26.24"))  # a reversal of `payment()`
EXAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "examples" / "claim"


def denial_of(posted: Adjudication, category: str = "bundling", reason: str = "CO-97") -> Denial:
    return Denial(posted.payment_id, False, category, "Check the codes.", Decimal("30.00"), (reason,))


def states(claim: Claim) -> list[tuple[str | None, str]]:
    return [(step.from_state, step.to_state) for step in claim.timeline if step.from_state != step.to_state]


def test_a_payment_as_primary_pays_the_claim_and_closes_it_with_the_rest_moved_to_the_patient() -> None:
    claim = accepted_claim()
    posted = payment()
    claim.adjudicated(posted, NOW, "event:p1")
    assert claim.state == "closed"
    assert claim.events == [
        events.ClaimPaid(posted),
        events.ClaimClosed(posted.payment_id, "moved_to_patient", Decimal("26.24")),
    ]
    assert states(claim)[-2:] == [("accepted", "paid"), ("paid", "closed")]
    assert claim.timeline[-2].cause == "event:p1"


@pytest.mark.parametrize(("status", "state"), [("19", "paid"), ("23", "denied")])
def test_a_payment_forwarded_to_another_payer_does_not_close_the_claim(status: str, state: str) -> None:
    claim = accepted_claim()
    claim.adjudicated(payment(status), NOW, "event:p1")
    assert claim.state == state
    if status == "23":  # not the payer's claim: a denial to work, in the coordination of benefits category
        assert claim.denial is not None
        assert (claim.denial.category, claim.denial.reasons) == ("coordination_of_benefits", ("CLP02-23",))


def test_an_underpaid_payment_is_partially_paid_and_never_closed() -> None:
    claim = accepted_claim()
    posted = payment(underpaid_by="13.12")
    claim.adjudicated(posted, NOW, "event:p1")
    assert (claim.state, claim.underpaid_by) == ("partially_paid", Decimal("13.12"))
    assert claim.events == [events.ClaimPartiallyPaid(posted, ("allowed 13.12 below the contract",))]


def test_denied_lines_make_the_claim_partially_paid_and_its_denial_is_kept_for_the_queue_once() -> None:
    claim = accepted_claim()
    posted = payment(denied=("C1-01",))
    claim.adjudicated(posted, NOW, "event:p1")
    denial = denial_of(posted)
    claim.denied(denial, NOW, "event:d1")
    claim.denied(denial, NOW, "event:d1-again")
    assert (claim.state, claim.denial) == ("partially_paid", denial)
    assert [type(e).__name__ for e in claim.events] == ["ClaimPartiallyPaid", "ClaimDenied"]


def test_a_denial_of_a_payment_that_does_not_decide_the_claim_is_not_kept() -> None:
    claim = accepted_claim()
    claim.adjudicated(payment(), NOW, "event:p1")
    claim.events.clear()
    claim.denied(Denial(uuid.uuid4(), True, "coding", "x", Decimal(1), ("CO-4",)), NOW, "event:d1")
    assert (claim.state, claim.denial, claim.events) == ("closed", None, [])


def test_a_reversal_reopens_the_claim_and_the_corrected_payment_decides_it_again() -> None:
    claim = accepted_claim()
    first = payment()
    claim.adjudicated(first, NOW, "event:p1")
    claim.payment_reversed(first.payment_id, NEGATED, NOW, "event:r1")
    reopened, reopening = claim.state, claim.events[-1]
    corrected_payment = payment(paid="120.00", patient="11.20")
    claim.adjudicated(corrected_payment, NOW, "event:p2")
    assert (reopened, type(reopening), claim.state) == ("accepted", events.ClaimReopened, "closed")
    closing: object = claim.events[-1]
    assert closing == events.ClaimClosed(corrected_payment.payment_id, "moved_to_patient", Decimal("11.20"))


def test_a_reversal_of_a_superseded_or_unknown_payment_leaves_the_standing_one_deciding() -> None:
    claim = accepted_claim()
    first, second = payment("4", paid="0.00", patient="0.00"), payment()
    claim.adjudicated(first, NOW, "event:p1")
    claim.adjudicated(second, NOW, "event:p2")  # paid on reconsideration, no reversal: the later payment decides
    assert claim.state == "closed"
    claim.events.clear()
    claim.payment_reversed(uuid.uuid4(), NEGATED, NOW, "event:r0")
    assert claim.state == "closed"
    claim.payment_reversed(first.payment_id, NEGATED, NOW, "event:r1")
    assert (claim.state, claim.standing_payments) == ("closed", [second])
    assert claim.events == []  # the same payment decides as before: nothing new to tell


def test_a_denied_claim_paid_after_an_appeal_lets_its_denial_go() -> None:
    claim = accepted_claim()
    refused = payment("4", paid="0.00", patient="0.00")
    claim.adjudicated(refused, NOW, "event:p1")
    claim.denied(Denial(refused.payment_id, True, "authorisation", "x", Decimal("185.00"), ("CO-197",)),
                 NOW, "event:d1")  # fmt: skip
    claim.adjudicated(payment(), NOW, "event:p2")
    assert (claim.state, claim.denial) == ("closed", None)


def test_a_predetermination_decides_nothing_and_a_payment_while_being_fixed_holds_the_claim() -> None:
    claim = accepted_claim()
    claim.adjudicated(payment("25", paid="0.00", patient="0.00"), NOW, "event:p1")
    assert (claim.state, claim.events) == ("accepted", [])
    fixing = Claim.build(claim_id=uuid.uuid4(), encounter=ENCOUNTER, coverage_order="primary", now=NOW, cause="e")
    fixing.adjudicated(payment(), NOW, "event:p1")
    assert fixing.state == "draft"
    assert fixing.held is not None


@pytest.mark.parametrize("state", ["paid", "denied", "closed"])
def test_a_correction_of_an_adjudicated_claim_goes_as_a_replacement_naming_the_payers_number(state: str) -> None:
    claim = accepted_claim()
    claim.adjudicated(payment("4" if state == "denied" else "19" if state == "paid" else "1"), NOW, "event:p1")
    assert claim.state == state
    version_2 = dataclasses.replace(ENCOUNTER, version=2)
    succession = corrected(claim, version_2, "primary", uuid.uuid4, NOW, "event:corrected")
    [replacement] = succession.built
    assert (claim.state, replacement.frequency, replacement.replaces_payer_claim_number) == ("replaced", "7", "ACME777")


def test_a_void_of_a_paid_claim_goes_as_a_void_claim_and_the_payment_later_reversed_stays_on_the_original() -> None:
    claim = accepted_claim()
    posted = payment()
    claim.adjudicated(posted, NOW, "event:p1")
    succession = withdrawn(claim, "encounter_voided", uuid.uuid4, NOW, "event:voided")
    [void_claim] = succession.built
    assert (claim.state, void_claim.frequency, void_claim.adjudications) == ("voided", "8", ())
    claim.payment_reversed(posted.payment_id, NEGATED, NOW, "event:r1")  # the money follows the payer's 835
    assert claim.state == "voided"
    assert claim.timeline[-1].note == f"the payer reversed payment {posted.payment_id}"


def test_a_payment_for_a_claim_replaced_meanwhile_is_kept_on_it_without_moving_it() -> None:
    claim = accepted_claim()
    claim.replaced_by(uuid.uuid4(), NOW, "event:corrected")
    claim.adjudicated(payment(), NOW, "event:p1")
    assert (claim.state, len(claim.adjudications)) == ("replaced", 1)


async def test_remittances_events_move_the_claim_and_publish_what_became_of_it() -> None:
    store = FakeStore()
    claim = accepted_claim()
    async with store.uow() as uow:
        await uow.claims.add(claim)
        await uow.commit()
    handlers = remittance_handlers(Scrubber(RULES, lambda: NOW))
    remittance = json.loads((EXAMPLES / "rcm.remittance.payment_posted" / "v1.json").read_text())
    posted = remittance_contract.PaymentPosted.model_validate(remittance | {"claim_id": str(claim.id)})
    for event in (posted, posted):  # the second is a redelivery: nothing changes
        async with store.uow() as uow:
            await handlers[type(event)](event, envelope_for(event), uow)
            await uow.commit()

    assert store.published_types() == ["ClaimPaid", "ClaimClosed"]
    [stored] = [c for c in store.claims.rows.values()]
    assert (stored.state, stored.adjudications[0].payment_id) == ("closed", posted.payment_id)
    assert store.published[-1].model_dump()["reason"] == "moved_to_patient"


async def test_a_payment_before_the_277ca_accepts_the_claim_with_the_835s_claim_number() -> None:
    store = FakeStore()
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=ENCOUNTER, coverage_order="primary", now=NOW, cause="e:1")
    claim.scrubbed(ScrubRecord((), ()), NOW, "scrub")
    claim.batch(uuid.uuid4(), NOW, "batch")
    claim.submit("000000001", NOW, "batch")
    claim.events.clear()
    async with store.uow() as uow:
        await uow.claims.add(claim)
        await uow.commit()
    example = json.loads((EXAMPLES / "rcm.remittance.payment_posted" / "v1.json").read_text())
    posted = remittance_contract.PaymentPosted.model_validate(example | {"claim_id": str(claim.id)})
    async with store.uow() as uow:
        await remittance_handlers(Scrubber(RULES, lambda: NOW))[type(posted)](posted, envelope_for(posted), uow)
        await uow.commit()
    [stored] = [c for c in store.claims.rows.values()]
    assert (stored.state, stored.payer_claim_number) == ("closed", posted.payer_claim_number)
    assert store.published_types() == ["ClaimAccepted", "ClaimPaid", "ClaimClosed"]


def test_a_claim_split_over_two_payments_is_decided_by_both() -> None:
    claim = accepted_claim()
    claim.adjudicated(payment(paid_lines=(), paid="0.00", patient="0.00", denied=("L1",)), NOW, "event:p1")
    claim.adjudicated(payment(paid_lines=("L2",), patient="10.00"), NOW, "event:p2")
    split = claim.state  # line 1 is still denied: never closed
    claim.adjudicated(payment(paid_lines=("L1",), patient="30.00"), NOW, "event:p3")  # paid on reconsideration
    assert (split, claim.state) == ("partially_paid", "closed")
    closing: object = claim.events[-1]
    assert isinstance(closing, events.ClaimClosed)
    assert closing.patient_responsibility == Decimal("40.00")  # the patient's share over the payments


def test_a_claim_leaving_closed_says_it_is_reopened_and_its_denial_decides_again() -> None:
    claim = accepted_claim()
    refused = payment("4", paid="0.00", patient="0.00")
    claim.adjudicated(refused, NOW, "event:p1")
    denial = Denial(
        refused.payment_id, True, "authorisation", "Find the authorisation.", Decimal("185.00"), ("CO-197",)
    )
    claim.denied(denial, NOW, "event:d1")
    overturned = payment()
    claim.adjudicated(overturned, NOW, "event:p2")
    assert (claim.state, claim.denial) == ("closed", None)
    claim.events.clear()
    claim.payment_reversed(overturned.payment_id, NEGATED, NOW, "event:r1")
    assert (claim.state, claim.denial) == ("denied", denial)
    assert [type(e).__name__ for e in claim.events] == ["ClaimDenied", "ClaimReopened"]


def test_a_reversal_without_an_id_takes_back_only_a_payment_it_negates() -> None:
    claim = accepted_claim()
    corrected_payment = payment(paid="120.00", patient="11.20")
    claim.adjudicated(corrected_payment, NOW, "event:p1")
    claim.payment_reversed(None, NEGATED, NOW, "event:r0")  # the old payment, never kept here
    assert (claim.state, claim.standing_payments) == ("closed", [corrected_payment])
    claim.payment_reversed(None, (Decimal("-185.00"), Decimal("-120.00"), Decimal("-11.20")), NOW, "event:r1")
    assert (claim.state, claim.standing_payments) == ("accepted", [])


def test_a_claim_not_the_payers_gets_one_denial_with_remittances_reasons_added() -> None:
    claim = accepted_claim()
    forwarded = payment("23", paid="0.00", patient="0.00")
    claim.adjudicated(forwarded, NOW, "event:p1")
    claim.denied(denial_of(forwarded, "eligibility", "CO-109"), NOW, "event:d1")
    assert [type(e).__name__ for e in claim.events] == ["ClaimDenied"]
    assert claim.denial is not None
    assert claim.denial.reasons == ("CLP02-23", "CO-109")


def test_payments_posted_before_the_277ca_decide_the_claim_once_it_is_accepted() -> None:
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=ENCOUNTER, coverage_order="primary", now=NOW, cause="e:1")
    claim.scrubbed(ScrubRecord((), ()), NOW, "scrub")
    claim.batch(uuid.uuid4(), NOW, "batch")
    claim.adjudicated(payment(), NOW, "event:p1")  # before even the 999 was applied
    before = claim.state
    claim.submit("000000001", NOW, "batch")
    claim.accept("ACME777", NOW, "277ca")
    assert (before, claim.state) == ("batched", "closed")


def test_a_claim_split_into_a_paid_part_and_a_denied_part_is_partially_paid_whatever_the_order() -> None:
    for order in ((True, False), (False, True)):
        claim = accepted_claim()
        paid_part = payment(paid_lines=("L1",))
        denied_part = payment("4", denied=("L2",))
        for is_paid in order:
            claim.adjudicated(paid_part if is_paid else denied_part, NOW, "event:p")
        claim.denied(Denial(denied_part.payment_id, True, "coding", "x", Decimal("54.00"), ("CO-4",)), NOW, "event:d")
        assert claim.state == "partially_paid"
        assert claim.denial is not None
        assert claim.denial.payment_id == denied_part.payment_id


def test_a_denial_kept_before_the_277ca_is_raised_when_it_decides_the_claim() -> None:
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=ENCOUNTER, coverage_order="primary", now=NOW, cause="e:1")
    claim.scrubbed(ScrubRecord((), ()), NOW, "scrub")
    claim.batch(uuid.uuid4(), NOW, "batch")
    claim.submit("000000001", NOW, "batch")
    refused = payment("4")
    claim.adjudicated(refused, NOW, "event:p1")
    claim.denied(Denial(refused.payment_id, True, "authorisation", "x", Decimal("185.00"), ("CO-197",)), NOW, "event:d")
    claim.events.clear()
    claim.accept("ACME777", NOW, "277ca")
    assert claim.state == "denied"
    assert [type(e).__name__ for e in claim.events] == ["ClaimAccepted", "ClaimDenied"]


def test_a_line_allowed_to_the_deductible_is_decided_paid_though_nothing_was_paid() -> None:
    claim = accepted_claim()
    posted = payment_posted(claim)
    line = posted.lines[0].model_copy(update={"paid": Decimal("0.00")})
    kept = adjudication_of(posted.model_copy(update={"lines": (line,)}), NOW)
    assert kept.paid_lines == (claim.lines[0].control_number,)
    assert kept.line_payments[0].paid == Decimal("0.00")
