"""The claim service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_claim.bootstrap import Claim, bootstrap
from rcm_claim.config import ClaimSettings
from rcm_claim.entrypoints.api import router
from rcm_common.kernel import ServiceApp, run_service, service_app

CLAIM_APP = ServiceApp(
    title="RCM claim",
    description="The claim service.",
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="claim",
    upload_paths=("/providers", "/payers"),
)


def create_app(settings: ClaimSettings | None = None, *, service: Claim | None = None) -> FastAPI:
    return service_app(service or bootstrap(settings), CLAIM_APP)


def main() -> None:
    run_service(create_app, ClaimSettings)
