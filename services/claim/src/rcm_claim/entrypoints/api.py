"""Claim's HTTP API. Every route needs a bearer token with the route's scope; every read of a claim and
every change is audited by the service layer; the directories are replaced whole, by an administrator."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response

from rcm_claim.bootstrap import Claim
from rcm_claim.domain.model import ClaimState
from rcm_claim.service_layer import claims, commands, directories
from rcm_claim.service_layer.views import (
    ClaimPublic,
    ClaimSummary,
    DirectorySummary,
    PayerDocument,
    ProviderDirectoryDocument,
)
from rcm_common.audit import AuditContextDep
from rcm_common.auth import Principal, require_scopes
from rcm_common.http import etag, expected_version

router = APIRouter()


def _claim_service(request: Request) -> Claim:
    service: Claim = request.app.state.claim
    return service


ClaimDep = Annotated[Claim, Depends(_claim_service)]
ClaimsRead = Annotated[Principal, Depends(require_scopes("claims:read"))]
ClaimsWrite = Annotated[Principal, Depends(require_scopes("claims:write"))]
# Required: no change lands on a claim its author has not seen (412 when it changed since the read).
IfMatch = Annotated[str, Header(description='The ETag of the claim as read, such as "v3"')]
DirectoriesWrite = Annotated[Principal, Depends(require_scopes("directories:write"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
PayerId = Annotated[str | None, Query(min_length=2, max_length=80, pattern=r"^[A-Z0-9]+$")]
RuleCode = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Z0-9_]+$")]


# ---------------------------------------------------------------- claims


@router.get("/claims", response_model=list[ClaimSummary], tags=["claims"], summary="Claims, filtered and paged")
async def list_claims(
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
    state: ClaimState | None = None,
    payer_id: PayerId = None,
    patient_id: UUID | None = None,
    date_from: Annotated[date | None, Query(description="first date of service")] = None,
    date_to: Annotated[date | None, Query(description="last date of service")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ClaimSummary]:
    """The longest in their state first."""
    return await claims.list_claims(
        service.uow(audit=audit), state=state, payer_id=payer_id, patient_id=patient_id, date_from=date_from,
        date_to=date_to, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/claims/{claim_id}", response_model=ClaimPublic, tags=["claims"], summary="Read one")
async def get_claim(
    claim_id: UUID, _principal: ClaimsRead, audit: AuditContextDep, service: ClaimDep, response: Response
) -> ClaimPublic:
    """Its lines, its latest scrub (the rules that ran, their findings, the overrides) and its timeline, each
    step with its cause; with its ETag."""
    return _tagged(await claims.get_claim(claim_id, service.uow(audit=audit)), response)


@router.get(
    "/workqueues/scrub", response_model=list[ClaimSummary], tags=["work queues"], summary="Claims a scrub holds"
)
async def scrub_queue(
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
    rule: RuleCode = None,
    payer_id: PayerId = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ClaimSummary]:
    """The `scrub_failed` claims, the longest waiting first; `rule` keeps those that rule holds."""
    return await claims.list_claims(
        service.uow(audit=audit), state="scrub_failed", rule=rule, payer_id=payer_id, limit=limit, offset=offset
    )


def _revision(if_match: str) -> int:
    revision = expected_version(if_match)
    assert revision is not None, "a header given is never None"
    return revision


def _tagged(view: ClaimPublic, response: Response) -> ClaimPublic:
    response.headers["ETag"] = etag(view.revision)
    return view


@router.post("/claims/{claim_id}/overrides", response_model=ClaimPublic, tags=["claims"], summary="Override a rule")
async def override_rule(
    claim_id: UUID,
    body: commands.OverrideRule,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> ClaimPublic:
    """Let one rule's findings on the claim pass, with a reason (audited): a warning, or a blocking rule that
    may be overridden (422 names a rule that did not fire or may only be fixed at its cause). The override
    lasts while the same findings stand; the claim is ready once no blocking rule does."""
    view = await claims.override_rule(
        claim_id, body.rule, body.reason, service.uow(audit=audit), service.scrubber, by=principal.subject,
        revision=_revision(if_match),
    )  # fmt: skip
    return _tagged(view, response)


@router.post("/claims/{claim_id}/hold", response_model=ClaimPublic, tags=["claims"], summary="Hold a claim")
async def hold_claim(
    claim_id: UUID,
    body: commands.HoldClaim,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> ClaimPublic:
    """Keep a claim the payer does not have out of every batch until it is released (409 once it is sent)."""
    view = await claims.hold(
        claim_id, body.reason, service.uow(audit=audit), service.scrubber, by=principal.subject,
        revision=_revision(if_match),
    )  # fmt: skip
    return _tagged(view, response)


@router.post("/claims/{claim_id}/release", response_model=ClaimPublic, tags=["claims"], summary="Release a held claim")
async def release_claim(
    claim_id: UUID, principal: ClaimsWrite, audit: AuditContextDep, service: ClaimDep, response: Response,
    if_match: IfMatch,
) -> ClaimPublic:  # fmt: skip
    view = await claims.release(
        claim_id, service.uow(audit=audit), service.scrubber, by=principal.subject, revision=_revision(if_match)
    )
    return _tagged(view, response)


@router.post("/claims/{claim_id}/rescrub", response_model=ClaimPublic, tags=["claims"], summary="Scrub a claim again")
async def rescrub_claim(
    claim_id: UUID, principal: ClaimsWrite, audit: AuditContextDep, service: ClaimDep, response: Response,
    if_match: IfMatch,
) -> ClaimPublic:  # fmt: skip
    """Run the rules again now over what the service holds (it does so by itself whenever a fact changes)."""
    view = await claims.rescrub(
        claim_id, service.uow(audit=audit), service.scrubber, by=principal.subject, revision=_revision(if_match)
    )
    return _tagged(view, response)


# ---------------------------------------------------------------- directories


@router.put(
    "/providers", response_model=DirectorySummary, tags=["directories"], summary="Replace the practice's providers"
)
async def put_providers(
    body: ProviderDirectoryDocument, principal: DirectoriesWrite, audit: AuditContextDep, service: ClaimDep
) -> DirectorySummary:
    """The billing provider and the rendering and referring providers, replaced whole. A document with any
    problem (an NPI's check digit, a tax id, a taxonomy, the billing provider's ZIP+4) is refused with every
    problem listed, and nothing changes. Claims waiting for a provider fix are scrubbed again."""
    return await directories.replace_providers(
        body.domain(), service.uow(audit=audit), service.scrubber, by=principal.subject
    )


@router.get("/providers", response_model=ProviderDirectoryDocument, tags=["directories"], summary="The providers")
async def get_providers(_principal: ClaimsRead, service: ClaimDep) -> ProviderDirectoryDocument:
    return ProviderDirectoryDocument.of(await directories.providers(service.uow()))


@router.put("/payers", response_model=DirectorySummary, tags=["directories"], summary="Replace the payer directory")
async def put_payers(
    body: Annotated[list[PayerDocument], Body(max_length=1000)],
    principal: DirectoriesWrite,
    audit: AuditContextDep,
    service: ClaimDep,
) -> DirectorySummary:
    """Every payer billed, replaced whole; refused whole with every problem listed. Claims waiting for a
    payer setting are scrubbed again."""
    return await directories.replace_payers(
        [payer.domain() for payer in body], service.uow(audit=audit), service.scrubber, by=principal.subject
    )


@router.get("/payers", response_model=list[PayerDocument], tags=["directories"], summary="The payer directory")
async def get_payers(_principal: ClaimsRead, service: ClaimDep) -> list[PayerDocument]:
    return [PayerDocument.of(payer) for payer in await directories.payers(service.uow())]
