"""Integration events published by the collections service on `rcm.collections.events`, keyed by the guarantor
account. They say what the patients owe and what was done to collect it: the balance after every change, split
into what insurance has still to answer and what is the patient's; statements; payment plans; payments,
refunds and write-offs; agency placements and recalls. No names, addresses or card numbers travel here:
accounts are named by id, payments by the processor's reference at most.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from rcm_common.events.base import IntegrationEvent, OpenEnum
from rcm_common.types import Money

PaymentSource = Annotated[Literal["patient", "agency"], OpenEnum(unknown_reads_as=None)]
WriteOffKind = Annotated[Literal["small_balance", "hardship", "bad_debt"], OpenEnum(unknown_reads_as=None)]
RecallReasonName = Literal[
    "paid_in_full", "payment_arranged", "dispute", "hardship", "returned_by_agency", "placed_in_error", "other"
]
RecallReason = Annotated[RecallReasonName, OpenEnum(unknown_reads_as="other")]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _AccountEvent(IntegrationEvent):
    subject_field: ClassVar[str] = "account_id"

    account_id: UUID


class PatientBalanceChanged(_AccountEvent):
    """The account's balance after a change: `insurance_pending` is still the payers' to answer (never billed to
    the patient), `patient_due` the patient's to pay, `credit` the patient's money not yet applied; `balance`
    is all of it (pending + due - credit). `cause` names what changed it (`event:<id>`, `api:<subject>`,
    `job:<name>`)."""

    event_type: ClassVar[str] = "rcm.collections.patient_balance_changed"

    insurance_pending: Money
    patient_due: Money
    credit: Money
    balance: Money
    cause: str


class StatementIssued(_AccountEvent):
    """A statement went to the guarantor; `dunning_level` 1 to 3 (first notice, second, final before an agency),
    None when the account is on a payment plan and the statement shows the plan instead."""

    event_type: ClassVar[str] = "rcm.collections.statement_issued"

    statement_id: UUID
    issued_on: date
    amount_due: Money
    due_by: date
    dunning_level: int | None


class PaymentPlanCreated(_AccountEvent):
    event_type: ClassVar[str] = "rcm.collections.payment_plan_created"

    plan_id: UUID
    total: Money
    months: int
    installment_amount: Money
    first_due_on: date


class PaymentPlanDefaulted(_AccountEvent):
    event_type: ClassVar[str] = "rcm.collections.payment_plan_defaulted"

    plan_id: UUID
    missed_installments: int
    remaining: Money


class AppliedPayment(_Part):
    encounter_id: UUID
    amount: Money


class PatientPaymentReceived(_AccountEvent):
    """A payment by the patient, or collected by the agency for them (with the agency's fee): how it was applied
    to the visits, and what became credit."""

    event_type: ClassVar[str] = "rcm.collections.patient_payment_received"

    payment_id: UUID
    amount: Money
    method: str
    source: PaymentSource
    agency_fee: Money
    applied: tuple[AppliedPayment, ...]
    to_credit: Money
    at_visit: bool = False
    """Taken at the visit (a copay at the front desk), before insurance answered: point-of-service collections."""


class RefundIssued(_AccountEvent):
    """A credit refunded to the patient, approved by a collector."""

    event_type: ClassVar[str] = "rcm.collections.refund_issued"

    refund_id: UUID
    amount: Money
    method: str


class BalanceWrittenOff(_AccountEvent):
    event_type: ClassVar[str] = "rcm.collections.balance_written_off"

    write_off_id: UUID
    kind: WriteOffKind
    amount: Money
    applied: tuple[AppliedPayment, ...] = ()
    """The visits it was written off from, and how much from each."""


class WriteOffReversed(_AccountEvent):
    """A write-off of the patient's balance on a visit taken back, in part or whole: the patient paid a bad debt
    after all (`recovered`: the payment that did it is its own PatientPaymentReceived), or the visit was voided or
    its charges lowered so what was written off is no longer owed (`no_longer_owed`)."""

    event_type: ClassVar[str] = "rcm.collections.write_off_reversed"
    encounter_id: UUID
    amount: Money
    reason: Annotated[Literal["recovered", "no_longer_owed"], OpenEnum(unknown_reads_as=None)]


class PatientCreditMoved(_AccountEvent):
    """The patient's money moved between a visit and the account's credit: credit applied to a visit that came to
    owe (`amount` > 0), or a visit's overpayment (its charges lowered, a payer paying after the patient) moved to
    credit (`amount` < 0). The account's balance does not change."""

    event_type: ClassVar[str] = "rcm.collections.patient_credit_moved"
    encounter_id: UUID
    amount: Money


class AccountPlacedWithAgency(_AccountEvent):
    """Visits of the account went to a collection agency with `amount` due; statements stop for them (and go on
    for visits due later). A later debt that joins a placement in force is published again, with the same
    placement and the amount it added."""

    event_type: ClassVar[str] = "rcm.collections.account_placed_with_agency"

    placement_id: UUID
    agency: str
    amount: Money


class AccountRecalled(_AccountEvent):
    """The account came back from the agency (`amount` is what was still due), by a collector or by itself once
    nothing was due (`paid_in_full`); statements resume. The collector's words stay with collections."""

    event_type: ClassVar[str] = "rcm.collections.account_recalled"

    placement_id: UUID
    agency: str
    reason: RecallReason
    amount: Money
