"""One line about an integration event, in identifiers, codes and amounts only: what a person may read in a
terminal, a log or a report without seeing PHI (no names, birth dates, member ids or diagnoses): reporting keeps
it as each step of a claim's history."""

from __future__ import annotations

from rcm_common.events import charge, claim, collections, eligibility, registration, remittance
from rcm_common.events.base import IntegrationEvent

_RESPONSIBILITY = {"P": "primary", "S": "secondary", "T": "tertiary"}  # SBR01 in words


def summarize(event: IntegrationEvent) -> str:
    """The event's identifiers, codes and amounts on one line; "" for an event with nothing more to say."""
    match event:
        case registration.CoverageAdded():
            return f"coverage={event.coverage_id} payer={event.payer_id} order={event.order}"
        case eligibility.EligibilityVerified():
            benefits = event.benefits
            copay = next((c.amount for c in benefits.copays if c.service_type in ("98", "30")), None)
            return (
                f"payer={event.payer_id} plan={benefits.plan_description or '-'} copay={copay or '-'} "
                f"deductible_remaining={benefits.deductible.remaining or '-'} "
                f"oop_remaining={benefits.out_of_pocket.remaining or '-'}"
            )
        case eligibility.EligibilityCheckFailed():
            codes = ",".join(error.code for error in event.errors) or "-"
            return f"payer={event.payer_id} kind={event.kind} aaa={codes} retry_scheduled={event.retry_scheduled}"
        case charge.ChargesCaptured() | charge.ChargesCorrected():
            codes = ",".join(line.procedure_code for line in event.lines)
            return (
                f"patient={event.patient_id} version={event.version} lines={codes} total={event.total_charge} "
                f"expected={event.expected_reimbursement or '-'}"
            )
        case charge.ChargesHeld():
            return f"version={event.version} issues={','.join(event.issue_codes)}"
        case charge.ChargesVoided():
            return f"version={event.version} reason={event.reason}"
        case claim.ClaimCreated():
            return (
                f"patient={event.patient_id} payer={event.payer_id} as={_RESPONSIBILITY[event.responsibility]} "
                f"clm01={event.patient_control_number} total={event.total_charge}"
            )
        case claim.ClaimSubmitted():
            codes = ",".join(line.procedure_code for line in event.lines)
            return f"clm01={event.patient_control_number} isa13={event.interchange_control_number} lines={codes}"
        case claim.ClaimAccepted():
            return (
                f"clm01={event.patient_control_number} payer={event.payer_id} claim_number={event.payer_claim_number}"
            )
        case claim.ClaimRejected():
            return f"stage={event.stage} problems={','.join(problem.code for problem in event.problems)}"
        case claim.ClaimScrubFailed():
            return f"patient={event.patient_id} payer={event.payer_id} rules={','.join(event.blocking_rules)}"
        case claim.ClaimPaid() | claim.ClaimPartiallyPaid():
            return f"status={event.claim_status} paid={event.paid} patient={event.patient_responsibility}"
        case claim.ClaimDenied():
            return f"category={event.category} reasons={','.join(event.reasons)} denied={event.amount_denied}"
        case claim.ClaimAppealed():
            return f"level={event.level} category={event.category} at_stake={event.amount_at_stake}"
        case claim.PatientResponsibilityTransferred() | claim.ClaimWriteOffRequested():
            return f"amount={event.amount} category={event.category} reasons={','.join(event.reasons)}"
        case claim.ClaimClosed():
            return f"reason={event.reason} to_patient={event.patient_responsibility}"
        case claim.ClaimReplaced():
            return f"replacement={event.replacement_claim_id}"
        case claim.ClaimVoided():
            return f"reason={event.reason} void_sent={event.void_sent}"
        case remittance.PaymentPosted():
            share = event.patient_share
            return (
                f"claim={event.claim_id} status={event.claim_status} paid={event.paid} allowed={event.allowed} "
                f"deductible={share.deductible} coinsurance={share.coinsurance} copay={share.copay}"
            )
        case remittance.ClaimDenied():
            reasons = ",".join(f"{d.group}-{d.reason}" for d in event.denials)
            return f"claim={event.claim_id} category={event.category} reasons={reasons} denied={event.amount_denied}"
        case remittance.ClaimPaymentReversed():
            return f"claim={event.claim_id} reversed={event.reversed_payment_id or '-'} paid={event.paid}"
        case remittance.UnderpaymentDetected():
            return f"claim={event.claim_id} expected_allowed={event.expected_allowed} allowed={event.allowed}"
        case collections.PatientPaymentReceived():
            return f"amount={event.amount} source={event.source} at_visit={event.at_visit} credit={event.to_credit}"
        case collections.PatientBalanceChanged():
            return f"pending={event.insurance_pending} due={event.patient_due} credit={event.credit}"
        case collections.StatementIssued():
            return f"amount_due={event.amount_due} dunning_level={event.dunning_level or '-'}"
    return ""
