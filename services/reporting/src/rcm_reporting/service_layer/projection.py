"""The events reporting reads, per topic, and the facts each one leaves.

Each topic has its own consumer, so events of different topics arrive in any order; every fact is either
appended (keyed by its event), folded from one topic's events about one key (which that topic keeps in order),
or a flag that, once set, stays. A replay of every topic from the first offset into an empty database therefore
stores exactly the rows the live consumers stored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import replace
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from rcm_common.envelope import Envelope
from rcm_common.events import charge, claim, collections, eligibility, registration, remittance
from rcm_common.events.base import IntegrationEvent
from rcm_common.messaging import EventHandler
from rcm_common.topics import (
    CHARGE_EVENTS,
    CLAIM_EVENTS,
    COLLECTIONS_EVENTS,
    ELIGIBILITY_EVENTS,
    REGISTRATION_EVENTS,
    REMITTANCE_EVENTS,
)
from rcm_reporting.adapters.repository import SqlFacts
from rcm_reporting.adapters.unit_of_work import SqlReportingUnitOfWork
from rcm_reporting.domain.claims import VOID_FREQUENCY, ClaimRecord, Decision
from rcm_reporting.domain.records import (
    ZERO,
    AccountBalance,
    Answer,
    Hold,
    Movement,
    MovementKind,
    Opening,
    Resolution,
    Reversal,
    Visit,
)
from rcm_reporting.service_layer.summaries import summarize

CLAIM_DENIED: Final = "4"  # CLP02: the payer denied the claim
PRIOR_PAYER_REASON: Final = "23"
"""CARC 23: a later payer restating the prior payer's adjudication, already posted from the prior's 835."""

Handlers = dict[type[IntegrationEvent], EventHandler[SqlReportingUnitOfWork]]
_Apply = Callable[[Any, Envelope, SqlFacts], Coroutine[Any, Any, None]]


async def _visit_charged(
    event: charge.ChargesCaptured | charge.ChargesCorrected, envelope: Envelope, facts: SqlFacts
) -> None:
    """A visit's charges, or their correction: the difference goes on the books (an older version read late
    changes nothing)."""
    known = await facts.visit(event.encounter_id)
    if known is not None and event.version <= known.version:
        return
    before = known.total_charge if known is not None and not known.voided else ZERO
    await facts.save_visit(
        visit := Visit(
            encounter_id=event.encounter_id,
            version=event.version,
            patient_id=event.patient_id,
            payer_id=event.payer_id,
            self_pay=event.coverage_id is None or event.payer_id is None,
            date_of_service=event.date_of_service,
            captured_at=known.captured_at if known is not None else envelope.occurred_at,
            rendering_npi=event.rendering_provider_npi,
            total_charge=event.total_charge,
            procedure_codes=tuple(line.procedure_code for line in event.lines),
        )
    )
    await facts.add_visit_version(visit, envelope.occurred_at)
    if event.total_charge != before:
        movement = Movement(
            envelope.occurred_at,
            MovementKind.CHARGE,
            event.total_charge - before,
            encounter_id=event.encounter_id,
            payer_id=event.payer_id,
        )
        await facts.add_movements(envelope.event_id, [movement])


async def _visit_held(event: charge.ChargesHeld, _envelope: Envelope, facts: SqlFacts) -> None:
    known = await facts.visit(event.encounter_id)
    if known is not None and event.version >= known.version and not known.voided:
        await facts.save_visit(replace(known, held=True))


async def _visit_voided(event: charge.ChargesVoided, envelope: Envelope, facts: SqlFacts) -> None:
    known = await facts.visit(event.encounter_id)
    if known is None or known.voided:
        return
    await facts.save_visit(replace(known, voided=True, held=False))
    if known.total_charge:
        movement = Movement(
            envelope.occurred_at,
            MovementKind.CHARGE,
            -known.total_charge,
            encounter_id=event.encounter_id,
            payer_id=known.payer_id,
        )
        await facts.add_movements(envelope.event_id, [movement])


async def _claim_created(event: claim.ClaimCreated, envelope: Envelope, facts: SqlFacts) -> None:
    record = ClaimRecord(
        claim_id=event.claim_id,
        encounter_id=event.encounter_id,
        patient_id=event.patient_id,
        payer_id=event.payer_id,
        responsibility=event.responsibility,
        frequency=event.frequency,
        total_charge=event.total_charge,
        created_at=envelope.occurred_at,
    )
    await facts.save_claim(record)
    if not record.is_void:
        await facts.add_opening(envelope.event_id, Opening(event.claim_id, envelope.occurred_at, True, "built"))


async def _claim_changed(event: Any, envelope: Envelope, facts: SqlFacts) -> None:
    """Any later event of a claim's own, folded into its record; the money and openings it carries recorded."""
    record = await facts.claim(event.claim_id)
    if record is None:
        return  # the claim's creation comes first on its partition: nothing is known of a claim never built
    at, event_id = envelope.occurred_at, envelope.event_id
    match event:
        case claim.ClaimScrubFailed():
            record.scrub_failed()
        case claim.ClaimSubmitted():
            record.submit(at)
        case claim.ClaimAccepted():
            record.accept()
        case claim.ClaimRejected():
            record.reject()
        case claim.ClaimPaid():
            record.decide(Decision.PAID, event.payment_id, at)
        case claim.ClaimPartiallyPaid():
            record.decide(Decision.PARTIALLY_PAID, event.payment_id, at)
        case claim.ClaimDenied():
            record.deny(event.payment_id, event.amount_denied, event.category, event.reasons, at)
        case claim.ClaimAppealed():
            record.appeal()
        case claim.PatientResponsibilityTransferred():
            await facts.add_resolution(
                event_id, Resolution(event.payment_id, "transferred_to_patient", event.amount, at)
            )
        case claim.ClaimWriteOffRequested():
            await facts.add_resolution(event_id, Resolution(event.payment_id, "written_off", event.amount, at))
            await facts.add_movements(
                event_id,
                [
                    Movement(
                        at,
                        MovementKind.DENIAL_WRITE_OFF,
                        -event.amount,
                        claim_id=event.claim_id,
                        payer_id=event.payer_id,
                    )
                ],
            )
        case claim.DenialResolutionWithdrawn():
            record.denial_back()
            await facts.add_resolution(event_id, Resolution(event.payment_id, event.kind or "", -event.amount, at))
            if event.kind == "written_off":
                await facts.add_movements(
                    event_id,
                    [
                        Movement(
                            at,
                            MovementKind.DENIAL_WRITE_OFF,
                            event.amount,
                            claim_id=event.claim_id,
                            payer_id=event.payer_id,
                        )
                    ],
                )
        case claim.ClaimClosed():
            record.close(event.reason or "other")
            await facts.add_opening(event_id, Opening(event.claim_id, at, False, event.reason or "other"))
        case claim.ClaimReopened():
            record.reopen()
            await facts.add_opening(event_id, Opening(event.claim_id, at, True, "reopened"))
        case claim.ClaimReplaced():
            record.replace()
            await facts.add_opening(event_id, Opening(event.claim_id, at, False, "replaced"))
        case claim.ClaimVoided():
            record.void()
            if record.frequency != VOID_FREQUENCY:
                await facts.add_opening(event_id, Opening(event.claim_id, at, False, "voided"))
    await facts.save_claim(record)


