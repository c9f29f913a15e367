"""The one mapper from claim's domain to its contract: the unit of work calls it for each domain event a
claim recorded, as the claim is stored, so each integration event carries the claim as it was saved."""

from __future__ import annotations

from typing import Any

from rcm_claim.domain import events
from rcm_claim.domain.adjudication import Adjudication
from rcm_claim.domain.model import Claim
from rcm_common.events import claim as contract
from rcm_common.events.base import IntegrationEvent


def to_integration_event(aggregate: Any, event: Any) -> IntegrationEvent:
    if not isinstance(aggregate, Claim):
        raise TypeError(f"claim publishes the events of claims, not of {type(aggregate).__name__}")
    claim = aggregate
    subject = {"claim_id": claim.id, "patient_id": claim.patient_id, "payer_id": claim.payer_id}
    match event:
        case events.ClaimCreated():
            return contract.ClaimCreated(
                **subject,
                encounter_id=claim.encounter_id,
                encounter_version=claim.encounter_version,
                coverage_id=claim.coverage_id,
                responsibility=claim.responsibility,
                patient_control_number=claim.patient_control_number,
                frequency=claim.frequency,
                date_of_service=claim.date_of_service,
                total_charge=claim.total_charge,
            )
        case events.ClaimScrubFailed(rules=rules):
            findings = claim.scrub.findings if claim.scrub is not None else ()
            return contract.ClaimScrubFailed(
                **subject,
                blocking_rules=rules,
                findings=tuple(
                    contract.ScrubFinding(
                        rule=f.rule, version=f.version, severity=f.severity, message=f.message, line=f.line
                    )
                    for f in findings
                ),
            )
        case events.ClaimSubmitted(batch_id=batch_id, interchange_control_number=control_number):
            return contract.ClaimSubmitted(
                **subject,
                encounter_id=claim.encounter_id,
                encounter_version=claim.encounter_version,
                coverage_id=claim.coverage_id,
                patient_control_number=claim.patient_control_number,
                frequency=claim.frequency,
                replaces_payer_claim_number=claim.replaces_payer_claim_number,
                batch_id=batch_id,
                interchange_control_number=control_number,
                total_charge=claim.total_charge,
                lines=tuple(
                    contract.SubmittedLine(
                        line_control_number=line.control_number,
                        procedure_code=line.procedure_code,
                        modifiers=line.modifiers,
                        units=line.units,
                        date_of_service=line.date_of_service,
                        charge=line.charge,
                        expected_allowed=line.expected_allowed,
                    )
                    for line in claim.lines
                ),
            )
        case events.ClaimAccepted(payer_claim_number=number):
            return contract.ClaimAccepted(
                **subject, patient_control_number=claim.patient_control_number, payer_claim_number=number
            )
        case events.ClaimRejected(stage=stage, problems=problems):
            return contract.ClaimRejected(
                **subject,
                patient_control_number=claim.patient_control_number,
                stage=stage,
                problems=tuple(
                    contract.Problem(code=p.code, meaning=p.meaning, suggested_fix=p.suggested_fix) for p in problems
                ),
            )
        case events.ClaimStatusUpdated(statuses=statuses):
            return contract.ClaimStatusUpdated(
                **subject,
                payer_claim_number=claim.payer_claim_number,
                statuses=tuple(
                    contract.PayerStatus(category=s.category, status=s.status, meaning=s.meaning) for s in statuses
                ),
                as_of=claim.status_checked_at.date() if claim.status_checked_at else claim.in_state_since.date(),
            )
        case events.ClaimReplaced(replacement_id=replacement_id):
            return contract.ClaimReplaced(
                **subject, replacement_claim_id=replacement_id, encounter_version=claim.encounter_version
            )
        case events.ClaimVoided(reason=reason, void_sent=void_sent):
            return contract.ClaimVoided(**subject, encounter_id=claim.encounter_id, reason=reason, void_sent=void_sent)
        case events.ClaimPaid(adjudication=adjudication):
            return contract.ClaimPaid(**subject, **_adjudicated(adjudication))
        case events.ClaimPartiallyPaid(adjudication=adjudication, reasons=reasons):
            return contract.ClaimPartiallyPaid(**subject, **_adjudicated(adjudication), reasons=reasons)
        case events.ClaimDenied(denial=denial):
            return contract.ClaimDenied(
                **subject,
                payment_id=denial.payment_id,
                whole_claim=denial.whole_claim,
                category=denial.category,
                suggested_action=denial.suggested_action,
                amount_denied=denial.amount,
                reasons=denial.reasons,
            )
        case events.ClaimClosed(payment_id=payment_id, reason=reason, patient_responsibility=patient_responsibility):
            return contract.ClaimClosed(
                **subject, payment_id=payment_id, reason=reason, patient_responsibility=patient_responsibility
            )
        case events.ClaimReopened(note=note):
            return contract.ClaimReopened(**subject, note=note)
        case events.ClaimAppealed(appeal=appeal):
            return contract.ClaimAppealed(
                **subject, payment_id=appeal.payment_id, appeal_number=appeal.number, level=appeal.level,
                category=appeal.category, reasons=appeal.reasons, amount_at_stake=appeal.amount_at_stake,
                deadline=appeal.deadline,
            )  # fmt: skip
        case events.PatientResponsibilityTransferred(denial=denial, amount=amount, basis=basis):
            return contract.PatientResponsibilityTransferred(
                **subject, payment_id=denial.payment_id, amount=amount, basis=basis, category=denial.category,
                reasons=denial.reasons,
            )  # fmt: skip
        case events.DenialResolutionWithdrawn(denial=denial, resolution=resolution):
            return contract.DenialResolutionWithdrawn(
                **subject, payment_id=denial.payment_id, kind=resolution.kind, amount=resolution.money,
                category=denial.category, reasons=denial.reasons,
            )  # fmt: skip
        case events.ClaimWriteOffRequested(denial=denial, amount=amount):
            return contract.ClaimWriteOffRequested(
                **subject, payment_id=denial.payment_id, amount=amount, category=denial.category, reasons=denial.reasons
            )
    raise TypeError(f"no contract event is mapped for {type(event).__name__}")


def _adjudicated(adjudication: Adjudication) -> dict[str, Any]:
    return {
        "payment_id": adjudication.payment_id,
        "payer_claim_number": adjudication.payer_claim_number,
        "claim_status": adjudication.claim_status,
        "paid": adjudication.paid,
        "allowed": adjudication.allowed,
        "patient_responsibility": adjudication.patient_responsibility,
    }
