"""The events claim consumes. Registration's keep the copies of patients and coverages; eligibility's keep
the latest answer per coverage and the prior authorisations; each scrubs again the patient's claims the
payer does not have. Charge's build, rebuild, hold and withdraw claims. Each handler runs in the consumer's
unit of work: the copies, the claims, their audit records and their events commit together or not at all.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from rcm_claim.domain.adjudication import Adjudication, Adjustment, Denial, DeniedPart, LinePayment
from rcm_claim.domain.coordination import next_coverage
from rcm_claim.domain.copies import Authorization, CoverageCopy, EligibilityAnswer, EligibilityStatus
from rcm_claim.domain.corrections import Succession, corrected, live_claim, next_payer_claims, withdrawn
from rcm_claim.domain.model import HOLDABLE, Claim, EncounterLine, EncounterVersion
from rcm_claim.service_layer.answers import followers_of, settle_followers
from rcm_claim.service_layer.next_payers import NextPayers, closed_for_next_payer
from rcm_claim.service_layer.projection import PROJECTION
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_common.envelope import Envelope
from rcm_common.events import charge as charge_contract
from rcm_common.events import eligibility as eligibility_contract
from rcm_common.events import registration as registration_contract
from rcm_common.events import remittance as remittance_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.messaging import EventHandler
from rcm_common.replica import replica_handlers

Handlers = dict[type[IntegrationEvent], EventHandler[ClaimUnitOfWork]]
ENCOUNTER_CHARGES = (charge_contract.ChargesCaptured, charge_contract.ChargesCorrected)
CHARGE_EVENT_TYPES = (*ENCOUNTER_CHARGES, charge_contract.ChargesHeld, charge_contract.ChargesVoided)
# AAA03 reject reasons of a 271 (005010X279A1) that speak of the member: unknown to the payer (patient or
# subscriber not found, an invalid id or name, not in the plan named), or known but not matching the details
# sent (birth date, patient id or name, gender, a duplicate id). Any other reason says nothing of the member.
MEMBER_UNKNOWN = frozenset({"67", "72", "73", "75", "77", "78"})
MEMBER_MISMATCH = frozenset({"58", "64", "65", "66", "71", "74", "76"})
# What a claim carries of a patient and a coverage: a change to one of these may fix a payer's rejection.
BILLED_PATIENT_FIELDS = frozenset({"first_name", "last_name", "birth_date", "sex", "address"})
BILLED_COVERAGE_FIELDS = frozenset(
    {"payer_id", "member_id", "group_number", "relationship", "subscriber", "order", "effective_date",
     "termination_date"}
)  # fmt: skip


def cause_of(envelope: Envelope) -> str:
    """A timeline step's cause: the event that made it, by its id."""
    return f"event:{envelope.event_id}"


def registration_handlers(scrubber: Scrubber) -> Handlers:
    """Registration's events keep the copies (`rcm_common.replica`, a merge moving the merged patient's
    claims to the survivor); then the patient's unsent claims are scrubbed again, the event their cause."""

    async def move_claims(uow: ClaimUnitOfWork, merge: registration_contract.PatientsMerged) -> None:
        for claim_id in await uow.claims.repoint(merge.merged_patient_id, merge.surviving_patient_id):
            uow.record_access("update", "claim", claim_id, merge.surviving_patient_id)

    async def patient_concerned(event: IntegrationEvent, uow: ClaimUnitOfWork) -> UUID | None:
        """The patient whose claims the event may change, as the copies now say."""
        match event:
            case registration_contract.PatientsMerged():
                return event.surviving_patient_id
            case registration_contract.PatientRegistered() | registration_contract.PatientUpdated():
                return event.patient_id
            case (
                registration_contract.CoverageAdded()
                | registration_contract.CoverageUpdated()
                | registration_contract.CoverageEnded()
            ):
                coverage = await uow.coverages.get(event.coverage_id)
                return coverage.patient_id if coverage is not None else None
        return None

    def then_rescrub(keep_copy: EventHandler[ClaimUnitOfWork]) -> EventHandler[ClaimUnitOfWork]:
        async def handle(event: IntegrationEvent, envelope: Envelope, uow: ClaimUnitOfWork) -> None:
            await keep_copy(event, envelope, uow)
            if (patient_id := await patient_concerned(event, uow)) is not None:
                await uow.lock_patient(patient_id)
                claims = await uow.claims.for_patient(patient_id)
                await scrubber.rescrub(uow, claims, cause_of(envelope), rejected_too=may_fix_a_rejection(event))

        return handle

    replica = replica_handlers(PROJECTION, scrubber.clock, after_merge=move_claims)
    return {event_type: then_rescrub(keep_copy) for event_type, keep_copy in replica.items()}


