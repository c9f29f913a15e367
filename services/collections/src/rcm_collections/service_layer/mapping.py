"""The one mapper from collections' domain to its contract: the unit of work calls it for each domain event an
account recorded, as the account is stored."""

from __future__ import annotations

from typing import Any

from rcm_collections.domain import events
from rcm_collections.domain.account import Account
from rcm_common.events import collections as contract
from rcm_common.events.base import IntegrationEvent


def to_integration_event(account: Account, event: Any) -> IntegrationEvent:
    match event:
        case events.BalanceChanged():
            return contract.PatientBalanceChanged(
                account_id=account.id,
                insurance_pending=event.insurance_pending,
                patient_due=event.patient_due,
                credit=event.credit,
                balance=event.balance,
                cause=event.cause,
            )
        case events.StatementIssued():
            return contract.StatementIssued(
                account_id=account.id,
                statement_id=event.statement_id,
                issued_on=event.issued_on,
                amount_due=event.amount_due,
                due_by=event.due_by,
                dunning_level=event.dunning_level,
            )
        case events.PlanCreated():
            return contract.PaymentPlanCreated(
                account_id=account.id,
                plan_id=event.plan_id,
                total=event.total,
                months=event.months,
                installment_amount=event.installment_amount,
                first_due_on=event.first_due_on,
            )
        case events.PlanDefaulted():
            return contract.PaymentPlanDefaulted(
                account_id=account.id,
                plan_id=event.plan_id,
                missed_installments=event.missed,
                remaining=event.remaining,
            )
        case events.PaymentReceived():
            return contract.PatientPaymentReceived(
                account_id=account.id,
                payment_id=event.payment_id,
                amount=event.amount,
                method=event.method,
                source=event.source,
                agency_fee=event.agency_fee,
                applied=tuple(
                    contract.AppliedPayment(encounter_id=encounter_id, amount=amount)
                    for encounter_id, amount in event.applied
                ),
                to_credit=event.to_credit,
                at_visit=event.at_visit,
            )
        case events.RefundIssued():
            return contract.RefundIssued(
                account_id=account.id, refund_id=event.refund_id, amount=event.amount, method=event.method
            )
        case events.WrittenOff():
            return contract.BalanceWrittenOff(
                account_id=account.id,
                write_off_id=event.write_off_id,
                kind=event.kind,
                amount=event.amount,
                applied=tuple(
                    contract.AppliedPayment(encounter_id=encounter_id, amount=amount)
                    for encounter_id, amount in event.applied
                ),
            )
        case events.WriteOffUndone():
            return contract.WriteOffReversed(
                account_id=account.id, encounter_id=event.encounter_id, amount=event.amount, reason=event.reason
            )
        case events.CreditMoved():
            return contract.PatientCreditMoved(
                account_id=account.id, encounter_id=event.encounter_id, amount=event.amount
            )
        case events.PlacedWithAgency():
            return contract.AccountPlacedWithAgency(
                account_id=account.id, placement_id=event.placement_id, agency=event.agency, amount=event.amount
            )
        case events.Recalled():
            return contract.AccountRecalled(
                account_id=account.id,
                placement_id=event.placement_id,
                agency=event.agency,
                reason=event.reason,
                amount=event.amount,
            )
    raise TypeError(f"no contract event is mapped for {type(event).__name__}")
