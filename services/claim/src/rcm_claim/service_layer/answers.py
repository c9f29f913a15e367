"""Applying what payers answer about claims: the 277CA's acceptance or rejection of each claim, and a 277's
statuses. When a claim that a correction or void was waiting for is answered, the claims held for it go
(`domain.corrections.after_answer`).
"""

from __future__ import annotations

from datetime import datetime

from rcm_claim.domain.acknowledgments import ClaimAnswer, ClaimStatusAnswer
from rcm_claim.domain.corrections import after_answer
from rcm_claim.domain.model import Claim
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork


async def settle_followers(uow: ClaimUnitOfWork, answered: Claim, now: datetime, cause: str) -> None:
    """Let go the claims waiting for `answered`'s answer, storing them; `answered` itself is the caller's to
    store. The patient is taken first, as the consumers take it: a correction being applied meanwhile either
    committed its waiting claim before (and it is found here) or reads the answer after (and waits for none)."""
    await uow.lock_patient(answered.patient_id)
    others = [claim for claim in await uow.claims.for_encounter(answered.encounter_id) if claim.id != answered.id]
    for claim in after_answer(answered, others, now, cause):
        if claim is not answered:
            await uow.claims.save(claim)
            uow.record_access("update", "claim", claim.id, claim.patient_id)


async def claims_named(uow: ClaimUnitOfWork, patient_control_numbers: list[str]) -> dict[str, Claim]:
    """The claims an answer names, by their CLM01."""
    found = await uow.claims.by_patient_control_numbers(patient_control_numbers)
    return {claim.patient_control_number: claim for claim in found}


async def apply_claim_answers(uow: ClaimUnitOfWork, answers: list[ClaimAnswer], now: datetime, cause: str) -> int:
    """Each submitted claim the 277CA names accepted (with the payer's claim number) or rejected (with the
    STC codes in words); a claim answered already, or an answer neither accepting nor rejecting, changes
    nothing. Returns how many claims changed."""
    claims = await claims_named(uow, [answer.patient_control_number for answer in answers])
    changed = 0
    for answer in answers:
        claim = claims.get(answer.patient_control_number)
        if claim is None or claim.state != "submitted" or answer.accepted is None:
            continue
        if answer.accepted and answer.payer_claim_number:
            claim.accept(answer.payer_claim_number, now, cause)
        elif answer.accepted:
            continue  # an acceptance without the payer's number: wait for the payer's own 277CA
        else:
            claim.reject("277CA", answer.problems, now, cause)
        await settle_followers(uow, claim, now, cause)
        await uow.claims.save(claim)
        uow.record_access("update", "claim", claim.id, claim.patient_id)
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
