"""The guarantor account: the person responsible for one or more patients' bills, and its ledger.

Every change to its money is an entry on its chain (`ledger.py`), posted to one visit or, for a credit, to the
account itself. After each change the account settles itself the same way: a visit's overpayment by the
patient becomes the account's credit, the credit pays what is due (the oldest visit first), a held denial
whose claim closed unresolved is adjusted off, and a change in what is insurance-pending, patient-due or credit
is published once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar
from uuid import UUID

from rcm_collections.domain import events
from rcm_collections.domain.encounter import (
    ClaimLink,
    ClaimPayment,
    DenialHold,
    Encounter,
    PostedPayment,
    ServiceItem,
)
from rcm_collections.domain.ledger import ENTRY_KINDS, ZERO, Chain, EntryKind, Totals
from rcm_collections.domain.plans import PaymentPlan, schedule
from rcm_collections.domain.policy import AGING_BUCKETS, CollectionPolicy, HowToPay, aging_bucket
from rcm_collections.domain.statements import (
    DUNNING_MESSAGES,
    PLAN_MESSAGE,
    Addressee,
    PlanTerms,
    Statement,
    StatementLine,
)

PaymentSource = Literal["patient", "agency"]
RecallReason = Literal[
    "paid_in_full", "payment_arranged", "dispute", "hardship", "returned_by_agency", "placed_in_error", "other"
]
MINIMUM_INSTALLMENT: Final = Decimal("10.00")
RequestState = Literal["requested", "approved", "declined"]
WriteOffKind = Literal["small_balance", "hardship", "bad_debt"]


class Invalid(Exception):
    """A request the account refuses for a value in it: the field and why (answered 422, nothing changed)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class NotAllowed(Exception):
    """A request the account's state does not allow now (answered 409, nothing changed)."""


@dataclass
class Guarantor:
    """Who the statements go to: the patient, or the person registration names as responsible for them."""

    name: str
    address: Addressee | None
    phone: str | None = None


@dataclass
class PatientPayment:
    id: UUID
    received_at: datetime
    amount: Decimal
    method: str
    processor_reference: str | None
    source: PaymentSource
    agency_fee: Decimal
    encounter_id: UUID | None
    at_visit: bool
    applied: list[tuple[UUID, Decimal]] = field(default_factory=list)
    to_credit: Decimal = ZERO


@dataclass
class Refund:
    id: UUID
    amount: Decimal
    method: str
    reason: str
    requested_by: str
    requested_at: datetime
    state: RequestState = "requested"
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None


@dataclass
class WriteOff:
    id: UUID
    kind: WriteOffKind
    amount: Decimal
    reason: str
    requested_by: str
    requested_at: datetime
    state: RequestState = "requested"
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None


R = TypeVar("R", Refund, WriteOff)


@dataclass
class Placement:
    id: UUID
    agency: str
    placed_on: date
    amount: Decimal
    covered: tuple[UUID, ...] = ()
    """The visits placed: what the agency collects; statements go on for visits due later."""
    collected_on_visits: Decimal = ZERO
    """All that paid the placed visits while placed (the agency's, the patient's, credit applied)."""
    paid_directly: Decimal = ZERO
    """What reached the placed visits other than through the agency (the patient paying the practice, credit
    applied), for the agency's reconciliation."""
    extended_on: list[date] = field(default_factory=list)
    """The days later debts joined the placement (the agency's file of each lists the account)."""
    recalled_on: date | None = None
    recall_reason: RecallReason | None = None
    recall_note: str | None = None
    """The collector's words on the recall: kept here, encrypted with the account, never published."""
    reason: str | None = None
    """Why a collector placed it before the policy's terms (the cycle's placements have none)."""
    collected: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def active(self) -> bool:
        return self.recalled_on is None

    @property
    def days_placed(self) -> tuple[date, ...]:
        """The days it was placed or grew (a later debt joining it): the agency's file of each day lists it."""
        return (self.placed_on, *self.extended_on)


@dataclass
class StatementRecord:
    id: UUID
    issued_on: date
    amount_due: Decimal
    dunning_level: int | None


