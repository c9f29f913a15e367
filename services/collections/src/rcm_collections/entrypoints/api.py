"""Collections' HTTP API. Every route needs a bearer token with the route's scope: `collections:read` to read,
`collections:write` to change an account (billers and collectors), `payments:take` to take a patient's payment
(the front desk too), `collections:approve` to decide a refund or write-off (collectors). Every read or change
of an account is audited by the service layer. Creates take an Idempotency-Key; changes to an account take an
optional If-Match with the account's ETag."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Final, Literal, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel

from rcm_collections.adapters.statement_pdf import render_statement
from rcm_collections.adapters.unit_of_work import SqlCollectionsUnitOfWork
from rcm_collections.bootstrap import Collections
from rcm_collections.domain.statements import Statement
from rcm_collections.service_layer import accounts, reports
from rcm_collections.service_layer.commands import (
    AgencyPayment,
    CreatePlan,
    Decision,
    Place,
    Recall,
    ReceivePayment,
    RequestRefund,
    RequestWriteOff,
)
from rcm_collections.service_layer.views import (
    AccountPublic,
    AccountSummaryPublic,
    AgingPublic,
    CycleReport,
    EntryPublic,
    PaymentPublic,
    PlacementPublic,
    PlanPublic,
    RequestPublic,
    StatementSummaryPublic,
)
from rcm_common.audit import AuditContext, AuditContextDep
from rcm_common.auth import Principal, require_scopes
from rcm_common.errors import ValidationFailed
from rcm_common.http import IdempotencyKeyDep, IdempotentRequest, create_once, etag, expected_version

router = APIRouter()
V = TypeVar("V", bound=BaseModel)


def _collections_service(request: Request) -> Collections:
    service: Collections = request.app.state.collections
    return service


CollectionsDep = Annotated[Collections, Depends(_collections_service)]
CollectionsRead = Annotated[Principal, Depends(require_scopes("collections:read"))]
CollectionsWrite = Annotated[Principal, Depends(require_scopes("collections:write"))]
TakePayments = Annotated[Principal, Depends(require_scopes("payments:take"))]
Approve = Annotated[Principal, Depends(require_scopes("collections:approve"))]
IfMatch = Annotated[str | None, Header(description='The ETag of the account as read, such as "v3"')]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
AccountState = Literal["active", "on_plan", "placed"]


def _required_idempotency_key(key: IdempotencyKeyDep) -> str:
    """Money taken is posted once: a payment needs its Idempotency-Key, so a client's retry never posts twice."""
    if key is None:
        message = "A payment needs an Idempotency-Key, so a retry never posts it twice."
        raise ValidationFailed([{"field": "Idempotency-Key", "message": "is required"}], message)
    return key


RequiredIdempotencyKey = Annotated[str, Depends(_required_idempotency_key)]
NO_STORE: Final = {"Cache-Control": "no-store"}
"""Statements and the agency's file name patients: no cache keeps them."""


async def once(
    service: Collections,
    audit: AuditContext,
    key: str | None,
    scope: str,
    body: BaseModel,
    make: Callable[[SqlCollectionsUnitOfWork], Awaitable[V]],
    reread: Callable[[SqlCollectionsUnitOfWork, UUID], Awaitable[V]],
) -> V | Response:
    """Make something at most once per Idempotency-Key (kept per caller, in `scope`): a repeat answers with what
    the first made, read again."""

    async def create(idempotency: IdempotentRequest | None) -> V:
        return await make(service.uow(audit=audit, idempotency=idempotency))

    async def read_again(item_id: UUID) -> V:
        return await reread(service.uow(audit=audit), item_id)

    return await create_once(service.session_factory, scope, key, body, create, read_again)


def _expected(if_match: str | None) -> int | None:
    return None if if_match is None else expected_version(if_match)


