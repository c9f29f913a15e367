"""Coordination of benefits with fakes: the primary's payment closes its claim with the rest billed to the
secondary, whose claim carries the primary's adjudication (2320, 2330B, 2430 in its 837P) and is scrubbed like
any claim; without a next coverage the rest is the patient's; a claim to a secondary without the primary's
adjudication is held by PRIOR_PAYERS; a correction of the encounter withdraws the secondary's claim; and a
biller's request to bill the next payer is refused until the primary has paid its part."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rcm_claim.adapters.claim_837 import BillableClaim, Sender, write_batch
from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.domain.acknowledgments import ClaimAnswer
from rcm_claim.domain.corrections import resubmission
from rcm_claim.domain.model import Claim, ClaimError
from rcm_claim.domain.rules import RULES
from rcm_claim.service_layer import denials
from rcm_claim.service_layer.answers import apply_claim_answers
from rcm_claim.service_layer.commands import ResolveDenial
from rcm_claim.service_layer.handlers import (
    Handlers,
    charge_handlers,
    eligibility_handlers,
    registration_handlers,
    remittance_handlers,
)
from rcm_claim.service_layer.next_payers import NextPayers
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.testing import PRACTICE, FakeStore, charges_captured, claim_denied, payment_posted, payment_reversed
from rcm_common.events import claim as claim_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import envelope_for, sample_coverage_added, sample_patient_registered
from rcm_x12.testing import assert_accepted_by_pyx12, segments_of

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SCRUBBER = Scrubber(RULES, lambda: NOW)
HANDLERS: Handlers = (
    registration_handlers(SCRUBBER) | eligibility_handlers(SCRUBBER) | charge_handlers(SCRUBBER)
    | remittance_handlers(SCRUBBER)
)  # fmt: skip
SENDER = Sender("RCMSUBMITTER", "RCM DEMO PRACTICE", "BILLING OFFICE", "5555550100", "CLEARINGHOUSE", "RCM CH")


async def deliver(store: FakeStore, *events: IntegrationEvent) -> None:
    for event in events:
        async with store.uow() as uow:
            await HANDLERS[type(event)](event, envelope_for(event), uow)
            await uow.commit()


async def practice(store: FakeStore) -> None:
    async with store.uow() as uow:
        await uow.directories.replace_payers(default_payers(), NOW)
        await uow.directories.replace_providers(PRACTICE, "admin", NOW)
        await uow.commit()


async def accepted_with(store: FakeStore, *orders: tuple[str, str]) -> Claim:
    """A patient with a coverage per (payer, order), and the accepted claim of an encounter at the first."""
    await practice(store)
    patient = sample_patient_registered()
    coverages = [
        sample_coverage_added(patient.patient_id, payer_id=payer, order=order, member_id=f"{payer}-778812")
        for payer, order in orders
    ]
    captured = charges_captured(patient.patient_id, coverages[0].coverage_id, codes=("99214", "81002"),
                                payer_id=orders[0][0], day=date(2026, 11, 2))  # fmt: skip
    await deliver(store, patient, *coverages, captured)
    [built] = store.claims.rows.values()
    async with store.uow() as uow:
        claim = await uow.claims.get(built.id)
        assert claim is not None
        assert claim.state == "ready", claim.scrub
        claim.batch(uuid.uuid4(), NOW, "test")
        claim.submit("000000001", NOW, "test")
        claim.accept("ACME20261125", NOW, "test")
        await uow.claims.save(claim)
        await uow.commit()
    return claim


async def test_the_primarys_payment_bills_the_secondary_with_its_adjudication() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))

    posted = payment_posted(primary)
    await deliver(store, posted)

    claims = {claim.payer_id: claim for claim in store.claims.rows.values()}
    assert claims["ACME01"].state == "closed"
    closed = [e for e in store.published if isinstance(e, claim_contract.ClaimClosed)]
    assert [(e.reason, e.patient_responsibility) for e in closed] == [("next_payer_billed", Decimal("59.20"))]
    secondary = claims["MCAID1"]
    assert (secondary.responsibility, secondary.frequency, secondary.state) == ("S", "1", "ready")
    [prior] = secondary.prior_payers
    assert (prior.payer_id, prior.responsibility, prior.paid, prior.payer_claim_number) == (
        "ACME01", "P", posted.paid, posted.payer_claim_number,
    )  # fmt: skip
    assert [(line.line_number, line.paid) for line in prior.lines] == [(1, Decimal("118.40")), (2, Decimal("118.40"))]
    assert prior.adjustments == ()  # every adjustment is on a line the 835 matched
    assert all(line.expected_allowed is None for line in secondary.lines)


async def test_the_secondary_claims_837_reports_the_primary_in_2320_2330b_and_2430() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    await deliver(store, payment_posted(primary))
    secondary = next(claim for claim in store.claims.rows.values() if claim.payer_id == "MCAID1")
    patient = store.patients.rows[secondary.patient_id]
    coverage = store.coverages.rows[secondary.coverage_id]
    payer = next(payer for payer in default_payers() if payer.payer_id == "MCAID1")

    text = write_batch([BillableClaim(secondary, patient, coverage)], reference="B1", interchange_control_number=7,
                       payer=payer, providers=PRACTICE, sender=SENDER, now=NOW)  # fmt: skip

    segments = ["*".join(segment).rstrip("*") for segment in segments_of(text)]
    assert any(s.startswith("SBR*S*18") for s in segments)
    assert any(s.startswith("SBR*P*18") for s in segments)  # 2320: the primary
    assert "AMT*D*236.8" in segments
    assert any(s.startswith("NM1*PR*2*ACME HEALTH PLAN*****PI*ACME01") for s in segments)
    assert [s for s in segments if s.startswith("SVD*ACME01")] == ["SVD*ACME01*118.4*HC:99214**1",
                                                                   "SVD*ACME01*118.4*HC:81002**1"]  # fmt: skip
    assert segments.count("CAS*CO*45*37") == 2
    assert segments.count("CAS*PR*2*29.6") == 2
    assert segments.count("DTP*573*D8*20261125") >= 3  # 2330B and each 2430
    assert_accepted_by_pyx12(text)


async def test_without_a_next_coverage_the_rest_is_the_patients() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"))
    await deliver(store, payment_posted(primary))
    assert len(store.claims.rows) == 1
    assert [e.reason for e in store.published if isinstance(e, claim_contract.ClaimClosed)] == ["moved_to_patient"]


async def test_a_secondary_claim_without_the_primarys_adjudication_is_held_and_a_request_is_refused() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    async with store.uow() as uow:
        with pytest.raises(ClaimError, match="has not decided it on an 835"):
            await NextPayers(SCRUBBER).bill_on_request(uow, primary, "biller")
    assert len(store.claims.rows) == 1

    patient = next(iter(store.patients.rows))
    secondary_coverage = next(c for c in store.coverages.rows.values() if c.order == "secondary")
    direct = charges_captured(patient, secondary_coverage.coverage_id, payer_id="MCAID1", day=date(2026, 11, 3))
    await deliver(store, direct)
    held = next(claim for claim in store.claims.rows.values() if claim.encounter_id == direct.encounter_id)
    assert held.state == "scrub_failed"
    assert held.scrub is not None
    assert held.scrub.blocking_rules == ("PRIOR_PAYERS",)


async def test_a_correction_of_the_encounter_withdraws_the_secondarys_claim() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    await deliver(store, payment_posted(primary))
    corrected = charges_captured(primary.patient_id, primary.coverage_id, codes=("99213", "81002"),
                                 day=date(2026, 11, 2), encounter_id=str(primary.encounter_id), version=2)  # fmt: skip
    await deliver(store, corrected)
    states = sorted((claim.payer_id, claim.frequency, claim.state) for claim in store.claims.rows.values())
    assert ("MCAID1", "1", "voided") in states
    assert ("ACME01", "7", "ready") in states


def secondary_of(store: FakeStore) -> Claim:
    return next(claim for claim in store.claims.rows.values() if claim.payer_id == "MCAID1")


def written(store: FakeStore, claim: Claim) -> str:
    """The claim's 837P as a batch to its payer would carry it (the writer checks that the amounts balance)."""
    patient, coverage = store.patients.rows[claim.patient_id], store.coverages.rows[claim.coverage_id]
    payer = next(payer for payer in default_payers() if payer.payer_id == claim.payer_id)
    return write_batch([BillableClaim(claim, patient, coverage)], reference="B1", interchange_control_number=7,
                       payer=payer, providers=PRACTICE, sender=SENDER, now=NOW)  # fmt: skip