def may_fix_a_rejection(event: IntegrationEvent) -> bool:
    """A correction of what a claim carries of the patient or the coverage: rejected claims are scrubbed again
    (and so resubmitted) for such a change, and for no other, so an unrelated change never resends a claim
    with the defect the payer rejected."""
    match event:
        case registration_contract.PatientUpdated():
            return bool(BILLED_PATIENT_FIELDS.intersection(event.changed_fields))
        case registration_contract.CoverageUpdated():
            return bool(BILLED_COVERAGE_FIELDS.intersection(event.changed_fields))
    return False


def eligibility_handlers(scrubber: Scrubber) -> Handlers:
    """Eligibility's answers and authorisations: kept, then the coverage's unsent claims scrubbed again. The
    claims are found by the coverage's patient as the copies now say, so a merge read first is followed."""

    async def rescrub_coverage(uow: ClaimUnitOfWork, patient_id: UUID, coverage_id: UUID, cause: str) -> None:
        coverage = await uow.coverages.get(coverage_id)
        patient_id = coverage.patient_id if coverage is not None else patient_id
        await uow.lock_patient(patient_id)
        claims = [claim for claim in await uow.claims.for_patient(patient_id) if claim.coverage_id == coverage_id]
        await scrubber.rescrub(uow, claims, cause)

    async def on_verified(
        event: eligibility_contract.EligibilityVerified, envelope: Envelope, uow: ClaimUnitOfWork
    ) -> None:
        benefits = event.benefits
        answer = EligibilityAnswer(
            event.coverage_id, "active" if benefits.active else "inactive", event.checked_at, event.date_of_service,
            benefits.plan_begin, benefits.plan_end,
        )  # fmt: skip
        if await uow.eligibility.record(answer):
            await rescrub_coverage(uow, event.patient_id, event.coverage_id, cause_of(envelope))

    async def on_failed(
        event: eligibility_contract.EligibilityCheckFailed, envelope: Envelope, uow: ClaimUnitOfWork
    ) -> None:
        status = status_of_failure(event)
        if status == "unanswered" and await uow.eligibility.latest(event.coverage_id) is not None:
            return  # a check no payer answered never replaces what a payer said
        codes = tuple(error.code for error in event.errors if error.code in MEMBER_UNKNOWN | MEMBER_MISMATCH)
        answer = EligibilityAnswer(event.coverage_id, status, event.checked_at, event.date_of_service,
                                   reject_codes=codes)  # fmt: skip
        if await uow.eligibility.record(answer):
            await rescrub_coverage(uow, event.patient_id, event.coverage_id, cause_of(envelope))

    async def on_authorization(
        event: eligibility_contract.PriorAuthorizationRecorded, envelope: Envelope, uow: ClaimUnitOfWork
    ) -> None:
        await uow.authorizations.save(
            Authorization(
                authorization_id=event.authorization_id,
                coverage_id=event.coverage_id,
                number=event.authorization_number,
                procedure_codes=frozenset(event.procedure_codes),
                start_date=event.start_date,
                end_date=event.end_date,
                units_authorized=event.units_authorized,
            )
        )
        await rescrub_coverage(uow, event.patient_id, event.coverage_id, cause_of(envelope))

    return {
        eligibility_contract.EligibilityVerified: on_verified,
        eligibility_contract.EligibilityCheckFailed: on_failed,
        eligibility_contract.PriorAuthorizationRecorded: on_authorization,
    }


def status_of_failure(event: eligibility_contract.EligibilityCheckFailed) -> EligibilityStatus:
    """What a failed check says of the coverage: inactive, the member unknown to the payer, the member's
    details not matching, or nothing (the payer never answered, or refused for a reason that says nothing of
    the member)."""
    codes = {error.code for error in event.errors} if event.kind == "payer_rejected" else set()
    if event.kind == "coverage_inactive":
        return "inactive"
    if codes & MEMBER_UNKNOWN:
        return "not_found"
    if codes & MEMBER_MISMATCH:
        return "mismatch"
    return "unanswered"