async def _payment_posted(event: remittance.PaymentPosted, envelope: Envelope, facts: SqlFacts) -> None:
    """The payer's payment and adjustments; the patient's share (PR) stays on the books, and a later payer's CARC
    23 is the prior payer's adjudication, posted already."""
    at = envelope.occurred_at
    where: dict[str, Any] = {"claim_id": event.claim_id, "payment_id": event.payment_id, "payer_id": event.payer_id}
    by_kind: dict[MovementKind, Decimal] = defaultdict(Decimal)
    by_kind[MovementKind.INSURANCE_PAYMENT] -= event.paid
    for adjustment in event.adjustments:
        if adjustment.group == "PR" or adjustment.reason == PRIOR_PAYER_REASON:
            continue
        kind = MovementKind.CONTRACTUAL if adjustment.category == "contractual" else MovementKind.OTHER_ADJUSTMENT
        by_kind[kind] -= adjustment.amount
    await facts.add_movements(
        envelope.event_id, [Movement(at, kind, amount, **where) for kind, amount in by_kind.items() if amount]
    )
    denied = set(event.denied_lines)
    answered = tuple(
        line.line_control_number
        for line in event.lines
        if line.line_control_number is not None and line.line_control_number not in denied
    )
    whole = not event.lines and event.claim_status != CLAIM_DENIED
    await facts.add_answer(Answer(event.payment_id, event.claim_id, None if whole else answered, at))
    await facts.mark_item("unmatched_payments", event.payment_id, settle=True)
    await facts.mark_item("held_remittances", event.remittance_id, settle=True)


