"""Remittance's HTTP API. Every route needs a bearer token with the route's scope; every read of a claim payment
or an 835 and every change is audited by the service layer."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from rcm_common.audit import AuditContextDep
from rcm_common.auth import Principal, require_scopes
from rcm_common.clearinghouse import X12_MEDIA_TYPE
from rcm_common.errors import ValidationFailed
from rcm_common.http import IdempotencyKeyDep, create_once, read_body
from rcm_common.types import Money
from rcm_remittance.bootstrap import Remittance
from rcm_remittance.domain.model import RemittanceState
from rcm_remittance.service_layer import deposits, remittances
from rcm_remittance.service_layer.intake import take_in
from rcm_remittance.service_layer.views import (
    ClaimPaymentPublic,
    DepositPublic,
    Intake,
    ReconciliationPublic,
    RemittancePublic,
    RemittanceSummary,
)

router = APIRouter()


def _remittance_service(request: Request) -> Remittance:
    service: Remittance = request.app.state.remittance
    return service


RemittanceDep = Annotated[Remittance, Depends(_remittance_service)]
RemittanceRead = Annotated[Principal, Depends(require_scopes("remittance:read"))]
RemittanceWrite = Annotated[Principal, Depends(require_scopes("remittance:write"))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
PayerId = Annotated[str | None, Query(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9 .&'-]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Release(_Body):
    reason: str = Field(min_length=3, max_length=500, description="What the poster checked before posting it.")


class Match(_Body):
    claim_id: UUID


class DepositLine(_Body):
    """A line of the bank statement: the payer's money as it arrived."""

    deposit_date: date
    amount: Annotated[Money, Field(gt=0, le=Decimal("9999999999.99"))]
    trace_number: str = Field(
        min_length=1, max_length=50, pattern=r"^[A-Za-z0-9-]+$", description="The EFT trace or the check number."
    )


