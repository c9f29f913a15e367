"""The events collections consumes, applied to the guarantor accounts.

Registration says who guarantees each patient (an account per guarantor: a parent's children share one);
charge posts each visit's charges; claim says which claim bills which visit, when the payers are done with it,
and what billers did with its denials; remittance posts the payers' payments, denials and reversals.

Each topic is read by its own consumer, so an event can arrive before what it needs: a visit's charges before
the patient's registration, a payment before the claim's creation. Such an event is parked (encrypted, in the
order it came) and applied when what it waits for arrives, in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final
from uuid import UUID, uuid5

from rcm_collections.adapters.unit_of_work import SqlCollectionsUnitOfWork
from rcm_collections.domain.account import Account, Guarantor
from rcm_collections.domain.encounter import ClaimPayment, PatientShare, ServiceItem
from rcm_collections.domain.statements import Addressee
from rcm_common.crypto import BlindIndex
from rcm_common.envelope import Envelope
from rcm_common.events import charge, claim, registration, remittance
from rcm_common.events.base import READING_EVENTS, IntegrationEvent, event_model
from rcm_common.messaging import EventHandler
from rcm_common.topics import CHARGE_EVENTS, CLAIM_EVENTS, REGISTRATION_EVENTS, REMITTANCE_EVENTS
from rcm_common.types import Clock

ACCOUNT_NAMESPACE: Final = UUID("6f1d3c52-8a0e-4b7e-9a53-2f4d1e0c7b19")
CLAIM_DENIED: Final = "4"  # CLP02: the payer denied the claim
VOID_CLAIM: Final = "8"  # CLM05-3: a claim asking the payer to void an earlier one
PRIOR_PAYER_REASON: Final = "23"
"""CARC 23: the prior payer's adjudication, which a secondary's 835 restates and the prior's already posted."""

Handlers = dict[type[IntegrationEvent], EventHandler[SqlCollectionsUnitOfWork]]
PatientState = registration.PatientRegistered | registration.PatientUpdated


def guarantor_digest(index: BlindIndex, patient: PatientState) -> str:
    """Who guarantees the patient, as a keyed digest: the patient themself (by their id), or the guarantor
    registration names in full (a parent, say: name, birth date and address), so two children of one parent
    share an account. Registration gives a guarantor no id of their own, so a name, birth date and address are
    what tell two guarantors apart; two people who share all of them would share an account."""
    g = patient.guarantor
    if g.relationship != "self" and g.first_name and g.last_name and g.birth_date:
        address = g.address or patient.address
        person = (g.last_name, g.first_name, g.birth_date.isoformat(), address.line1, address.postal_code[:5])
        return index.digest("guarantor|" + "|".join(person))
    return index.exact_digest(f"patient|{patient.patient_id}")


def account_id_of(digest: str) -> UUID:
    return uuid5(ACCOUNT_NAMESPACE, digest)


def guarantor_of(patient: PatientState) -> Guarantor:
    g = patient.guarantor
    named = g.relationship != "self" and g.first_name and g.last_name
    name = f"{g.first_name} {g.last_name}" if named else f"{patient.first_name} {patient.last_name}"
    address = g.address if named and g.address is not None else patient.address
    phone = g.phone if named else patient.phone
    return Guarantor(
        name,
        Addressee(name, address.line1, address.line2, address.city, address.state, address.postal_code),
        phone,
    )


def claim_payment_of(event: remittance.PaymentPosted) -> ClaimPayment:
    by_group: dict[str, Decimal] = defaultdict(Decimal)
    for adjustment in event.adjustments:
        if adjustment.group != "PR" and adjustment.reason != PRIOR_PAYER_REASON:
            by_group[adjustment.group or "other"] += adjustment.amount  # a group not known yet: never the patient's
    share = event.patient_share
    denied = set(event.denied_lines)
    answered = tuple(
        line.line_control_number
        for line in event.lines
        if line.line_control_number is not None and line.line_control_number not in denied
    )
    whole = not event.lines and event.claim_status != CLAIM_DENIED
    return ClaimPayment(
        payment_id=event.payment_id,
        claim_id=event.claim_id,
        payer_id=event.payer_id,
        charge=event.charge,
        paid=event.paid,
        adjustments=tuple((group, amount) for group, amount in by_group.items() if amount),
        patient_share=PatientShare(share.deductible, share.coinsurance, share.copay, share.other),
        lines_answered=None if whole else answered,
    )


