"""Reading batches: which claims went to which payer in which interchange, when, in how many attempts, and how
the 999 answered. A batch names claims by id only, so reading one discloses nothing about a patient."""

from __future__ import annotations

from uuid import UUID

from rcm_claim.domain.batches import BatchState
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_claim.service_layer.views import BatchPublic, BatchSummary
from rcm_common.errors import NotFound


async def list_batches(
    uow: ClaimUnitOfWork, *, payer_id: str | None, state: BatchState | None, limit: int, offset: int
) -> list[BatchSummary]:
    async with uow:
        found = await uow.batches.search(payer_id=payer_id, state=state, limit=limit, offset=offset)
    return [BatchSummary.of(batch) for batch in found]


async def get_batch(batch_id: UUID, uow: ClaimUnitOfWork) -> BatchPublic:
    """The batch with the state each of its claims is in now."""
    async with uow:
        batch = await uow.batches.get(batch_id)
        if batch is None:
            raise NotFound("There is no batch with this id.")
        claims = await uow.claims.in_batch(batch_id)
    return BatchPublic.with_claims(batch, claims)