@dataclass
class Account:
    id: UUID
    guarantor: Guarantor
    patients: set[UUID] = field(default_factory=set)
    encounters: dict[UUID, Encounter] = field(default_factory=dict)
    chain: Chain = field(init=False)
    terms: Totals = field(default_factory=Totals)
    unapplied: Decimal = ZERO
    """The balance of entries on the account itself, not a visit: a credit is negative."""
    reserved: Decimal = ZERO
    """Credit set aside for refunds awaiting approval."""
    plans: list[PaymentPlan] = field(default_factory=list)
    statements: list[StatementRecord] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    payments: list[PatientPayment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    write_offs: list[WriteOff] = field(default_factory=list)
    published: tuple[Decimal, Decimal, Decimal] = (ZERO, ZERO, ZERO)
    version: int = 0
    events: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.chain = Chain(self.id)

    # --- what it shows ---------------------------------------------------------------------------

    @property
    def balance(self) -> Decimal:
        return self.terms.balance

    @property
    def insurance_pending(self) -> Decimal:
        return sum((e.balance for e in self.encounters.values() if not e.settled), ZERO)

    @property
    def patient_due(self) -> Decimal:
        return sum((e.balance for e in self.due_encounters()), ZERO)

    @property
    def credit(self) -> Decimal:
        return max(-self.unapplied, ZERO)

    @property
    def available_credit(self) -> Decimal:
        return max(self.credit - self.reserved, ZERO)

    @property
    def plan(self) -> PaymentPlan | None:
        """The plan in force, if any."""
        return next((plan for plan in self.plans if plan.state == "active"), None)

    @property
    def placement(self) -> Placement | None:
        """The agency placement in force, if any."""
        return next((placement for placement in self.placements if placement.active), None)

    @property
    def requests(self) -> list[Refund | WriteOff]:
        """Refunds and write-offs asked for, decided or not."""
        return [*self.refunds, *self.write_offs]

    def due_encounters(self) -> list[Encounter]:
        """The visits with a balance the patient owes, the oldest first."""
        due = [e for e in self.encounters.values() if e.settled and e.balance > 0]
        return sorted(due, key=lambda e: (e.due_since or date.max, e.date_of_service or date.max, str(e.id)))

    def days_past_due(self, today: date, *, billable_only: bool = True) -> int:
        """How long the oldest amount due has been the patient's: of what statements bill (not what an agency
        holds), or of everything due."""
        visits = self.billable_encounters() if billable_only else self.due_encounters()
        return max(((today - e.due_since).days for e in visits if e.due_since), default=0)

    def aging(self, today: date, *, billable_only: bool = False) -> dict[str, Decimal]:
        """The amounts due by days past due: everything due (the practice's A/R), or what statements bill."""
        buckets = dict.fromkeys(AGING_BUCKETS, ZERO)
        for e in self.billable_encounters() if billable_only else self.due_encounters():
            buckets[aging_bucket((today - (e.due_since or today)).days)] += e.balance
        return buckets

    # --- what insurance and the practice tell it --------------------------------------------------

    def capture(
        self,
        *,
        encounter_id: UUID,
        patient_id: UUID,
        version: int,
        self_pay: bool,
        date_of_service: date,
        provider_npi: str | None,
        items: tuple[ServiceItem, ...],
        total: Decimal,
        cause: str,
        now: datetime,
    ) -> None:
        """Charges captured or corrected: the visit's charges become `total` (a correction posts the difference).
        A version not newer than the one posted changes nothing."""
        visit = self._visit(encounter_id, patient_id)
        if version <= visit.version or visit.voided:
            return
        delta = total - visit.terms.charges
        memo = "Charges" if visit.version == 0 else f"Charges corrected (version {version})"
        visit.version, visit.self_pay, visit.date_of_service = version, self_pay, date_of_service
        visit.provider_npi, visit.items, visit.patient_id = provider_npi, items, patient_id
        self.patients.add(patient_id)
        self._post(visit, "charge", delta, cause, f"charges:{encounter_id}", memo, now)
        self._settle(cause, now)

    def void(self, *, encounter_id: UUID, cause: str, now: datetime) -> None:
        """The visit was withdrawn: its charges come off, and whatever the patient paid on it becomes credit."""
        visit = self.encounters.get(encounter_id)
        if visit is None or visit.voided:
            return
        self._post(visit, "charge", -visit.terms.charges, cause, f"charges:{encounter_id}", "Visit voided", now)
        visit.voided = True
        self._settle(cause, now)

    def link_claim(
        self,
        *,
        encounter_id: UUID,
        patient_id: UUID,
        claim_id: UUID,
        responsibility: str,
        payer_id: str,
        encounter_version: int,
        cause: str,
        now: datetime,
    ) -> None:
        visit = self._visit(encounter_id, patient_id)
        visit.claims.setdefault(claim_id, ClaimLink(claim_id, responsibility, payer_id, encounter_version))
        self._settle(cause, now)

    def supersede_claim(self, *, encounter_id: UUID, claim_id: UUID, cause: str, now: datetime) -> None:
        """The claim was replaced or voided: it no longer decides when the payers are done (its payments stand
        until the payer takes them back)."""
        claim = self.encounters[encounter_id].claims.get(claim_id)
        if claim is not None:
            claim.live = False
            self._settle(cause, now)

    def post_claim_payment(self, *, encounter_id: UUID, payment: ClaimPayment, cause: str, now: datetime) -> None:
        visit = self.encounters[encounter_id]
        if payment.payment_id in visit.posted:
            return
        visit.posted[payment.payment_id] = PostedPayment(
            payment.claim_id, payment.charge, payment.paid, payment.patient_share
        )
        if payment.payment_id not in visit.reversed:
            answered = payment.lines_answered
            if answered is None or answered:
                for held_by, hold in visit.holds.items():
                    if hold.claim_id == payment.claim_id and held_by != payment.payment_id:
                        hold.supersede(payment.payment_id, answered)
            reference = f"claim-payment:{payment.payment_id}"
            self._post(
                visit,
                "insurance_payment",
                -payment.paid,
                cause,
                reference,
                f"Paid by {payment.payer_id}",
                now,
                payment=payment.payment_id,
            )
            for group, amount in payment.adjustments:
                memo = f"{group} adjustment by {payment.payer_id}"
                self._post(visit, "adjustment", -amount, cause, reference, memo, now, payment=payment.payment_id)
        self._settle(cause, now)

    def hold_denial(
        self,
        *,
        encounter_id: UUID,
        payment_id: UUID,
        claim_id: UUID,
        lines: tuple[tuple[str, Decimal], ...],
        cause: str,
        now: datetime,
    ) -> None:
        """The payer denied these amounts (by line control number, "" for the claim as a whole; beyond the
        patient's part): held on the visit while it is worked."""
        visit = self.encounters[encounter_id]
        hold = visit.holds.setdefault(payment_id, DenialHold(claim_id))
        if hold.held or payment_id in visit.reversed:
            return
        for line, amount in lines:
            hold.lines[line] = hold.lines.get(line, ZERO) + amount
        amount = hold.held = sum(hold.lines.values(), ZERO)
        memo = "Denied by the payer: held while the denial is worked"
        self._post(visit, "adjustment", amount, cause, f"claim-payment:{payment_id}", memo, now, payment=payment_id)
        self._settle(cause, now)

    def reverse_claim_payment(self, *, encounter_id: UUID, payment_id: UUID, cause: str, now: datetime) -> None:
        """The payer took the payment back: every entry it made (and every write-off or release of its denial)
        is undone exactly."""
        visit = self.encounters[encounter_id]
        if payment_id in visit.reversed:
            return
        visit.reversed.add(payment_id)
        for kind, amount in list(visit.nets.get(payment_id, {}).items()):
            memo = "The payer took back its payment"
            self._post(visit, kind, -amount, cause, f"claim-payment:{payment_id}", memo, now, payment=payment_id)
        if payment_id in visit.holds:
            visit.holds[payment_id] = DenialHold(visit.holds[payment_id].claim_id)
        for hold in visit.holds.values():
            hold.restore(payment_id)
        self._settle(cause, now)

    def reverse_matching(
        self,
        *,
        encounter_id: UUID,
        claim_id: UUID,
        charge: Decimal,
        paid: Decimal,
        patient_responsibility: Decimal,
        cause: str,
        now: datetime,
    ) -> None:
        """A reversal that names no payment (posted by hand) takes back the earliest standing payment of the
        claim whose charge, paid and patient responsibility it negates exactly, as the claim service matches it;
        none such, nothing."""
        visit = self.encounters[encounter_id]
        for payment_id, posted in visit.posted.items():
            negated = posted.negated_by(charge, paid, patient_responsibility)
            if visit.standing(payment_id) and posted.claim_id == claim_id and negated:
                self.reverse_claim_payment(encounter_id=encounter_id, payment_id=payment_id, cause=cause, now=now)
                return

    def transfer_denial(
        self, *, encounter_id: UUID, payment_id: UUID, claim_id: UUID, amount: Decimal, cause: str, now: datetime
    ) -> None:
        """A biller moved a denied amount to the patient: it stays on the visit, the patient's once the claim
        closes."""
        visit = self.encounters[encounter_id]
        if payment_id in visit.reversed:
            return
        visit.holds.setdefault(payment_id, DenialHold(claim_id)).transferred += amount
        self._settle(cause, now)

    def write_off_denial(
        self,
        *,
        encounter_id: UUID,
        payment_id: UUID,
        claim_id: UUID,
        amount: Decimal,
        category: str,
        cause: str,
        now: datetime,
    ) -> None:
        visit = self.encounters[encounter_id]
        if payment_id in visit.reversed:
            return
        visit.holds.setdefault(payment_id, DenialHold(claim_id)).written_off += amount
        memo = f"Denial written off by the practice ({category})"
        self._post(visit, "write_off", -amount, cause, f"claim-payment:{payment_id}", memo, now, payment=payment_id)
        self._settle(cause, now)

    def withdraw_resolution(
        self, *, encounter_id: UUID, payment_id: UUID, kind: str, amount: Decimal, cause: str, now: datetime
    ) -> None:
        """A transfer or write-off no longer stands: undone up to what of it still stands (a reversal of its
        payment may have undone it already)."""
        visit = self.encounters[encounter_id]
        hold = visit.holds.get(payment_id)
        if hold is None:
            return
        if kind == "written_off":
            undo = min(amount, hold.written_off)
            hold.written_off -= undo
            memo = "Write-off withdrawn: the payer changed its answer"
            self._post(visit, "write_off", undo, cause, f"claim-payment:{payment_id}", memo, now, payment=payment_id)
        elif kind == "transferred_to_patient":
            hold.transferred = max(hold.transferred - amount, ZERO)
        self._settle(cause, now)

    def claim_closed(
        self, *, encounter_id: UUID, claim_id: UUID, reason: str, payment_id: UUID, cause: str, now: datetime
    ) -> None:
        claim = self.encounters[encounter_id].claims.get(claim_id)
        if claim is not None:
            claim.closed_reason, claim.closing_payment = reason, payment_id
            self._settle(cause, now)

    def claim_reopened(self, *, encounter_id: UUID, claim_id: UUID, cause: str, now: datetime) -> None:
        claim = self.encounters[encounter_id].claims.get(claim_id)
        if claim is not None:
            claim.closed_reason, claim.closing_payment = None, None
            self._settle(cause, now)

    # --- what people do ---------------------------------------------------------------------------

    def receive_payment(
        self,
        *,
        payment_id: UUID,
        amount: Decimal,
        method: str,
        processor_reference: str | None,
        encounter_id: UUID | None,
        at_visit: bool,
        patient_id: UUID | None,
        source: PaymentSource,
        agency_fee: Decimal,
        cause: str,
        now: datetime,
    ) -> PatientPayment:
        """A payment from the patient (or the agency for them). Applied to the visit it names (a copay at the
        visit stays on it until insurance answers, so the PR-3 it pays is not billed again), then to what is due,
        the oldest first (the agency's money to the visits it was given, the patient's to those the statements
        bill before those with the agency), then to what the practice wrote off as bad debt (recovering it);
        the rest is credit."""
        if amount <= 0:
            raise Invalid("amount", "A payment must be more than zero.")
        placement = self.placement or (self.placements[-1] if self.placements else None)
        if source == "agency":
            if placement is None:
                raise NotAllowed("The account was never with an agency: only the patient's payments can be posted.")
            if not ZERO <= agency_fee <= amount:
                raise Invalid("agency_fee", "The agency's fee must be between zero and the amount collected.")
        visit = None
        if encounter_id is not None:
            visit = self.encounters.get(encounter_id)
            if visit is None and not (at_visit and patient_id in self.patients):
                raise Invalid("encounter_id", "The account has no such visit.")
        elif at_visit:
            raise Invalid("encounter_id", "A payment at the visit names the visit.")
        if visit is None and encounter_id is not None and patient_id is not None:
            visit = self._visit(encounter_id, patient_id)  # a copay before the visit's charges are captured
        memo = f"Payment by {method}" + (" at the visit" if at_visit else "")
        if source == "agency" and placement is not None:
            placement.collected += amount
            placement.fees += agency_fee
            memo = f"Payment collected by {placement.agency} (its fee {agency_fee:.2f})"
        payment = PatientPayment(
            payment_id, now, amount, method, processor_reference, source, agency_fee, encounter_id, at_visit
        )
        reference, left = f"patient-payment:{payment_id}", amount
        targets = [visit] if visit is not None else []
        targets += [e for e in self._payment_order(source, placement) if e is not visit]
        for target in targets:
            share = left if target is visit and not target.settled else min(left, max(target.balance, ZERO))
            if share > 0:
                self._post(target, "patient_payment", -share, cause, reference, memo, now)
                payment.applied.append((target.id, share))
                left -= share
        recoverable = self._written_off_visits()
        if source == "agency" and placement is not None:  # the agency recovers only what it was given
            recoverable = [v for v in recoverable if v.id in placement.covered]
        for target in recoverable:
            share = min(left, target.bad_debt)
            if share > 0:
                recovered = "Bad debt recovered: paid after all"
                self._post(target, "write_off", share, cause, reference, recovered, now)
                self._post(target, "patient_payment", -share, cause, reference, memo, now)
                target.bad_debt -= share
                target.patient_written_off -= share
                payment.applied.append((target.id, share))
                self.events.append(events.WriteOffUndone(target.id, share, "recovered"))
                left -= share
        if source == "patient" and placement is not None:
            placement.paid_directly += sum((a for v, a in payment.applied if v in placement.covered), ZERO)
        if left > 0:
            self._post(None, "patient_payment", -left, cause, reference, f"{memo}: to credit", now)
            payment.to_credit = left
        self.payments.append(payment)
        self.events.append(
            events.PaymentReceived(
                payment_id, amount, method, source, agency_fee, tuple(payment.applied), payment.to_credit, at_visit
            )
        )
        self._settle(cause, now)
        return payment

    def request_refund(
        self, *, refund_id: UUID, amount: Decimal, method: str, reason: str, requested_by: str, now: datetime
    ) -> Refund:
        if amount <= 0:
            raise Invalid("amount", "A refund must be more than zero.")
        if amount > self.available_credit:
            raise Invalid("amount", f"The account's credit available to refund is {self.available_credit:.2f}.")
        refund = Refund(refund_id, amount, method, reason, requested_by, now)
        self.reserved += amount
        self.refunds.append(refund)
        return refund

    def decide_refund(self, *, refund_id: UUID, approve: bool, decided_by: str, cause: str, now: datetime) -> Refund:
        refund = _requested(self.refunds, refund_id, "refund")
        if decided_by == refund.requested_by:
            raise NotAllowed("A refund is approved by a collector other than the one who asked for it.")
        if approve and self.patient_due > 0:
            raise NotAllowed(
                f"The account owes {self.patient_due:.2f} now: decline the refund and let the credit pay it."
            )
        refund.state, refund.decided_by, refund.decided_at = ("approved" if approve else "declined"), decided_by, now
        self.reserved -= refund.amount
        if approve:
            memo = f"Refund by {refund.method}"
            self._post(None, "refund", refund.amount, cause, f"refund:{refund_id}", memo, now)
            self.events.append(events.RefundIssued(refund_id, refund.amount, refund.method))
        self._settle(cause, now)
        return refund

    def request_write_off(
        self,
        *,
        write_off_id: UUID,
        kind: WriteOffKind,
        amount: Decimal | None,
        reason: str,
        requested_by: str,
        now: datetime,
    ) -> WriteOff:
        due = self.patient_due
        if due <= 0:
            raise NotAllowed("The account has no balance due to write off.")
        amount = due if amount is None else amount
        if amount <= 0 or amount > due:
            raise Invalid("amount", f"A write-off is more than zero and at most the balance due, {due:.2f}.")
        write_off = WriteOff(write_off_id, kind, amount, reason, requested_by, now)
        self.write_offs.append(write_off)
        return write_off

    def decide_write_off(
        self, *, write_off_id: UUID, approve: bool, decided_by: str, cause: str, now: datetime
    ) -> WriteOff:
        write_off = _requested(self.write_offs, write_off_id, "write-off")
        if decided_by == write_off.requested_by:
            raise NotAllowed("A write-off is approved by a collector other than the one who asked for it.")
        if approve and self.patient_due <= 0:
            raise NotAllowed("The account has nothing due now: decline the write-off instead.")
        write_off.state = "approved" if approve else "declined"
        write_off.decided_by, write_off.decided_at = decided_by, now
        if approve:
            write_off.amount = min(write_off.amount, self.patient_due)
            self._write_off(write_off, cause, now)
        self._settle(cause, now)
        return write_off

    def write_off_small_balance(
        self, *, write_off_id: UUID, policy: CollectionPolicy, today: date, cause: str, now: datetime
    ) -> WriteOff | None:
        """A balance under the threshold, due long enough, is let go rather than billed again."""
        due = self.billable_due  # what the statements bill: an agency's visits are its to collect
        if self.plan is not None:
            return None  # the patient is paying it on a plan
        if (
            not ZERO < due < policy.small_balance_threshold
            or self.days_past_due(today) < policy.small_balance_after_days
        ):
            return None
        write_off = WriteOff(write_off_id, "small_balance", due, "under the small-balance threshold", cause, now)
        write_off.state, write_off.decided_by, write_off.decided_at = "approved", cause, now
        self.write_offs.append(write_off)
        self._write_off(write_off, cause, now, self.billable_encounters())
        self._settle(cause, now)
        return write_off

    def create_plan(
        self, *, plan_id: UUID, months: int, first_due_on: date, policy: CollectionPolicy, today: date
    ) -> PaymentPlan:
        due = self.billable_due
        if due <= 0:
            raise NotAllowed("The account has no balance due to put on a plan (outside an agency's placement).")
        if self.plan is not None:
            raise NotAllowed("The account already has a payment plan in force.")
        if not policy.plan_min_months <= months <= policy.plan_max_months:
            raise Invalid(
                "months", f"A plan runs {policy.plan_min_months} to {policy.plan_max_months} monthly installments."
            )
        if not today <= first_due_on <= today + timedelta(days=45):
            raise Invalid("first_due_on", "The first installment falls due within 45 days from today.")
        if due / months < MINIMUM_INSTALLMENT:
            raise Invalid("months", f"Each installment is at least {MINIMUM_INSTALLMENT:.2f}: take fewer months.")
        installments = schedule(due, months, first_due_on)
        covered = tuple(visit.id for visit in self.billable_encounters())
        plan = PaymentPlan(plan_id, today, due, installments, covered, grace_days=policy.plan_grace_days)
        self.plans.append(plan)
        self.events.append(events.PlanCreated(plan_id, due, months, installments[0].amount, first_due_on))
        return plan

    def review_plan(self, *, policy: CollectionPolicy, today: date) -> bool:
        """Count the installments missed since the last review; default the plan after too many. True when
        something changed."""
        plan = self.plan
        if plan is None:
            return False
        before = (plan.pause_started, len(plan.pauses), len(plan.fixed))
        if self.plan_waits_on_insurance(plan):
            plan.pause(today)  # what falls due while insurance answers again falls due when it has answered
            return (plan.pause_started, len(plan.pauses), len(plan.fixed)) != before
        plan.resume(today)
        scale = self.plan_scale(plan)
        plan.fix_due(today, scale)
        paid = self.plan_paid(plan) + self.available_credit  # credit waiting to pay the plan's visits counts
        missed = plan.newly_missed(today, policy.plan_grace_days, paid, scale)
        plan.missed += missed
        if len(plan.missed) >= policy.plan_misses_to_default:
            plan.state, plan.ended_on = "defaulted", today
            self.events.append(events.PlanDefaulted(plan.id, len(plan.missed), self.plan_remaining(plan)))
        return bool(missed) or (plan.pause_started, len(plan.pauses), len(plan.fixed)) != before

    def statement_due(self, *, policy: CollectionPolicy, today: date) -> bool:
        """A statement goes when what the account owes outside an agency's placement is at least the minimum (or
        anything, on a payment plan: its installment is billed however small), and the last statement is a
        cycle old."""
        minimum = ZERO if self.plan is not None else policy.statement_minimum
        if self.billable_due <= ZERO or self.billable_due < minimum:
            return False
        last = self.statements[-1].issued_on if self.statements else None
        return last is None or (today - last).days >= policy.statement_cycle_days

    def issue_statement(
        self, *, statement_id: UUID, policy: CollectionPolicy, how_to_pay: HowToPay, today: date
    ) -> Statement:
        if not self.statement_due(policy=policy, today=today):
            raise NotAllowed("No statement is due for the account now.")
        address = self.guarantor.address
        if address is None:
            raise NotAllowed("The guarantor has no address to send a statement to.")
        due_by = today + timedelta(days=policy.pay_within_days)
        lines = tuple(self._statement_line(visit, today) for visit in self.billable_encounters())
        plan, terms, level = self.plan, None, None
        if plan is not None:
            paid, scale = self.plan_paid(plan), self.plan_scale(plan)
            upcoming = plan.next_installment(paid, scale)
            next_due_on = plan.due_on(upcoming, today) if upcoming is not None else today
            through = plan.due_through(next_due_on, scale)  # what the schedule asks by the next installment's date
            left = sum(1 for i in plan.installments if plan.due_on(i, today) >= next_due_on)
            remaining = self.plan_remaining(plan)
            terms = PlanTerms(min(max(through - paid, ZERO), remaining), next_due_on, remaining, left)
            message = PLAN_MESSAGE
        else:
            level = self.dunning_level(policy, today)
            message = DUNNING_MESSAGES[level]
        statement = Statement(
            id=statement_id,
            account_id=self.id,
            issued_on=today,
            due_by=due_by,
            addressee=address,
            lines=lines,
            awaiting_insurance=self.insurance_pending,
            credit=self.credit,
            amount_due=self.billable_due,
            aging=self.aging(today, billable_only=True),
            dunning_level=level,
            message=message,
            plan=terms,
            payee=how_to_pay.payee,
            pay_address=how_to_pay.address,
            pay_phone=how_to_pay.phone,
            pay_online=how_to_pay.online,
        )
        self.statements.append(StatementRecord(statement_id, today, statement.amount_due, level))
        self.events.append(events.StatementIssued(statement_id, today, statement.amount_due, level, due_by))
        return statement

    def dunning_statements(self) -> list[StatementRecord]:
        """The notices sent about what is due now: since its oldest amount became the patient's, and since the
        account last started afresh (its last recall, or its last plan's end)."""
        starts = [p.recalled_on for p in self.placements if p.recalled_on]
        starts += [p.ended_on for p in self.plans if p.ended_on]
        since = max(starts, default=None)
        owed_since = min((v.due_since for v in self.billable_encounters() if v.due_since), default=None)
        return [
            s
            for s in self.statements
            if s.dunning_level is not None
            and (since is None or s.issued_on > since)
            and (owed_since is None or s.issued_on >= owed_since)
        ]

    def dunning_level(self, policy: CollectionPolicy, today: date) -> int:
        """The next notice's firmness: one step up from the last notice sent (a friendly first notice, a second,
        then the final notice before an agency), or sooner when the oldest amount due is old enough."""
        notices = self.dunning_statements()
        after_last = min((notices[-1].dunning_level or 0) + 1, 3) if notices else 1
        return max(after_last, policy.dunning_level(self.days_past_due(today)))

    def placement_due(self, *, policy: CollectionPolicy, today: date) -> bool:
        """The policy's terms for an agency: enough notices sent, the last of them the final notice and its
        due date past, the oldest amount due old enough, and no plan or placement in force."""
        notices = self.dunning_statements()
        final = notices[-1] if notices else None
        return (
            self.plan is None
            and self.billable_due > 0
            and len(notices) >= policy.agency_after_statements
            and final is not None
            and final.dunning_level == 3
            and (today - final.issued_on).days >= policy.pay_within_days
            and self.days_past_due(today) >= policy.agency_after_days
        )

    def place_with_agency(
        self, *, placement_id: UUID, policy: CollectionPolicy, today: date, by_collector: bool = False
    ) -> Placement:
        """Place what the statements bill with the agency: by the cycle when the policy says it is due, or by a
        collector's decision whenever something is due and no plan is in force. With a placement in force
        already, the later visits join it."""
        if self.plan is not None:
            raise NotAllowed("The account has a payment plan in force.")
        due = self.billable_due
        if due <= 0:
            raise NotAllowed("The account has no balance due to place.")
        if not by_collector and not self.placement_due(policy=policy, today=today):
            raise NotAllowed("The account is not due for an agency.")
        placed = tuple(visit.id for visit in self.billable_encounters())
        placement = self.placement
        if placement is None:
            placement = Placement(placement_id, policy.agency, today, due, placed)
            self.placements.append(placement)
        else:
            placement.covered += placed
            placement.amount += due
            placement.extended_on.append(today)
        self.events.append(events.PlacedWithAgency(placement.id, placement.agency, due))
        return placement

    def recall(self, *, reason: RecallReason, note: str | None, today: date) -> Placement:
        placement = self.placement
        if placement is None:
            raise NotAllowed("The account is not with an agency.")
        placement.recalled_on, placement.recall_reason, placement.recall_note = today, reason, note
        self.events.append(events.Recalled(placement.id, placement.agency, reason, self.placed_due(placement)))
        return placement

    def plan_remaining(self, plan: PaymentPlan) -> Decimal:
        """What the plan still asks for: its total less what was paid toward it, at most what its visits owe."""
        return max(min(plan.total - self.plan_paid(plan), self._plan_owed(plan)), ZERO)

    def plan_scale(self, plan: PaymentPlan) -> Decimal:
        """How much of the schedule still stands: all of it, or, when what the plan's visits owe fell (lower
        charges, a payer paying more), the share of the total that was paid or is still owed."""
        standing = min(plan.total, self.plan_paid(plan) + self._plan_owed(plan))
        return standing / plan.total if plan.total else Decimal(1)

    def _plan_owed(self, plan: PaymentPlan) -> Decimal:
        """What the plan's visits owe the practice now (not those back with insurance)."""
        visits = [self.encounters[v] for v in plan.covered if v in self.encounters]
        return sum((max(v.balance, ZERO) for v in visits if v.settled), ZERO)

    def placed_due(self, placement: Placement) -> Decimal:
        """What the placed visits still owe."""
        return sum((v.balance for v in self.due_encounters() if v.id in placement.covered), ZERO)

    def plan_waits_on_insurance(self, plan: PaymentPlan) -> bool:
        """A visit of the plan is back with insurance (a reversal): no installment is missed until it is not."""
        return any(v in self.encounters and not self.encounters[v].settled for v in plan.covered)

    @property
    def billable_due(self) -> Decimal:
        """What is due outside an agency's placement: what statements bill."""
        return sum((visit.balance for visit in self.billable_encounters()), ZERO)

    def billable_encounters(self) -> list[Encounter]:
        placement = self.placement
        placed = set(placement.covered) if placement is not None else set()
        return [visit for visit in self.due_encounters() if visit.id not in placed]

    def plan_paid(self, plan: PaymentPlan) -> Decimal:
        return min(max(plan.paid, ZERO), plan.total)

    def move_out(self, *, encounter_id: UUID, cause: str, now: datetime) -> tuple[Encounter, dict[EntryKind, Decimal]]:
        """The visit goes to another guarantor's account (a correction named another patient): its entries are
        reversed here, and it is handed over with what they added up to, by kind, for the other account."""
        visit = self.encounters[encounter_id]
        carried = {kind: visit.terms.signed(kind) for kind in ENTRY_KINDS if visit.terms.signed(kind)}
        memo = "Visit moved to another guarantor's account"
        for kind, amount in carried.items():
            self._post(visit, kind, -amount, cause, f"moved:{encounter_id}", memo, now)
        del self.encounters[encounter_id]
        for plan in self.plans:
            if plan.state == "active" and encounter_id in plan.covered:
                plan.state, plan.ended_on = "cancelled", now.date()  # its visit is another guarantor's now
        for placement in self.placements:
            placement.covered = tuple(v for v in placement.covered if v != encounter_id)
        self._settle(cause, now)
        return visit, carried

    def move_in(
        self, *, visit: Encounter, carried: dict[EntryKind, Decimal], patient_id: UUID, cause: str, now: datetime
    ) -> None:
        visit.patient_id, visit.due_since = patient_id, None
        self.encounters[visit.id] = visit
        self.patients.add(patient_id)
        memo = "Visit moved from another guarantor's account"
        for kind, amount in carried.items():
            self._post(visit, kind, amount, cause, f"moved:{visit.id}", memo, now)
        self._settle(cause, now)

    # --- inside ---------------------------------------------------------------------------------------

    def _visit(self, encounter_id: UUID, patient_id: UUID) -> Encounter:
        visit = self.encounters.get(encounter_id)
        if visit is None:
            visit = self.encounters[encounter_id] = Encounter(encounter_id, patient_id)
            self.patients.add(patient_id)
        return visit

    def _post(
        self,
        visit: Encounter | None,
        kind: EntryKind,
        amount: Decimal,
        cause: str,
        reference: str,
        memo: str,
        now: datetime,
        *,
        payment: UUID | None = None,
    ) -> None:
        if amount == 0:
            return
        self.chain.append(
            encounter_id=None if visit is None else visit.id,
            kind=kind,
            amount=amount,
            cause=cause,
            reference=reference,
            memo=memo,
            posted_at=now,
        )
        self.terms.add(kind, amount)
        if visit is None:
            self.unapplied += amount
            return
        visit.terms.add(kind, amount)
        if payment is not None:
            visit.net(payment, kind, amount)
        plan = self.plan
        patients_side = kind == "patient_payment" or (kind == "write_off" and payment is None)
        if plan is not None and patients_side and visit.id in plan.covered:
            plan.paid -= amount  # what the patient paid, or the practice let go of the patient's own balance
        placement = self.placement
        if placement is not None and kind == "patient_payment" and amount < 0 and visit.id in placement.covered:
            placement.collected_on_visits -= amount

    def _undo_write_offs(self, visit: Encounter, up_to: Decimal, memo: str, cause: str, now: datetime) -> None:
        """The practice's write-offs on the visit taken back, up to `up_to`: what they wrote off is no longer
        owed anyway (a void, lower charges), and must not be recovered later."""
        undo = min(visit.patient_written_off, max(up_to, ZERO))
        if undo > 0:
            self._post(visit, "write_off", undo, cause, f"charges:{visit.id}", memo, now)
            self.events.append(events.WriteOffUndone(visit.id, undo, "no_longer_owed"))
            visit.patient_written_off -= undo
            visit.bad_debt = max(visit.bad_debt - undo, ZERO)

    def _end_placement_when_done(self, placement: Placement, today: date) -> None:
        """A placement ends by itself when its visits are paid (none owes, none is back with insurance, no bad
        debt is left to recover), or when none of them is on the account any more (moved away)."""
        visits = [self.encounters[v] for v in placement.covered if v in self.encounters]
        reason: RecallReason
        if not all(v.settled and v.balance <= 0 and v.bad_debt == 0 for v in visits):
            return
        if all(v.voided for v in visits):
            reason = "placed_in_error"  # moved away or voided: nothing was owed after all
        elif placement.collected_on_visits > 0:
            reason = "paid_in_full"
        else:
            reason = "hardship" if any(v.patient_written_off > 0 for v in visits) else "other"
        placement.recalled_on, placement.recall_reason = today, reason
        self.events.append(events.Recalled(placement.id, placement.agency, reason, ZERO))

    def _payment_order(self, source: PaymentSource, placement: Placement | None) -> list[Encounter]:
        """Where money goes, the oldest first: the agency's to the visits it was given (what it collected beyond
        them is the patient's credit); the patient's to what the statements bill, then to what is with the
        agency."""
        if source == "agency":  # its visits, even back with insurance or after the placement ended
            covered = placement.covered if placement is not None else ()
            return [self.encounters[v] for v in covered if v in self.encounters and self.encounters[v].balance > 0]
        placed = placement.covered if placement is not None and placement.active else ()
        return sorted(self.due_encounters(), key=lambda v: v.id in placed)

    def _plan_done(self, plan: PaymentPlan) -> bool:
        """Paid in full, or its visits settled and owing nothing (insurance paid more after all)."""
        visits = [self.encounters[v] for v in plan.covered if v in self.encounters]
        return plan.paid >= plan.total or all(v.settled and v.balance <= 0 for v in visits)

    def _written_off_visits(self) -> list[Encounter]:
        """Settled visits with bad debt written off, the oldest first."""
        found = [v for v in self.encounters.values() if v.settled and v.bad_debt > 0]
        return sorted(found, key=lambda v: (v.date_of_service or date.max, str(v.id)))

    def _statement_line(self, visit: Encounter, today: date) -> StatementLine:
        days = (today - visit.due_since).days if visit.due_since else 0
        terms = visit.terms
        return StatementLine(
            encounter_id=visit.id,
            date_of_service=visit.date_of_service,
            provider_npi=visit.provider_npi,
            services=tuple(item.label for item in visit.items),
            billed=terms.charges,
            insurance_paid=terms.insurance_payments,
            adjustments=terms.adjustments + terms.write_offs,
            patient_paid=terms.patient_payments,
            patient_owes=visit.balance,
            days_past_due=days,
            aging=aging_bucket(days),
        )

    def _write_off(self, write_off: WriteOff, cause: str, now: datetime, visits: list[Encounter] | None = None) -> None:
        """Post the write-off against `visits`, else what is due (what the statements bill before what an
        agency holds), the oldest first."""
        left = write_off.amount
        memo = f"{write_off.kind.replace('_', '-')} write-off"
        applied = []
        for visit in visits if visits is not None else self._payment_order("patient", self.placement):
            share = min(left, visit.balance)
            self._post(visit, "write_off", -share, cause, f"write-off:{write_off.id}", memo, now)
            visit.patient_written_off += share
            if write_off.kind == "bad_debt":
                visit.bad_debt += share
            left -= share
            if share:
                applied.append((visit.id, share))
        self.events.append(events.WrittenOff(write_off.id, write_off.kind, write_off.amount - left, tuple(applied)))

    def _settle(self, cause: str, now: datetime) -> None:
        """Bring the account to rest after a change (see the module's docstring)."""
        for visit in self.encounters.values():
            for payment_id, wanted in visit.wanted_releases().items():
                hold = visit.holds[payment_id]
                if wanted != hold.released:
                    memo = (
                        "Denial stands: adjusted off" if wanted > hold.released else "Denial put back: claim reopened"
                    )
                    self._post(
                        visit,
                        "adjustment",
                        -(wanted - hold.released),
                        cause,
                        f"claim-payment:{payment_id}",
                        memo,
                        now,
                        payment=payment_id,
                    )
                    hold.released = wanted
            if visit.settled and visit.balance < 0 and visit.patient_written_off > 0:  # lower charges, a void
                owed = visit.terms.charges if visit.self_pay or visit.voided else visit.patient_owes
                excess = visit.terms.patient_payments + visit.patient_written_off - owed  # not the payer's excess
                undo = min(-visit.balance, max(excess, ZERO))
                self._undo_write_offs(visit, undo, "Write-off undone: no longer owed", cause, now)
            if visit.settled and visit.balance < 0:
                owed = visit.terms.charges if visit.self_pay or visit.voided else visit.patient_owes
                patients_money = min(-visit.balance, max(visit.terms.patient_payments - owed, ZERO))
                if patients_money > 0:
                    self._post(
                        visit, "patient_payment", patients_money, cause, "credit", "Overpayment moved to credit", now
                    )
                    self._post(
                        None, "patient_payment", -patients_money, cause, "credit", "Credit from an overpayment", now
                    )
                    self.events.append(events.CreditMoved(visit.id, -patients_money))
        today = now.date()
        for visit in self.encounters.values():
            if visit.balance <= 0:
                visit.due_since = None
            elif visit.settled:  # a visit back with insurance, still owing, keeps its date: no clock restarts
                visit.due_since = visit.due_since or today
        available = self.available_credit
        placed = self.placement.covered if self.placement is not None else ()
        for visit in sorted(self.due_encounters(), key=lambda v: v.id in placed):  # what statements bill first
            share = min(available, visit.balance)
            if share <= 0:
                break
            self._post(visit, "patient_payment", -share, cause, "credit", "Credit applied", now)
            self._post(None, "patient_payment", share, cause, "credit", "Credit applied to a visit", now)
            self.events.append(events.CreditMoved(visit.id, share))
            if self.placement is not None and visit.id in self.placement.covered:
                self.placement.paid_directly += share
            available -= share
            if visit.balance == 0:
                visit.due_since = None
        plan = self.plan
        if plan is not None and self._plan_done(plan):
            plan.state, plan.ended_on = "completed", today
        placement = self.placement
        if placement is not None:
            self._end_placement_when_done(placement, today)
        shown = (self.insurance_pending, self.patient_due, self.credit)
        if shown != self.published:
            self.published = shown
            self.events.append(events.BalanceChanged(*shown, self.balance, cause))


def _requested(requests: list[R], request_id: UUID, what: str) -> R:
    for request in requests:
        if request.id == request_id:
            if request.state != "requested":
                raise NotAllowed(f"The {what} was {request.state} already.")
            return request
    raise Invalid("id", f"The account has no such {what}.")
