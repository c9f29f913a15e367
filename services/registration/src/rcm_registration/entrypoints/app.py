"""The registration service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_common.service import ServiceParts, create_service_app, migrations
from rcm_registration.bootstrap import Registration, bootstrap
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.api import router

SOURCE_MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def create_app(settings: RegistrationSettings | None = None, *, registration: Registration | None = None) -> FastAPI:
    reg = registration or bootstrap(settings)
    parts = ServiceParts(
        settings=reg.settings,
        engine=reg.engine,
        session_factory=reg.session_factory,
        broker=reg.broker,
        relay=reg.relay,
        token_verifier=reg.token_verifier,
        migrate=migrations(reg.settings, SOURCE_MIGRATIONS),
    )
    app = create_service_app(
        parts,
        title="RCM registration",
        version="0.1.0",
        description="Patients, guarantors and coverages; duplicate detection and merges.",
        routers=[router],
    )
    app.state.registration = reg
    return app