def charge_handlers(scrubber: Scrubber) -> Handlers:
    """Charge's events: a captured encounter becomes a claim at its coverage's payer; a correction or a void
    changes the claim in play as the payer expects (`domain.corrections`); a hold keeps it out of batches.
    An event for a version the service has already billed changes nothing, so a redelivery is harmless."""

    async def apply(uow: ClaimUnitOfWork, patient_id: UUID, succession: Succession, cause: str) -> None:
        """Store what changed and scrub and store what was built; then scrub the patient's other unsent claims
        again, as a claim built or withdrawn may clear or take a service they were checked against."""
        for claim in succession.changed:
            await uow.claims.save(claim)
            uow.record_access("update", "claim", claim.id, claim.patient_id)
        for claim in succession.built:
            await scrubber.scrub(uow, claim, cause)
            await uow.claims.add(claim)
            uow.record_access("create", "claim", claim.id, claim.patient_id)
        touched = {claim.id for claim in (*succession.changed, *succession.built)}
        others = [claim for claim in await uow.claims.for_patient(patient_id) if claim.id not in touched]
        await scrubber.rescrub(uow, others, cause)

    async def billed_patient(uow: ClaimUnitOfWork, patient_id: UUID) -> UUID:
        """The patient a claim is billed under: the survivor where registration merged this one away."""
        patient = await uow.patients.get(patient_id)
        return patient.merged_into if patient is not None and patient.merged_into is not None else patient_id

    async def coverage_order(uow: ClaimUnitOfWork, coverage_id: UUID | None) -> str:
        coverage = await uow.coverages.get(coverage_id) if coverage_id is not None else None
        return coverage.order if coverage is not None else "primary"  # a scrub names a coverage not yet on file

    async def on_charges(
        event: charge_contract.ChargesCaptured | charge_contract.ChargesCorrected,
        envelope: Envelope,
        uow: ClaimUnitOfWork,
    ) -> None:
        patient_id = await billed_patient(uow, event.patient_id)
        await uow.lock_patient(patient_id)
        claims = await uow.claims.for_encounter(event.encounter_id)
        if any(claim.encounter_version >= event.version for claim in claims):
            return
        encounter = dataclasses.replace(encounter_version(event), patient_id=patient_id)
        order = await coverage_order(uow, event.coverage_id)
        now, cause = scrubber.clock(), cause_of(envelope)
        succession = corrected(live_claim(claims), encounter, order, uuid.uuid4, now, cause)
        for following in next_payer_claims(claims):
            succession = succession.then(withdrawn(following, "encounter_corrected", uuid.uuid4, now, cause))
        await apply(uow, patient_id, succession, cause)

    async def encounter_claim_locked(uow: ClaimUnitOfWork, encounter_id: UUID) -> Claim | None:
        """The encounter's claim in play, read again under its patient's lock (charge's held and voided events
        may not name the patient, so the claims tell whose lock to take)."""
        live = live_claim(await uow.claims.for_encounter(encounter_id))
        if live is None:
            return None
        await uow.lock_patient(live.patient_id)
        return live_claim(await uow.claims.for_encounter(encounter_id))

    async def on_held(event: charge_contract.ChargesHeld, envelope: Envelope, uow: ClaimUnitOfWork) -> None:
        live = await encounter_claim_locked(uow, event.encounter_id)
        if live is None or live.encounter_version != event.version or live.state not in HOLDABLE or live.held:
            return
        reason = f"charge is correcting the encounter ({', '.join(event.issue_codes) or 'no issue named'})"
        live.hold(reason, scrubber.clock(), cause_of(envelope))
        await uow.claims.save(live)
        uow.record_access("update", "claim", live.id, live.patient_id)

    async def on_voided(event: charge_contract.ChargesVoided, envelope: Envelope, uow: ClaimUnitOfWork) -> None:
        live = await encounter_claim_locked(uow, event.encounter_id)
        if live is None:
            return
        cause, now = cause_of(envelope), scrubber.clock()
        succession = withdrawn(live, "encounter_voided", uuid.uuid4, now, cause)
        for following in next_payer_claims(await uow.claims.for_encounter(event.encounter_id)):
            succession = succession.then(withdrawn(following, "encounter_voided", uuid.uuid4, now, cause))
        await apply(uow, live.patient_id, succession, cause)

    return {
        charge_contract.ChargesCaptured: on_charges,
        charge_contract.ChargesCorrected: on_charges,
        charge_contract.ChargesHeld: on_held,
        charge_contract.ChargesVoided: on_voided,
    }


PATIENT_FIELDS = ("patient_id", "merged_patient_id", "surviving_patient_id")


