"""The denial and deadline work queues as a biller reads them: codes, amounts and dates; never the patient."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from rcm_claim.domain.deadlines import Deadline, DeadlineKind
from rcm_claim.domain.model import Claim, ClaimState
from rcm_common.types import Money


class DenialItem(BaseModel):
    claim_id: UUID
    patient_control_number: str
    payer_id: str
    state: ClaimState
    date_of_service: date
    payment_id: UUID  # the payment that carried the denial
    category: str
    whole_claim: bool
    reasons: list[str]  # GROUP-CARC
    in_words: list[str]  # each CARC and RARC with its meaning
    suggested_action: str
    amount_at_stake: Money
    denied_on: date
    appeal_deadline: date | None  # None when the payer directory gives no appeal window
    appeals_made: int

    @classmethod
    def of(cls, claim: Claim, appeal_deadline: date | None) -> DenialItem:
        denial = claim.open_denial
        assert denial is not None, "the queue holds claims with an open denial"
        return cls(
            claim_id=claim.id, patient_control_number=claim.patient_control_number, payer_id=claim.payer_id,
            state=claim.state, date_of_service=claim.date_of_service, payment_id=denial.payment_id,
            category=denial.category, whole_claim=denial.whole_claim, reasons=list(denial.reasons),
            in_words=list(denial.words), suggested_action=denial.suggested_action, amount_at_stake=denial.amount,
            denied_on=claim.denied_on(denial), appeal_deadline=appeal_deadline, appeals_made=len(claim.appeals),
        )  # fmt: skip


class DenialGroup(BaseModel):
    """The open denials of one category (eligibility, authorisation, coding, ...) on the page, the nearest deadline
    and the largest amount first; `count` and `amount_at_stake` are the whole category's."""

    category: str
    count: int
    amount_at_stake: Money
    items: list[DenialItem]


class DenialQueue(BaseModel):
    count: int
    amount_at_stake: Money
    groups: list[DenialGroup]  # the category with the nearest deadline first


class DeadlinePublic(BaseModel):
    kind: DeadlineKind
    claim_id: UUID
    patient_control_number: str
    payer_id: str
    state: ClaimState
    date_of_service: date
    due: date
    days_left: int  # negative once passed
    passed: bool
    amount: Money
    likely_write_off: Money | None  # what is lost once the deadline has passed

    @classmethod
    def of(cls, deadline: Deadline) -> DeadlinePublic:
        return cls(
            kind=deadline.kind, claim_id=deadline.claim_id, patient_control_number=deadline.patient_control_number,
            payer_id=deadline.payer_id, state=deadline.state, date_of_service=deadline.date_of_service,
            due=deadline.due, days_left=deadline.days_left, passed=deadline.passed, amount=deadline.amount,
            likely_write_off=deadline.likely_write_off,
        )  # fmt: skip


class UnderpaymentItem(BaseModel):
    """A claim the payer allowed below the contract's expected allowed (remittance's UnderpaymentDetected)."""

    claim_id: UUID
    patient_control_number: str
    payer_id: str
    date_of_service: date
    underpaid_by: Money
    since: datetime  # when the claim became partially paid

    @classmethod
    def of(cls, claim: Claim) -> UnderpaymentItem:
        underpaid = claim.open_underpayment
        assert underpaid is not None, "the queue holds claims with an open underpayment"
        return cls(
            claim_id=claim.id, patient_control_number=claim.patient_control_number, payer_id=claim.payer_id,
            date_of_service=claim.date_of_service, underpaid_by=underpaid, since=claim.in_state_since,
        )  # fmt: skip
