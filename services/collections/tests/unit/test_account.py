"""The guarantor account, in plain Python: each scenario a billing team meets, with the ledger's invariant and
chain checked after every one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from rcm_collections.domain import events
from rcm_collections.domain.account import (
    Account,
    Guarantor,
    Invalid,
    NotAllowed,
    PatientPayment,
    PaymentSource,
    WriteOffKind,
)
from rcm_collections.domain.encounter import ClaimPayment, PatientShare, ServiceItem
from rcm_collections.domain.ledger import Entry, Totals, verify_account
from rcm_collections.domain.policy import CollectionPolicy, HowToPay
from rcm_collections.domain.statements import Addressee

D = Decimal
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DOS = date(2026, 2, 10)
POLICY = CollectionPolicy(statement_minimum=D("5.00"), agency_after_statements=2, agency_after_days=60)
PAY = HowToPay("Riverside Family Medicine", "12 Mill Road, Springfield, IL 62701", "(217) 555-0100", "pay.example")


def new_account() -> Account:
    address = Addressee("Dana Whitfield", "48 Orchard Lane", None, "Springfield", "IL", "62704")
    return Account(uuid4(), Guarantor("Dana Whitfield", address, "217-555-0147"), patients={PATIENT})


PATIENT = UUID("00000000-0000-4000-8000-000000000001")


class Scenario:
    """An account and the visit and claim ids a scenario uses, with helpers that say what upstream said."""

    def __init__(self) -> None:
        self.account = new_account()
        self.visit = uuid4()
        self.claim = uuid4()
        self.all_entries: list[Entry] = []

    def keep_entries(self) -> None:
        self.all_entries += self.account.chain.appended
        self.account.chain.appended = []

    def capture(self, total: str, *, self_pay: bool = False, version: int = 1, at: datetime = NOW) -> None:
        item = ServiceItem("99213", (), DOS, D(total))
        self.account.capture(
            encounter_id=self.visit, patient_id=PATIENT, version=version, self_pay=self_pay, date_of_service=DOS,
            provider_npi="1234567893", items=(item,), total=D(total), cause="event:charges", now=at,
        )  # fmt: skip
        self.keep_entries()

    def claim_created(self, responsibility: str = "P", claim: UUID | None = None) -> UUID:
        claim = claim or self.claim
        self.account.link_claim(
            encounter_id=self.visit, patient_id=PATIENT, claim_id=claim, responsibility=responsibility,
            payer_id="60054", encounter_version=self.account.encounters[self.visit].version or 1,
            cause="event:claim", now=NOW,
        )  # fmt: skip
        return claim

    def paid(
        self,
        paid: str,
        adjustments: tuple[tuple[str, str], ...] = (),
        *,
        deductible: str = "0.00",
        coinsurance: str = "0.00",
        copay: str = "0.00",
        claim: UUID | None = None,
        payment: UUID | None = None,
        lines: tuple[str, ...] | None = None,
        prior: str = "0.00",
        at: datetime = NOW,
    ) -> UUID:
        payment = payment or uuid4()
        shares = PatientShare(D(deductible), D(coinsurance), D(copay))
        adjusted = tuple((g, D(a)) for g, a in adjustments)
        charge = D(paid) + sum((a for _, a in adjusted), D("0")) + shares.total + D(prior)
        self.account.post_claim_payment(
            encounter_id=self.visit,
            payment=ClaimPayment(
                payment, claim or self.claim, "60054", charge, D(paid), adjusted, shares, lines_answered=lines
            ),
            cause="event:paid",
            now=at,
        )
        self.keep_entries()
        return payment

    def closed(
        self, payment: UUID, reason: str = "moved_to_patient", claim: UUID | None = None, at: datetime = NOW
    ) -> None:
        self.account.claim_closed(
            encounter_id=self.visit, claim_id=claim or self.claim, reason=reason, payment_id=payment,
            cause="event:closed", now=at,
        )  # fmt: skip
        self.keep_entries()

    def pay(
        self,
        amount: str,
        *,
        source: PaymentSource = "patient",
        fee: str = "0",
        visit: UUID | None = None,
        at_visit: bool = False,
        at: datetime = NOW,
    ) -> PatientPayment:
        """The patient's payment (a copay `at_visit`), or the agency's for them with its fee."""
        return self.account.receive_payment(
            payment_id=uuid4(), amount=D(amount), method="agency" if source == "agency" else "card",
            processor_reference=None, encounter_id=visit, at_visit=at_visit,
            patient_id=PATIENT if at_visit else None, source=source, agency_fee=D(fee), cause="api:p", now=at,
        )  # fmt: skip

    def write_off_due(self, kind: WriteOffKind) -> None:
        """Everything due written off: asked for by one collector, approved by another."""
        asked = self.account.request_write_off(
            write_off_id=uuid4(), kind=kind, amount=None, reason=kind, requested_by="ann", now=NOW
        )
        self.account.decide_write_off(write_off_id=asked.id, approve=True, decided_by="bo", cause="api:bo", now=NOW)

    def hold(self, payment: UUID, amount: str, line: str = "L1") -> None:
        """Remittance's word on the payment's denial of `amount` (on a line, or "" for the claim)."""
        self.account.hold_denial(
            encounter_id=self.visit, payment_id=payment, claim_id=self.claim, lines=((line, D(amount)),),
            cause="event:denied", now=NOW,
        )  # fmt: skip

    def verify(self) -> None:
        account = self.account
        self.keep_entries()
        verdict = verify_account(
            account.id, self.all_entries, tip_seq=account.chain.seq, tip_hash=account.chain.tip,
            balance=account.balance, totals=account.terms,
        )  # fmt: skip
        assert verdict.ok, verdict
        assert account.balance == account.insurance_pending + account.patient_due - account.credit + sum(
            (v.balance for v in account.encounters.values() if v.settled and v.balance < 0), D("0")
        )
        t = Totals.of(self.all_entries)
        assert t.charges - t.insurance_payments - t.adjustments - t.patient_payments - t.write_offs + t.refunds == (
            account.balance
        )


def test_the_patient_share_of_an_835_is_patient_due_only_once_the_claim_closes() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    assert (s.account.insurance_pending, s.account.patient_due) == (D("200.00"), D("0"))
    payment = s.paid("80.00", (("CO", "60.00"),), deductible="40.00", coinsurance="20.00")
    assert (s.account.insurance_pending, s.account.patient_due) == (D("60.00"), D("0"))  # not billed before close
    s.closed(payment)
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("60.00"))
    share = s.account.encounters[s.visit].patient_share
    assert (share.deductible, share.coinsurance) == (D("40.00"), D("20.00"))
    changes = [e for e in s.account.events if isinstance(e, events.BalanceChanged)]
    assert changes[-1].patient_due == D("60.00")
    s.verify()


def test_a_close_read_before_its_payment_bills_nothing_until_the_payment_is_posted() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    payment = uuid4()
    s.closed(payment)
    assert s.account.patient_due == 0
    assert s.account.insurance_pending == D("200.00")
    s.paid("150.00", (("CO", "30.00"),), coinsurance="20.00", payment=payment)
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("20.00"))
    s.verify()


def test_a_copay_at_the_visit_and_the_835s_pr3_are_not_billed_twice() -> None:
    s = Scenario()
    s.pay("25.00", visit=s.visit, at_visit=True)
    s.keep_entries()
    s.capture("150.00")
    s.claim_created()
    payment = s.paid("75.00", (("CO", "50.00"),), copay="25.00")
    s.closed(payment)
    assert (s.account.patient_due, s.account.credit, s.account.insurance_pending) == (D("0"), D("0"), D("0"))
    assert not s.account.statement_due(policy=POLICY, today=NOW.date())
    s.verify()


def test_an_overpayment_is_credit_applied_to_the_next_balance_or_refunded_on_approval() -> None:
    s = Scenario()
    s.capture("100.00", self_pay=True)
    s.pay("130.00")
    assert (s.account.patient_due, s.account.credit) == (D("0"), D("30.00"))
    with pytest.raises(Invalid):
        s.account.request_refund(
            refund_id=uuid4(), amount=D("30.01"), method="check", reason="overpaid", requested_by="ann", now=NOW
        )
    refund = s.account.request_refund(
        refund_id=uuid4(), amount=D("20.00"), method="check", reason="overpaid", requested_by="ann", now=NOW
    )
    assert s.account.available_credit == D("10.00")
    with pytest.raises(NotAllowed):
        s.account.decide_refund(refund_id=refund.id, approve=True, decided_by="ann", cause="api:ann", now=NOW)
    s.account.decide_refund(refund_id=refund.id, approve=True, decided_by="bo", cause="api:bo", now=NOW)
    assert any(isinstance(e, events.RefundIssued) for e in s.account.events)
    assert s.account.credit == D("10.00")
    second = uuid4()
    s.account.capture(
        encounter_id=second, patient_id=PATIENT, version=1, self_pay=True, date_of_service=DOS,
        provider_npi=None, items=(), total=D("45.00"), cause="event:c2", now=NOW,
    )  # fmt: skip
    assert (s.account.patient_due, s.account.credit) == (D("35.00"), D("0"))  # the credit paid the next visit
    s.verify()


def test_a_reversal_moves_the_balance_back_from_patient_due_and_the_corrected_payment_settles_it() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    first = s.paid("120.00", (("CO", "50.00"),), coinsurance="30.00")
    s.closed(first)
    assert s.account.patient_due == D("30.00")
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=first, cause="event:rev", now=NOW)
    s.account.claim_reopened(encounter_id=s.visit, claim_id=s.claim, cause="event:reopen", now=NOW)
    assert (s.account.insurance_pending, s.account.patient_due) == (D("200.00"), D("0"))
    corrected = s.paid("140.00", (("CO", "40.00"),), coinsurance="20.00")
    s.closed(corrected)
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("20.00"))
    s.verify()


def test_a_denial_is_held_until_worked_then_written_off_transferred_or_accepted() -> None:
    for resolution, owed in (("written_off", D("0")), ("transferred", D("100.00")), ("accepted", D("0"))):
        s = Scenario()
        s.capture("100.00")
        s.claim_created()
        payment = s.paid("0.00", (("CO", "100.00"),))
        args = {"encounter_id": s.visit, "payment_id": payment, "claim_id": s.claim, "cause": "e", "now": NOW}
        s.account.hold_denial(lines=(("L1", D("100.00")),), **args)  # type: ignore[arg-type]
        assert s.account.insurance_pending == D("100.00")
        if resolution == "written_off":
            s.account.write_off_denial(amount=D("100.00"), category="authorisation", **args)  # type: ignore[arg-type]
        elif resolution == "transferred":
            s.account.transfer_denial(amount=D("100.00"), **args)  # type: ignore[arg-type]
        s.closed(
            payment,
            {"written_off": "written_off", "transferred": "moved_to_patient"}.get(resolution, "denial_accepted"),
        )
        assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), owed), resolution
        s.verify()


def test_a_denied_claim_paid_after_appeal_is_not_counted_twice() -> None:
    s = Scenario()
    s.capture("100.00")
    s.claim_created()
    denied = s.paid("0.00", (("CO", "100.00"),))
    s.hold(denied, "100.00", "L1")
    overturned = s.paid("70.00", (("CO", "20.00"),), coinsurance="10.00", lines=("L1",))
    s.closed(overturned, "paid_in_full")
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("10.00"))
    s.verify()


def test_a_secondary_pays_what_the_primary_left_without_restating_the_primarys_adjudication() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created("P")
    primary = s.paid("100.00", (("CO", "50.00"),), deductible="50.00")
    s.closed(primary, "next_payer_billed")
    assert s.account.patient_due == 0  # the next payer answers first
    secondary = s.claim_created("S", uuid4())
    # OA-23 (the primary's 150.00) is left out by the handler: the secondary's own adjustments only.
    second = s.paid("40.00", (), coinsurance="10.00", claim=secondary)
    s.closed(second, "moved_to_patient", claim=secondary)
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("10.00"))
    s.verify()


def test_a_payment_plan_pays_the_balance_to_zero_and_a_missed_plan_defaults() -> None:
    s = Scenario()
    s.capture("300.00", self_pay=True)
    with pytest.raises(Invalid):
        s.account.create_plan(plan_id=uuid4(), months=1, first_due_on=NOW.date(), policy=POLICY, today=NOW.date())
    plan = s.account.create_plan(
        plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    assert [i.amount for i in plan.installments] == [D("100.00")] * 3
    statement = s.account.issue_statement(statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=NOW.date())
    assert statement.dunning_level is None
    assert statement.plan is not None
    assert statement.plan.installment_due == D("100.00")
    for _ in range(3):
        s.pay("100.00")
    assert s.account.patient_due == 0
    assert plan.state == "completed"
    s.verify()

    t = Scenario()
    t.capture("300.00", self_pay=True)
    plan = t.account.create_plan(
        plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    assert t.account.review_plan(policy=POLICY, today=date(2026, 3, 26))  # 15 March + 10 days' grace passed
    assert plan.state == "active"
    assert plan.missed == [1]
    t.account.review_plan(policy=POLICY, today=date(2026, 3, 27))
    assert plan.missed == [1]  # counted once
    t.account.review_plan(policy=POLICY, today=date(2026, 4, 26))
    assert t.account.plans[0].state == "defaulted"
    assert any(isinstance(e, events.PlanDefaulted) for e in t.account.events)


def test_statements_go_every_cycle_with_firmer_notices_then_the_agency_and_a_recall_restores_them() -> None:
    s = Scenario()
    s.capture("80.00", self_pay=True)
    day = NOW.date()
    first = s.account.issue_statement(statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=day)
    assert first.dunning_level == 1
    assert first.amount_due == D("80.00")
    assert not s.account.statement_due(policy=POLICY, today=day + timedelta(days=27))
    second = s.account.issue_statement(
        statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=day + timedelta(days=31)
    )
    assert second.dunning_level == 2
    assert not s.account.placement_due(policy=POLICY, today=day + timedelta(days=60))  # no final notice yet
    final = s.account.issue_statement(
        statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=day + timedelta(days=62)
    )
    assert final.dunning_level == 3
    assert not s.account.placement_due(policy=POLICY, today=day + timedelta(days=70))  # its due date not past
    assert s.account.placement_due(policy=POLICY, today=day + timedelta(days=83))
    s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=day + timedelta(days=83))
    assert not s.account.statement_due(policy=POLICY, today=day + timedelta(days=95))
    s.pay("30.00", source="agency", fee="9.00")
    assert s.account.patient_due == D("50.00")
    assert s.account.placement is not None
    assert s.account.placement.fees == D("9.00")
    s.account.recall(reason="payment_arranged", note="called to arrange payment", today=day + timedelta(days=96))
    assert s.account.statement_due(policy=POLICY, today=day + timedelta(days=96))
    s.verify()


def test_bad_requests_change_nothing() -> None:
    s = Scenario()
    before = (s.account.chain.seq, s.account.balance, len(s.account.events))
    with pytest.raises(Invalid):
        s.pay("-5.00")
    with pytest.raises(NotAllowed):
        s.account.create_plan(plan_id=uuid4(), months=3, first_due_on=NOW.date(), policy=POLICY, today=NOW.date())
    with pytest.raises(Invalid):
        s.account.request_refund(
            refund_id=uuid4(), amount=D("1.00"), method="check", reason="x", requested_by="a", now=NOW
        )
    assert (s.account.chain.seq, s.account.balance, len(s.account.events)) == before
    assert not s.account.plans
    assert not s.account.refunds


def test_a_tampered_entry_is_named_by_its_number() -> None:
    s = Scenario()
    s.capture("100.00")
    s.claim_created()
    s.closed(s.paid("60.00", (("CO", "20.00"),), coinsurance="20.00"))
    s.keep_entries()
    entries = list(s.all_entries)
    entries[1] = replace(entries[1], amount=D("-50.00"))
    verdict = verify_account(
        s.account.id, entries, tip_seq=s.account.chain.seq, tip_hash=s.account.chain.tip,
        balance=s.account.balance, totals=s.account.terms,
    )  # fmt: skip
    assert (verdict.ok, verdict.broken_seq) == (False, 2)
    truncated = verify_account(
        s.account.id, s.all_entries[:-1], tip_seq=s.account.chain.seq, tip_hash=s.account.chain.tip,
        balance=s.account.balance, totals=s.account.terms,
    )  # fmt: skip
    assert not truncated.ok
    assert "ends at entry" in (truncated.reason or "")


# --- what independent reviews found -------------------------------------------------------------------


def test_a_reversal_read_before_the_claim_reopens_bills_the_patient_nothing_more() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    first = s.paid("140.00", (("CO", "30.00"),), coinsurance="30.00")
    s.closed(first)
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=first, cause="event:rev", now=NOW)
    assert (s.account.insurance_pending, s.account.patient_due) == (D("200.00"), D("0"))  # ClaimReopened not yet
    s.verify()


def test_a_reversal_posted_by_hand_takes_back_the_payment_it_negates() -> None:
    s = Scenario()
    s.capture("150.00")
    s.claim_created()
    first = s.paid("100.00", (("CO", "30.00"),), coinsurance="20.00")
    second = s.paid("100.00", (("CO", "10.00"),), deductible="40.00")  # the same charge and paid: told apart by PR
    s.closed(first)
    s.account.reverse_matching(
        encounter_id=s.visit, claim_id=s.claim, charge=D("-150.00"), paid=D("-100.00"),
        patient_responsibility=D("-40.00"), cause="e", now=NOW,
    )  # fmt: skip
    assert s.account.encounters[s.visit].reversed == {second}
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("20.00"))
    s.verify()


def test_a_denial_answered_by_a_payment_later_taken_back_is_held_again() -> None:
    s = Scenario()
    s.capture("100.00")
    s.claim_created()
    denied = s.paid("0.00", (("CO", "100.00"),), lines=())
    s.hold(denied, "100.00", "L1")
    appealed = s.paid("80.00", (("CO", "20.00"),), lines=("L1",))
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=appealed, cause="e", now=NOW)
    s.closed(denied, "denial_accepted")  # the biller accepts the CO-197 after all: the provider's loss
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("0"))
    s.verify()


def test_a_claim_reprocessed_to_the_deductible_after_a_whole_denial_bills_the_deductible() -> None:
    s = Scenario()
    s.capture("100.00")
    s.claim_created()
    denied = s.paid("0.00", (("CO", "100.00"),), lines=())
    s.hold(denied, "100.00", "")
    again = s.paid("0.00", deductible="100.00", lines=None)  # no line detail: it answers the claim as a whole
    s.closed(again)
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("100.00"))
    s.verify()


def test_an_insurance_overpayment_is_not_the_patients_credit() -> None:
    s = Scenario()
    s.pay("25.00", visit=s.visit, at_visit=True)
    s.capture("150.00")
    s.claim_created()
    s.paid("75.00", (("CO", "50.00"),), copay="25.00")
    second = s.paid("75.00", (("CO", "50.00"),), copay="25.00")  # the payer paid the claim twice
    s.closed(second)
    assert s.account.credit == 0  # the excess is the payer's, to be recouped, not the patient's to be refunded
    assert s.account.encounters[s.visit].balance == D("-125.00")
    s.verify()


def test_a_charge_correction_waits_for_its_replacement_claim_before_billing() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    s.closed(s.paid("150.00", (("CO", "30.00"),), coinsurance="20.00"))
    s.capture("250.00", version=2)  # ChargesCorrected read before ClaimReplaced and the new ClaimCreated
    assert (s.account.insurance_pending, s.account.patient_due) == (D("70.00"), D("0"))
    s.verify()


def test_money_paid_after_a_bad_debt_write_off_recovers_it_rather_than_becoming_credit() -> None:
    s = Scenario()
    s.capture("80.00", self_pay=True)
    s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.write_off_due("bad_debt")
    assert s.account.patient_due == 0
    s.pay("50.00", source="agency", fee="15.00")
    assert (s.account.credit, s.account.terms.write_offs) == (D("0"), D("30.00"))
    s.verify()


def test_a_plan_counts_only_what_its_visits_are_paid_and_ends_when_they_are() -> None:
    s = Scenario()
    s.capture("300.00", self_pay=True)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    for _ in range(3):  # copays for new visits: not the plan's
        s.pay("100.00", visit=uuid4(), at_visit=True)
    assert (plan.state, s.account.plan_remaining(plan)) == ("active", D("300.00"))
    s.write_off_due("hardship")
    assert plan.state == "completed"  # nothing left on its visits: no default can follow
    s.verify()


def test_a_placement_ends_once_its_balance_is_paid_and_new_balances_are_billed() -> None:
    s = Scenario()
    s.capture("80.00", self_pay=True)
    s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.pay("80.00", source="agency", fee="20.00")
    assert s.account.placement is None
    assert [e.reason for e in s.account.events if isinstance(e, events.Recalled)] == ["paid_in_full"]
    s.visit = uuid4()
    s.capture("40.00", self_pay=True)
    assert s.account.statement_due(policy=POLICY, today=NOW.date())
    s.verify()


def test_a_visit_moves_to_another_guarantors_account_with_its_money() -> None:
    s = Scenario()
    s.pay("25.00", visit=s.visit, at_visit=True)
    s.capture("150.00")
    other = new_account()
    moved, carried = s.account.move_out(encounter_id=s.visit, cause="event:corrected", now=NOW)
    other.move_in(visit=moved, carried=carried, patient_id=uuid4(), cause="event:corrected", now=NOW)
    assert (s.account.balance, s.account.insurance_pending) == (D("0"), D("0"))
    assert (other.balance, other.encounters[s.visit].terms.patient_payments) == (D("125.00"), D("25.00"))
    s.verify()
    entries = other.chain.appended
    verdict = verify_account(
        other.id, entries, tip_seq=other.chain.seq, tip_hash=other.chain.tip, balance=other.balance,
        totals=other.terms,
    )  # fmt: skip
    assert verdict.ok


# --- what a third review found ------------------------------------------------------------------------


def test_a_claim_level_denial_is_answered_by_a_later_payment_with_line_detail() -> None:
    s = Scenario()
    s.capture("150.00")
    s.claim_created()
    denied = s.paid("0.00", (("CO", "150.00"),), lines=())
    s.hold(denied, "150.00", "")
    won = s.paid("100.00", (("CO", "30.00"),), coinsurance="20.00", lines=("L1",))
    s.closed(won, "paid_in_full")
    assert (s.account.insurance_pending, s.account.patient_due) == (D("0"), D("20.00"))
    s.verify()


def test_a_plan_whose_visit_is_back_with_insurance_misses_nothing_and_counts_the_credit_once_it_pays() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    first = s.paid("100.00", (("CO", "25.00"),), coinsurance="75.00")
    s.closed(first)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=first, cause="e", now=NOW)
    for _ in range(2):
        s.pay("25.00")
    assert (s.account.credit, s.account.plan_paid(plan)) == (D("50.00"), D("0"))  # waiting as credit
    s.account.review_plan(policy=POLICY, today=date(2026, 5, 1))
    assert (plan.state, plan.missed, plan.pause_started) == ("active", [], date(2026, 5, 1))  # nothing missed
    again = s.paid("100.00", (("CO", "25.00"),), coinsurance="75.00")
    s.closed(again)  # the payer's word again: the credit pays the plan's visit
    assert (s.account.credit, s.account.plan_paid(plan), s.account.patient_due) == (D("0"), D("50.00"), D("25.00"))
    s.account.review_plan(policy=POLICY, today=date(2026, 6, 1))  # what fell due in the pause is due
    assert (plan.missed, plan.pauses) == ([], [(date(2026, 5, 1), date(2026, 6, 1))])  # on the day it ended
    assert s.account.review_plan(policy=POLICY, today=date(2026, 6, 12))  # ten days' grace later: one miss
    assert (plan.missed, plan.state) == ([3], "active")  # March's and April's are paid by the credit
    s.verify()


def test_a_plan_statement_asks_for_what_completes_the_installment() -> None:
    s = Scenario()
    s.capture("300.00", self_pay=True)
    s.account.create_plan(plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date())
    s.pay("70.00")
    statement = s.account.issue_statement(statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=NOW.date())
    assert statement.plan is not None
    assert (statement.plan.installment_due, statement.plan.remaining) == (D("30.00"), D("230.00"))


def test_notices_start_afresh_for_a_new_debt_after_the_old_one_is_paid() -> None:
    s = Scenario()
    s.capture("80.00", self_pay=True)
    day = NOW.date()
    for offset in (0, 31, 62):
        s.account.issue_statement(
            statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=day + timedelta(days=offset)
        )
    s.pay("80.00", at=NOW + timedelta(days=70))
    s.visit = uuid4()
    s.capture("60.00", self_pay=True, at=NOW + timedelta(days=365))
    first = s.account.issue_statement(
        statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=day + timedelta(days=365)
    )
    assert first.dunning_level == 1
    assert not s.account.placement_due(policy=POLICY, today=day + timedelta(days=500))  # one notice only
    s.verify()


def test_the_agency_needs_the_oldest_amount_old_enough_as_well_as_the_final_notice() -> None:
    s = Scenario()
    s.capture("80.00", self_pay=True)
    day = NOW.date()
    policy = CollectionPolicy(statement_cycle_days=28, agency_after_statements=3, agency_after_days=120)
    for offset in (0, 28, 56):
        s.account.issue_statement(
            statement_id=uuid4(), policy=policy, how_to_pay=PAY, today=day + timedelta(days=offset)
        )
    assert not s.account.placement_due(policy=policy, today=day + timedelta(days=90))  # final notice past due
    assert s.account.placement_due(policy=policy, today=day + timedelta(days=120))


def test_statements_go_on_for_new_visits_while_older_ones_are_with_the_agency() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placement = s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    placed_visit = s.visit
    s.visit = uuid4()
    s.capture("120.00", self_pay=True)
    assert s.account.statement_due(policy=POLICY, today=NOW.date())
    statement = s.account.issue_statement(statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=NOW.date())
    assert (statement.amount_due, [line.encounter_id for line in statement.lines]) == (D("120.00"), [s.visit])
    s.pay("200.00", source="agency", fee="50.00", visit=placed_visit)
    assert (placement.recalled_on, placement.recall_reason) == (NOW.date(), "paid_in_full")
    s.verify()


def test_a_reversal_on_a_placed_visit_does_not_end_the_placement_as_paid() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    paid = s.paid("100.00", (("CO", "20.00"),), coinsurance="80.00")
    s.closed(paid)
    placement = s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=paid, cause="e", now=NOW)
    assert placement.active
    assert not [e for e in s.account.events if isinstance(e, events.Recalled)]


def test_hardship_is_let_go_for_good_and_a_voided_visit_takes_its_write_off_with_it() -> None:
    s = Scenario()
    s.capture("80.00", self_pay=True)
    s.write_off_due("hardship")
    s.pay("30.00")
    assert (s.account.credit, s.account.terms.write_offs) == (D("30.00"), D("80.00"))  # not recovered
    s.account.void(encounter_id=s.visit, cause="event:void", now=NOW)
    assert (s.account.balance, s.account.terms.write_offs, s.account.credit) == (D("-30.00"), D("0"), D("30.00"))
    s.verify()


def test_moving_a_planned_visit_away_cancels_its_plan() -> None:
    s = Scenario()
    s.capture("300.00", self_pay=True)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    s.account.move_out(encounter_id=s.visit, cause="event:corrected", now=NOW)
    assert plan.state == "cancelled"
    assert s.account.plan is None


# --- what a fourth review found -----------------------------------------------------------------------


def test_a_later_debt_while_an_older_one_is_with_the_agency_starts_at_the_first_notice() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placed = s.visit
    s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.visit = uuid4()
    s.capture("120.00", self_pay=True, at=NOW + timedelta(days=150))
    day = NOW.date() + timedelta(days=150)
    first = s.account.issue_statement(statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=day)
    assert (first.dunning_level, first.amount_due, sum(first.aging.values(), D("0"))) == (1, D("120.00"), D("120.00"))
    plan = s.account.create_plan(plan_id=uuid4(), months=3, first_due_on=day, policy=POLICY, today=day)
    assert plan.covered == (s.visit,)  # a plan for the later debt, the older one staying with the agency
    assert s.account.placement is not None
    assert s.account.placement.covered == (placed,)


def test_the_agencys_money_pays_what_it_was_given_and_the_patients_what_the_statements_billed() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placed = s.visit
    placement = s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.visit = uuid4()
    s.capture("120.00", self_pay=True)
    by_agency = s.pay("120.00", source="agency", fee="30.00")
    assert by_agency.applied == [(placed, D("120.00"))]
    by_patient = s.pay("120.00")
    assert by_patient.applied == [(s.visit, D("120.00"))]
    s.pay("50.00")  # the patient pays the practice on the placed visit too: the agency is told
    assert (placement.collected, placement.paid_directly) == (D("120.00"), D("50.00"))
    s.verify()


def test_the_agency_recovers_bad_debt_on_its_own_visits_first_and_then_the_placement_ends() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placement = s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.write_off_due("bad_debt")
    s.visit = uuid4()
    s.capture("120.00", self_pay=True)
    collected = s.pay("200.00", source="agency", fee="50.00")
    assert collected.applied[0][1] == D("200.00")  # all of it recovers the placed visit's bad debt
    assert (placement.active, placement.recall_reason) == (False, "paid_in_full")
    assert s.account.patient_due == D("120.00")
    s.verify()


def test_a_reversal_or_a_higher_charge_takes_nothing_from_what_was_paid_on_a_plan() -> None:
    s = Scenario()
    s.capture("300.00", self_pay=True)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    for _ in range(3):
        s.pay("100.00")
    s.capture("400.00", self_pay=True, version=2)  # corrected upwards after the plan was paid
    assert (plan.state, s.account.plan_paid(plan), s.account.patient_due) == ("completed", D("300.00"), D("100.00"))
    s.verify()


def test_a_hardship_write_off_stays_when_charges_are_lowered_and_the_patients_share_is_unchanged() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    s.closed(s.paid("150.00", (("CO", "30.00"),), coinsurance="20.00"))
    s.write_off_due("hardship")
    first = next(iter(s.account.encounters[s.visit].posted))
    s.capture("150.00", version=2)
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=first, cause="e", now=NOW)
    replacement = s.claim_created(claim=uuid4())
    s.account.encounters[s.visit].claims[replacement].encounter_version = 2
    s.account.supersede_claim(encounter_id=s.visit, claim_id=s.claim, cause="e", now=NOW)
    s.closed(s.paid("100.00", (("CO", "30.00"),), coinsurance="20.00", claim=replacement), claim=replacement)
    assert (s.account.patient_due, s.account.terms.write_offs) == (D("0"), D("20.00"))
    s.verify()


def test_a_reprocessing_with_the_same_share_keeps_the_debts_age() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    first = s.paid("125.00", (("CO", "0.00"),), coinsurance="75.00")
    s.closed(first, at=NOW)
    since = s.account.encounters[s.visit].due_since
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=first, cause="e", now=NOW + timedelta(days=100))
    again = s.paid("125.00", coinsurance="75.00", at=NOW + timedelta(days=100))
    s.closed(again, at=NOW + timedelta(days=100))
    assert s.account.encounters[s.visit].due_since == since
    assert s.account.days_past_due(NOW.date() + timedelta(days=125)) == 125


def test_a_placement_of_visits_voided_ends_as_placed_in_error() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placement = s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.account.void(encounter_id=s.visit, cause="event:void", now=NOW)
    assert (placement.active, placement.recall_reason) == (False, "placed_in_error")


def test_a_statement_due_date_must_come_before_the_next_statement() -> None:
    with pytest.raises(ValueError, match="pay within fewer days"):
        CollectionPolicy(statement_cycle_days=28, pay_within_days=35)


# --- what a fifth review found ------------------------------------------------------------------------


def test_a_denial_the_practice_writes_off_is_not_paid_toward_a_plan() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    denied = s.paid("0.00", (("CO", "100.00"),), coinsurance="100.00", lines=())
    s.hold(denied, "100.00", "L1")
    s.closed(denied, "denial_accepted")
    plan = s.account.create_plan(plan_id=uuid4(), months=2, first_due_on=NOW.date(), policy=POLICY, today=NOW.date())
    s.account.write_off_denial(
        encounter_id=s.visit, payment_id=denied, claim_id=s.claim, amount=D("100.00"), category="authorisation",
        cause="e", now=NOW,
    )  # fmt: skip
    assert (plan.paid, plan.state) == (D("0"), "active")
    s.verify()


def test_a_plan_shrinks_with_what_its_visits_owe() -> None:
    s = Scenario()
    s.capture("300.00", self_pay=True)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=2, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    s.capture("100.00", self_pay=True, version=2)  # corrected down: the patient owes a third of the plan
    s.pay("60.00")
    assert s.account.plan_remaining(plan) == D("40.00")
    s.account.review_plan(policy=POLICY, today=date(2026, 3, 26))
    assert plan.missed == []  # 60.00 paid of a 50.00 first
    statement = s.account.issue_statement(statement_id=uuid4(), policy=POLICY, how_to_pay=PAY, today=date(2026, 3, 26))
    assert statement.plan is not None
    assert (statement.plan.installment_due, statement.plan.remaining) == (D("40.00"), D("40.00"))


def test_an_insurance_overpayment_leaves_a_hardship_write_off_alone() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    first = s.paid("120.00", (("CO", "20.00"),), coinsurance="60.00")
    s.closed(first)
    s.write_off_due("hardship")
    duplicate = s.paid("80.00", (("CO", "0.00"),), coinsurance="0.00")  # the payer pays again by mistake
    assert s.account.terms.write_offs == D("60.00")
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=duplicate, cause="e", now=NOW)
    assert (s.account.patient_due, s.account.terms.write_offs) == (D("0"), D("60.00"))
    s.verify()


def test_what_reaches_placed_visits_besides_the_agency_is_noted_for_it() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placement = s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.write_off_due("bad_debt")
    s.pay("200.00")  # the patient pays the practice directly: the bad debt recovered
    assert (placement.paid_directly, placement.active, placement.recall_reason) == (
        D("200.00"), False, "paid_in_full"
    )  # fmt: skip
    s.verify()


def test_the_agencys_late_money_pays_its_visit_after_the_placement_ended() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placed = s.visit
    s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.account.recall(reason="returned_by_agency", note=None, today=NOW.date())
    late = s.pay("100.00", source="agency", fee="25.00")
    assert late.applied == [(placed, D("100.00"))]
    assert s.account.encounters[placed].balance == D("100.00")
    s.verify()


def test_a_visit_that_owed_nothing_for_a_while_owes_afresh_from_the_day_it_owes_again() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    first = s.paid("150.00", (("CO", "0.00"),), coinsurance="50.00")
    s.closed(first)
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=first, cause="e", now=NOW)
    s.paid("200.00", lines=None)  # reprocessed, paid in full while still reopened
    assert s.account.encounters[s.visit].due_since is None
    s.verify()


def test_a_small_balance_left_with_the_agency_is_the_agencys_to_collect() -> None:
    s = Scenario()
    s.capture("3.00", self_pay=True)
    s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.visit = uuid4()
    s.capture("1.50", self_pay=True)
    later = NOW.date() + timedelta(days=POLICY.small_balance_after_days)
    written = s.account.write_off_small_balance(write_off_id=uuid4(), policy=POLICY, today=later, cause="job", now=NOW)
    assert written is not None
    assert (written.amount, s.account.patient_due) == (D("1.50"), D("3.00"))
    s.verify()


# --- what a sixth review found ------------------------------------------------------------------------


def test_an_installment_in_its_grace_period_when_insurance_reopens_is_due_when_it_answers() -> None:
    s = Scenario()
    s.capture("200.00")
    s.claim_created()
    first = s.paid("120.00", (("CO", "20.00"),), coinsurance="60.00")
    s.closed(first)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=2, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    s.account.reverse_claim_payment(encounter_id=s.visit, payment_id=first, cause="e", now=NOW)
    s.account.review_plan(policy=POLICY, today=date(2026, 3, 20))  # 15 March's grace runs to the 25th
    again = s.paid("120.00", (("CO", "20.00"),), coinsurance="60.00")
    s.closed(again)
    s.account.review_plan(policy=POLICY, today=date(2026, 5, 1))
    assert plan.missed == []  # due 1 May now, with its grace from then
    s.account.review_plan(policy=POLICY, today=date(2026, 5, 12))
    assert plan.missed == [1, 2]


def test_installments_paid_as_billed_stay_paid_when_the_plan_grows_back() -> None:
    s = Scenario()
    s.capture("300.00", self_pay=True)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=3, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    s.capture("150.00", self_pay=True, version=2)  # the plan's schedule halves
    s.pay("50.00")  # the first installment as billed
    s.account.review_plan(policy=POLICY, today=date(2026, 3, 26))
    s.capture("300.00", self_pay=True, version=3)  # and grows back
    s.account.review_plan(policy=POLICY, today=date(2026, 3, 29))
    assert plan.missed == []


def test_what_the_patient_pays_the_practice_on_placed_visits_is_kept_for_the_agency() -> None:
    s = Scenario()
    s.capture("200.00", self_pay=True)
    placement = s.account.place_with_agency(placement_id=uuid4(), policy=POLICY, today=NOW.date(), by_collector=True)
    s.pay("50.00")
    s.pay("200.00", source="agency", fee="40.00")  # the agency collects all of it too: 50.00 is credit
    assert (placement.paid_directly, s.account.credit) == (D("50.00"), D("50.00"))


def test_a_small_installment_on_a_plan_is_billed_and_not_written_off() -> None:
    s = Scenario()
    s.capture("30.00", self_pay=True)
    plan = s.account.create_plan(
        plan_id=uuid4(), months=2, first_due_on=date(2026, 3, 15), policy=POLICY, today=NOW.date()
    )
    s.pay("26.00")
    later = NOW.date() + timedelta(days=90)
    assert (
        s.account.write_off_small_balance(write_off_id=uuid4(), policy=POLICY, today=later, cause="j", now=NOW) is None
    )
    assert s.account.statement_due(policy=POLICY, today=later)  # 4.00 under the minimum: billed all the same
    assert plan.state == "active"
