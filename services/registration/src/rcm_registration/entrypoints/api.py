"""Registration's HTTP API. Every route needs a bearer token with the route's scope; every PHI read and
change is audited by the handlers; creates honour `Idempotency-Key`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from rcm_common.audit import AuditContextDep
from rcm_common.auth import Principal, require_scopes
from rcm_common.http import IdempotencyKeyDep, create_once, etag, expected_version
from rcm_registration.bootstrap import Registration
from rcm_registration.service_layer import commands, handlers
from rcm_registration.service_layer.views import CoveragePublic, PatientPublic

router = APIRouter(tags=["patients"])


def _registration(request: Request) -> Registration:
    registration: Registration = request.app.state.registration
    return registration


RegistrationDep = Annotated[Registration, Depends(_registration)]
PatientsRead = Annotated[Principal, Depends(require_scopes("patients:read"))]
PatientsWrite = Annotated[Principal, Depends(require_scopes("patients:write"))]
PatientsMerge = Annotated[Principal, Depends(require_scopes("patients:merge"))]
CoveragesRead = Annotated[Principal, Depends(require_scopes("coverages:read"))]
CoveragesWrite = Annotated[Principal, Depends(require_scopes("coverages:write"))]


@router.post("/patients", status_code=201, response_model=PatientPublic, summary="Register a patient")
async def register_patient(
    body: commands.RegisterPatient,
    principal: PatientsWrite,
    audit: AuditContextDep,
    key: IdempotencyKeyDep,
    reg: RegistrationDep,
    response: Response,
) -> Any:
    result = await create_once(
        reg.session_factory,
        f"POST /patients {principal.subject}",
        key,
        body,
        lambda idem: handlers.register_patient(body, reg.uow(audit=audit, idempotency=idem), clock=reg.clock),
        lambda patient_id: handlers.get_patient(patient_id, reg.uow(audit=audit)),
    )
    if isinstance(result, PatientPublic):
        response.headers["Location"] = f"/patients/{result.id}"
        response.headers["ETag"] = etag(result.version)
    return result


@router.get("/patients", response_model=list[PatientPublic], summary="Find patients")
async def search_patients(
    _principal: PatientsRead,
    audit: AuditContextDep,
    reg: RegistrationDep,
    last_name: Annotated[str | None, Query(max_length=60)] = None,
    first_name: Annotated[str | None, Query(max_length=35)] = None,
    birth_date: date | None = None,
    mrn: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=handlers.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=handlers.MAX_OFFSET)] = 0,
) -> list[PatientPublic]:
    return await handlers.search_patients(
        reg.uow(audit=audit),
        last_name=last_name,
        first_name=first_name,
        birth_date=birth_date,
        mrn=mrn,
        limit=limit,
        offset=offset,
    )


@router.get("/patients/{patient_id}", response_model=PatientPublic, summary="Read a patient")
async def get_patient(
    patient_id: UUID,
    _principal: PatientsRead,
    audit: AuditContextDep,
    reg: RegistrationDep,
    response: Response,
) -> PatientPublic:
    view = await handlers.get_patient(patient_id, reg.uow(audit=audit))
    response.headers["ETag"] = etag(view.version)
    return view


@router.patch("/patients/{patient_id}", response_model=PatientPublic, summary="Correct a patient's details")
async def update_patient(
    patient_id: UUID,
    body: commands.UpdatePatient,
    _principal: PatientsWrite,
    audit: AuditContextDep,
    reg: RegistrationDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> PatientPublic:
    view = await handlers.update_patient(
        patient_id, body, reg.uow(audit=audit), expected_version=expected_version(if_match), clock=reg.clock
    )
    response.headers["ETag"] = etag(view.version)
    return view


@router.post("/patients/{patient_id}/merge", response_model=PatientPublic, summary="Merge a duplicate patient")
async def merge_patients(
    patient_id: UUID,
    body: commands.MergePatients,
    _principal: PatientsMerge,
    audit: AuditContextDep,
    reg: RegistrationDep,
) -> PatientPublic:
    return await handlers.merge_patients(patient_id, body, reg.uow(audit=audit), clock=reg.clock)


@router.get(
    "/patients/{patient_id}/coverages",
    response_model=list[CoveragePublic],
    summary="List a patient's coverages",
)
async def list_coverages(
    patient_id: UUID, _principal: CoveragesRead, audit: AuditContextDep, reg: RegistrationDep
) -> list[CoveragePublic]:
    return await handlers.list_coverages(patient_id, reg.uow(audit=audit))


@router.post(
    "/patients/{patient_id}/coverages",
    status_code=201,
    response_model=CoveragePublic,
    summary="Add a coverage",
)
async def add_coverage(
    patient_id: UUID,
    body: commands.AddCoverage,
    principal: CoveragesWrite,
    audit: AuditContextDep,
    key: IdempotencyKeyDep,
    reg: RegistrationDep,
    response: Response,
) -> Any:
    result = await create_once(
        reg.session_factory,
        f"POST /patients/{patient_id}/coverages {principal.subject}",
        key,
        body,
        lambda idem: handlers.add_coverage(patient_id, body, reg.uow(audit=audit, idempotency=idem), clock=reg.clock),
        lambda coverage_id: handlers.get_coverage(patient_id, coverage_id, reg.uow(audit=audit)),
    )
    if isinstance(result, CoveragePublic):
        response.headers["Location"] = f"/patients/{patient_id}/coverages/{result.id}"
    return result


@router.get("/patients/{patient_id}/coverages/{coverage_id}", response_model=CoveragePublic, summary="Read a coverage")
async def get_coverage(
    patient_id: UUID, coverage_id: UUID, _principal: CoveragesRead, audit: AuditContextDep, reg: RegistrationDep
) -> CoveragePublic:
    return await handlers.get_coverage(patient_id, coverage_id, reg.uow(audit=audit))


@router.patch(
    "/patients/{patient_id}/coverages/{coverage_id}",
    response_model=CoveragePublic,
    summary="Correct a coverage",
)
async def update_coverage(
    patient_id: UUID,
    coverage_id: UUID,
    body: commands.UpdateCoverage,
    _principal: CoveragesWrite,
    audit: AuditContextDep,
    reg: RegistrationDep,
) -> CoveragePublic:
    return await handlers.update_coverage(patient_id, coverage_id, body, reg.uow(audit=audit), clock=reg.clock)


@router.post(
    "/patients/{patient_id}/coverages/{coverage_id}/end",
    response_model=CoveragePublic,
    summary="End a coverage on a termination date",
)
async def end_coverage(
    patient_id: UUID,
    coverage_id: UUID,
    body: commands.EndCoverage,
    _principal: CoveragesWrite,
    audit: AuditContextDep,
    reg: RegistrationDep,
) -> CoveragePublic:
    return await handlers.end_coverage(patient_id, coverage_id, body, reg.uow(audit=audit))
