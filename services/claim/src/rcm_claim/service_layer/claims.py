"""Reading claims: one with its lines, scrub and timeline, a filtered page, and the scrub work queue. Each
read of a claim is audited (a claim names a patient's services)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from rcm_claim.domain.model import ClaimState
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_claim.service_layer.views import ClaimPublic, ClaimSummary
from rcm_common.errors import NotFound


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
    payer_id: str | None = None,
    patient_id: UUID | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int,
    offset: int,
) -> list[ClaimSummary]:
    """Claims the longest in their state first, narrowed by each filter given (the scrub work queue is the
    `scrub_failed` claims, by the rule holding them)."""
    async with uow:
        found = await uow.claims.search(
            state=state, rule=rule, payer_id=payer_id, patient_id=patient_id, date_from=date_from,
            date_to=date_to, limit=limit, offset=offset,
        )  # fmt: skip
        for claim in found:
            uow.record_access("read", "claim", claim.id, claim.patient_id)
        await uow.commit()
    return [ClaimSummary.of(claim) for claim in found]
