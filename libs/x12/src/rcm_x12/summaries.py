"""What `rcm-x12 inspect` shows of each kind of transaction set, keyed by ST01.

A summariser turns one transaction set into JSON-ready values (amounts as decimal strings, dates ISO) for
the text and the --json output alike. Each typed reader adds its entry to SUMMARIES; a kind without one is
shown by its envelope alone. A summariser may set "kind" itself (a 277 decides whether it is a 277CA).
Summaries carry the figures a biller checks, not patient names; a 271's carry the member id, which a
biller needs to match an answer to a patient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rcm_x12 import acknowledgment_reader, claim_status_reader, eligibility_response_reader
from rcm_x12.elements import Procedure, decimal_text, iso
from rcm_x12.reader import Interchange, Transaction
from rcm_x12.remittance_reader import Adjustment, Claim, ServiceLine, remittance_of

Summary = Callable[[Transaction, Interchange], dict[str, Any]]


def _procedure(procedure: Procedure) -> str:
    return ":".join((procedure.qualifier, procedure.code, *procedure.modifiers))


def _adjustments(adjustments: tuple[Adjustment, ...]) -> list[dict[str, Any]]:
    return [{"group": a.group, "reason": a.reason, "amount": str(a.amount)} for a in adjustments]


def _line(line: ServiceLine) -> dict[str, Any]:
    return {
        "procedure": _procedure(line.procedure),
        "service_date": iso(line.service_date or line.service_start),
        "charge": str(line.charge),
        "paid": str(line.paid),
        "allowed": decimal_text(line.allowed),
        "units_paid": str(line.units_paid),
        "adjustments": _adjustments(line.adjustments),
        "remarks": [f"{r.qualifier}:{r.code}" for r in line.remarks],
    }


def _claim(claim: Claim) -> dict[str, Any]:
    return {
        "claim_id": claim.claim_id,
        "status": claim.status,
        "status_meaning": claim.status_meaning,
        "payer_claim_number": claim.payer_claim_number,
        "charge": str(claim.charge),
        "paid": str(claim.paid),
        "patient_responsibility": str(claim.patient_responsibility),
        "adjustments": _adjustments(claim.adjustments),
        "remark_codes": list(claim.remark_codes),
        "lines": [_line(line) for line in claim.lines],
    }


def _remittance(transaction: Transaction, interchange: Interchange) -> dict[str, Any]:
    remittance = remittance_of(transaction, interchange)
    payment = remittance.payment
    return {
        "kind": "835",
        "trace_number": remittance.trace_number,
        "originating_company": remittance.originating_company,
        "payer": {"name": remittance.payer.name, "identifier": remittance.payer.identifier},
        "payee": {"name": remittance.payee.name, "npi": remittance.payee.npi, "tin": remittance.payee.tin},
        "total_paid": str(payment.total_paid),
        "credit_debit": payment.credit_debit,
        "payment_method": payment.method,
        "payment_date": iso(payment.payment_date),
        "production_date": iso(remittance.production_date),
        "claims": [_claim(claim) for claim in remittance.claims],
        "provider_adjustments": [
            {
                "provider_id": a.provider_id,
                "fiscal_period_date": iso(a.fiscal_period_date),
                "reason": a.reason,
                "reference": a.reference,
                "amount": str(a.amount),
            }
            for a in remittance.provider_adjustments
        ],
        "balance_problems": remittance.balance_problems(),
        "findings": list(remittance.findings),
    }


SUMMARIES: dict[str, Summary] = {
    "835": _remittance,
    "271": eligibility_response_reader.summary,
    "277": claim_status_reader.summary,
    "999": acknowledgment_reader.summary,
}
