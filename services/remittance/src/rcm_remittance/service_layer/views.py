"""What the HTTP API answers with: remittances with their balance checks and PLB, and claim payments with what
they posted, in words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from rcm_common.types import Money, Quantity
from rcm_remittance.domain.codes import PROVIDER_ADJUSTMENT_REASONS, CodeBook
from rcm_remittance.domain.deposits import Deposit, Unexplained
from rcm_remittance.domain.model import ClaimPayment, PaymentState, Remittance, RemittanceState
from rcm_remittance.domain.posting import DescribedAdjustment, PatientShare, posting_of
from rcm_x12.codes.remittance import CLAIM_STATUS


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class RemittanceSummary(_View):
    id: UUID
    payer_id: str
    payer_name: str
    trace_number: str
    interchange_control_number: str
    payment_method: str
    payment_date: date | None
    total_paid: Money
    credit_debit: str
    claim_count: int
    state: RemittanceState
    claims_done: int
    posted: int
    unmatched: int
    duplicates: int
    received_at: datetime
    posted_at: datetime | None
    repeats_remittance_id: UUID | None  # the remittance first received with this payer and trace
    failure: str | None  # why posting it stopped, when it failed

    @classmethod
    def of(cls, remittance: Remittance) -> RemittanceSummary:
        advice = remittance.advice
        return cls(
            id=remittance.remittance_id,
            payer_id=advice.payer_id,
            payer_name=advice.payer_name,
            trace_number=advice.trace_number,
            interchange_control_number=advice.interchange_control_number,
            payment_method=advice.payment_method,
            payment_date=advice.payment_date,
            total_paid=advice.total_paid,
            credit_debit=advice.credit_debit,
            claim_count=remittance.claim_count,
            state=remittance.state,
            claims_done=remittance.claims_done,
            posted=remittance.posted,
            unmatched=remittance.unmatched,
            duplicates=remittance.duplicates,
            received_at=remittance.received_at,
            posted_at=remittance.posted_at,
            repeats_remittance_id=remittance.repeats,
            failure=remittance.failure,
        )


class ProviderAdjustmentPublic(_View):
    reason: str
    meaning: str
    reference: str
    amount: Money
    fiscal_period_date: date | None
    claim_id: UUID | None


class BalanceCheck(_View):
    """BPR02 against the claim payments less the PLB, and each claim against its adjustments, as the 835
    stated them: `problems` names every difference (a held file's reasons)."""

    total_paid: Money
    provider_adjustments: Money
    balanced: bool
    problems: list[str]
    findings: list[str]


class ShareView(_View):
    deductible: Money
    coinsurance: Money
    copay: Money
    other: Money

    @classmethod
    def of(cls, share: PatientShare) -> ShareView:
        return cls(deductible=share.deductible, coinsurance=share.coinsurance, copay=share.copay, other=share.other)


class AdjustmentView(_View):
    group: str
    reason: str
    description: str
    category: str
    amount: Money

    @classmethod
    def of(cls, adjustment: DescribedAdjustment) -> AdjustmentView:
        a = adjustment
        return cls(group=a.group, reason=a.reason, description=a.description, category=a.category, amount=a.amount)


class LineView(_View):
    line_control_number: str | None
    procedure_code: str
    modifiers: list[str]
    billed_procedure_code: str | None
    units_paid: Quantity
    date_of_service: date | None
    charge: Money
    paid: Money
    allowed: Money
    adjustments: list[AdjustmentView]
    remark_codes: list[str]
    patient_share: ShareView


class ClaimPaymentPublic(_View):
    id: UUID
    remittance_id: UUID
    state: PaymentState
    claim_id: UUID | None
    patient_id: UUID | None
    matched_by: str | None
    payer_id: str
    trace_number: str
    payment_date: date | None
    patient_control_number: str
    payer_claim_number: str
    claim_status: str
    claim_status_meaning: str
    charge: Money
    paid: Money
    allowed: Money
    patient_responsibility: Money
    patient_share: ShareView
    adjustments: list[AdjustmentView]
    remark_codes: list[str]
    lines: list[LineView]
    unmatched_reason: str | None
    candidate_claim_ids: list[UUID]
    reverses_payment_id: UUID | None
    reversed_by_payment_id: UUID | None
    posted_at: datetime | None
    posted_by: str | None

    @classmethod
    def of(cls, payment: ClaimPayment, codes: CodeBook) -> ClaimPaymentPublic:
        advice = payment.advice
        matches = payment.line_matches or (None,) * len(advice.lines)
        posting = posting_of(advice, matches, codes)
        return cls(
            id=payment.payment_id,
            remittance_id=payment.remittance_id,
            state=payment.state,
            claim_id=payment.claim_id,
            patient_id=payment.patient_id,
            matched_by=payment.matched_by,
            payer_id=payment.payer_id,
            trace_number=payment.trace_number,
            payment_date=payment.payment_date,
            patient_control_number=advice.patient_control_number,
            payer_claim_number=advice.payer_claim_number,
            claim_status=advice.status,
            claim_status_meaning=CLAIM_STATUS.get(advice.status, "not a known claim status code"),
            charge=posting.charge,
            paid=posting.paid,
            allowed=posting.allowed,
            patient_responsibility=posting.patient_responsibility,
            patient_share=ShareView.of(posting.patient_share),
            adjustments=[AdjustmentView.of(a) for a in posting.adjustments],
            remark_codes=list(posting.remark_codes),
            lines=[
                LineView(
                    line_control_number=line.line_control_number,
                    procedure_code=line.procedure_code,
                    modifiers=list(line.modifiers),
                    billed_procedure_code=line.billed_procedure_code,
                    units_paid=line.units_paid,
                    date_of_service=line.date_of_service,
                    charge=line.charge,
                    paid=line.paid,
                    allowed=line.allowed,
                    adjustments=[AdjustmentView.of(a) for a in line.adjustments],
                    remark_codes=list(line.remark_codes),
                    patient_share=ShareView.of(line.patient_share),
                )
                for line in posting.lines
            ],
            unmatched_reason=payment.unmatched_reason,
            candidate_claim_ids=list(payment.candidates),
            reverses_payment_id=payment.reverses_id,
            reversed_by_payment_id=payment.reversed_by_id,
            posted_at=payment.posted_at,
            posted_by=payment.posted_by,
        )


class RemittancePublic(RemittanceSummary):
    balance: BalanceCheck
    provider_adjustments: list[ProviderAdjustmentPublic]
    released_by: str | None
    release_reason: str | None
    payments: list[ClaimPaymentPublic]

    @classmethod
    def with_payments(cls, remittance: Remittance, payments: list[ClaimPayment], codes: CodeBook) -> RemittancePublic:
        advice = remittance.advice
        claims = remittance.adjustment_claims or (None,) * len(advice.provider_adjustments)
        return cls(
            **RemittanceSummary.of(remittance).model_dump(),
            balance=BalanceCheck(
                total_paid=advice.total_paid,
                provider_adjustments=advice.provider_adjustment_total,
                balanced=not advice.balance_problems,
                problems=list(advice.balance_problems),
                findings=list(advice.findings),
            ),
            provider_adjustments=[
                ProviderAdjustmentPublic(
                    reason=a.reason,
                    meaning=PROVIDER_ADJUSTMENT_REASONS.get(a.reason, "not in the code table"),
                    reference=a.reference,
                    amount=a.amount,
                    fiscal_period_date=a.fiscal_period_date,
                    claim_id=claim_id,
                )
                for a, claim_id in zip(advice.provider_adjustments, claims, strict=True)
            ],
            released_by=remittance.released_by,
            release_reason=remittance.release_reason,
            payments=[ClaimPaymentPublic.of(payment, codes) for payment in payments],
        )


class Intake(_View):
    """An upload's answer: the remittances the file holds (the first is `remittance_id`), and whether the same
    bytes were taken before (then nothing was posted again)."""

    remittance_id: UUID
    remittance_ids: list[UUID]
    file_id: UUID
    duplicate: bool


class DepositPublic(_View):
    """A bank deposit line, with the remittance it pairs with, or why it pairs with none."""

    id: UUID
    deposit_date: date
    amount: Money
    trace_number: str
    remittance_id: UUID | None
    unexplained: str | None
    recorded_at: datetime
    recorded_by: str

    @classmethod
    def of(cls, deposit: Deposit, remittance_id: UUID | None, unexplained: str | None) -> DepositPublic:
        return cls(
            id=deposit.deposit_id,
            deposit_date=deposit.deposit_date,
            amount=deposit.amount,
            trace_number=deposit.trace_number,
            remittance_id=remittance_id,
            unexplained=unexplained,
            recorded_at=deposit.recorded_at,
            recorded_by=deposit.recorded_by,
        )


class ReconciliationPublic(_View):
    """Deposits paired with remittances by trace and amount; what is left on either side."""

    matched: int
    remittances_without_deposit: list[RemittanceSummary]
    deposits_without_remittance: list[DepositPublic]

    @classmethod
    def of(
        cls,
        matched: Sequence[tuple[Deposit, Remittance]],
        remittances: Sequence[Remittance],
        deposits: Sequence[Unexplained],
    ) -> ReconciliationPublic:
        return cls(
            matched=len(matched),
            remittances_without_deposit=[RemittanceSummary.of(r) for r in remittances],
            deposits_without_remittance=[DepositPublic.of(u.deposit, None, u.reason) for u in deposits],
        )
