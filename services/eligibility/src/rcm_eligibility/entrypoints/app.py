"""The eligibility service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_common.service import ServiceParts, create_service_app, migrations
from rcm_eligibility.bootstrap import Eligibility, bootstrap
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.api import router

SOURCE_MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def create_app(settings: EligibilitySettings | None = None, *, eligibility: Eligibility | None = None) -> FastAPI:
    elig = eligibility or bootstrap(settings)
    parts = ServiceParts(
        settings=elig.settings,
        engine=elig.engine,
        session_factory=elig.session_factory,
        broker=elig.broker,
        relay=elig.relay,
        token_verifier=elig.token_verifier,
        migrate=migrations(elig.settings, SOURCE_MIGRATIONS),
        background=(elig.run_worker, elig.run_sweep),
        closers=(elig.close,),
    )
    app = create_service_app(
        parts,
        title="RCM eligibility",
        version="0.1.0",
        description="Eligibility checks (270/271), benefits snapshots, patient estimates and prior authorisations.",
        routers=[router],
    )
    app.state.eligibility = elig
    return app
