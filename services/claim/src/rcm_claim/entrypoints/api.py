"""Claim's HTTP API. Every route needs a bearer token with the route's scope; every read of a claim and
every change is audited by the service layer; the directories are replaced whole, by an administrator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any, Final, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError

from rcm_claim.adapters.claim_837 import claim_as_sent
from rcm_claim.adapters.directory_csv import (
    MAX_PAYER_ROWS,
    parse_payer_directory,
    parse_provider_directory,
    payer_directory_csv,
    provider_directory_csv,
)
from rcm_claim.bootstrap import Claim
from rcm_claim.domain.batches import BatchState
from rcm_claim.domain.directories import PayerProfile, ProviderDirectory
from rcm_claim.domain.model import ClaimState
from rcm_claim.service_layer import batches, claims, commands, denials, directories, next_payers
from rcm_claim.service_layer.denial_views import DeadlinePublic, DenialQueue, UnderpaymentItem
from rcm_claim.service_layer.views import (
    AppealPublic,
    BatchPublic,
    BatchSummary,
    ClaimPublic,
    ClaimSummary,
    DirectorySummary,
    PayerDocument,
    ProviderDirectoryDocument,
)
from rcm_common.audit import AuditContextDep
from rcm_common.auth import Principal, require_scopes
from rcm_common.clearinghouse import X12_MEDIA_TYPE
from rcm_common.csv_tables import CSV_MEDIA_TYPE, CsvFileError, refusal
from rcm_common.events.remittance import DenialCategoryName
from rcm_common.http import etag, expected_version, read_body, utf8_text

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
DenialCategoryQuery = Annotated[
    DenialCategoryName | None, Query(description="a denial category, as remittance names it")
]
RejectionCode = Annotated[str | None, Query(max_length=20, pattern=r"^[A-Z0-9]{1,4}:[A-Z0-9]{1,8}$|^REFUSED$")]


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


@router.get(
    "/workqueues/rejections", response_model=list[ClaimSummary], tags=["work queues"],
    summary="Claims the clearinghouse or the payer rejected",
)  # fmt: skip
async def rejection_queue(
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
    code: RejectionCode = None,
    payer_id: PayerId = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ClaimSummary]:
    """The `rejected` claims, the longest waiting first, each with its rejection's codes in words and the
    usual fix; `code` keeps those rejected for it (a 277CA's "A3:33", a 999's "IK4:7"). A correction upstream
    or a biller's fix (a rescrub once the cause is fixed) sends a claim again."""
    return await claims.list_claims(
        service.uow(audit=audit), state="rejected", rejection_code=code, payer_id=payer_id, limit=limit,
        offset=offset,
    )  # fmt: skip


@router.get(
    "/workqueues/follow-up", response_model=list[ClaimSummary], tags=["work queues"],
    summary="Claims sent with no answer",
)  # fmt: skip
async def follow_up_queue(
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
    payer_id: PayerId = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ClaimSummary]:
    """Claims sent longer ago than the service's acknowledgment wait (`RCM_ACKNOWLEDGMENT_WAIT_HOURS`, 48 by
    default) that no 999 (still `batched`) or no 277CA (`submitted`) has answered, the longest waiting first.
    (Accepted claims the payer has not paid are asked about on a 276 by the service itself, after the payer's
    follow-up days.)"""
    before = service.clock() - timedelta(hours=service.settings.acknowledgment_wait_hours)
    return await claims.follow_up_queue(
        service.uow(audit=audit), unanswered_before=before, payer_id=payer_id, limit=limit, offset=offset
    )