async def take_patients_named(events: Sequence[IntegrationEvent], uow: ClaimUnitOfWork) -> None:
    """Before a batch of registration's or eligibility's events: every patient they name taken at once, in
    the order every consumer takes patients in, so two of claim's consumers never wait on each other in a
    circle (each handler's own lock is then already held)."""
    named = {getattr(event, name, None) for event in events for name in PATIENT_FIELDS}
    await uow.lock_patients({patient_id for patient_id in named if isinstance(patient_id, UUID)})


async def prepare_charges(events: Sequence[IntegrationEvent], uow: ClaimUnitOfWork) -> None:
    """Before a batch of charge's events: its patients taken, and their copies and claims and the encounters'
    claims read, in a few queries."""
    charges = [event for event in events if isinstance(event, CHARGE_EVENT_TYPES)]
    patients = {event.patient_id for event in charges if event.patient_id is not None}
    coverages = {
        event.coverage_id for event in charges if isinstance(event, ENCOUNTER_CHARGES) and event.coverage_id is not None
    }
    await uow.read_for_batch(patients, coverages, {event.encounter_id for event in charges})


def encounter_version(event: charge_contract.ChargesCaptured | charge_contract.ChargesCorrected) -> EncounterVersion:
    """What a claim keeps of one version of a captured encounter: diagnoses in their pointer order."""
    return EncounterVersion(
        encounter_id=event.encounter_id,
        version=event.version,
        patient_id=event.patient_id,
        coverage_id=event.coverage_id,
        payer_id=event.payer_id,
        date_of_service=event.date_of_service,
        place_of_service=event.place_of_service,
        diagnoses=tuple(diagnosis.code for diagnosis in sorted(event.diagnoses, key=lambda d: d.pointer)),
        lines=tuple(
            EncounterLine(
                procedure_code=line.procedure_code,
                modifiers=line.modifiers,
                units=line.units,
                date_of_service=line.date_of_service,
                charge=line.charge,
                diagnosis_pointers=line.diagnosis_pointers,
                expected_allowed=line.expected_allowed,
                ndc=line.ndc,
            )
            for line in sorted(event.lines, key=lambda line: line.line_number)
        ),
        billing_provider_npi=event.billing_provider_npi,
        rendering_provider_npi=event.rendering_provider_npi,
        referring_provider_npi=event.referring_provider_npi,
        location=event.location,
    )


def adjudication_of(event: remittance_contract.PaymentPosted, now: datetime) -> Adjudication:
    """What the claim keeps of a posted payment: its amounts, the lines it paid and denied, and how it paid each
    line and adjusted the claim, which a claim to the next payer reports."""
    # The event lists the claim's own adjustments and its lines'; the lines matched by control number keep
    # theirs, so what is left is the claim's own and the adjustments of lines no control number named.
    on_lines = [a for line in event.lines if line.line_control_number is not None for a in line.adjustments]
    claim_level = list(event.adjustments)
    for adjustment in on_lines:
        if adjustment in claim_level:
            claim_level.remove(adjustment)
    return Adjudication(
        payment_id=event.payment_id,
        trace_number=event.trace_number,
        payer_claim_number=event.payer_claim_number,
        claim_status=event.claim_status,
        charge=event.charge,
        paid=event.paid,
        allowed=event.allowed,
        patient_responsibility=event.patient_responsibility,
        # A line the payer processed without denying it (paid, or allowed to the deductible) is decided paid.
        paid_lines=tuple(
            line.line_control_number or line.procedure_code
            for line in event.lines
            if (line.line_control_number or line.procedure_code) not in event.denied_lines
        ),
        denied_lines=event.denied_lines,
        underpaid_by=event.underpaid_by,
        posted_at=now,
        paid_on=event.payment_date,
        claim_adjustments=tuple(_adjustment(a) for a in claim_level),
        line_payments=tuple(
            LinePayment(
                line.line_control_number,
                line.procedure_code,
                line.modifiers,
                line.units_paid,
                line.paid,
                tuple(_adjustment(a) for a in line.adjustments),
            )
            for line in event.lines
            if line.line_control_number is not None
        ),
    )


def _adjustment(adjustment: remittance_contract.AdjustmentPosted) -> Adjustment:
    return Adjustment(adjustment.group or "OA", adjustment.reason, adjustment.amount)