async def _payment_denied(event: remittance.ClaimDenied, envelope: Envelope, facts: SqlFacts) -> None:
    """The denied amounts stay on the books while billers work them (the 835's adjustment of them is offset)."""
    lines: dict[str, Decimal] = defaultdict(Decimal)
    for denial in event.denials:
        if denial.group != "PR":
            lines[denial.line_control_number or ""] += denial.amount
    holds = [
        Hold(event.payment_id, event.claim_id, line, amount, envelope.occurred_at)
        for line, amount in lines.items()
        if amount
    ]
    await facts.add_holds(envelope.event_id, holds)
    held = sum((hold.amount for hold in holds), ZERO)
    if held:
        movement = Movement(
            envelope.occurred_at,
            MovementKind.DENIAL_HELD,
            held,
            claim_id=event.claim_id,
            payment_id=event.payment_id,
            payer_id=event.payer_id,
        )
        await facts.add_movements(envelope.event_id, [movement])


async def _payment_reversed(event: remittance.ClaimPaymentReversed, envelope: Envelope, facts: SqlFacts) -> None:
    """The payer took a payment back: what it posted is undone exactly (by the payment's id), or, for a payment
    posted before remittance kept them, by the reversal's own amounts."""
    at = envelope.occurred_at
    if event.reversed_payment_id is not None:
        undone = [
            Movement(at, m.kind, -m.amount, m.encounter_id, m.claim_id, m.account_id, event.payment_id, m.payer_id)
            for m in await facts.movements_of_payment(event.reversed_payment_id)
        ]
        await facts.add_reversal(envelope.event_id, Reversal(event.reversed_payment_id, at))
    else:
        where: dict[str, Any] = {"claim_id": event.claim_id, "payment_id": event.payment_id, "payer_id": event.payer_id}
        groups = event.adjustments_by_group
        other = sum((amount for group, amount in groups.items() if group not in ("PR", "CO")), ZERO)
        undone = [
            Movement(at, MovementKind.INSURANCE_PAYMENT, -event.paid, **where),
            Movement(at, MovementKind.CONTRACTUAL, -groups.get("CO", ZERO), **where),
            Movement(at, MovementKind.OTHER_ADJUSTMENT, -other, **where),
        ]
    await facts.add_movements(envelope.event_id, [m for m in undone if m.amount])
    # A reversal remittance could not match at first is posted under the unmatched payment's id.
    await facts.mark_item("unmatched_payments", event.payment_id, settle=True)
    await facts.mark_item("held_remittances", event.remittance_id, settle=True)


async def _remittance_item(
    event: remittance.RemittanceUnmatched | remittance.RemittanceReceived, _envelope: Envelope, facts: SqlFacts
) -> None:
    if isinstance(event, remittance.RemittanceUnmatched):
        await facts.mark_item("unmatched_payments", event.payment_id, open=True)
        await facts.mark_item("held_remittances", event.remittance_id, settle=True)  # released: being posted
    else:
        await facts.mark_item("held_remittances", event.remittance_id, open=event.held)