@router.get(
    "/workqueues/denials", response_model=DenialQueue, tags=["work queues"],
    summary="Open denials by category, the nearest appeal deadline first",
)  # fmt: skip
async def denial_queue(
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
    category: DenialCategoryQuery = None,
    payer_id: PayerId = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> DenialQueue:
    """The denials no biller has resolved yet, grouped by category (eligibility, authorisation, coding, medical
    necessity, timely filing, duplicate, coordination of benefits, bundling, missing information, ...), each with
    its CARCs and RARCs in words, the suggested action, the amount at stake and the payer's appeal deadline; the
    nearest deadline first, then the largest amount. Resolve one with `POST /claims/{id}/denial-resolutions` or
    `POST /claims/{id}/appeals`."""
    return await denials.denial_queue(
        service.uow(audit=audit), category=category, payer_id=payer_id, limit=limit, offset=offset
    )


@router.get(
    "/workqueues/deadlines", response_model=list[DeadlinePublic], tags=["work queues"],
    summary="Timely-filing and appeal deadlines coming or passed",
)  # fmt: skip
async def deadline_queue(
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
    payer_id: PayerId = None,
    within_days: Annotated[int | None, Query(ge=0, le=365)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[DeadlinePublic]:
    """Claims the payer has not taken whose timely-filing window (date of service + the payer's days) closes
    within `within_days` (`RCM_DEADLINE_WARNING_DAYS`, 14, by default), and open denials whose appeal window
    (denial + the payer's days) does; the soonest first. One already passed is flagged, with its likely
    write-off."""
    warning_days = service.settings.deadline_warning_days if within_days is None else within_days
    return await denials.deadlines(
        service.uow(audit=audit), today=service.clock().date(), warning_days=warning_days, payer_id=payer_id,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get(
    "/workqueues/underpayments", response_model=list[UnderpaymentItem], tags=["work queues"],
    summary="Claims the payer allowed below the contract",
)  # fmt: skip
async def underpayment_queue(
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
    payer_id: PayerId = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[UnderpaymentItem]:
    """Partially paid claims whose allowed amount fell below the contract's expected allowed by more than
    remittance's tolerance, no biller having accepted it: the largest shortfall first. Appeal one like a denial's
    payment (a reconsideration), or accept it with `POST /claims/{id}/underpayment-acceptance`."""
    return await denials.underpayment_queue(service.uow(audit=audit), payer_id=payer_id, limit=limit, offset=offset)


@router.post(
    "/claims/{claim_id}/underpayment-acceptance", response_model=ClaimPublic, tags=["claims"],
    summary="Accept the claim's underpayment",
)  # fmt: skip
async def accept_underpayment(
    claim_id: UUID,
    body: commands.AcceptUnderpayment,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> ClaimPublic:
    """Let what the payer allowed below the contract go, with why (audited, on the timeline); the claim is closed
    (`underpayment_accepted`) once no denial is open either. 409 when the claim has no underpayment open."""
    view = await denials.accept_underpayment(
        claim_id, body, service.uow(audit=audit), service.scrubber, by=principal.subject,
        revision=_revision(if_match),
    )  # fmt: skip
    return _tagged(view, response)


@router.post(
    "/claims/{claim_id}/denial-resolutions", response_model=ClaimPublic, tags=["claims"],
    summary="Resolve the claim's open denial",
)  # fmt: skip
async def resolve_denial(
    claim_id: UUID,
    body: commands.ResolveDenial,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> ClaimPublic:
    """`corrected`: the claim goes again as a replacement (frequency 7, REF*F8), with the prior authorisation
    number or note given, scrubbed like any claim; `transferred_to_patient` (with its `basis`: a CO denial is the
    provider's liability unless a waiver is on file) and `written_off` are published for collections;
    `accepted` takes the denial as the payer's last word. The claim is closed once no insurance balance is
    left. 409 when the claim has no open denial or the resolution is not allowed."""
    view = await denials.resolve_denial(
        claim_id, body, service.uow(audit=audit), service.scrubber, by=principal.subject,
        revision=_revision(if_match),
    )  # fmt: skip
    return _tagged(view, response)


@router.post(
    "/claims/{claim_id}/appeals", response_model=AppealPublic, status_code=201, tags=["claims"],
    summary="Appeal the claim's open denial",
)  # fmt: skip
async def appeal_claim(
    claim_id: UUID,
    body: commands.AppealClaim,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> AppealPublic:
    """Record an appeal (level 1 to 3, the reason, the argument, the documents sent with it by reference) and
    publish ClaimAppealed; its letter is at `Location`. The payer's next 835 for the claim decides it. 409 for a
    claim with no open denial (a paid claim), a level already appealed, or one whose level below was not
    decided."""
    made, revision = await denials.appeal(
        claim_id, body, service.uow(audit=audit), service.scrubber, by=principal.subject, revision=_revision(if_match)
    )
    response.headers["Location"] = f"/claims/{claim_id}/appeals/{made.number}/letter.pdf"
    response.headers["ETag"] = etag(revision)  # the claim's, for its next change
    return made


@router.post(
    "/claims/{claim_id}/appeals/{number}/answer", response_model=ClaimPublic, tags=["claims"],
    summary="The payer's answer to an appeal by letter",
)  # fmt: skip
async def answer_appeal(
    claim_id: UUID,
    number: Annotated[int, Path(ge=1, le=100)],
    body: commands.AppealAnswer,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> ClaimPublic:
    """A payer that upholds or dismisses an appeal by letter sends no 835: the biller records it here (or the
    practice's withdrawal of the appeal), and the denial is back in the queue for a higher level or another
    resolution. An 835 answering the appeal decides it by itself. 409 when the appeal is not pending."""
    view = await denials.answer_appeal(
        claim_id, number, body, service.uow(audit=audit), service.scrubber, by=principal.subject,
        revision=_revision(if_match),
    )  # fmt: skip
    return _tagged(view, response)


@router.post(
    "/claims/{claim_id}/next-payer", response_model=ClaimPublic, status_code=201, tags=["claims"],
    summary="Bill the patient's next payer",
)  # fmt: skip
async def bill_next_payer(
    claim_id: UUID,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> ClaimPublic:
    """A claim to the patient's secondary (or tertiary) coverage on the date of service, carrying this claim's
    payer's adjudication (2320, 2330B, 2430), scrubbed and sent like any claim. The service does this by itself
    when a payment leaves a balance and the next coverage is on file; this is for a coverage added after, or a
    claim its payer denied. 409 (nothing changed) when the claim's payer has not decided it on an 835 (no
    adjudication to report), the patient has no next coverage, or a claim to it is in play."""
    view = await next_payers.bill_next_payer(
        claim_id, service.uow(audit=audit), service.next_payers, by=principal.subject, revision=_revision(if_match)
    )
    response.headers["Location"] = f"/claims/{view.id}"
    return _tagged(view, response)


@router.get(
    "/claims/{claim_id}/appeals/{number}/letter.pdf", tags=["claims"], summary="An appeal's letter",
    response_class=Response, responses={200: {"content": {"application/pdf": {}}}},
)  # fmt: skip
async def appeal_letter(
    claim_id: UUID,
    number: Annotated[int, Path(ge=1, le=100)],
    _principal: ClaimsRead,
    audit: AuditContextDep,
    service: ClaimDep,
) -> Response:
    """The appeal letter as a PDF, from the practice's template for the denial's category: the payer's appeals
    address, the claim's facts, the denial in words, the argument, the enclosures and the practice's contact.
    Audited as an export (it names the patient)."""
    pdf = await denials.appeal_letter(claim_id, number, service.uow(audit=audit), service.appeal_templates)
    filename = f"appeal-{number}.pdf"
    return Response(
        content=pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


@router.get(
    "/claims/{claim_id}/837", tags=["claims"], summary="The claim's 837P as sent",
    response_class=Response, responses={200: {"content": {X12_MEDIA_TYPE: {}}}},
)  # fmt: skip
async def claim_837(claim_id: UUID, _principal: ClaimsRead, audit: AuditContextDep, service: ClaimDep) -> Response:
    """The claim as its last batch carried it: the batch's envelopes and billing provider with this claim's
    subscriber loop alone (other patients' claims are left out). Audited as an export; 409 before it is sent."""
    text = await claims.claim_as_sent(claim_id, service.uow(audit=audit), claim_as_sent)
    return Response(content=text, media_type=X12_MEDIA_TYPE)


@router.patch("/claims/{claim_id}", response_model=ClaimPublic, tags=["claims"], summary="Set the billing notes")
async def annotate_claim(
    claim_id: UUID,
    body: commands.AnnotateClaim,
    principal: ClaimsWrite,
    audit: AuditContextDep,
    service: ClaimDep,
    response: Response,
    if_match: IfMatch,
) -> ClaimPublic:
    """The claim-level fields a biller sets for the payer: a prior authorisation number the payer gave
    (REF*G1, in place of the one found on file), a delay reason code (CLM20) and a note (NTE). Only fields
    sent change (null clears one); 409 once the payer has the claim."""
    changes = body.model_dump(exclude_unset=True)
    view = await claims.annotate(
        claim_id, changes, service.uow(audit=audit), service.scrubber, by=principal.subject,
        revision=_revision(if_match),
    )  # fmt: skip
    return _tagged(view, response)


# ---------------------------------------------------------------- batches


@router.get("/batches", response_model=list[BatchSummary], tags=["batches"], summary="837P batches, newest first")
async def list_batches(
    _principal: ClaimsRead,
    service: ClaimDep,
    payer_id: PayerId = None,
    state: BatchState | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[BatchSummary]:
    return await batches.list_batches(service.uow(), payer_id=payer_id, state=state, limit=limit, offset=offset)


@router.get("/batches/{batch_id}", response_model=BatchPublic, tags=["batches"], summary="One batch")
async def get_batch(batch_id: UUID, _principal: ClaimsRead, service: ClaimDep) -> BatchPublic:
    """The batch (its payer, ISA13, state, attempts and times) and the state each claim it carried is in now."""
    return await batches.get_batch(batch_id, service.uow())


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

MAX_DIRECTORY_BYTES: Final = 20_000_000  # a thousand payers, each with its prior authorisation codes
_PROVIDER_DOCUMENT: Final = TypeAdapter(ProviderDirectoryDocument)
_PAYER_DOCUMENTS: Final = TypeAdapter(Annotated[list[PayerDocument], Field(max_length=MAX_PAYER_ROWS)])
_CSV_ANSWER: Final[dict[int | str, dict[str, Any]]] = {
    200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}
}
_VARY: Final = {"Vary": "Accept"}  # a directory is answered as JSON or CSV: a cache keeps them apart
_PROVIDER_COLUMNS: Final = """As CSV (`Content-Type: text/csv`, UTF-8, header row first, columns in any order), a
row per provider: `role` (`billing` for the practice, one row; `provider` for a rendering or referring provider;
`facility` for a service facility), `npi`, `taxonomy`; the billing row `name`, `tax_id` (nine digits),
`address_line1`, `address_line2`, `address_city`, `address_state`, `address_postal_code` (ZIP+4, nine digits)
and, where payments go elsewhere, `pay_to_line1`, `pay_to_line2`, `pay_to_city`, `pay_to_state`,
`pay_to_postal_code`; a provider row `last_name`, `first_name`; a facility row `location` (the practice's code
for it, as charge records it), `name`, `npi` (optional) and the `address_*` columns (ZIP+4). A column of another
role is left blank."""
_PAYER_COLUMNS: Final = """As CSV (`Content-Type: text/csv`, UTF-8, header row first, columns in any order), a row per
payer: `payer_id`, `name`, `filing_indicator`, `timely_filing_days`, `follow_up_days`, `batch_size`,
`batch_interval_seconds`, optional `eligibility_max_age_days` (30 when blank) and
`prior_authorization_codes` (CPT or HCPCS codes in one cell, separated by spaces, commas or semicolons)."""
_CSV_REFUSED: Final = """A CSV with any problem is refused whole (422) with every problem by row (the header is row
1) and column, such as `row 3 npi`, never repeating a cell; a cell may not begin with =, +, - or @."""

_T = TypeVar("_T")
_D = TypeVar("_D")


def _directory_body(json_schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI of a directory's request body: the JSON document, or a CSV file (the route says its columns)."""
    content = {"application/json": {"schema": json_schema}, CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}
    return {"requestBody": {"required": True, "content": content}}


def _is_csv(media_type: str) -> bool:
    return media_type.partition(";")[0].strip().lower() == CSV_MEDIA_TYPE


def _wants_csv(request: Request) -> bool:
    """Whether `Accept` asks for CSV; JSON is the answer otherwise."""
    return any(_is_csv(accepted) for accepted in request.headers.get("accept", "").split(","))


async def _directory(
    request: Request, what: str, from_csv: Callable[[str], _T], from_json: Callable[[bytes], _T]
) -> _T:
    """The directory in the body, CSV or JSON by its Content-Type, refused whole (422) with every problem: by row
    and column in a CSV, by field in JSON."""
    data = await read_body(request, MAX_DIRECTORY_BYTES, what)
    if not _is_csv(request.headers.get("content-type", "")):
        return from_json(data)
    try:
        return from_csv(utf8_text(data, what))
    except CsvFileError as error:
        raise refusal(error) from None


def _json_document(adapter: TypeAdapter[_D], data: bytes) -> _D:
    """The JSON document, or the 422 FastAPI gives a body it parses itself (fields and rules, never values)."""
    try:
        return adapter.validate_json(data)
    except ValidationError as invalid:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in invalid.errors()]) from None


def _providers_json(data: bytes) -> ProviderDirectory:
    return _json_document(_PROVIDER_DOCUMENT, data).domain()


def _payers_json(data: bytes) -> list[PayerProfile]:
    return [payer.domain() for payer in _json_document(_PAYER_DOCUMENTS, data)]


@router.put(
    "/providers",
    response_model=DirectorySummary,
    tags=["directories"],
    summary="Replace the practice's providers",
    description=f"""The billing provider and the rendering and referring providers, replaced whole, as JSON or
CSV. A directory with any problem (an NPI's check digit, a tax id, a taxonomy, the billing provider's ZIP+4) is
refused with every problem listed, and nothing changes. Claims waiting for a provider fix are scrubbed again.

{_PROVIDER_COLUMNS}

{_CSV_REFUSED}""",
    openapi_extra=_directory_body({"$ref": "#/components/schemas/ProviderDirectoryDocument"}),
)
async def put_providers(
    request: Request, principal: DirectoriesWrite, audit: AuditContextDep, service: ClaimDep
) -> DirectorySummary:
    directory = await _directory(request, "provider directory", parse_provider_directory, _providers_json)
    return await directories.replace_providers(
        directory, service.uow(audit=audit), service.scrubber, by=principal.subject
    )


@router.get(
    "/providers",
    response_model=ProviderDirectoryDocument,
    tags=["directories"],
    summary="The providers",
    description=f"JSON, or CSV when `Accept` asks for `text/csv`, as `PUT /providers` takes it.\n\n{_PROVIDER_COLUMNS}",
    responses=_CSV_ANSWER,
)
async def get_providers(
    request: Request, response: Response, _principal: ClaimsRead, service: ClaimDep
) -> ProviderDirectoryDocument | Response:
    directory = await directories.providers(service.uow())
    if _wants_csv(request):
        return Response(provider_directory_csv(directory), media_type=CSV_MEDIA_TYPE, headers=_VARY)
    response.headers.update(_VARY)
    return ProviderDirectoryDocument.of(directory)


@router.put(
    "/payers",
    response_model=DirectorySummary,
    tags=["directories"],
    summary="Replace the payer directory",
    description=f"""Every payer billed, replaced whole, as JSON or CSV; refused whole with every problem listed.
Claims waiting for a payer setting are scrubbed again.

{_PAYER_COLUMNS}

{_CSV_REFUSED}""",
    openapi_extra=_directory_body(
        {"type": "array", "maxItems": MAX_PAYER_ROWS, "items": {"$ref": "#/components/schemas/PayerDocument"}}
    ),
)
async def put_payers(
    request: Request, principal: DirectoriesWrite, audit: AuditContextDep, service: ClaimDep
) -> DirectorySummary:
    payers = await _directory(request, "payer directory", parse_payer_directory, _payers_json)
    return await directories.replace_payers(payers, service.uow(audit=audit), service.scrubber, by=principal.subject)


@router.get(
    "/payers",
    response_model=list[PayerDocument],
    tags=["directories"],
    summary="The payer directory",
    description=f"JSON, or CSV when `Accept` asks for `text/csv`, as `PUT /payers` takes it.\n\n{_PAYER_COLUMNS}",
    responses=_CSV_ANSWER,
)
async def get_payers(
    request: Request, response: Response, _principal: ClaimsRead, service: ClaimDep
) -> list[PayerDocument] | Response:
    payers = await directories.payers(service.uow())
    if _wants_csv(request):
        return Response(payer_directory_csv(payers), media_type=CSV_MEDIA_TYPE, headers=_VARY)
    response.headers.update(_VARY)
    return [PayerDocument.of(payer) for payer in payers]
