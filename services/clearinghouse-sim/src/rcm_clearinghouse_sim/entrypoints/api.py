"""The simulator's HTTP API, as real clearinghouse APIs are: X12 in the body (application/edi-x12), an API
key in `X-Api-Key`, a mailbox of files to pick up, and faults on demand for tests."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from rcm_clearinghouse_sim.bootstrap import Simulator
from rcm_clearinghouse_sim.service_layer.clearinghouse import Clearinghouse, read_upload
from rcm_clearinghouse_sim.service_layer.faults import Endpoint, Fault, FaultKind
from rcm_common.clearinghouse import X12_MEDIA_TYPE
from rcm_common.errors import AuthenticationRequired, PermissionDenied, RcmError
from rcm_common.offload import off_the_loop
from rcm_x12.errors import X12Error

T = TypeVar("T")
_ACCEPTED_MEDIA_TYPES = frozenset({X12_MEDIA_TYPE, "text/plain"})


class UnreadableX12(RcmError):
    title = "Unreadable X12"
    type_slug = "unreadable-x12"


class UnsupportedMediaType(RcmError):
    status = 415
    title = "Unsupported media type"
    type_slug = "unsupported-media-type"


class InjectedFailure(RcmError):
    """The answer an "error" fault asked for."""

    title = "Injected fault"
    type_slug = "injected-fault"

    def __init__(self, status: int) -> None:
        super().__init__("A fault set through PUT /faults answered this request.")
        self.status = status


class ConnectionDropped(Exception):
    """Raised by a "drop" fault; `DropConnection` turns it into a connection closed without an answer."""


def _simulator(request: Request) -> Simulator:
    simulator: Simulator = request.app.state.simulator
    return simulator


SimulatorDep = Annotated[Simulator, Depends(_simulator)]


def _clearinghouse(simulator: SimulatorDep) -> Clearinghouse:
    return simulator.clearinghouse


ClearinghouseDep = Annotated[Clearinghouse, Depends(_clearinghouse)]


def require_api_key(simulator: SimulatorDep, x_api_key: Annotated[str | None, Header()] = None) -> None:
    expected = simulator.settings.api_key.get_secret_value().encode()
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), expected):
        raise AuthenticationRequired("Send the clearinghouse API key in the X-Api-Key header.")


def faults_for(endpoint: Endpoint) -> Callable[[Clearinghouse], Awaitable[None]]:
    """A dependency applying the next fault set for the endpoint, if any, before the route runs."""

    async def apply(clearinghouse: ClearinghouseDep) -> None:
        fault = clearinghouse.faults.take(endpoint)
        if fault is None:
            return
        if fault.kind == "slow":
            await asyncio.sleep(fault.delay_seconds)
        elif fault.kind == "error":
            raise InjectedFailure(fault.status)
        elif fault.kind == "drop":
            raise ConnectionDropped("a drop fault closed the connection without an answer")

    return apply


async def x12_body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in _ACCEPTED_MEDIA_TYPES:
        raise UnsupportedMediaType("Send X12 as application/edi-x12 (or text/plain).")
    return await request.body()


X12Body = Annotated[bytes, Depends(x12_body)]


def _x12(text: str, headers: dict[str, str] | None = None) -> Response:
    return Response(content=text, media_type=X12_MEDIA_TYPE, headers=headers)


def _unreadable(error: ValueError) -> UnreadableX12:
    """X12 the simulator cannot read is a 400 naming only segments and positions. The codec's own errors
    (X12Error) say where; any other ValueError from reading may hold a value, so it is not repeated."""
    if isinstance(error, X12Error):
        return UnreadableX12(str(error))
    return UnreadableX12("The X12 holds a value its element cannot take.")


def _readable(work: Callable[[], T]) -> T:
    """The work's answer, or a 400 when it cannot read the X12 (`_unreadable`)."""
    try:
        return work()
    except ValueError as exc:
        raise _unreadable(exc) from exc


