"""What the HTTP API shows of accounts, their ledgers, plans, payments and requests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from rcm_collections.adapters.repository import AccountSummary
from rcm_collections.domain.account import Account, PatientPayment, Placement, Refund, WriteOff
from rcm_collections.domain.encounter import Encounter
from rcm_collections.domain.ledger import Entry
from rcm_collections.domain.plans import Installment, PaymentPlan
from rcm_collections.domain.statements import Addressee
from rcm_common.types import Money

VisitStatus = Literal["insurance_pending", "patient_due", "settled"]


class AccountSummaryPublic(BaseModel):
    id: UUID
    state: str
    insurance_pending: Money
    patient_due: Money
    credit: Money
    balance: Money
    oldest_due_on: date | None
    last_statement_on: date | None
    open_requests: int

    @classmethod
    def of(cls, summary: AccountSummary) -> AccountSummaryPublic:
        return cls(
            id=summary.id,
            state=summary.state,
            insurance_pending=summary.insurance_pending,
            patient_due=summary.patient_due,
            credit=summary.credit,
            balance=summary.balance,
            oldest_due_on=summary.oldest_due_on,
            last_statement_on=summary.last_statement_on,
            open_requests=summary.open_requests,
        )


class GuarantorPublic(BaseModel):
    name: str
    address: Addressee | None
    phone: str | None


class InvariantTerms(BaseModel):
    """balance = charges - insurance_payments - adjustments - patient_payments - write_offs + refunds."""

    charges: Money
    insurance_payments: Money
    adjustments: Money
    patient_payments: Money
    write_offs: Money
    refunds: Money
    balance: Money


class PatientSharePublic(BaseModel):
    deductible: Money
    coinsurance: Money
    copay: Money
    other: Money


class VisitPublic(BaseModel):
    encounter_id: UUID
    patient_id: UUID
    date_of_service: date | None
    provider_npi: str | None
    services: list[str]
    status: VisitStatus
    billed: Money
    insurance_paid: Money
    adjustments: Money
    patient_paid: Money
    written_off: Money
    balance: Money
    due_since: date | None
    patient_share: PatientSharePublic

    @classmethod
    def of(cls, visit: Encounter) -> VisitPublic:
        status: VisitStatus = "insurance_pending"
        if visit.settled:
            status = "patient_due" if visit.balance > 0 else "settled"
        share = visit.patient_share
        terms = visit.terms
        return cls(
            encounter_id=visit.id,
            patient_id=visit.patient_id,
            date_of_service=visit.date_of_service,
            provider_npi=visit.provider_npi,
            services=[item.label for item in visit.items],
            status=status,
            billed=terms.charges,
            insurance_paid=terms.insurance_payments,
            adjustments=terms.adjustments,
            patient_paid=terms.patient_payments,
            written_off=terms.write_offs,
            balance=visit.balance,
            due_since=visit.due_since,
            patient_share=PatientSharePublic(
                deductible=share.deductible, coinsurance=share.coinsurance, copay=share.copay, other=share.other
            ),
        )


class InstallmentPublic(BaseModel):
    number: int
    due_on: date
    amount: Money

    @classmethod
    def of(cls, installment: Installment) -> InstallmentPublic:
        return cls(number=installment.number, due_on=installment.due_on, amount=installment.amount)


class PlanPublic(BaseModel):
    id: UUID
    state: str
    created_on: date
    total: Money
    paid: Money
    remaining: Money
    missed_installments: list[int]
    installments: list[InstallmentPublic]

    @classmethod
    def of(cls, plan: PaymentPlan, remaining: Decimal) -> PlanPublic:
        return cls(
            id=plan.id,
            state=plan.state,
            created_on=plan.created_on,
            total=plan.total,
            paid=plan.total - remaining,
            remaining=remaining,
            missed_installments=list(plan.missed),
            installments=[InstallmentPublic.of(i) for i in plan.installments],
        )


class AppliedPublic(BaseModel):
    encounter_id: UUID
    amount: Money


class PaymentPublic(BaseModel):
    id: UUID
    account_id: UUID
    received_at: datetime
    amount: Money
    method: str
    processor_reference: str | None
    source: str
    agency_fee: Money
    encounter_id: UUID | None
    at_visit: bool
    applied: list[AppliedPublic]
    to_credit: Money

    @classmethod
    def of(cls, account_id: UUID, payment: PatientPayment) -> PaymentPublic:
        return cls(
            id=payment.id,
            account_id=account_id,
            received_at=payment.received_at,
            amount=payment.amount,
            method=payment.method,
            processor_reference=payment.processor_reference,
            source=payment.source,
            agency_fee=payment.agency_fee,
            encounter_id=payment.encounter_id,
            at_visit=payment.at_visit,
            applied=[AppliedPublic(encounter_id=e, amount=a) for e, a in payment.applied],
            to_credit=payment.to_credit,
        )


class RequestPublic(BaseModel):
    """A refund or a write-off asked for, and the collector's decision."""

    id: UUID
    account_id: UUID
    kind: str
    amount: Money
    reason: str
    method: str | None
    state: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, account_id: UUID, request: Refund | WriteOff) -> RequestPublic:
        refund = isinstance(request, Refund)
        return cls(
            id=request.id,
            account_id=account_id,
            kind="refund" if refund else request.kind,  # type: ignore[union-attr]
            amount=request.amount,
            reason=request.reason,
            method=request.method if isinstance(request, Refund) else None,
            state=request.state,
            requested_by=request.requested_by,
            requested_at=request.requested_at,
            decided_by=request.decided_by,
            decided_at=request.decided_at,
        )