@dataclass
class Posting:
    """Applies upstream events to the accounts they concern."""

    clock: Clock

    async def apply(self, event: IntegrationEvent, cause: str, uow: SqlCollectionsUnitOfWork) -> None:
        match event:
            case registration.PatientRegistered() | registration.PatientUpdated():
                await self._patient(event, uow)
            case registration.PatientsMerged():
                survivor = await uow.directory.account_of_patient(event.surviving_patient_id)
                if survivor is None:
                    await self._park(f"patient:{event.surviving_patient_id}", event, cause, uow)
                else:
                    await uow.directory.set_patient(event.merged_patient_id, survivor)
            case charge.ChargesCaptured() | charge.ChargesCorrected():
                await self._charges(event, cause, uow)
            case charge.ChargesVoided():
                await self._void(event, cause, uow)
            case claim.ClaimCreated():
                await self._claim_created(event, cause, uow)
            case _:
                await self._on_claim(event, cause, uow)

    async def _patient(self, event: PatientState, uow: SqlCollectionsUnitOfWork) -> None:
        digest = guarantor_digest(uow.blind_index, event)
        account_id = account_id_of(digest)
        account = await uow.accounts.get(account_id, for_update=True)
        if account is None:
            account = Account(account_id, guarantor_of(event), patients={event.patient_id})
            await uow.accounts.add(account, digest, self.clock())
        else:
            account.guarantor = guarantor_of(event)
            account.patients.add(event.patient_id)
            await uow.accounts.save(account, self.clock())
        await uow.directory.set_patient(event.patient_id, account_id)
        uow.record_access("update", "guarantor_account", account_id, event.patient_id)
        await self._release(f"patient:{event.patient_id}", uow)

    async def _charges(
        self, event: charge.ChargesCaptured | charge.ChargesCorrected, cause: str, uow: SqlCollectionsUnitOfWork
    ) -> None:
        """Post the visit's charges to the account it is on; a correction naming another patient first moves the
        visit, with its money, to that patient's guarantor's account."""
        visit_account = await uow.directory.account_of_encounter(event.encounter_id)
        patient_account = await uow.directory.account_of_patient(event.patient_id)
        if patient_account is None:
            await self._park(f"patient:{event.patient_id}", event, cause, uow)
            return
        if visit_account is not None and visit_account != patient_account:
            await self._move_visit(event, visit_account, patient_account, cause, uow)
        account = await self._locked(patient_account if visit_account is None else visit_account, uow)
        if visit_account is not None and event.encounter_id not in account.encounters:
            account = await self._locked(patient_account, uow)  # moved just now
        account.capture(
            encounter_id=event.encounter_id,
            patient_id=event.patient_id,
            version=event.version,
            self_pay=event.coverage_id is None or event.payer_id is None,  # as charge and claim say self-pay
            date_of_service=event.date_of_service,
            provider_npi=event.rendering_provider_npi or event.billing_provider_npi,
            items=tuple(
                ServiceItem(line.procedure_code, line.modifiers, line.date_of_service, line.charge)
                for line in event.lines
            ),
            total=event.total_charge,
            cause=cause,
            now=self.clock(),
        )
        await uow.accounts.save(account, self.clock())
        await uow.directory.set_encounter(event.encounter_id, account.id)

    async def _move_visit(
        self,
        event: charge.ChargesCaptured | charge.ChargesCorrected,
        source: UUID,
        target: UUID,
        cause: str,
        uow: SqlCollectionsUnitOfWork,
    ) -> None:
        """The visit is another patient's now: to their guarantor's account, when this version is newer than the
        one posted and names another patient (an older version, read late, moves nothing). The two accounts are
        locked in id order, so two moves between them never lock each other out."""
        encounter_id, patient_id = event.encounter_id, event.patient_id
        first, second = sorted((source, target), key=str)
        accounts = {first: await self._locked(first, uow), second: await self._locked(second, uow)}
        visit = accounts[source].encounters.get(encounter_id)
        if visit is None or visit.voided or event.version <= visit.version or visit.patient_id == patient_id:
            return
        now = self.clock()
        moved, carried = accounts[source].move_out(encounter_id=encounter_id, cause=cause, now=now)
        accounts[target].move_in(visit=moved, carried=carried, patient_id=patient_id, cause=cause, now=now)
        await uow.accounts.save(accounts[source], now)
        await uow.accounts.save(accounts[target], now)
        await uow.directory.move_encounter(encounter_id, target)

    async def _void(self, event: charge.ChargesVoided, cause: str, uow: SqlCollectionsUnitOfWork) -> None:
        account_id = await uow.directory.account_of_encounter(event.encounter_id)
        if account_id is None:
            if event.patient_id is not None and await uow.directory.account_of_patient(event.patient_id) is None:
                await self._park(f"patient:{event.patient_id}", event, cause, uow)
            return  # never captured here: nothing to take off
        account = await self._locked(account_id, uow)
        account.void(encounter_id=event.encounter_id, cause=cause, now=self.clock())
        await uow.accounts.save(account, self.clock())

    async def _claim_created(self, event: claim.ClaimCreated, cause: str, uow: SqlCollectionsUnitOfWork) -> None:
        """A claim for the visit. A void (frequency 8) asks the payer to take back an earlier claim: it never
        closes, so it does not stand for the visit; only its way to the visit is kept, for what the payer says
        of it."""
        account = await self._account_of_visit(event.encounter_id, event.patient_id, uow)
        if account is None:
            await self._park(f"patient:{event.patient_id}", event, cause, uow)
            return
        if event.frequency == VOID_CLAIM:
            await uow.directory.set_claim(event.claim_id, event.encounter_id)
            await self._release(f"claim:{event.claim_id}", uow)
            return
        account.link_claim(
            encounter_id=event.encounter_id,
            patient_id=event.patient_id,
            claim_id=event.claim_id,
            responsibility=event.responsibility or "P",
            payer_id=event.payer_id,
            encounter_version=event.encounter_version,
            cause=cause,
            now=self.clock(),
        )
        await uow.accounts.save(account, self.clock())
        await uow.directory.set_encounter(event.encounter_id, account.id)
        await uow.directory.set_claim(event.claim_id, event.encounter_id)
        await self._release(f"claim:{event.claim_id}", uow)

    async def _on_claim(self, event: IntegrationEvent, cause: str, uow: SqlCollectionsUnitOfWork) -> None:
        """An answer about a claim: applied to the visit it bills, or parked until the claim's creation comes."""
        claim_id: UUID = event.claim_id  # type: ignore[attr-defined]  # every event routed here is a claim's
        encounter_id = await uow.directory.encounter_of_claim(claim_id)
        if encounter_id is None:
            await self._park(f"claim:{claim_id}", event, cause, uow)
            return
        account_id = await uow.directory.account_of_encounter(encounter_id)
        assert account_id is not None  # a claim's visit is posted to an account as the claim is linked
        account = await self._locked(account_id, uow)
        now = self.clock()
        where: dict[str, Any] = {"encounter_id": encounter_id, "cause": cause, "now": now}
        match event:
            case claim.ClaimReplaced() | claim.ClaimVoided():
                account.supersede_claim(claim_id=claim_id, **where)
            case claim.ClaimClosed():
                account.claim_closed(claim_id=claim_id, reason=event.reason, payment_id=event.payment_id, **where)
            case claim.ClaimReopened():
                account.claim_reopened(claim_id=claim_id, **where)
            case claim.PatientResponsibilityTransferred():
                account.transfer_denial(payment_id=event.payment_id, claim_id=claim_id, amount=event.amount, **where)
            case claim.ClaimWriteOffRequested():
                account.write_off_denial(
                    payment_id=event.payment_id,
                    claim_id=claim_id,
                    amount=event.amount,
                    category=event.category,
                    **where,
                )
            case claim.DenialResolutionWithdrawn():
                account.withdraw_resolution(payment_id=event.payment_id, kind=event.kind, amount=event.amount, **where)
            case remittance.PaymentPosted():
                account.post_claim_payment(payment=claim_payment_of(event), **where)
            case remittance.ClaimDenied():
                lines = tuple((d.line_control_number or "", d.amount) for d in event.denials if d.group != "PR")
                if any(amount for _, amount in lines):
                    account.hold_denial(payment_id=event.payment_id, claim_id=claim_id, lines=lines, **where)
            case remittance.ClaimPaymentReversed() if event.reversed_payment_id is not None:
                account.reverse_claim_payment(payment_id=event.reversed_payment_id, **where)
            case remittance.ClaimPaymentReversed():
                account.reverse_matching(
                    claim_id=claim_id,
                    charge=event.charge,
                    paid=event.paid,
                    patient_responsibility=event.patient_responsibility,
                    **where,
                )
        await uow.accounts.save(account, now)

    async def _account_of_visit(
        self, encounter_id: UUID, patient_id: UUID, uow: SqlCollectionsUnitOfWork
    ) -> Account | None:
        """The visit's account: where it was posted, else its patient's guarantor's; None before registration."""
        account_id = await uow.directory.account_of_encounter(encounter_id)
        if account_id is None:
            account_id = await uow.directory.account_of_patient(patient_id)
        return None if account_id is None else await self._locked(account_id, uow)

    @staticmethod
    async def _locked(account_id: UUID, uow: SqlCollectionsUnitOfWork) -> Account:
        account = await uow.accounts.get(account_id, for_update=True)
        if account is None:
            raise LookupError(f"account {account_id} is named in the directory but not stored")
        return account

    async def _park(self, waits_for: str, event: IntegrationEvent, cause: str, uow: SqlCollectionsUnitOfWork) -> None:
        """Keep the event until what it waits for arrives. Parking and releasing take the same lock per key (on
        PostgreSQL), so an event parked while its awaited event commits is looked at again, never stranded."""
        if await uow.parked.serialise(waits_for) and await self._arrived(waits_for, uow):
            await self.apply(event, cause, uow)
            return
        await uow.parked.park(
            waits_for, event.event_type, event.event_version, cause, event.model_dump_json(), self.clock()
        )

    @staticmethod
    async def _arrived(waits_for: str, uow: SqlCollectionsUnitOfWork) -> bool:
        kind, _, key = waits_for.partition(":")
        if kind == "patient":
            return await uow.directory.account_of_patient(UUID(key)) is not None
        return await uow.directory.encounter_of_claim(UUID(key)) is not None

    async def _release(self, waits_for: str, uow: SqlCollectionsUnitOfWork) -> None:
        await uow.parked.serialise(waits_for)
        for parked in await uow.parked.take(waits_for):
            model = event_model(parked.event_type, parked.event_version)
            await self.apply(model.model_validate_json(parked.payload, context=READING_EVENTS), parked.cause, uow)


