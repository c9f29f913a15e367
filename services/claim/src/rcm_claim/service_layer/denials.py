"""Working denials and deadlines: the denial queue, a biller's resolution of a denial (a correction sent as a
replacement, a transfer to the patient, a write-off, an acceptance), appeals and their letters, and the deadline
queue. Each change names the revision its author read, is on the claim's timeline and is audited; each read of a
claim is audited.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Literal, cast
from uuid import UUID

from rcm_claim.adapters.appeal_letter import (
    AppealedLine,
    AppealLetterFacts,
    AppealTemplates,
    LetterParty,
    appeal_letter_pdf,
)
from rcm_claim.domain.adjudication import ZERO
from rcm_claim.domain.coordination import next_coverage
from rcm_claim.domain.copies import CoverageCopy, Person
from rcm_claim.domain.corrections import resubmission
from rcm_claim.domain.deadlines import Deadline, appeal_deadlines, earliest_service_at_risk, filing_deadlines
from rcm_claim.domain.denial_work import Appeal, appeal_deadline
from rcm_claim.domain.directories import Address, PayerProfile, ProviderDirectory
from rcm_claim.domain.model import Claim, ClaimError
from rcm_claim.service_layer.claims import claim_to_change, store
from rcm_claim.service_layer.commands import AcceptUnderpayment, AppealAnswer, AppealClaim, ResolveDenial
from rcm_claim.service_layer.denial_views import (
    DeadlinePublic,
    DenialGroup,
    DenialItem,
    DenialQueue,
    UnderpaymentItem,
)
from rcm_claim.service_layer.next_payers import NextPayers, closed_for_next_payer
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_claim.service_layer.views import AppealPublic, ClaimPublic
from rcm_common.errors import Conflict, NotFound

MAX_QUEUE: int = 5_000  # a queue longer than this is read in parts, by category or payer


async def denial_queue(
    uow: ClaimUnitOfWork, *, category: str | None, payer_id: str | None, limit: int, offset: int
) -> DenialQueue:
    """The open denials grouped by category, each group's items the nearest appeal deadline first and, within a
    day, the largest amount first; the groups ordered by their nearest deadline. The page (`limit`, `offset`) is
    taken over all items in that order, then grouped."""
    async with uow:
        claims = await uow.claims.with_open_denials(category=category, payer_id=payer_id, limit=MAX_QUEUE)
        payers = {payer.payer_id: payer for payer in await uow.directories.payers()}
        items = [(claim, DenialItem.of(claim, _appeal_deadline(claim, payers))) for claim in claims]
        items.sort(key=lambda pair: (pair[1].appeal_deadline or date.max, -pair[1].amount_at_stake, str(pair[0].id)))
        page = items[offset : offset + limit]
        for claim, _ in page:
            uow.record_access("read", "claim", claim.id, claim.patient_id)
        await uow.commit()
    totals: dict[str, list[DenialItem]] = {}
    for _, item in items:
        totals.setdefault(item.category, []).append(item)
    on_page: dict[str, list[DenialItem]] = {}
    for _, item in page:
        on_page.setdefault(item.category, []).append(item)
    return DenialQueue(
        count=len(items),
        amount_at_stake=sum((item.amount_at_stake for _, item in items), ZERO),
        groups=[
            DenialGroup(
                category=name,
                count=len(totals[name]),
                amount_at_stake=sum((item.amount_at_stake for item in totals[name]), ZERO),
                items=group,
            )
            for name, group in on_page.items()
        ],
    )


def _appeal_deadline(claim: Claim, payers: dict[str, PayerProfile]) -> date | None:
    denial, payer = claim.open_denial, payers.get(claim.payer_id)
    if denial is None or payer is None:
        return None
    return appeal_deadline(claim.appeal_window_opens(denial), payer.appeal_days)


async def resolve_denial(
    claim_id: UUID,
    command: ResolveDenial,
    uow: ClaimUnitOfWork,
    scrubber: Scrubber,
    *,
    by: str,
    revision: int,
    new_id: Callable[[], UUID] = uuid.uuid4,
) -> ClaimPublic:
    """Resolve the claim's open denial as the biller says (`ResolveDenial`); 409 when the claim has none or the
    resolution is not allowed (a CO denial moved to a patient without a waiver)."""
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        now = scrubber.clock()
        following = next_coverage(claim, await uow.coverages.for_patient(claim.patient_id))
        try:
            if command.kind == "corrected":
                await _send_corrected(uow, scrubber, claim, command, by=by, new_id=new_id)
            else:
                claim.resolve_denial(command.kind, command.reason, by=by, now=now, basis=command.basis,
                                     next_payer=following is not None)  # fmt: skip
        except ClaimError as error:
            raise Conflict(f"{error}.") from None
        return await _store_billing_next_payer(uow, claim, scrubber, following, f"api:{by}")


async def _send_corrected(
    uow: ClaimUnitOfWork, scrubber: Scrubber, claim: Claim, command: ResolveDenial, *, by: str,
    new_id: Callable[[], UUID],
) -> None:  # fmt: skip
    """The denied claim goes again as a replacement, with the authorisation number or note the fix needs, scrubbed
    like any claim (so an authorisation recorded since is found on file)."""
    now, cause = scrubber.clock(), f"api:{by}"
    replacement = resubmission(claim, new_id, now, cause)
    notes = {"prior_authorization_number": command.prior_authorization_number, "note": command.note}
    given = {field: value for field, value in notes.items() if value is not None}
    if given:
        replacement.annotate(dataclasses.replace(replacement.billing_notes, **given), now, cause)
    claim.corrected_for_denial(replacement.id, command.reason, by=by, now=now)
    await uow.claims.save(claim)  # replaced first: its services no longer stand against the replacement's
    await scrubber.scrub(uow, replacement, cause)
    await uow.claims.add(replacement)
    uow.record_access("create", "claim", replacement.id, replacement.patient_id)


async def appeal(
    claim_id: UUID, command: AppealClaim, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str, revision: int
) -> tuple[AppealPublic, int]:
    """Appeal the claim's open denial (ClaimAppealed): the appeal, and the claim's revision now; 409 for a claim
    with no denial to appeal, or a level already appealed or not reached."""
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        payer = await uow.directories.payer(claim.payer_id)
        try:
            made = claim.appeal(
                level=command.level, reason=command.reason, argument=command.argument,
                attachments=tuple(command.attachments), appeal_days=payer.appeal_days if payer else None, by=by,
                now=scrubber.clock(),
            )  # fmt: skip
        except ClaimError as error:
            raise Conflict(f"{error}.") from None
        view = await store(uow, claim)
    return AppealPublic.of(made), view.revision


async def underpayment_queue(
    uow: ClaimUnitOfWork, *, payer_id: str | None, limit: int, offset: int
) -> list[UnderpaymentItem]:
    """The partially paid claims the payer allowed below the contract, no biller having accepted it: the largest
    shortfall first."""
    async with uow:
        found = await uow.claims.search(state="partially_paid", payer_id=payer_id, limit=MAX_QUEUE)
        items = sorted(
            ((claim, UnderpaymentItem.of(claim)) for claim in found if claim.open_underpayment is not None),
            key=lambda pair: (-pair[1].underpaid_by, str(pair[0].id)),
        )[offset : offset + limit]
        for claim, _ in items:
            uow.record_access("read", "claim", claim.id, claim.patient_id)
        await uow.commit()
    return [item for _, item in items]


async def accept_underpayment(
    claim_id: UUID, command: AcceptUnderpayment, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str, revision: int
) -> ClaimPublic:
    """Let the claim's underpayment go; 409 when it has none open."""
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        following = next_coverage(claim, await uow.coverages.for_patient(claim.patient_id))
        try:
            claim.accept_underpayment(command.reason, by=by, now=scrubber.clock(), next_payer=following is not None)
        except ClaimError as error:
            raise Conflict(f"{error}.") from None
        return await _store_billing_next_payer(uow, claim, scrubber, following, f"api:{by}")