async def _eligibility(
    event: eligibility.EligibilityVerified | eligibility.EligibilityCheckFailed, _envelope: Envelope, facts: SqlFacts
) -> None:
    """A failed check is a front desk's work unless the service asks again by itself; a verified one is none."""
    failed = isinstance(event, eligibility.EligibilityCheckFailed) and not event.retry_scheduled
    await facts.mark_item("eligibility_failures", event.coverage_id, open=failed)


async def _patient(event: Any, envelope: Envelope, facts: SqlFacts) -> None:
    match event:
        case registration.PatientRegistered():
            await facts.patient_registered(event.patient_id, envelope.occurred_at)
        case registration.CoverageAdded():
            await facts.coverage_added(event.patient_id)
        case registration.PatientsMerged():
            await facts.patient_merged_away(event.merged_patient_id)


async def _account(event: Any, envelope: Envelope, facts: SqlFacts) -> None:
    """Collections' events about a guarantor account: its balances and standing, and the patients' money."""
    at, event_id = envelope.occurred_at, envelope.event_id
    account = await facts.account(event.account_id) or AccountBalance(
        event.account_id, ZERO, ZERO, ZERO, ZERO, placed=False, on_plan=False, plan_defaulted=False, statements=0
    )
    changes: dict[str, Any] = {}
    match event:
        case collections.PatientBalanceChanged():
            changes = {
                "insurance_pending": event.insurance_pending,
                "patient_due": event.patient_due,
                "credit": event.credit,
                "balance": event.balance,
            }
        case collections.StatementIssued():
            changes = {"statements": account.statements + 1}
        case collections.PaymentPlanCreated():
            changes = {"on_plan": True, "plan_defaulted": False}
        case collections.PaymentPlanDefaulted():
            changes = {"on_plan": False, "plan_defaulted": True}
        case collections.AccountPlacedWithAgency():
            changes = {"placed": True}
        case collections.AccountRecalled():
            changes = {"placed": False}
        case collections.PatientPaymentReceived():
            where: dict[str, Any] = {
                "account_id": event.account_id,
                "payment_id": event.payment_id,
                "at_visit": event.at_visit,
            }
            movements = [
                Movement(at, MovementKind.PATIENT_PAYMENT, -applied.amount, encounter_id=applied.encounter_id, **where)
                for applied in event.applied
            ]
            if event.to_credit:
                movements.append(Movement(at, MovementKind.PATIENT_PAYMENT, -event.to_credit, **where))
            await facts.add_movements(event_id, movements)
        case collections.WriteOffReversed():
            movement = Movement(
                at,
                MovementKind.PATIENT_WRITE_OFF,
                event.amount,
                encounter_id=event.encounter_id,
                account_id=event.account_id,
            )
            await facts.add_movements(event_id, [movement])
        case collections.PatientCreditMoved():
            where = {"account_id": event.account_id}
            await facts.add_movements(
                event_id,
                [
                    Movement(at, MovementKind.CREDIT_MOVED, -event.amount, encounter_id=event.encounter_id, **where),
                    Movement(at, MovementKind.CREDIT_MOVED, event.amount, **where),
                ],
            )
        case collections.RefundIssued():
            await facts.add_movements(
                event_id, [Movement(at, MovementKind.REFUND, event.amount, account_id=event.account_id)]
            )
        case collections.BalanceWrittenOff():
            movements = [
                Movement(
                    at,
                    MovementKind.PATIENT_WRITE_OFF,
                    -applied.amount,
                    encounter_id=applied.encounter_id,
                    account_id=event.account_id,
                )
                for applied in event.applied
            ]
            rest = event.amount - sum((applied.amount for applied in event.applied), ZERO)
            if rest:
                movements.append(Movement(at, MovementKind.PATIENT_WRITE_OFF, -rest, account_id=event.account_id))
            await facts.add_movements(event_id, movements)
    if changes:
        await facts.save_account(replace(account, **changes))


