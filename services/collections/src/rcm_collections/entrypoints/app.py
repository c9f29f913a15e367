"""The collections service's ASGI application."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from rcm_collections.bootstrap import Collections, bootstrap
from rcm_collections.config import CollectionsSettings
from rcm_collections.entrypoints.api import router
from rcm_common.kernel import ServiceApp, run_service, service_app

COLLECTIONS_APP = ServiceApp(
    title="RCM collections",
    description="The collections service.",
    routers=[router],
    migrations=Path(__file__).resolve().parents[3] / "migrations",
    state_name="collections",
)


def create_app(settings: CollectionsSettings | None = None, *, service: Collections | None = None) -> FastAPI:
    return service_app(service or bootstrap(settings), COLLECTIONS_APP)


def main() -> None:
    run_service(create_app, CollectionsSettings)
