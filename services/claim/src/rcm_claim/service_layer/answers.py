"""Applying what payers answer about claims: the 277CA's acceptance or rejection of each claim, and a 277's
statuses. When a claim that a correction or void was waiting for is answered, the claims held for it go
(`domain.corrections.after_answer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from rcm_claim.domain.acknowledgments import ClaimAnswer, ClaimStatusAnswer
from rcm_claim.domain.coordination import next_coverage
from rcm_claim.domain.corrections import after_answer
from rcm_claim.domain.model import Claim
from rcm_claim.service_layer.next_payers import NextPayers, closed_for_next_payer
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork


async def followers_of(uow: ClaimUnitOfWork, answered: Sequence[Claim]) -> dict[UUID, list[Claim]]:
    """The claims waiting for each answered claim's answer, by the claim they wait for. The patients are taken
    first, all at once, as the consumers take them: a correction being applied meanwhile either committed its
    waiting claim before (and it is found here) or reads the answer after (and waits for none)."""
    if not answered:
        return {}
    await uow.lock_patients([claim.patient_id for claim in answered])
    waiting: dict[UUID, list[Claim]] = {}
    for claim in await uow.claims.waiting_for([claim.id for claim in answered]):
        assert claim.waits_for is not None  # found by what it waits for
        waiting.setdefault(claim.waits_for, []).append(claim)
    return waiting


async def settle_followers(
    uow: ClaimUnitOfWork, answered: Claim, followers: list[Claim], now: datetime, cause: str
) -> None:
    """Let go the claims waiting for `answered`'s answer, storing them; `answered` itself is the caller's to
    store."""
    for claim in after_answer(answered, followers, now, cause):
        if claim is not answered:
            await uow.claims.save(claim)
            uow.record_access("update", "claim", claim.id, claim.patient_id)


async def claims_named(uow: ClaimUnitOfWork, patient_control_numbers: list[str]) -> dict[str, Claim]:
    """The claims an answer names, by their CLM01."""
    found = await uow.claims.by_patient_control_numbers(patient_control_numbers)
    return {claim.patient_control_number: claim for claim in found}


async def apply_claim_answers(
    uow: ClaimUnitOfWork, answers: list[ClaimAnswer], now: datetime, cause: str, next_payers: NextPayers
) -> int:
    """Each submitted claim the 277CA names accepted (with the payer's claim number) or rejected (with the
    STC codes in words); a claim answered already, or an answer neither accepting nor rejecting, changes
    nothing. A claim an 835 paid before its acceptance is decided now, and its next payer billed when it is
    closed for it. Returns how many claims changed."""
    claims = await claims_named(uow, [answer.patient_control_number for answer in answers])
    followers = await followers_of(uow, [claim for claim in claims.values() if claim.state == "submitted"])
    changed = 0
    for answer in answers:
        claim = claims.get(answer.patient_control_number)
        if claim is None or claim.state != "submitted" or answer.accepted is None:
            continue
        following = None
        if answer.accepted and answer.payer_claim_number:
            following = next_coverage(claim, await uow.coverages.for_patient(claim.patient_id))
            claim.accept(answer.payer_claim_number, now, cause, next_payer=following is not None)
        elif answer.accepted:
            continue  # an acceptance without the payer's number: wait for the payer's own 277CA
        else:
            claim.reject("277CA", answer.problems, now, cause)
        await settle_followers(uow, claim, followers.get(claim.id, []), now, cause)
        billed = closed_for_next_payer(claim)
        await uow.claims.save(claim)
        uow.record_access("update", "claim", claim.id, claim.patient_id)
        if billed and following is not None:
            await next_payers.bill_or_say_why(uow, claim, following, now, cause)
        changed += 1
    return changed


async def apply_status_answers(
    uow: ClaimUnitOfWork, answers: list[ClaimStatusAnswer], now: datetime, cause: str
) -> int:
    """Each claim a 277 answers gets its statuses on its timeline and ClaimStatusUpdated; returns how many."""
    claims = await claims_named(uow, [answer.patient_control_number for answer in answers])
    changed = 0
    for answer in answers:
        claim = claims.get(answer.patient_control_number)
        if claim is None:
            continue
        claim.status_reported(answer.statuses, now, cause)
        await uow.claims.save(claim)
        uow.record_access("update", "claim", claim.id, claim.patient_id)
        changed += 1
    return changed
