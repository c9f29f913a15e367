"""The one mapper from remittance's domain to its contract: the unit of work calls it for each domain event its
aggregates recorded, as each aggregate is stored."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from rcm_common.events import remittance as contract
from rcm_common.events.base import IntegrationEvent
from rcm_remittance.domain import model
from rcm_remittance.domain.codes import PROVIDER_ADJUSTMENT_REASONS
from rcm_remittance.domain.posting import DescribedAdjustment, PatientShare, PostedLine
from rcm_x12.codes.remittance import CLAIM_STATUS


def to_integration_event(aggregate: Any, event: Any) -> IntegrationEvent:
    match aggregate, event:
        case model.Remittance(), model.Received(held=held, repeats=repeats):
            return _received(aggregate, held, repeats)
        case model.Remittance(), model.ProviderAdjustmentKept(adjustment=adjustment, claim_id=claim_id):
            return contract.ProviderAdjustmentPosted(
                remittance_id=aggregate.remittance_id,
                payer_id=aggregate.advice.payer_id,
                trace_number=aggregate.advice.trace_number,
                reason=adjustment.reason,
                reason_meaning=PROVIDER_ADJUSTMENT_REASONS.get(adjustment.reason, "not in the code table"),
                reference=adjustment.reference,
                amount=adjustment.amount,
                fiscal_period_date=adjustment.fiscal_period_date,
                claim_id=claim_id,
            )
        case model.ClaimPayment(), model.Posted(posting=posting, denied_lines=denied_lines, underpaid_by=underpaid_by):
            return contract.PaymentPosted(
                **_claim_payment(aggregate),
                payment_date=aggregate.payment_date,
                claim_status=aggregate.advice.status,
                claim_status_meaning=CLAIM_STATUS.get(aggregate.advice.status, "not a known claim status code"),
                payer_claim_number=aggregate.advice.payer_claim_number,
                charge=posting.charge,
                paid=posting.paid,
                allowed=posting.allowed,
                patient_responsibility=posting.patient_responsibility,
                patient_share=_share(posting.patient_share),
                adjustments_by_group=posting.by_group,
                adjustments=_adjustments(posting.adjustments),
                remark_codes=posting.remark_codes,
                lines=tuple(_line(line) for line in posting.lines),
                denied_lines=denied_lines,
                underpaid_by=underpaid_by,
            )
        case model.ClaimPayment(), model.Denied(denials=denials):
            return contract.ClaimDenied(
                **_claim_payment(aggregate),
                whole_claim=denials.whole_claim,
                category=denials.category,
                suggested_action=denials.suggested_action,
                amount_denied=denials.amount,
                denials=tuple(
                    contract.Denial(
                        line_control_number=d.line_control_number,
                        procedure_code=d.procedure_code,
                        group=d.group,
                        reason=d.reason,
                        description=d.description,
                        remark_codes=tuple(remark.code for remark in d.remarks),
                        remarks=tuple(contract.Remark(code=r.code, description=r.description) for r in d.remarks),
                        category=d.category,
                        amount=d.amount,
                    )
                    for d in denials.denials
                ),
            )
        case model.ClaimPayment(), model.Underpaid(underpayment=underpayment):
            return contract.UnderpaymentDetected(
                **_claim_payment(aggregate),
                expected_allowed=underpayment.expected_allowed,
                allowed=underpayment.allowed,
                shortfall=underpayment.shortfall,
                lines=tuple(
                    contract.UnderpaidLine(
                        line_control_number=line.line_control_number,
                        procedure_code=line.procedure_code,
                        expected_allowed=line.expected_allowed,
                        allowed=line.allowed,
                        shortfall=line.shortfall,
                    )
                    for line in underpayment.lines
                ),
            )
        case model.ClaimPayment(), model.Reversed(reversed_payment_id=reversed_id, posting=posting):
            return contract.ClaimPaymentReversed(
                **_claim_payment(aggregate),
                reversed_payment_id=reversed_id,
                payer_claim_number=aggregate.advice.payer_claim_number,
                charge=posting.charge,
                paid=posting.paid,
                patient_responsibility=posting.patient_responsibility,
                patient_share=_share(posting.patient_share),
                adjustments_by_group=posting.by_group,
            )
        case model.ClaimPayment(), model.Unmatched(reason=reason, candidates=candidates):
            return contract.RemittanceUnmatched(
                remittance_id=aggregate.remittance_id,
                payer_id=aggregate.payer_id,
                trace_number=aggregate.trace_number,
                payment_id=aggregate.payment_id,
                patient_control_number=aggregate.advice.patient_control_number,
                payer_claim_number=aggregate.advice.payer_claim_number,
                claim_status=aggregate.advice.status,
                paid=aggregate.advice.paid,
                reason=reason,
                candidate_claim_ids=candidates,
            )
    raise TypeError(f"no contract event is mapped for {type(event).__name__} of {type(aggregate).__name__}")


def _received(remittance: model.Remittance, held: bool, repeats: UUID | None) -> contract.RemittanceReceived:
    advice = remittance.advice
    return contract.RemittanceReceived(
        remittance_id=remittance.remittance_id,
        payer_id=advice.payer_id,
        trace_number=advice.trace_number,
        payer_name=advice.payer_name,
        payment_method=advice.payment_method,
        payment_date=advice.payment_date,
        total_paid=advice.total_paid,
        credit_debit=advice.credit_debit,
        claim_count=remittance.claim_count,
        provider_adjustment_total=advice.provider_adjustment_total,
        held=held,
        balance_problems=advice.balance_problems,
        repeats_remittance_id=repeats,
    )


def _claim_payment(payment: model.ClaimPayment) -> dict[str, Any]:
    """The fields every claim-level event carries; only a posted payment (with its claim) records one."""
    if payment.claim_id is None or payment.patient_id is None:
        raise ValueError("a claim-level event needs the claim the payment was posted to")
    return {
        "claim_id": payment.claim_id,
        "patient_id": payment.patient_id,
        "payer_id": payment.payer_id,
        "payment_id": payment.payment_id,
        "remittance_id": payment.remittance_id,
        "trace_number": payment.trace_number,
    }


def _share(share: PatientShare) -> contract.PatientShare:
    return contract.PatientShare(
        deductible=share.deductible, coinsurance=share.coinsurance, copay=share.copay, other=share.other
    )


def _adjustments(adjustments: tuple[DescribedAdjustment, ...]) -> tuple[contract.AdjustmentPosted, ...]:
    return tuple(
        contract.AdjustmentPosted(
            group=a.group, reason=a.reason, description=a.description, category=a.category, amount=a.amount
        )
        for a in adjustments
    )


def _line(line: PostedLine) -> contract.LinePosted:
    return contract.LinePosted(
        line_control_number=line.line_control_number,
        procedure_code=line.procedure_code,
        modifiers=line.modifiers,
        billed_procedure_code=line.billed_procedure_code,
        units_paid=line.units_paid,
        date_of_service=line.date_of_service,
        charge=line.charge,
        paid=line.paid,
        allowed=line.allowed,
        adjustments=_adjustments(line.adjustments),
        remark_codes=line.remark_codes,
        patient_share=_share(line.patient_share),
    )
