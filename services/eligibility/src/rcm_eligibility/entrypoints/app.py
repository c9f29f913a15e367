"""The eligibility service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_common.kernel import ServiceApp, run_service, service_app
from rcm_eligibility.bootstrap import Eligibility, bootstrap
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.api import router

ELIGIBILITY_APP = ServiceApp(
    title="RCM eligibility",
    description="Eligibility checks (270/271), benefits snapshots, patient estimates and prior authorisations.",
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="eligibility",
)


def create_app(settings: EligibilitySettings | None = None, *, eligibility: Eligibility | None = None) -> FastAPI:
    return service_app(eligibility or bootstrap(settings), ELIGIBILITY_APP)


def main() -> None:
    run_service(create_app, EligibilitySettings)