def ids_named(events: Sequence[IntegrationEvent], field: str) -> set[UUID]:
    """The ids the events give in `field`, where they have one."""
    values = (getattr(event, field, None) for event in events)
    return {value for value in values if isinstance(value, UUID)}


async def read_ahead(events: Sequence[IntegrationEvent], uow: SqlCollectionsUnitOfWork) -> None:
    """Once per consumer batch: the claims', visits' and patients' directory rows read in a query each, and the
    accounts they lead to read (and taken for update) in one more, so the handlers find them in the unit of
    work instead of asking the database event by event."""
    accounts = await uow.directory.read_many(
        claims=ids_named(events, "claim_id"),
        encounters=ids_named(events, "encounter_id"),
        patients=ids_named(events, "patient_id"),
    )
    await uow.accounts.read_many(accounts, for_update=True)


def subscriptions(posting: Posting) -> dict[str, Handlers]:
    """What collections reads, per topic."""

    async def handle(event: IntegrationEvent, envelope: Envelope, uow: SqlCollectionsUnitOfWork) -> None:
        await posting.apply(event, f"event:{envelope.event_id}", uow)

    def reading(*types: type[IntegrationEvent]) -> Handlers:
        return dict.fromkeys(types, handle)

    return {
        REGISTRATION_EVENTS: reading(
            registration.PatientRegistered, registration.PatientUpdated, registration.PatientsMerged
        ),
        CHARGE_EVENTS: reading(charge.ChargesCaptured, charge.ChargesCorrected, charge.ChargesVoided),
        CLAIM_EVENTS: reading(
            claim.ClaimCreated,
            claim.ClaimReplaced,
            claim.ClaimVoided,
            claim.ClaimClosed,
            claim.ClaimReopened,
            claim.PatientResponsibilityTransferred,
            claim.ClaimWriteOffRequested,
            claim.DenialResolutionWithdrawn,
        ),
        REMITTANCE_EVENTS: reading(remittance.PaymentPosted, remittance.ClaimDenied, remittance.ClaimPaymentReversed),
    }