async def _store_billing_next_payer(
    uow: ClaimUnitOfWork, claim: Claim, scrubber: Scrubber, following: CoverageCopy | None, cause: str
) -> ClaimPublic:
    """Store the claim a biller resolved and, when it closed with what its payer left for the next payer, bill
    that payer in the same transaction."""
    billed = closed_for_next_payer(claim)
    await uow.claims.save(claim)
    uow.record_access("update", "claim", claim.id, claim.patient_id)
    if billed and following is not None:
        await NextPayers(scrubber).bill_or_say_why(uow, claim, following, scrubber.clock(), cause)
    await uow.commit()
    return ClaimPublic.of(claim)


async def answer_appeal(
    claim_id: UUID, number: int, command: AppealAnswer, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str,
    revision: int,
) -> ClaimPublic:  # fmt: skip
    """Record the payer's answer to an appeal by letter, or its withdrawal; 409 when it is not pending."""
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        if all(appeal.number != number for appeal in claim.appeals):
            raise NotFound("The claim has no appeal with this number.")
        try:
            claim.appeal_answered_by_letter(number, command.outcome, command.note, by=by, now=scrubber.clock())
        except ClaimError as error:
            raise Conflict(f"{error}.") from None
        return await store(uow, claim)


async def deadlines(
    uow: ClaimUnitOfWork, *, today: date, warning_days: int, payer_id: str | None, limit: int, offset: int = 0
) -> list[DeadlinePublic]:
    """Every timely-filing and appeal deadline within `warning_days` of `today`, or passed: the soonest first."""
    async with uow:
        payers = {payer.payer_id: payer for payer in await uow.directories.payers()}
        read: dict[UUID, Claim] = {}
        found: list[Deadline] = []
        for payer in payers.values():
            if payer_id is not None and payer.payer_id != payer_id:
                continue
            serviced_by = earliest_service_at_risk(payer, today + timedelta(days=warning_days))
            unfiled = await uow.claims.not_filed(payer.payer_id, serviced_on_or_before=serviced_by, limit=MAX_QUEUE)
            read |= {claim.id: claim for claim in unfiled}
            found += filing_deadlines(unfiled, payer, today, warning_days)
        denied = await uow.claims.with_open_denials(payer_id=payer_id, limit=MAX_QUEUE)
        read |= {claim.id: claim for claim in denied}
        found += appeal_deadlines(denied, payers, today, warning_days)
        found.sort(key=lambda d: (d.due, -d.amount, str(d.claim_id)))
        page = found[offset : offset + limit]
        for claim_id in dict.fromkeys(deadline.claim_id for deadline in page):
            uow.record_access("read", "claim", claim_id, read[claim_id].patient_id)
        await uow.commit()
    return [DeadlinePublic.of(deadline) for deadline in page]