async def _read_off_the_loop(read: Callable[[bytes], T], body: bytes) -> T:
    """`read(body)`, or a 400 as `_readable` says; in a thread when the body is large (`rcm_common.offload`),
    so the loop goes on meanwhile. `read` is pure: the clearinghouse is changed after it, on the loop."""
    try:
        return await off_the_loop(read, body, size=len(body))
    except ValueError as exc:
        raise _unreadable(exc) from exc


router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post("/x12/eligibility", dependencies=[Depends(faults_for("eligibility"))], tags=["x12"])
async def eligibility(clearinghouse: ClearinghouseDep, body: X12Body) -> Response:
    """The 270s of an upload → their 271s (one interchange each, concatenated), at once."""
    return _x12(_readable(lambda: clearinghouse.eligibility(body)))


@router.post("/x12/claims", dependencies=[Depends(faults_for("claims"))], tags=["x12"])
async def claims(clearinghouse: ClearinghouseDep, body: X12Body) -> Response:
    """An 837P batch → its 999; the 277CA and later the 835s come through the mailbox."""
    upload = await _read_off_the_loop(read_upload, body)
    submission = _readable(lambda: clearinghouse.take_upload(upload))
    return _x12(submission.acknowledgment, {"X-Batch-Id": submission.batch_id})


@router.post("/x12/claim-status", dependencies=[Depends(faults_for("claim-status"))], tags=["x12"])
async def claim_status(clearinghouse: ClearinghouseDep, body: X12Body) -> Response:
    """A 276 → its 277, with each claim's current status."""
    return _x12(_readable(lambda: clearinghouse.claim_status(body)))


class MailboxEntry(BaseModel):
    id: str
    kind: Literal["277CA", "835"]
    payer_id: str
    created_at: datetime
    size: int


class MailboxListing(BaseModel):
    files: list[MailboxEntry]


mailbox_faults = Depends(faults_for("mailbox"))


@router.get("/mailbox", dependencies=[mailbox_faults], tags=["mailbox"])
async def list_mailbox(clearinghouse: ClearinghouseDep) -> MailboxListing:
    files = clearinghouse.mailbox.files()
    return MailboxListing(
        files=[
            MailboxEntry(id=f.id, kind=f.kind, payer_id=f.payer_id, created_at=f.created_at, size=f.size) for f in files
        ]
    )


@router.get("/mailbox/{file_id}", dependencies=[mailbox_faults], tags=["mailbox"])
async def get_file(clearinghouse: ClearinghouseDep, file_id: str) -> Response:
    return _x12(clearinghouse.mailbox.get(file_id).content)


@router.delete("/mailbox/{file_id}", dependencies=[mailbox_faults], status_code=204, tags=["mailbox"])
async def delete_file(clearinghouse: ClearinghouseDep, file_id: str) -> Response:
    clearinghouse.mailbox.delete(file_id)
    return Response(status_code=204)


class PaymentRun(BaseModel):
    files: list[str]


@router.post("/payment-runs", tags=["payments"])
async def payment_run(clearinghouse: ClearinghouseDep) -> PaymentRun:
    """Pay every adjudicated claim not yet paid, now, whatever the configured delay."""
    return PaymentRun(files=clearinghouse.run_payments(due_only=False))


class ReprocessingRequest(BaseModel):
    """Why the payer reprocesses the claim (kept with it, never logged) and the change to its allowed
    amounts (a fraction: "0.05" allows 5% more, "-0.1" 10% less; the payer's configured one when left out)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=80)
    allowed_change: Decimal | None = Field(default=None, ge=-1, le=1, decimal_places=4)


class QueuedReprocessing(BaseModel):
    payer_claim_number: str
    payer_id: str
    reason: str
    allowed_change: Decimal
    queued_at: datetime


class RecoupmentRequest(BaseModel):
    """The overpayment to recover, in dollars and cents ("12.34")."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=11, decimal_places=2)


class QueuedRecoupment(BaseModel):
    payer_claim_number: str
    payer_id: str
    amount: Decimal
    queued_at: datetime


