"""Reporting's HTTP API: the revenue cycle's figures, every one leading to what it counts. Every route needs a
bearer token with `reports:read` (billers, auditors, administrators); nothing here changes anything."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from rcm_common.auth import Principal, require_scopes
from rcm_common.errors import ValidationFailed
from rcm_reporting.bootstrap import Reporting
from rcm_reporting.service_layer.views import (
    AgingPublic,
    ClaimEventsPublic,
    DrillDownPublic,
    KpisPublic,
    WorkQueuesPublic,
)

router = APIRouter()


def _reporting_service(request: Request) -> Reporting:
    service: Reporting = request.app.state.reporting
    return service


ReportingDep = Annotated[Reporting, Depends(_reporting_service)]
ReportsRead = Annotated[Principal, Depends(require_scopes("reports:read"))]
AS_OF = Query(
    default=None,
    max_length=40,
    description="A past moment (ISO 8601, with its offset) or a day (YYYY-MM-DD: as at the end of that day, UTC).",
)


def moment_of(as_of: str | None) -> datetime | None:
    """`as_of` read as a moment: a day is taken at its end (UTC); a moment must say its offset."""
    if as_of is None:
        return None
    try:
        if len(as_of) == 10:
            return datetime.combine(date.fromisoformat(as_of), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(as_of)
        if moment.tzinfo is None:
            raise ValueError("a moment without its offset")
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(
            [{"field": "as_of", "message": "is a day (YYYY-MM-DD) or a moment with its offset (ISO 8601)"}],
            "The date to report as of could not be read.",
        ) from None


@router.get("/kpis", response_model=KpisPublic, tags=["reports"], summary="The KPIs with their formulas")
async def read_kpis(_principal: ReportsRead, service: ReportingDep) -> KpisPublic:
    """Every KPI with its formula, target and figure, the claims by state, initial denials by category and payer,
    the coding-pattern signal, and charges and collections by week of service."""
    return await service.reports.kpis()


@router.get("/kpis/{name}/claims", response_model=DrillDownPublic, tags=["reports"], summary="What a KPI counts")
async def drill_down(
    name: str,
    _principal: ReportsRead,
    service: ReportingDep,
    payer_id: Annotated[str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9]+$")] = None,
    category: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
) -> DrillDownPublic:
    """The claims (or visits, accounts, payments) the KPI counts, each with its numerator and denominator: the
    figure is the KPI's scale times their sums' quotient. Narrowed to one payer's claims, or one initial denial
    category's, when asked."""
    return await service.reports.drill_down(name, payer_id=payer_id, category=category)


@router.get("/ar/aging", response_model=AgingPublic, tags=["reports"], summary="A/R aging, today or on any date")
async def ar_aging(_principal: ReportsRead, service: ReportingDep, as_of: str | None = AS_OF) -> AgingPublic:
    """A/R by payer and by patient, aged from the date of service, as the event log says it stood at `as_of`."""
    return await service.reports.aging(moment_of(as_of))


@router.get(
    "/claims/{claim_id}/events", response_model=ClaimEventsPublic, tags=["reports"], summary="A claim's history"
)
async def claim_events(claim_id: UUID, _principal: ReportsRead, service: ReportingDep) -> ClaimEventsPublic:
    """The claim's events and its visit's, from every service, in the order they happened."""
    return await service.reports.claim_events(claim_id)


@router.get("/workqueues/summary", response_model=WorkQueuesPublic, tags=["reports"], summary="Every work queue's size")
async def work_queues(_principal: ReportsRead, service: ReportingDep) -> WorkQueuesPublic:
    return await service.reports.work_queues()


@router.get("/dashboard", response_class=HTMLResponse, tags=["reports"], summary="The dashboard page")
async def dashboard(_principal: ReportsRead, service: ReportingDep) -> HTMLResponse:
    """One self-contained page: the KPIs, A/R aging, denials, collections by week, work queues, coding pattern."""
    page = await service.dashboard()
    return HTMLResponse(page.render(), headers={"Cache-Control": "no-store"})