@router.post(
    "/remittances",
    status_code=202,
    response_model=Intake,
    tags=["remittances"],
    summary="Take in an 835 file",
    openapi_extra={"requestBody": {"required": True, "content": {X12_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
async def upload(
    request: Request, _principal: RemittanceWrite, audit: AuditContextDep, service: RemittanceDep
) -> Intake:
    """The raw X12 as the body. 202: its remittances are kept and will be posted in a moment (held when they do
    not balance). The same bytes again answer with the same remittances and post nothing; a transaction set
    known by payer, TRN02 and ISA13 is not taken again. A cut-off, unreadable or non-835 file is refused (422),
    changing nothing."""
    content = await read_body(request, service.settings.max_upload_bytes, "835 file")
    intake = await take_in(service.uow(audit=audit), content, "upload", service.poster.read, service.clock)
    return Intake(
        remittance_id=intake.remittance_ids[0],
        remittance_ids=list(intake.remittance_ids),
        file_id=intake.file_id,
        duplicate=intake.known_file,
    )


@router.get("/remittances", response_model=list[RemittanceSummary], tags=["remittances"], summary="Remittances")
async def list_remittances(
    _principal: RemittanceRead,
    audit: AuditContextDep,
    service: RemittanceDep,
    payer_id: PayerId = None,
    state: RemittanceState | None = None,
    date_from: Annotated[date | None, Query(description="first payment date (BPR16)")] = None,
    date_to: Annotated[date | None, Query(description="last payment date")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[RemittanceSummary]:
    """The latest received first."""
    return await remittances.list_remittances(
        service.uow(audit=audit), payer_id=payer_id, state=state, date_from=date_from, date_to=date_to,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/remittances/{remittance_id}", response_model=RemittancePublic, tags=["remittances"], summary="Read one")
async def get_remittance(
    remittance_id: UUID,
    _principal: RemittanceRead,
    audit: AuditContextDep,
    service: RemittanceDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> RemittancePublic:
    """Its payment, balance checks and PLB adjustments, and a page of its claim payments in the 835's order."""
    return await remittances.get_remittance(
        service.uow(audit=audit), remittance_id, service.rules, limit=limit, offset=offset
    )


@router.get(
    "/remittances/{remittance_id}/835",
    tags=["remittances"],
    summary="The 835 file as it came",
    response_class=Response,
    responses={200: {"content": {X12_MEDIA_TYPE: {}}}},
)
async def get_835(
    remittance_id: UUID, _principal: RemittanceRead, audit: AuditContextDep, service: RemittanceDep
) -> Response:
    """The whole file the remittance came in (it may hold others); the read is audited."""
    content = await remittances.raw_835(service.uow(audit=audit), remittance_id)
    return Response(content=content, media_type=X12_MEDIA_TYPE)


@router.post(
    "/remittances/{remittance_id}/release",
    response_model=RemittanceSummary,
    tags=["remittances"],
    summary="Post a held remittance",
)
async def release(
    remittance_id: UUID, body: Release, principal: RemittanceWrite, audit: AuditContextDep, service: RemittanceDep
) -> RemittanceSummary:
    """A held remittance (its figures do not add up) is posted as the payer sent it, once a poster has reviewed
    the differences; 409 for one not held."""
    return await remittances.release(service.uow(audit=audit), remittance_id, principal.subject, body.reason)


@router.get("/payments", response_model=list[ClaimPaymentPublic], tags=["payments"], summary="Claim payments")
async def list_payments(
    _principal: RemittanceRead,
    audit: AuditContextDep,
    service: RemittanceDep,
    claim_id: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ClaimPaymentPublic]:
    """Claim payments (a claim's, with `claim_id`), each with what it posted: paid, allowed, adjustments in words,
    the patient's share, the lines, and the reversal that took it back."""
    return await remittances.list_payments(
        service.uow(audit=audit), service.rules, claim_id=claim_id, limit=limit, offset=offset
    )


@router.get("/unmatched", response_model=list[ClaimPaymentPublic], tags=["payments"], summary="The unmatched queue")
async def unmatched(
    _principal: RemittanceRead, audit: AuditContextDep, service: RemittanceDep, limit: Limit = 100, offset: Offset = 0
) -> list[ClaimPaymentPublic]:
    """Claim payments that match no claim, each with its reason and the claims a poster may mean."""
    return await remittances.list_payments(
        service.uow(audit=audit), service.rules, state="unmatched", limit=limit, offset=offset
    )


@router.post(
    "/unmatched/{payment_id}/match", response_model=ClaimPaymentPublic, tags=["payments"], summary="Match by hand"
)
async def match(
    payment_id: UUID, body: Match, principal: RemittanceWrite, audit: AuditContextDep, service: RemittanceDep
) -> ClaimPaymentPublic:
    """Post the unmatched claim payment to the claim the poster chose (its lines matched as any payment's); 404
    for an unknown payment or claim, 409 for a payment posted already."""
    return await remittances.match(
        service.uow(audit=audit), payment_id, body.claim_id, service.rules, service.clock, principal.subject
    )


@router.post(
    "/deposits", status_code=201, response_model=DepositPublic, tags=["deposits"], summary="Record a bank deposit"
)
async def record_deposit(
    body: DepositLine,
    principal: RemittanceWrite,
    audit: AuditContextDep,
    service: RemittanceDep,
    key: IdempotencyKeyDep,
    response: Response,
) -> Any:
    """A deposit line from the bank: paired with the remittance of the same trace (TRN02) and amount (BPR02), or
    said why not. The same line (trace, date and amount) twice is a 409; an `Idempotency-Key` makes a retried
    request answer as the first did."""
    if body.deposit_date > service.clock().date() + timedelta(days=1):
        raise ValidationFailed([{"field": "deposit_date", "message": "a deposit cannot be dated in the future"}])
    result = await create_once(
        service.session_factory,
        f"POST /deposits {principal.subject}",
        key,
        body,
        lambda idem: deposits.record_deposit(
            service.uow(audit=audit, idempotency=idem), body.deposit_date, body.amount, body.trace_number,
            principal.subject, service.clock,
        ),
        lambda deposit_id: deposits.get_deposit(service.uow(audit=audit), deposit_id),
    )  # fmt: skip
    if isinstance(result, DepositPublic):
        response.headers["Location"] = f"/deposits/{result.id}"
    return result


@router.get("/deposits/{deposit_id}", response_model=DepositPublic, tags=["deposits"], summary="Read one")
async def get_deposit(
    deposit_id: UUID, _principal: RemittanceRead, audit: AuditContextDep, service: RemittanceDep
) -> DepositPublic:
    return await deposits.get_deposit(service.uow(audit=audit), deposit_id)


@router.get(
    "/reconciliation", response_model=ReconciliationPublic, tags=["deposits"], summary="Deposits against remittances"
)
async def reconciliation(
    _principal: RemittanceRead,
    audit: AuditContextDep,
    service: RemittanceDep,
    date_from: Annotated[
        date | None, Query(description="first deposit and payment date; 90 days ago by default")
    ] = None,
    date_to: Annotated[date | None, Query(description="last deposit and payment date; today by default")] = None,
) -> ReconciliationPublic:
    """Remittances paid in the period whose money has not reached the bank, and deposits no remittance explains
    (with why: no remittance has the trace, or it pays another amount)."""
    today = service.clock().date()
    date_to = date_to or today
    period = timedelta(days=90)
    # 90 days back, but not past the calendar's first day: `date_to` may be any date a caller sends.
    date_from = date_from or max(date_to, date.min + period) - period
    if date_from > date_to:
        raise ValidationFailed([{"field": "date_from", "message": "the period begins after it ends"}])
    return await deposits.reconciliation(service.uow(audit=audit), date_from, date_to)