@router.post("/claims/{payer_claim_number}/reprocessings", status_code=202, tags=["payments"])
async def reprocess(
    clearinghouse: ClearinghouseDep,
    payer_claim_number: str,
    body: Annotated[ReprocessingRequest | None, Body()] = None,
) -> QueuedReprocessing:
    """The payer reprocesses a paid claim: on its next 835 for the payee, the payment reversed (CLP02 22,
    every amount negated) and the claim paid again right after with its allowed amounts changed. 404 for an
    unknown payer claim number, 409 for a claim not paid on an 835, replaced, voided or already queued."""
    request = body or ReprocessingRequest()
    queued = clearinghouse.reprocess(payer_claim_number, request.reason, request.allowed_change)
    assert queued.allowed_change is not None  # a reprocessing asked for pays the claim again
    return QueuedReprocessing(
        payer_claim_number=payer_claim_number,
        payer_id=queued.original.payer_id,
        reason=queued.reason,
        allowed_change=queued.allowed_change,
        queued_at=queued.due_from,
    )


class AppealDecision(BaseModel):
    """The payer's decision on an appeal of its denial: overturned (the only one that changes an 835; an appeal
    upheld is answered by letter), and why (kept, never logged)."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["overturned"]
    reason: str = Field(default="", max_length=80)


@router.post("/claims/{payer_claim_number}/appeal-decisions", status_code=202, tags=["payments"])
async def decide_appeal(clearinghouse: ClearinghouseDep, payer_claim_number: str, body: AppealDecision) -> Response:
    """The payer overturns its denial on appeal: the denied lines are priced anew and paid on its next 835 for
    the payee (after a reversal of what it paid before, if anything). 404 for an unknown payer claim number,
    409 for a claim not decided on an 835 yet, replaced, voided, queued for a reversal, or with nothing
    denied."""
    clearinghouse.overturn(payer_claim_number, body.reason)
    return Response(status_code=202)


@router.post("/claims/{payer_claim_number}/recoupments", status_code=202, tags=["payments"])
async def recoup(clearinghouse: ClearinghouseDep, payer_claim_number: str, body: RecoupmentRequest) -> QueuedRecoupment:
    """The payer recovers an overpayment of a paid claim from its next 835 for the payee (PLB WO, by the
    payer claim number). 404 for an unknown payer claim number, 409 for a claim not paid, replaced, voided
    or queued for reversal, or an amount more than is left of its payment."""
    queued = clearinghouse.recoup(payer_claim_number, body.amount)
    return QueuedRecoupment(
        payer_claim_number=payer_claim_number,
        payer_id=queued.claim.payer_id,
        amount=queued.amount,
        queued_at=queued.queued_at,
    )


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: Endpoint = "*"
    kind: FaultKind
    times: int = Field(default=1, ge=1)
    delay_seconds: float = Field(default=0.0, ge=0, le=120)
    status: int = Field(default=503, ge=400, le=599)


class FaultList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    faults: list[FaultSpec]


def _faults_allowed(simulator: SimulatorDep) -> None:
    if not simulator.settings.faults_allowed:
        raise PermissionDenied("Faults can be set only in development and test.")


fault_router = APIRouter(dependencies=[Depends(require_api_key), Depends(_faults_allowed)], tags=["faults"])


def _listing(clearinghouse: Clearinghouse) -> FaultList:
    return FaultList(faults=[FaultSpec.model_validate(asdict(fault)) for fault in clearinghouse.faults.active()])


@fault_router.put("/faults")
async def set_faults(clearinghouse: ClearinghouseDep, body: FaultList) -> FaultList:
    clearinghouse.faults.replace_all([Fault(**spec.model_dump()) for spec in body.faults])
    return _listing(clearinghouse)


@fault_router.get("/faults")
async def get_faults(clearinghouse: ClearinghouseDep) -> FaultList:
    return _listing(clearinghouse)


@fault_router.delete("/faults", status_code=204)
async def clear_faults(clearinghouse: ClearinghouseDep) -> Response:
    clearinghouse.faults.clear()
    return Response(status_code=204)
