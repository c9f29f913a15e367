"""The remittance service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_common.kernel import ServiceApp, run_service, service_app
from rcm_remittance.bootstrap import Remittance, bootstrap
from rcm_remittance.config import RemittanceSettings
from rcm_remittance.entrypoints.api import router

REMITTANCE_APP = ServiceApp(
    title="RCM remittance",
    description="The remittance service.",
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="remittance",
    upload_paths=("/remittances",),
)


def create_app(settings: RemittanceSettings | None = None, *, service: Remittance | None = None) -> FastAPI:
    return service_app(service or bootstrap(settings), REMITTANCE_APP)


def main() -> None:
    run_service(create_app, RemittanceSettings)
