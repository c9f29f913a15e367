"""The provider and payer directories, each replaced whole from one document. A document with any problem
is refused whole, with every problem and where it is, and nothing changes; a document taken scrubs again
every claim the payer does not have, so a claim held for a provider or payer setting is released by the fix."""

from __future__ import annotations

from collections.abc import Sequence

from rcm_claim.domain.directories import (
    DirectoryError,
    PayerProfile,
    ProviderDirectory,
    checked_payer_directory,
    checked_provider_directory,
)
from rcm_claim.domain.model import HOLDABLE
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_claim.service_layer.views import DirectorySummary
from rcm_common.errors import NotFound, ValidationFailed

RESCRUB_PAGE = 500


def refused(error: DirectoryError) -> ValidationFailed:
    return ValidationFailed(
        [{"field": where, "message": what} for where, what in error.problems[:200]],
        detail=f"The document has {len(error.problems)} problems; nothing was stored.",
    )


async def replace_providers(
    directory: ProviderDirectory, uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str
) -> DirectorySummary:
    try:
        checked = checked_provider_directory(directory)
    except DirectoryError as error:
        raise refused(error) from None
    async with uow:
        await uow.directories.replace_providers(checked, by, scrubber.clock())
        uow.record_access("update", "provider_directory", None, None)
        await rescrub_unsent(uow, scrubber, f"api:{by}")
        await uow.commit()
    return DirectorySummary(stored=len(checked.providers) + 1)


async def replace_payers(
    payers: Sequence[PayerProfile], uow: ClaimUnitOfWork, scrubber: Scrubber, *, by: str
) -> DirectorySummary:
    try:
        checked = checked_payer_directory(payers)
    except DirectoryError as error:
        raise refused(error) from None
    async with uow:
        await uow.directories.replace_payers(checked, scrubber.clock())
        uow.record_access("update", "payer_directory", None, None)
        await rescrub_unsent(uow, scrubber, f"api:{by}")
        await uow.commit()
    return DirectorySummary(stored=len(checked))


async def providers(uow: ClaimUnitOfWork) -> ProviderDirectory:
    async with uow:
        found = await uow.directories.providers()
    if found is None:
        raise NotFound("No provider directory has been stored yet.")
    return found


async def payers(uow: ClaimUnitOfWork) -> list[PayerProfile]:
    async with uow:
        return await uow.directories.payers()


async def rescrub_unsent(uow: ClaimUnitOfWork, scrubber: Scrubber, cause: str) -> None:
    """Scrub again every claim the payer does not have (rejected ones wait for their own fix). All are read
    before any is scrubbed: a scrub moves a claim between states, so paging while scrubbing would skip some."""
    unsent = []
    for state in sorted(HOLDABLE - {"rejected"}):
        offset = 0
        while page := await uow.claims.search(state=state, limit=RESCRUB_PAGE, offset=offset):
            unsent += page
            offset += len(page)
    await scrubber.rescrub(uow, unsent, cause)