async def test_a_line_the_835_did_not_match_is_reported_at_the_claim_level_and_the_837_balances() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    posted = payment_posted(primary)
    unmatched = posted.lines[1].model_copy(update={"line_control_number": None})
    await deliver(store, posted.model_copy(update={"lines": (posted.lines[0], unmatched)}))

    [prior] = secondary_of(store).prior_payers
    assert (prior.paid, prior.lines) == (posted.paid, ())
    assert sum((a.amount for a in prior.adjustments), Decimal(0)) == posted.charge - posted.paid
    assert "AMT*D*236.8" in written(store, secondary_of(store))


async def test_a_primary_paid_in_two_payments_is_reported_whole() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    first = payment_posted(primary)
    line_1, line_2 = first.lines
    denied_2 = line_2.model_copy(update={"paid": Decimal("0.00"), "allowed": Decimal("0.00"), "adjustments": (
        line_2.adjustments[0].model_copy(update={"reason": "197", "amount": line_2.charge}),)})  # fmt: skip
    await deliver(store, first.model_copy(update={
        "lines": (line_1, denied_2), "adjustments": (*line_1.adjustments, *denied_2.adjustments), "paid": line_1.paid,
        "denied_lines": (line_2.line_control_number,),
        "patient_responsibility": line_1.patient_share.coinsurance,
    }))  # fmt: skip
    reconsidered = payment_posted(primary)
    await deliver(store, reconsidered.model_copy(update={
        "lines": (line_2,), "adjustments": line_2.adjustments, "charge": line_2.charge, "paid": line_2.paid,
        "patient_responsibility": line_2.patient_share.coinsurance,
    }))  # fmt: skip

    [prior] = secondary_of(store).prior_payers
    assert prior.paid == line_1.paid + line_2.paid
    assert [line.paid for line in prior.lines] == [line_1.paid, line_2.paid]
    assert "AMT*D*236.8" in written(store, secondary_of(store))


