"""Eligibility's HTTP API. Every route needs a bearer token with the route's scope; every PHI read and
change is audited by the handlers; creates honour `Idempotency-Key`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from rcm_common.audit import AuditContextDep
from rcm_common.auth import Principal, require_scopes
from rcm_common.clearinghouse import X12_MEDIA_TYPE
from rcm_common.http import IdempotencyKeyDep, IdempotentRequest, create_once
from rcm_eligibility.bootstrap import Eligibility
from rcm_eligibility.service_layer import commands, handlers
from rcm_eligibility.service_layer.views import (
    AllowedAmountsPublic,
    AppointmentPublic,
    AuthorizationPublic,
    CheckPublic,
    EstimatePublic,
)

router = APIRouter()


def _eligibility(request: Request) -> Eligibility:
    eligibility: Eligibility = request.app.state.eligibility
    return eligibility


EligibilityDep = Annotated[Eligibility, Depends(_eligibility)]
V = TypeVar("V", bound=AuthorizationPublic | AppointmentPublic | CheckPublic)


async def _create(
    elig: Eligibility,
    response: Response,
    route: str,
    principal: Principal,
    key: str | None,
    body: BaseModel,
    create: Callable[[IdempotentRequest | None], Awaitable[V]],
    reread: Callable[[UUID], Awaitable[V]],
) -> V | JSONResponse:
    """A create at most once per Idempotency-Key and caller, answered with the new resource's Location."""
    result = await create_once(elig.session_factory, f"POST {route} {principal.subject}", key, body, create, reread)
    if not isinstance(result, JSONResponse):
        response.headers["Location"] = f"{route}/{result.id}"
    return result


EligibilityRead = Annotated[Principal, Depends(require_scopes("eligibility:read"))]
EligibilityWrite = Annotated[Principal, Depends(require_scopes("eligibility:write"))]


@router.post(
    "/eligibility-checks",
    status_code=201,
    response_model=CheckPublic,
    tags=["eligibility"],
    summary="Check a coverage with the payer now (270/271)",
)
async def request_check(
    body: commands.RequestCheck,
    principal: EligibilityWrite,
    audit: AuditContextDep,
    key: IdempotencyKeyDep,
    elig: EligibilityDep,
    response: Response,
) -> Any:
    """Asks the payer at once and answers with the outcome: `verified` with the benefits, `failed` with the
    payer's AAA errors, or `retrying` when the clearinghouse could not be reached (the service asks again)."""

    async def create(idempotency: IdempotentRequest | None) -> CheckPublic:
        uow = elig.uow(audit=audit, idempotency=idempotency)
        check_id = await handlers.queue_check(body, uow, elig.clock, elig.checker.policy.lease)
        await elig.checker.perform(check_id)
        return await handlers.get_check(check_id, elig.uow(audit=audit))

    return await _create(
        elig, response, "/eligibility-checks", principal, key, body, create,
        lambda check_id: handlers.get_check(check_id, elig.uow(audit=audit)),
    )  # fmt: skip


@router.get("/eligibility-checks/{check_id}", response_model=CheckPublic, tags=["eligibility"], summary="Read a check")
async def get_check(
    check_id: UUID, _principal: EligibilityRead, audit: AuditContextDep, elig: EligibilityDep
) -> CheckPublic:
    return await handlers.get_check(check_id, elig.uow(audit=audit))


@router.get(
    "/eligibility-checks/{check_id}/271",
    tags=["eligibility"],
    summary="The raw 271 the payer answered with",
    response_class=Response,
    responses={200: {"content": {X12_MEDIA_TYPE: {}}}},
)
async def get_check_response(
    check_id: UUID, _principal: EligibilityRead, audit: AuditContextDep, elig: EligibilityDep
) -> Response:
    text = await handlers.get_check_response(check_id, elig.uow(audit=audit))
    return Response(content=text, media_type=X12_MEDIA_TYPE)


@router.get(
    "/patients/{patient_id}/eligibility",
    response_model=list[CheckPublic],
    tags=["eligibility"],
    summary="The latest eligibility of each of a patient's coverages",
)
async def patient_eligibility(
    patient_id: UUID, _principal: EligibilityRead, audit: AuditContextDep, elig: EligibilityDep
) -> list[CheckPublic]:
    return await handlers.patient_eligibility(patient_id, elig.uow(audit=audit))


@router.post("/estimates", response_model=EstimatePublic, tags=["estimates"], summary="Estimate what the patient owes")
async def estimate(
    body: commands.RequestEstimate, _principal: EligibilityWrite, audit: AuditContextDep, elig: EligibilityDep
) -> EstimatePublic:
    max_age = timedelta(days=elig.settings.estimate_max_benefits_age_days)
    return await handlers.estimate(body, elig.uow(audit=audit), elig.clock, max_age=max_age)