def remittance_handlers(scrubber: Scrubber) -> Handlers:
    """Remittance's events: the payer's 835 as posted decides the claim (paid, partially paid or denied, closed
    when no insurance balance is left, reopened when its payment is taken back), and puts its denial in words on
    it for the denial queue. What a paying payer leaves goes to the patient's next payer on the date of service,
    when there is one, as a claim carrying this payer's adjudication (`NextPayers`). A payment for a claim still
    awaiting its 277CA accepts it with the 835's claim number first, letting go the claims that waited for the
    payer's answer. A payment already on the claim (a redelivery) changes nothing."""

    clock, next_payers = scrubber.clock, NextPayers(scrubber)

    async def claim_of(uow: ClaimUnitOfWork, claim_id: UUID) -> Claim | None:
        claim = await uow.claims.get(claim_id)
        if claim is not None:
            await uow.lock_patient(claim.patient_id)  # a correction of the encounter waits, or is seen
            claim = await uow.claims.get(claim_id, for_update=True)
        return claim

    async def store(uow: ClaimUnitOfWork, claim: Claim) -> None:
        await uow.claims.save(claim)
        await uow.decided_services.record(claim)
        uow.record_access("update", "claim", claim.id, claim.patient_id)

    async def posted(event: remittance_contract.PaymentPosted, envelope: Envelope, uow: ClaimUnitOfWork) -> None:
        claim = await claim_of(uow, event.claim_id)
        if claim is None or any(a.payment_id == event.payment_id for a in claim.adjudications):
            return
        now, cause = clock(), cause_of(envelope)
        if claim.state == "submitted" and event.payer_claim_number:
            followers = await followers_of(uow, [claim])
            claim.accept(event.payer_claim_number, now, cause)
            await settle_followers(uow, claim, followers.get(claim.id, []), now, cause)
        following = next_coverage(claim, await uow.coverages.for_patient(claim.patient_id))
        claim.adjudicated(adjudication_of(event, now), now, cause, next_payer=following is not None)
        await follow_next_payers(uow, claim, following, now, cause)

    async def follow_next_payers(
        uow: ClaimUnitOfWork, claim: Claim, following: CoverageCopy | None, now: datetime, cause: str
    ) -> None:
        """Store the claim, then keep its next payers in step with what its standing payments say now: billed
        again when they closed it with a balance for them (the claim to them built, or replacing theirs), their
        claims withdrawn when it is open again. A next payer that cannot be billed leaves the payment posted, and
        the claim says why."""
        billed = closed_for_next_payer(claim)
        await store(uow, claim)
        if billed and following is not None:
            await next_payers.bill_or_say_why(uow, claim, following, now, cause)
        elif claim.state != "closed":  # what its next payers were told no longer stands
            await next_payers.withdraw_followers(uow, claim, now, cause)

    async def denied(event: remittance_contract.ClaimDenied, envelope: Envelope, uow: ClaimUnitOfWork) -> None:
        claim = await claim_of(uow, event.claim_id)
        if claim is None:
            return
        now = clock()
        denial = Denial(
            payment_id=event.payment_id,
            whole_claim=event.whole_claim,
            category=event.category,
            suggested_action=event.suggested_action,
            amount=event.amount_denied,
            reasons=tuple(dict.fromkeys(f"{d.group}-{d.reason}" for d in event.denials)),
            parts=tuple(DeniedPart(d.line_control_number, f"{d.group}-{d.reason}", d.amount) for d in event.denials),
            words=tuple(
                dict.fromkeys(
                    [f"{d.group}-{d.reason}: {d.description}" for d in event.denials]
                    + [f"{r.code}: {r.description}" for d in event.denials for r in d.remarks]
                )
            ),
        )
        claim.denied(denial, now, cause_of(envelope))
        await store(uow, claim)

    async def reversed_(
        event: remittance_contract.ClaimPaymentReversed, envelope: Envelope, uow: ClaimUnitOfWork
    ) -> None:
        claim = await claim_of(uow, event.claim_id)
        if claim is None:
            return
        amounts = (event.charge, event.paid, event.patient_responsibility)
        now, cause = clock(), cause_of(envelope)
        following = next_coverage(claim, await uow.coverages.for_patient(claim.patient_id))
        claim.payment_reversed(event.reversed_payment_id, amounts, now, cause, next_payer=following is not None)
        await follow_next_payers(uow, claim, following, now, cause)

    return {
        remittance_contract.PaymentPosted: posted,
        remittance_contract.ClaimDenied: denied,
        remittance_contract.ClaimPaymentReversed: reversed_,
    }