def _concerns(event: IntegrationEvent) -> list[tuple[UUID | None, UUID | None]]:
    """The (claim, visit) pairs an event is a step of, for the claims' histories."""
    claim_id = getattr(event, "claim_id", None)
    encounter_id = getattr(event, "encounter_id", None)
    if isinstance(claim_id, UUID):
        return [(claim_id, encounter_id if isinstance(encounter_id, UUID) else None)]
    if isinstance(event, charge.ChargesCaptured | charge.ChargesCorrected | charge.ChargesHeld | charge.ChargesVoided):
        return [(None, event.encounter_id)]
    if isinstance(event, collections.PatientPaymentReceived | collections.BalanceWrittenOff):
        return [(None, applied.encounter_id) for applied in event.applied]
    if isinstance(event, collections.WriteOffReversed | collections.PatientCreditMoved):
        return [(None, event.encounter_id)]
    return []


async def _history_only(_event: IntegrationEvent, _envelope: Envelope, _facts: SqlFacts) -> None:
    """An event kept only as a step of its claim's history."""


_APPLY: Final[dict[str, dict[type[IntegrationEvent], _Apply]]] = {
    REGISTRATION_EVENTS: dict.fromkeys(
        (registration.PatientRegistered, registration.CoverageAdded, registration.PatientsMerged), _patient
    ),
    ELIGIBILITY_EVENTS: dict.fromkeys(
        (eligibility.EligibilityVerified, eligibility.EligibilityCheckFailed), _eligibility
    ),
    CHARGE_EVENTS: {
        charge.ChargesCaptured: _visit_charged,
        charge.ChargesCorrected: _visit_charged,
        charge.ChargesHeld: _visit_held,
        charge.ChargesVoided: _visit_voided,
    },
    CLAIM_EVENTS: {claim.ClaimCreated: _claim_created}
    | dict.fromkeys(
        (
            claim.ClaimScrubFailed,
            claim.ClaimSubmitted,
            claim.ClaimAccepted,
            claim.ClaimRejected,
            claim.ClaimStatusUpdated,
            claim.ClaimReplaced,
            claim.ClaimVoided,
            claim.ClaimPaid,
            claim.ClaimPartiallyPaid,
            claim.ClaimDenied,
            claim.ClaimClosed,
            claim.ClaimReopened,
            claim.ClaimAppealed,
            claim.PatientResponsibilityTransferred,
            claim.ClaimWriteOffRequested,
            claim.DenialResolutionWithdrawn,
        ),
        _claim_changed,
    ),
    REMITTANCE_EVENTS: {
        remittance.PaymentPosted: _payment_posted,
        remittance.ClaimDenied: _payment_denied,
        remittance.ClaimPaymentReversed: _payment_reversed,
        remittance.UnderpaymentDetected: _history_only,
        remittance.RemittanceUnmatched: _remittance_item,
        remittance.RemittanceReceived: _remittance_item,
    },
    COLLECTIONS_EVENTS: dict.fromkeys(
        (
            collections.PatientBalanceChanged,
            collections.StatementIssued,
            collections.PaymentPlanCreated,
            collections.PaymentPlanDefaulted,
            collections.PatientPaymentReceived,
            collections.RefundIssued,
            collections.BalanceWrittenOff,
            collections.WriteOffReversed,
            collections.PatientCreditMoved,
            collections.AccountPlacedWithAgency,
            collections.AccountRecalled,
        ),
        _account,
    ),
}


def subscriptions() -> dict[str, Handlers]:
    """What reporting reads, per topic: every event above, each also kept as a step of the claims it concerns."""

    def handler(apply: _Apply) -> EventHandler[SqlReportingUnitOfWork]:
        async def project(event: IntegrationEvent, envelope: Envelope, uow: SqlReportingUnitOfWork) -> None:
            await apply(event, envelope, uow.facts)
            await uow.facts.add_timeline(
                envelope.event_id,
                _concerns(event),
                occurred_at=envelope.occurred_at,
                producer=envelope.producer,
                event_type=envelope.event_type,
                summary=summarize(event),
            )

        return project

    return {topic: {model: handler(apply) for model, apply in handlers.items()} for topic, handlers in _APPLY.items()}
