"""The reporting service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_common.kernel import ServiceApp, run_service, service_app
from rcm_reporting.bootstrap import Reporting, bootstrap
from rcm_reporting.config import ReportingSettings
from rcm_reporting.entrypoints.api import router

REPORTING_APP = ServiceApp(
    title="RCM reporting",
    description="The reporting service.",
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="reporting",
)


def create_app(settings: ReportingSettings | None = None, *, service: Reporting | None = None) -> FastAPI:
    return service_app(service or bootstrap(settings), REPORTING_APP)


def main() -> None:
    run_service(create_app, ReportingSettings)