class PlacementPublic(BaseModel):
    id: UUID
    account_id: UUID
    agency: str
    placed_on: date
    amount: Money
    active: bool
    recalled_on: date | None
    recall_reason: str | None
    collected: Money
    fees: Money
    paid_directly: Money

    @classmethod
    def of(cls, account_id: UUID, placement: Placement) -> PlacementPublic:
        return cls(
            id=placement.id,
            account_id=account_id,
            agency=placement.agency,
            placed_on=placement.placed_on,
            amount=placement.amount,
            active=placement.active,
            recalled_on=placement.recalled_on,
            recall_reason=placement.recall_reason,
            collected=placement.collected,
            fees=placement.fees,
            paid_directly=placement.paid_directly,
        )


class StatementSummaryPublic(BaseModel):
    id: UUID
    issued_on: date
    amount_due: Money
    dunning_level: int | None


class AccountPublic(BaseModel):
    id: UUID
    state: str
    guarantor: GuarantorPublic
    patients: list[UUID]
    insurance_pending: Money
    patient_due: Money
    credit: Money
    credit_reserved_for_refunds: Money
    terms: InvariantTerms
    aging: dict[str, Money]
    visits: list[VisitPublic]
    plan: PlanPublic | None
    plans: list[PlanPublic]
    statements: list[StatementSummaryPublic]
    placements: list[PlacementPublic]
    payments: list[PaymentPublic]
    requests: list[RequestPublic]
    ledger_entries: int

    @classmethod
    def of(cls, account: Account, today: date, state: str) -> AccountPublic:
        terms = account.terms
        plan = account.plan
        visits = sorted(account.encounters.values(), key=lambda v: (v.date_of_service or date.max, str(v.id)))
        return cls(
            id=account.id,
            state=state,
            guarantor=GuarantorPublic(
                name=account.guarantor.name, address=account.guarantor.address, phone=account.guarantor.phone
            ),
            patients=sorted(account.patients, key=str),
            insurance_pending=account.insurance_pending,
            patient_due=account.patient_due,
            credit=account.credit,
            credit_reserved_for_refunds=account.reserved,
            terms=InvariantTerms(
                charges=terms.charges,
                insurance_payments=terms.insurance_payments,
                adjustments=terms.adjustments,
                patient_payments=terms.patient_payments,
                write_offs=terms.write_offs,
                refunds=terms.refunds,
                balance=terms.balance,
            ),
            aging=account.aging(today),
            visits=[VisitPublic.of(v) for v in visits],
            plan=None if plan is None else PlanPublic.of(plan, account.plan_remaining(plan)),
            plans=[PlanPublic.of(p, account.plan_remaining(p)) for p in account.plans],
            statements=[
                StatementSummaryPublic(
                    id=s.id, issued_on=s.issued_on, amount_due=s.amount_due, dunning_level=s.dunning_level
                )
                for s in account.statements
            ],
            placements=[PlacementPublic.of(account.id, p) for p in account.placements],
            payments=[PaymentPublic.of(account.id, p) for p in account.payments],
            requests=[RequestPublic.of(account.id, r) for r in account.requests],
            ledger_entries=account.chain.seq,
        )


class EntryPublic(BaseModel):
    seq: int
    encounter_id: UUID | None
    kind: str
    amount: Money
    cause: str
    reference: str
    memo: str
    posted_at: datetime
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, entry: Entry) -> EntryPublic:
        return cls(
            seq=entry.seq,
            encounter_id=entry.encounter_id,
            kind=entry.kind,
            amount=entry.amount,
            cause=entry.cause,
            reference=entry.reference,
            memo=entry.memo,
            posted_at=entry.posted_at,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )


class AgingRow(BaseModel):
    account_id: UUID
    buckets: dict[str, Money]
    total: Money


class AgingPublic(BaseModel):
    """Patient balances due by days past due: current (0-30), 31-60, 61-90, 91-120 and over 120."""

    as_of: date
    totals: dict[str, Money]
    total: Money
    accounts: list[AgingRow]


class CycleReport(BaseModel):
    """What one run of the daily cycle did."""

    ran_on: date
    accounts_looked_at: int
    statements_issued: int
    plans_reviewed: int
    plans_defaulted: int
    small_balances_written_off: int
    placed_with_agency: int
    failed: int