async def appeal_letter(claim_id: UUID, number: int, uow: ClaimUnitOfWork, templates: AppealTemplates) -> bytes:
    """The letter of the claim's appeal `number`, from what the service holds now (the practice and payer
    directories, the patient's and coverage's copies); audited as an export, since it names the patient."""
    async with uow:
        claim = await uow.claims.get(claim_id)
        if claim is None:
            raise NotFound("There is no claim with this id.")
        appeal = next((appeal for appeal in claim.appeals if appeal.number == number), None)
        if appeal is None:
            raise NotFound("The claim has no appeal with this number.")
        patient = await uow.patients.get(claim.patient_id)
        coverage = await uow.coverages.get(claim.coverage_id)
        practice = await uow.directories.providers()
        payer = await uow.directories.payer(claim.payer_id)
        if patient is None or patient.person.birth_date is None or coverage is None or practice is None:
            raise Conflict("The letter needs the patient's name and birth date, the member id and the practice.")
        uow.record_access("export", "claim", claim.id, claim.patient_id)
        await uow.commit()
    facts = letter_facts(claim, appeal, patient.person, patient.person.birth_date, coverage.member_id, practice, payer)
    return appeal_letter_pdf(facts, templates)


def letter_facts(
    claim: Claim, appeal: Appeal, person: Person, birth_date: date, member_id: str, practice: ProviderDirectory,
    payer: PayerProfile | None,
) -> AppealLetterFacts:  # fmt: skip
    """What the letter says: the practice and the payer as the directories give them, the claim's facts, the
    denial's reasons and remarks in words, the lines it denied, and the appeal."""
    billing = practice.billing
    adjudication = next(a for a in claim.adjudications if a.payment_id == appeal.payment_id)
    denial = next((d for d in claim.denials if d.payment_id == appeal.payment_id), None)
    words = denial.words if denial is not None else ()
    reasons = tuple(word for word in words if word.split(":", 1)[0] in appeal.reasons) or appeal.reasons
    denied = set(adjudication.denied_lines)
    lines = [line for line in claim.lines if line.control_number in denied] or list(claim.lines)
    return AppealLetterFacts(
        practice=LetterParty(billing.name, _address_lines(billing.address), phone=_phone(billing.phone)),
        practice_npi=billing.npi,
        practice_tax_id=billing.tax_id,
        payer=LetterParty(
            payer.name if payer is not None else claim.payer_id,
            _address_lines(payer.appeals_address) if payer is not None and payer.appeals_address else (),
        ),
        patient_name=f"{person.first_name} {person.last_name}",
        patient_birth_date=birth_date,
        member_id=member_id,
        patient_control_number=claim.patient_control_number,
        payer_claim_number=adjudication.payer_claim_number or claim.payer_claim_number or "",
        service_from=min(line.date_of_service for line in claim.lines),
        service_to=max(line.date_of_service for line in claim.lines),
        total_charge=claim.total_charge,
        amount_paid=appeal.paid_before,
        denial_category=appeal.category,
        denial_reasons=reasons,
        remark_codes=tuple(word for word in words if word not in reasons),
        amount_at_stake=appeal.amount_at_stake,
        lines=tuple(  # the lines denied, each paid nothing
            AppealedLine(line.procedure_code, line.modifiers, line.date_of_service, line.charge, ZERO, appeal.reasons)
            for line in lines
        ),
        appeal_level=cast("Literal[1, 2, 3]", appeal.level),
        appeal_number=appeal.number,
        appeal_reason=appeal.reason,
        argument=appeal.argument,
        attachments=appeal.attachments,
        letter_date=appeal.at.date(),
    )


def _address_lines(address: Address) -> tuple[str, ...]:
    street = tuple(line for line in (address.line1, address.line2) if line)
    code = address.postal_code
    postal = f"{code[:5]}-{code[5:]}" if len(code) == 9 else code
    return (*street, f"{address.city}, {address.state} {postal}")


def _phone(digits: str) -> str | None:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if digits else None