async def test_a_reversal_of_the_primarys_payment_withdraws_the_secondarys_claim_and_a_repayment_rebills() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    posted = payment_posted(primary)
    await deliver(store, posted)
    first_secondary = secondary_of(store)

    await deliver(store, payment_reversed(posted))

    assert store.claims.rows[first_secondary.id].state == "voided"
    await deliver(store, payment_posted(primary))
    live = [c for c in store.claims.rows.values() if c.payer_id == "MCAID1" and c.state not in ("voided", "replaced")]
    assert [(claim.frequency, claim.state) for claim in live] == [("1", "ready")]


async def test_a_new_secondary_waits_for_the_payers_answer_to_the_one_on_its_way() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    await deliver(store, payment_posted(primary))
    on_its_way = secondary_of(store)
    async with store.uow() as uow:
        claim = await uow.claims.get(on_its_way.id)
        assert claim is not None
        claim.batch(uuid.uuid4(), NOW, "test")
        claim.submit("000000002", NOW, "test")
        await uow.claims.save(claim)
        await uow.commit()
        primary_now = await uow.claims.get(primary.id)
    assert primary_now is not None
    async with store.uow() as uow:
        await NextPayers(SCRUBBER).bill(uow, primary_now, store.coverages.rows[on_its_way.coverage_id], NOW, "test")
        await uow.commit()
    waiting = [c for c in store.claims.rows.values() if c.payer_id == "MCAID1" and c.waits_for == on_its_way.id]
    assert len(waiting) == 1


