"""The charge service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_charge.bootstrap import Charge, bootstrap
from rcm_charge.config import ChargeSettings
from rcm_charge.entrypoints.api import router
from rcm_common.kernel import ServiceApp, run_service, service_app

CHARGE_APP = ServiceApp(
    title="RCM charge",
    description=(
        "Encounters with coded service lines, ICD-10-CM/CPT/HCPCS validation, NCCI-style and unit edits, "
        "chargemaster and contract pricing, the coding review queue, and 837P import."
    ),
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="charge",
    upload_paths=("/chargemaster", "/contract-rates", "/imports/837p"),
)


def create_app(settings: ChargeSettings | None = None, *, charge: Charge | None = None) -> FastAPI:
    return service_app(charge or bootstrap(settings), CHARGE_APP)


def main() -> None:
    run_service(create_app, ChargeSettings)