@router.get("/accounts", response_model=list[AccountSummaryPublic], tags=["accounts"], summary="Accounts")
async def list_accounts(
    _principal: CollectionsRead,
    audit: AuditContextDep,
    service: CollectionsDep,
    patient_id: Annotated[UUID | None, Query(description="the account a patient's visits go to")] = None,
    state: AccountState | None = None,
    min_due: Annotated[Decimal | None, Query(ge=0, le=Decimal("9999999.99"), decimal_places=2)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AccountSummaryPublic]:
    """Balances and states, the most due first."""
    return await accounts.list_accounts(
        service.uow(audit=audit), patient_id=patient_id, state=state, min_due=min_due, limit=limit, offset=offset
    )


@router.get("/accounts/{account_id}", response_model=AccountPublic, tags=["accounts"], summary="Read one")
async def get_account(
    account_id: UUID, _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep, response: Response
) -> AccountPublic:
    """The guarantor, every visit with its status (insurance-pending, patient-due, settled) and amounts, the
    invariant's terms, aging, the plan, statements, placements, payments and requests; with its ETag."""
    view, version = await accounts.get_account(service.uow(audit=audit), account_id, service.clock().date())
    response.headers["ETag"] = etag(version)
    return view


@router.get("/accounts/{account_id}/ledger", response_model=list[EntryPublic], tags=["accounts"], summary="The ledger")
async def get_ledger(
    account_id: UUID,
    _principal: CollectionsRead,
    audit: AuditContextDep,
    service: CollectionsDep,
    limit: Limit = 500,
    offset: Offset = 0,
) -> list[EntryPublic]:
    """The account's entries in order, each with its cause and its link in the account's hash chain."""
    return await accounts.ledger(service.uow(audit=audit), account_id, limit=limit, offset=offset)


@router.get(
    "/accounts/{account_id}/statements", response_model=list[StatementSummaryPublic], tags=["statements"],
    summary="The account's statements",
)  # fmt: skip
async def list_statements(
    account_id: UUID, _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep
) -> list[StatementSummaryPublic]:
    view, _ = await accounts.get_account(service.uow(audit=audit), account_id, service.clock().date())
    return view.statements


@router.post(
    "/accounts/{account_id}/statements", response_model=Statement, status_code=201, tags=["statements"],
    summary="Send the statement due now",
)  # fmt: skip
async def send_statement(
    account_id: UUID,
    _principal: CollectionsWrite,
    audit: AuditContextDep,
    service: CollectionsDep,
    response: Response,
) -> Statement:
    """The statement the cycle would send today, sent now: 409 when none is due (under the minimum, within 28
    days of the last, with the agency)."""
    statement = await accounts.issue_statement(
        service.uow(audit=audit), account_id, service.policy, service.how_to_pay, now=service.clock()
    )
    response.headers["Location"] = f"/statements/{statement.id}"
    return statement


@router.get(
    "/statements/{statement_id}.pdf", tags=["statements"], summary="A statement as mailed",
    response_class=Response, responses={200: {"content": {"application/pdf": {}}}},
)  # fmt: skip
async def get_statement_pdf(
    statement_id: UUID, _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep
) -> Response:
    """The PDF the guarantor receives; audited as an export."""
    statement = await accounts.get_statement(service.uow(audit=audit), statement_id, "export")
    return Response(
        await asyncio.to_thread(render_statement, statement),  # a long statement takes a while: off the loop
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="statement-{statement_id}.pdf"', **NO_STORE},
    )


@router.get("/statements/{statement_id}", response_model=Statement, tags=["statements"], summary="A statement")
async def get_statement(
    statement_id: UUID, _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep
) -> Statement:
    """The statement as issued (JSON), whatever the account's balance has become since."""
    return await accounts.get_statement(service.uow(audit=audit), statement_id)


@router.post("/payments", response_model=PaymentPublic, status_code=201, tags=["payments"], summary="Take a payment")
async def take_payment(
    body: ReceivePayment,
    principal: TakePayments,
    audit: AuditContextDep,
    service: CollectionsDep,
    idempotency_key: RequiredIdempotencyKey,
    response: Response,
) -> PaymentPublic | Response:
    """A patient's payment, by method and the processor's reference (never a card number): applied to the visit
    it names (a copay at the visit stays on its visit, so the 835's PR-3 for it is not billed again), else to
    what is due, the oldest first; the rest becomes credit, applied to the next balance or refunded. The same
    Idempotency-Key again answers with the first payment and posts nothing."""
    made = await once(
        service, audit, idempotency_key, f"POST /payments {principal.subject}", body,
        lambda uow: accounts.receive_payment(uow, body, by=principal.subject, now=service.clock()),
        accounts.get_payment,
    )  # fmt: skip
    if isinstance(made, PaymentPublic):
        response.headers["Location"] = f"/payments/{made.id}"
    return made


@router.get("/payments/{payment_id}", response_model=PaymentPublic, tags=["payments"], summary="A payment")
async def get_payment(
    payment_id: UUID, _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep
) -> PaymentPublic:
    return await accounts.get_payment(service.uow(audit=audit), payment_id)


@router.post(
    "/accounts/{account_id}/agency-payments", response_model=PaymentPublic, status_code=201, tags=["agency"],
    summary="Post what the agency collected",
)  # fmt: skip
async def post_agency_payment(
    account_id: UUID,
    body: AgencyPayment,
    principal: CollectionsWrite,
    audit: AuditContextDep,
    service: CollectionsDep,
    idempotency_key: RequiredIdempotencyKey,
) -> PaymentPublic | Response:
    """The agency's report of a payment for a placed account: the whole amount is credited to the patient, and
    the agency's fee is kept beside it (the practice's cost, not the patient's). 409 for an account not placed."""
    return await once(
        service, audit, idempotency_key, f"POST /accounts/{account_id}/agency-payments {principal.subject}", body,
        lambda uow: accounts.agency_payment(uow, account_id, body, by=principal.subject, now=service.clock()),
        accounts.get_payment,
    )  # fmt: skip


@router.post("/refunds", response_model=RequestPublic, status_code=201, tags=["refunds"], summary="Ask for a refund")
async def ask_refund(
    body: RequestRefund,
    principal: CollectionsWrite,
    audit: AuditContextDep,
    service: CollectionsDep,
    idempotency_key: IdempotencyKeyDep,
) -> RequestPublic | Response:
    """Refund credit to the patient: the amount is set aside from the credit until a collector other than the
    one asking decides (`POST /refunds/{id}/decision`). 422 for more than the credit available."""
    return await once(
        service, audit, idempotency_key, f"POST /refunds {principal.subject}", body,
        lambda uow: accounts.request_refund(uow, body, by=principal.subject, now=service.clock()),
        lambda uow, refund_id: accounts.get_request(uow, refund_id, "refund"),
    )  # fmt: skip


@router.get("/refunds/{refund_id}", response_model=RequestPublic, tags=["refunds"], summary="A refund")
async def get_refund(
    refund_id: UUID, _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep
) -> RequestPublic:
    return await accounts.get_request(service.uow(audit=audit), refund_id, "refund")


@router.post(
    "/refunds/{refund_id}/decision", response_model=RequestPublic, tags=["refunds"], summary="Approve or decline"
)
async def decide_refund(
    refund_id: UUID, body: Decision, principal: Approve, audit: AuditContextDep, service: CollectionsDep
) -> RequestPublic:
    """A collector's decision: approved, the refund is posted and RefundIssued published; declined, the credit
    is free again. 409 for the requester deciding their own, or a refund decided already."""
    return await accounts.decide_refund(
        service.uow(audit=audit), refund_id, body, by=principal.subject, now=service.clock()
    )


@router.get(
    "/workqueues/approvals", response_model=list[RequestPublic], tags=["refunds", "write-offs"],
    summary="Refunds and write-offs awaiting a decision",
)  # fmt: skip
async def approvals(
    _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep, limit: Limit = 100
) -> list[RequestPublic]:
    return await accounts.open_requests(service.uow(audit=audit), limit=limit)


@router.post(
    "/accounts/{account_id}/write-offs", response_model=RequestPublic, status_code=201, tags=["write-offs"],
    summary="Ask for a hardship or bad-debt write-off",
)  # fmt: skip
async def ask_write_off(
    account_id: UUID,
    body: RequestWriteOff,
    principal: CollectionsWrite,
    audit: AuditContextDep,
    service: CollectionsDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> RequestPublic | Response:
    """With its reason; posted once a collector other than the one asking approves it. 409 for an account with
    nothing due; 422 for more than is due."""
    return await once(
        service, audit, idempotency_key, f"POST /accounts/{account_id}/write-offs {principal.subject}", body,
        lambda uow: accounts.request_write_off(
            uow, account_id, body, by=principal.subject, now=service.clock(), expected=_expected(if_match)
        ),
        lambda uow, write_off_id: accounts.get_request(uow, write_off_id, "write_off"),
    )  # fmt: skip


@router.post(
    "/write-offs/{write_off_id}/decision", response_model=RequestPublic, tags=["write-offs"],
    summary="Approve or decline",
)  # fmt: skip
async def decide_write_off(
    write_off_id: UUID, body: Decision, principal: Approve, audit: AuditContextDep, service: CollectionsDep
) -> RequestPublic:
    """Approved, the write-off is posted against what is due, the oldest visit first, and BalanceWrittenOff
    published."""
    return await accounts.decide_write_off(
        service.uow(audit=audit), write_off_id, body, by=principal.subject, now=service.clock()
    )


@router.post(
    "/accounts/{account_id}/payment-plans", response_model=PlanPublic, status_code=201, tags=["payment plans"],
    summary="Offer a payment plan",
)  # fmt: skip
async def create_plan(
    account_id: UUID,
    body: CreatePlan,
    principal: CollectionsWrite,
    audit: AuditContextDep,
    service: CollectionsDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> PlanPublic | Response:
    """The balance due in `months` monthly installments from `first_due_on` (within 45 days); statements then
    show the plan instead of a notice. 409 for an account with nothing due, a plan in force, or with the agency."""
    return await once(
        service, audit, idempotency_key, f"POST /accounts/{account_id}/payment-plans {principal.subject}", body,
        lambda uow: accounts.create_plan(
            uow, account_id, body, service.policy, by=principal.subject, now=service.clock(),
            expected=_expected(if_match),
        ),
        accounts.get_plan,
    )  # fmt: skip


@router.get("/payment-plans/{plan_id}", response_model=PlanPublic, tags=["payment plans"], summary="A plan")
async def get_plan(
    plan_id: UUID, _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep
) -> PlanPublic:
    return await accounts.get_plan(service.uow(audit=audit), plan_id)


@router.post(
    "/accounts/{account_id}/placement", response_model=PlacementPublic, status_code=201, tags=["agency"],
    summary="Place the account with the agency now",
)  # fmt: skip
async def place(
    account_id: UUID,
    body: Place,
    _principal: Approve,
    audit: AuditContextDep,
    service: CollectionsDep,
    if_match: IfMatch = None,
) -> PlacementPublic:
    """A collector's decision before the cycle's thresholds: statements stop. 409 for an account with nothing
    due, on a plan, or placed already."""
    return await accounts.place_with_agency(
        service.uow(audit=audit), account_id, body, service.policy, now=service.clock(), expected=_expected(if_match)
    )


@router.post(
    "/accounts/{account_id}/recall", response_model=PlacementPublic, tags=["agency"], summary="Recall from the agency"
)
async def recall(
    account_id: UUID,
    body: Recall,
    _principal: Approve,
    audit: AuditContextDep,
    service: CollectionsDep,
    if_match: IfMatch = None,
) -> PlacementPublic:
    """The account comes back (AccountRecalled): statements resume on the cycle. 409 for an account not placed."""
    return await accounts.recall(
        service.uow(audit=audit), account_id, body, now=service.clock(), expected=_expected(if_match)
    )


@router.get("/placements", response_model=list[PlacementPublic], tags=["agency"], summary="Placements")
async def list_placements(
    _principal: CollectionsRead, audit: AuditContextDep, service: CollectionsDep, active: bool = True
) -> list[PlacementPublic]:
    return await reports.placements(service.uow(audit=audit), active_only=active)


@router.get(
    "/placements/export.csv", tags=["agency"], summary="The agency's file", response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)  # fmt: skip
async def export_placements(
    _principal: Approve, audit: AuditContextDep, service: CollectionsDep, placed_on: date | None = None
) -> Response:
    """The accounts with the agency (placed on `placed_on`, or all in force), one CSV row each in the layout the
    service's canvas documents; audited as an export."""
    text = await reports.placement_export(service.uow(audit=audit), placed_on)
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="placements.csv"', **NO_STORE},
    )


@router.get("/ar/aging", response_model=AgingPublic, tags=["reports"], summary="Patient A/R aging")
async def ar_aging(_principal: CollectionsRead, service: CollectionsDep) -> AgingPublic:
    """Patient-due balances by days since they became the patient's, per account and in total."""
    return await reports.aging(service.uow(), service.clock().date())


@router.post("/cycle-runs", response_model=CycleReport, tags=["reports"], summary="Run the daily cycle now")
async def run_cycle(_principal: Approve, audit: AuditContextDep, service: CollectionsDep) -> CycleReport:
    """What the cycle does by itself every interval: plans reviewed, small balances let go, accounts placed,
    statements sent; in the audit log under the collector who asked for it."""
    return await service.cycle.run_once(audit)