async def test_a_next_payer_that_cannot_be_billed_leaves_the_payment_posted_with_a_note() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    async with store.uow() as uow:
        await uow.directories.replace_payers([p for p in default_payers() if p.payer_id != "ACME01"], NOW)
        await uow.commit()

    await deliver(store, payment_posted(primary))

    claim = store.claims.rows[primary.id]
    assert (claim.state, len(claim.adjudications), len(store.claims.rows)) == ("closed", 1, 1)
    assert claim.timeline[-1].note.startswith("the next payer was not billed")


async def test_a_biller_bills_a_next_payer_added_later_once_and_only_once() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"))
    await deliver(store, payment_posted(primary))
    await deliver(store, sample_coverage_added(primary.patient_id, payer_id="MCAID1", order="secondary",
                                               member_id="MCAID1-778812"))  # fmt: skip
    async with store.uow() as uow:
        claim = await uow.claims.get(primary.id)
        assert claim is not None
        built = await NextPayers(SCRUBBER).bill_on_request(uow, claim, "biller")
        await uow.commit()
    assert (built.payer_id, built.responsibility, built.state) == ("MCAID1", "S", "ready")
    async with store.uow() as uow:
        with pytest.raises(ClaimError, match="in play already"):
            await NextPayers(SCRUBBER).bill_on_request(uow, claim, "biller")
    assert len(store.claims.rows) == 2


async def test_a_denied_secondary_corrected_keeps_the_primarys_adjudication() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    await deliver(store, payment_posted(primary))
    secondary = secondary_of(store)
    async with store.uow() as uow:
        claim = await uow.claims.get(secondary.id)
        assert claim is not None
        claim.batch(uuid.uuid4(), NOW, "test")
        claim.submit("000000002", NOW, "test")
        claim.accept("MCAID20261125", NOW, "test")
        replacement = resubmission(claim, uuid.uuid4, NOW, "test")
    assert replacement.prior_payers == secondary.prior_payers
    assert replacement.frequency == "7"


async def test_the_first_part_of_a_split_claim_leaves_it_open_and_bills_no_one_yet() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    posted = payment_posted(primary)
    part = posted.model_copy(update={
        "lines": posted.lines[:1], "adjustments": posted.lines[0].adjustments, "charge": posted.lines[0].charge,
        "paid": posted.lines[0].paid, "patient_responsibility": posted.lines[0].patient_share.coinsurance,
    })  # fmt: skip

    await deliver(store, part)

    claim = store.claims.rows[primary.id]
    assert claim.state == "partially_paid"
    assert "lines not answered yet" in claim.timeline[-1].note
    assert len(store.claims.rows) == 1


async def test_a_secondary_billed_by_hand_after_a_denial_stays_when_the_primary_denies_again() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    await deliver(store, payment_posted(primary, denied=True))
    async with store.uow() as uow:
        claim = await uow.claims.get(primary.id)
        assert claim is not None
        billed = await NextPayers(SCRUBBER).bill_on_request(uow, claim, "biller")
        await uow.commit()
    assert billed.prior_payers[0].paid == Decimal("0.00")

    await deliver(store, payment_posted(primary, denied=True))

    assert store.claims.rows[billed.id].state not in ("voided", "replaced")