@router.put(
    "/allowed-amounts",
    response_model=AllowedAmountsPublic,
    tags=["estimates"],
    summary="Store payers' expected allowed amounts per procedure code",
)
async def put_allowed_amounts(
    body: commands.PutAllowedAmounts, _principal: EligibilityWrite, elig: EligibilityDep
) -> AllowedAmountsPublic:
    return await handlers.put_allowed_amounts(body, elig.uow(), elig.clock)


@router.post(
    "/prior-authorizations",
    status_code=201,
    response_model=AuthorizationPublic,
    tags=["prior authorizations"],
    summary="Record a payer's prior authorisation",
)
async def record_authorization(
    body: commands.RecordAuthorization,
    principal: EligibilityWrite,
    audit: AuditContextDep,
    key: IdempotencyKeyDep,
    elig: EligibilityDep,
    response: Response,
) -> Any:
    return await _create(
        elig, response, "/prior-authorizations", principal, key, body,
        lambda idem: handlers.record_authorization(body, elig.uow(audit=audit, idempotency=idem), elig.clock),
        lambda authorization_id: handlers.get_authorization(authorization_id, elig.uow(audit=audit), elig.clock),
    )  # fmt: skip


@router.get(
    "/prior-authorizations/{authorization_id}",
    response_model=AuthorizationPublic,
    tags=["prior authorizations"],
    summary="Read a prior authorisation with its units left",
)
async def get_authorization(
    authorization_id: UUID, _principal: EligibilityRead, audit: AuditContextDep, elig: EligibilityDep
) -> AuthorizationPublic:
    return await handlers.get_authorization(authorization_id, elig.uow(audit=audit), elig.clock)


@router.post(
    "/prior-authorizations/{authorization_id}/uses",
    response_model=AuthorizationPublic,
    tags=["prior authorizations"],
    summary="Draw units of a prior authorisation down for a service",
)
async def use_authorization(
    authorization_id: UUID,
    body: commands.UseAuthorization,
    principal: EligibilityWrite,
    audit: AuditContextDep,
    key: IdempotencyKeyDep,
    elig: EligibilityDep,
) -> Any:
    """With an `Idempotency-Key`, a retried request draws the units down once."""
    return await create_once(
        elig.session_factory,
        f"POST /prior-authorizations/{authorization_id}/uses {principal.subject}",
        key,
        body,
        lambda idem: handlers.use_authorization(
            authorization_id, body, elig.uow(audit=audit, idempotency=idem), elig.clock
        ),
        lambda found: handlers.get_authorization(found, elig.uow(audit=audit), elig.clock),
    )


@router.get(
    "/patients/{patient_id}/prior-authorizations",
    response_model=list[AuthorizationPublic],
    tags=["prior authorizations"],
    summary="A patient's prior authorisations",
)
async def list_authorizations(
    patient_id: UUID, _principal: EligibilityRead, audit: AuditContextDep, elig: EligibilityDep
) -> list[AuthorizationPublic]:
    return await handlers.list_authorizations(patient_id, elig.uow(audit=audit), elig.clock)


@router.post(
    "/appointments",
    status_code=201,
    response_model=AppointmentPublic,
    tags=["appointments"],
    summary="Schedule a visit, so the sweep checks its coverage beforehand",
)
async def schedule_appointment(
    body: commands.ScheduleAppointment,
    principal: EligibilityWrite,
    audit: AuditContextDep,
    key: IdempotencyKeyDep,
    elig: EligibilityDep,
    response: Response,
) -> Any:
    return await _create(
        elig, response, "/appointments", principal, key, body,
        lambda idem: handlers.schedule_appointment(body, elig.uow(audit=audit, idempotency=idem), elig.clock),
        lambda appointment_id: handlers.get_appointment(appointment_id, elig.uow(audit=audit)),
    )  # fmt: skip


@router.get(
    "/appointments/{appointment_id}", response_model=AppointmentPublic, tags=["appointments"], summary="Read a visit"
)
async def get_appointment(
    appointment_id: UUID, _principal: EligibilityRead, audit: AuditContextDep, elig: EligibilityDep
) -> AppointmentPublic:
    return await handlers.get_appointment(appointment_id, elig.uow(audit=audit))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentPublic,
    tags=["appointments"],
    summary="Cancel a visit (it is no longer swept)",
)
async def cancel_appointment(
    appointment_id: UUID, _principal: EligibilityWrite, audit: AuditContextDep, elig: EligibilityDep
) -> AppointmentPublic:
    return await handlers.cancel_appointment(appointment_id, elig.uow(audit=audit))
