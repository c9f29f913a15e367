"""Charge's HTTP API. Every route needs a bearer token with the route's scope; every PHI read and change is
audited by the handlers; encounter creates honour `Idempotency-Key`, and an 837P file is imported once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from rcm_charge.adapters.price_csv import chargemaster_csv, contract_rates_csv, parse_chargemaster, parse_contract_rates
from rcm_charge.adapters.x12_import import ImportRefused, read_837p_claims
from rcm_charge.bootstrap import Charge
from rcm_charge.service_layer import claim_import, coding_review, commands, encounters, price_lists
from rcm_charge.service_layer.views import EncounterPublic, ImportReport, PriceFileSummary, ReviewPublic
from rcm_common.audit import AuditContextDep
from rcm_common.auth import Principal, require_scopes
from rcm_common.clearinghouse import X12_MEDIA_TYPE
from rcm_common.csv_tables import CSV_MEDIA_TYPE, CsvFileError, refusal
from rcm_common.errors import ValidationFailed
from rcm_common.http import IdempotencyKeyDep, create_once, etag, expected_version, read_body, utf8_text
from rcm_common.offload import off_the_loop

router = APIRouter()


def _charge(request: Request) -> Charge:
    charge: Charge = request.app.state.charge
    return charge


ChargeDep = Annotated[Charge, Depends(_charge)]
ChargesRead = Annotated[Principal, Depends(require_scopes("charges:read"))]
ChargesWrite = Annotated[Principal, Depends(require_scopes("charges:write"))]
CodingReview = Annotated[Principal, Depends(require_scopes("coding:review"))]
PricingWrite = Annotated[Principal, Depends(require_scopes("pricing:write"))]


# Required: no change lands on an encounter its author has not seen (412 when it changed since the read).
IfMatch = Annotated[str, Header(description='The ETag of the encounter as read, such as "v3"')]


def _revision(if_match: str) -> int:
    revision = expected_version(if_match)
    assert revision is not None, "a header given is never None"
    return revision


def _tagged(view: EncounterPublic, response: Response) -> EncounterPublic:
    response.headers["ETag"] = etag(view.revision)
    return view


P = TypeVar("P")


async def _price_file(request: Request, charge: Charge, what: str, parse: Callable[[str], list[P]]) -> list[P]:
    """A price list's CSV body parsed whole: any problem refuses it with every problem named by row and column
    (the first 200), and nothing is stored."""
    text = utf8_text(await read_body(request, charge.settings.max_import_bytes, what), what)
    try:
        return parse(text)
    except CsvFileError as exc:
        raise refusal(exc) from None


CSV_BODY: Final = {"requestBody": {"required": True, "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}}


# ---------------------------------------------------------------- encounters


@router.post(
    "/encounters",
    status_code=201,
    response_model=EncounterPublic,
    tags=["encounters"],
    summary="Capture an encounter's coded charges",
)
async def capture_encounter(
    body: commands.CaptureEncounter,
    principal: ChargesWrite,
    audit: AuditContextDep,
    key: IdempotencyKeyDep,
    charge: ChargeDep,
    response: Response,
) -> Any:
    """Prices and validates the encounter. `captured`: clean, and ChargesCaptured is published. `held`: it
    waits in the coding review queue with its `issues`, each with a stable code."""
    result = await create_once(
        charge.session_factory,
        f"POST /encounters {principal.subject}",
        key,
        body,
        lambda idem: encounters.capture(body, charge.uow(audit=audit, idempotency=idem), charge.evaluator),
        lambda encounter_id: encounters.get_encounter(encounter_id, charge.uow(audit=audit)),
    )
    if isinstance(result, EncounterPublic):
        response.headers["Location"] = f"/encounters/{result.id}"
        _tagged(result, response)
    return result


@router.get("/encounters/{encounter_id}", response_model=EncounterPublic, tags=["encounters"], summary="Read one")
async def get_encounter(
    encounter_id: UUID, _principal: ChargesRead, audit: AuditContextDep, charge: ChargeDep, response: Response
) -> EncounterPublic:
    """With its ETag, which a correction or void gives back in If-Match."""
    return _tagged(await encounters.get_encounter(encounter_id, charge.uow(audit=audit)), response)


@router.patch(
    "/encounters/{encounter_id}",
    response_model=EncounterPublic,
    tags=["encounters"],
    summary="Correct an encounter",
)
async def correct_encounter(
    encounter_id: UUID,
    body: commands.CorrectEncounter,
    _principal: ChargesWrite,
    audit: AuditContextDep,
    charge: ChargeDep,
    response: Response,
    if_match: IfMatch,
) -> EncounterPublic:
    """The fields given replace the encounter's and it is validated again. A held encounter that comes clean
    is captured; a captured one publishes ChargesCorrected, or ChargesHeld when it goes back to review.
    If-Match is required: 412 when the encounter changed since that read."""
    revision = _revision(if_match)
    view = await encounters.correct(encounter_id, body, charge.uow(audit=audit), charge.evaluator, revision=revision)
    return _tagged(view, response)


@router.post(
    "/encounters/{encounter_id}/void",
    response_model=EncounterPublic,
    tags=["encounters"],
    summary="Void an encounter",
)
async def void_encounter(
    encounter_id: UUID,
    body: commands.VoidEncounter,
    principal: ChargesWrite,
    audit: AuditContextDep,
    charge: ChargeDep,
    response: Response,
    if_match: IfMatch,
) -> EncounterPublic:
    """Publishes ChargesVoided when the encounter had been captured. A voided encounter changes no more.
    If-Match is required, as for a correction."""
    revision = _revision(if_match)
    view = await encounters.void(
        encounter_id, body, charge.uow(audit=audit), charge.clock, by=principal.subject, revision=revision
    )
    return _tagged(view, response)


# ---------------------------------------------------------------- the coding review queue


@router.get("/review-queue", response_model=list[ReviewPublic], tags=["review"], summary="Encounters for a coder")
async def review_queue(
    _principal: CodingReview,
    audit: AuditContextDep,
    charge: ChargeDep,
    issue_code: Annotated[str | None, Query(max_length=40, pattern=r"^[A-Z0-9_]+$")] = None,
    limit: Annotated[int | None, Query(ge=1, le=500)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ReviewPublic]:
    """The open review items, the longest waiting first; `issue_code` keeps those with that issue."""
    return await coding_review.review_queue(
        charge.uow(audit=audit),
        limit=limit or charge.settings.review_page_size,
        offset=offset,
        issue_code=issue_code,
    )


@router.post(
    "/review-queue/{review_id}/resolve",
    response_model=EncounterPublic,
    tags=["review"],
    summary="A coder's decision on a held encounter",
)
async def resolve_review(
    review_id: UUID,
    body: commands.ResolveReview,
    principal: CodingReview,
    audit: AuditContextDep,
    charge: ChargeDep,
) -> EncounterPublic:
    """`approve` accepts the review flags (with an optional correction applied first) and captures the
    encounter; errors cannot be approved (422). `void` withdraws it."""
    return await coding_review.resolve_review(
        review_id, body, charge.uow(audit=audit), charge.evaluator, by=principal.subject
    )


# ---------------------------------------------------------------- price lists


@router.put(
    "/chargemaster",
    response_model=PriceFileSummary,
    tags=["pricing"],
    summary="Replace the chargemaster from a CSV file",
    openapi_extra=CSV_BODY,
)
async def put_chargemaster(
    request: Request, _principal: PricingWrite, audit: AuditContextDep, charge: ChargeDep
) -> PriceFileSummary:
    """Columns `code,modifier,location,charge,description`; every problem is reported and nothing is stored
    unless the whole file is good. The chargemaster is the practice's code list."""
    entries = await _price_file(request, charge, "chargemaster file", parse_chargemaster)
    return await price_lists.replace_chargemaster(entries, charge.uow(audit=audit), charge.clock)