async def test_a_primary_paid_in_parts_one_of_them_unmatched_is_reported_whole_at_the_claim_level() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    posted = payment_posted(primary)
    first, second = posted.lines
    unmatched = second.model_copy(update={"line_control_number": None})
    for line in (first, unmatched):
        await deliver(store, posted.model_copy(update={
            "payment_id": uuid.uuid4(), "lines": (line,), "adjustments": line.adjustments, "charge": line.charge,
            "paid": line.paid, "patient_responsibility": line.patient_share.coinsurance,
        }))  # fmt: skip

    secondary = secondary_of(store)
    [prior] = secondary.prior_payers
    assert (prior.paid, prior.lines) == (posted.paid, ())
    assert secondary.state == "ready", secondary.scrub
    assert "AMT*D*236.8" in written(store, secondary)


async def test_a_primary_closed_by_a_write_off_bills_the_secondary_what_the_patient_owes() -> None:
    store = FakeStore()
    primary = await accepted_with(store, ("ACME01", "primary"), ("MCAID1", "secondary"))
    posted = payment_posted(primary)
    paid, denied = posted.lines
    denied = denied.model_copy(update={
        "paid": Decimal("0.00"), "allowed": Decimal("0.00"), "patient_share": paid.patient_share.model_copy(
            update={"coinsurance": Decimal("0.00")}),
        "adjustments": (denied.adjustments[0].model_copy(update={"reason": "97", "amount": denied.charge}),),
    })  # fmt: skip
    partly = posted.model_copy(update={
        "lines": (paid, denied), "adjustments": (*paid.adjustments, *denied.adjustments), "paid": paid.paid,
        "patient_responsibility": paid.patient_share.coinsurance, "denied_lines": (denied.line_control_number,),
    })  # fmt: skip
    await deliver(store, partly, claim_denied(partly))
    revision = store.claims.rows[primary.id].revision

    await denials.resolve_denial(primary.id, ResolveDenial(kind="written_off", reason="bundled"), store.uow(),
                                 SCRUBBER, by="biller", revision=revision)  # fmt: skip

    assert store.claims.rows[primary.id].state == "closed"
    [secondary] = [claim for claim in store.claims.rows.values() if claim.payer_id == "MCAID1"]
    assert secondary.prior_payers[0].paid == paid.paid
    closed = [e for e in store.published if isinstance(e, claim_contract.ClaimClosed)]
    assert closed[-1].reason == "next_payer_billed"


async def test_a_payment_read_before_the_277ca_bills_the_next_payer_once_the_277ca_accepts() -> None:
    store = FakeStore()
    await practice(store)
    patient = sample_patient_registered()
    primary_coverage = sample_coverage_added(patient.patient_id, member_id="ACME01-778812")
    secondary_coverage = sample_coverage_added(patient.patient_id, payer_id="MCAID1", order="secondary",
                                               member_id="MCAID1-778812")  # fmt: skip
    captured = charges_captured(patient.patient_id, primary_coverage.coverage_id, day=date(2026, 11, 2))
    await deliver(store, patient, primary_coverage, secondary_coverage, captured)
    [built] = store.claims.rows.values()
    async with store.uow() as uow:
        claim = await uow.claims.get(built.id)
        assert claim is not None
        claim.batch(uuid.uuid4(), NOW, "test")
        claim.submit("000000001", NOW, "test")
        await uow.claims.save(claim)
        await uow.commit()
    await deliver(store, payment_posted(claim).model_copy(update={"payer_claim_number": ""}))  # no CLP07 to accept
    assert store.claims.rows[built.id].state == "submitted"

    async with store.uow() as uow:
        answer = ClaimAnswer(built.patient_control_number, True, "ACME20261125")
        assert await apply_claim_answers(uow, [answer], NOW, "277ca:test", NextPayers(SCRUBBER)) == 1
        await uow.commit()

    assert store.claims.rows[built.id].state == "closed"
    assert [claim.payer_id for claim in store.claims.rows.values()] == ["ACME01", "MCAID1"]
