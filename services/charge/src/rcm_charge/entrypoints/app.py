"""The charge service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_charge.bootstrap import Charge, bootstrap
from rcm_charge.config import ChargeSettings
from rcm_charge.entrypoints.api import router
from rcm_common.service import ServiceParts, create_service_app, migrations

SOURCE_MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def create_app(settings: ChargeSettings | None = None, *, charge: Charge | None = None) -> FastAPI:
    service = charge or bootstrap(settings)
    parts = ServiceParts(
        settings=service.settings,
        engine=service.engine,
        session_factory=service.session_factory,
        broker=service.broker,
        relay=service.relay,
        token_verifier=service.token_verifier,
        migrate=migrations(service.settings, SOURCE_MIGRATIONS),
    )
    app = create_service_app(
        parts,
        title="RCM charge",
        version="0.1.0",
        description=(
            "Encounters with coded service lines, ICD-10-CM/CPT/HCPCS validation, NCCI-style and unit edits, "
            "chargemaster and contract pricing, the coding review queue, and 837P import."
        ),
        routers=[router],
    )
    app.state.charge = service
    return app