@router.get(
    "/chargemaster",
    tags=["pricing"],
    summary="Export the chargemaster as CSV",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
async def get_chargemaster(_principal: ChargesRead, charge: ChargeDep) -> Response:
    entries = await price_lists.chargemaster(charge.uow())
    return Response(content=chargemaster_csv(entries), media_type=CSV_MEDIA_TYPE)


@router.put(
    "/contract-rates",
    response_model=PriceFileSummary,
    tags=["pricing"],
    summary="Replace payers' contract rates from a CSV file",
    openapi_extra=CSV_BODY,
)
async def put_contract_rates(
    request: Request, _principal: PricingWrite, audit: AuditContextDep, charge: ChargeDep
) -> PriceFileSummary:
    """Columns `payer_id,code,modifier,allowed` (the allowed amount per unit). The rates of each payer in the
    file are replaced whole; other payers' stay."""
    rates = await _price_file(request, charge, "contract rates file", parse_contract_rates)
    return await price_lists.replace_contract_rates(rates, charge.uow(audit=audit), charge.clock)


@router.get(
    "/contract-rates",
    tags=["pricing"],
    summary="Export contract rates as CSV",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
async def get_contract_rates(
    _principal: ChargesRead,
    charge: ChargeDep,
    payer_id: Annotated[str | None, Query(min_length=1, max_length=80)] = None,
) -> Response:
    rates = await price_lists.contract_rates(charge.uow(), payer_id)
    return Response(content=contract_rates_csv(rates), media_type=CSV_MEDIA_TYPE)


# ---------------------------------------------------------------- 837P import


@router.post(
    "/imports/837p",
    response_model=ImportReport,
    tags=["imports"],
    summary="Import an 837P file from another system into encounters",
    openapi_extra={"requestBody": {"required": True, "content": {X12_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)
async def import_837p(
    request: Request, principal: ChargesWrite, audit: AuditContextDep, charge: ChargeDep
) -> ImportReport:
    """Each claim becomes an encounter, matched to a registered coverage by payer and member id, priced and
    validated; the report says how many claims and lines were captured, held and why, or skipped. The same
    file imported again answers with its first report (`replayed`) and creates nothing."""
    data = await read_body(request, charge.settings.max_import_bytes, "837P file")
    try:
        read = await off_the_loop(read_837p_claims, data, size=len(data))  # in a thread when large
    except ImportRefused as exc:
        raise ValidationFailed(
            [{"field": "body", "message": str(exc)}], detail="The file cannot be imported."
        ) from None
    return await claim_import.import_claims(data, read, charge.uow(audit=audit), charge.evaluator, by=principal.subject)
