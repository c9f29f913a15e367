"""Reading claims (one with its lines, scrub and timeline; one as its batch sent it; a filtered page; the scrub,
rejection and follow-up work queues) and a biller's changes to one (the notes it carries to the payer, an
override, a hold and its release, a scrub on demand). Each read and change of a
claim is audited (a claim names a patient's services); a change names the revision its author read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from rcm_claim.domain.model import HOLDABLE, Claim, ClaimError, ClaimState
from rcm_claim.domain.scrubber import ScrubError, overridden
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_claim.service_layer.views import ClaimPublic, ClaimSummary
from rcm_common.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from rcm_common.offload import off_the_loop


async def get_claim(claim_id: UUID, uow: ClaimUnitOfWork) -> ClaimPublic:
    async with uow:
        claim = await uow.claims.get(claim_id)
        if claim is None:
            raise NotFound("There is no claim with this id.")
        uow.record_access("read", "claim", claim.id, claim.patient_id)
        await uow.commit()
    return ClaimPublic.of(claim)


async def list_claims(
    uow: ClaimUnitOfWork,
    *,
    state: ClaimState | None = None,
    rule: str | None = None,
    rejection_code: str | None = None,
    payer_id: str | None = None,
    patient_id: UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int,
    offset: int,
) -> list[ClaimSummary]:
    """Claims the longest in their state first, narrowed by each filter given (the scrub work queue is the
    `scrub_failed` claims, by the rule holding them; the rejection queue the `rejected`, by a code)."""
    async with uow:
        found = await uow.claims.search(
            state=state, rule=rule, rejection_code=rejection_code, payer_id=payer_id, patient_id=patient_id,
            date_from=date_from, date_to=date_to, limit=limit, offset=offset,
        )  # fmt: skip
        for claim in found:
            uow.record_access("read", "claim", claim.id, claim.patient_id)
        await uow.commit()
    return [ClaimSummary.of(claim) for claim in found]


async def follow_up_queue(
    uow: ClaimUnitOfWork, *, unanswered_before: datetime, payer_id: str | None, limit: int, offset: int
) -> list[ClaimSummary]:
    """Claims sent before `unanswered_before` that no 999 (batched) or 277CA (submitted) has answered, the
    longest waiting first: each needs a call to the clearinghouse or the payer."""
    async with uow:
        found = await uow.claims.unanswered_since(unanswered_before, payer_id=payer_id, limit=limit, offset=offset)
        for claim in found:
            uow.record_access("read", "claim", claim.id, claim.patient_id)
        await uow.commit()
    return [ClaimSummary.of(claim) for claim in found]


async def claim_as_sent(claim_id: UUID, uow: ClaimUnitOfWork, extract: Callable[[str, str], str]) -> str:
    """The claim's X12 as its last batch sent it (`extract` keeps it alone from the batch, off the event loop
    when the batch is large); audited as an export, since the X12 names the patient and the diagnoses."""
    async with uow:
        claim = await uow.claims.get(claim_id)
        if claim is None:
            raise NotFound("There is no claim with this id.")
        batch = await uow.batches.get(claim.batch_id) if claim.batch_id is not None else None
        if batch is None:
            raise Conflict("The claim has not been sent yet: it is in no batch.")
        uow.record_access("export", "claim", claim.id, claim.patient_id)
        await uow.commit()
    return await off_the_loop(extract, batch.x12, claim.patient_control_number, size=len(batch.x12))


async def annotate(
    claim_id: UUID, changes: dict[str, str | None], uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str,
    revision: int,
) -> ClaimPublic:  # fmt: skip
    """Set what the biller tells the payer on a claim the payer does not have yet: the fields named in
    `changes` take their new values, the others keep theirs; then the claim is scrubbed again."""
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        try:
            claim.annotate(dataclasses.replace(claim.billing_notes, **changes), scrubber.clock(), f"api:{by}")
        except ClaimError as error:
            raise Conflict(f"{error}.") from None
        await scrubber.scrub(uow, claim, f"api:{by}")
        return await store(uow, claim)


async def override_rule(
    claim_id: UUID, rule: str, reason: str, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str, revision: int
) -> ClaimPublic:
    """A biller lets one rule's findings pass, with a reason; the claim is ready once no blocking rule stands.
    The override lasts while the same findings stand (`domain.findings.Override`)."""

    def let_pass(claim: Claim) -> None:
        if claim.scrub is None:
            raise Conflict("The claim has not been scrubbed yet.")
        try:
            record = overridden(claim.scrub, scrubber.rules, rule=rule, reason=reason, by=by, at=scrubber.clock())
        except ScrubError as error:
            raise ValidationFailed([{"field": "rule", "message": str(error)}]) from None
        claim.scrubbed(record, scrubber.clock(), f"api:{by}")

    return await _change(claim_id, uow, revision, let_pass)


async def hold(
    claim_id: UUID, reason: str, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str, revision: int
) -> ClaimPublic:
    return await _change(claim_id, uow, revision, lambda claim: claim.hold(reason, scrubber.clock(), f"api:{by}"))


async def release(claim_id: UUID, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str, revision: int) -> ClaimPublic:
    return await _change(claim_id, uow, revision, lambda claim: claim.release(scrubber.clock(), f"api:{by}"))


async def rescrub(claim_id: UUID, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str, revision: int) -> ClaimPublic:
    """Scrub the claim again now, as the service would after an upstream change (a rejected claim too: the
    biller asking is the fix)."""
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        if claim.state not in HOLDABLE:
            raise Conflict(f"A {claim.state} claim is not scrubbed again: only one the payer does not have is.")
        await scrubber.scrub(uow, claim, f"api:{by}")
        return await store(uow, claim)


def refuse_stale(claim: Claim, revision: int) -> None:
    """A change names the revision its author read: one made on a claim changed since is refused."""
    if revision != claim.revision:
        raise PreconditionFailed("The claim changed since it was read (its revision differs); read it again.")


async def _change(claim_id: UUID, uow: ClaimUnitOfWork, revision: int, change: Callable[[Claim], None]) -> ClaimPublic:
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        try:
            change(claim)
        except ClaimError as error:
            raise Conflict(f"{error}.") from None
        return await store(uow, claim)


async def claim_to_change(uow: ClaimUnitOfWork, claim_id: UUID, revision: int) -> Claim:
    """The claim read for a change at the revision its author read, its patient taken first as the consumers
    take it, so a change never lands in the middle of an encounter's correction or a payment's posting."""
    claim = await uow.claims.get(claim_id)
    if claim is not None:
        await uow.lock_patient(claim.patient_id)
        claim = await uow.claims.get(claim_id, for_update=True)
    if claim is None:
        raise NotFound("There is no claim with this id.")
    refuse_stale(claim, revision)
    return claim


async def store(uow: ClaimUnitOfWork, claim: Claim) -> ClaimPublic:
    await uow.claims.save(claim)
    uow.record_access("update", "claim", claim.id, claim.patient_id)
    await uow.commit()
    return ClaimPublic.of(claim)
