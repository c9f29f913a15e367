"""The registration service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_common.kernel import ServiceApp, run_service, service_app
from rcm_registration.bootstrap import Registration, bootstrap
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.api import router

REGISTRATION_APP = ServiceApp(
    title="RCM registration",
    description="Patients, guarantors and coverages; duplicate detection and merges.",
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="registration",
)


def create_app(settings: RegistrationSettings | None = None, *, registration: Registration | None = None) -> FastAPI:
    return service_app(registration or bootstrap(settings), REGISTRATION_APP)


def main() -> None:
    run_service(create_app, RegistrationSettings)
