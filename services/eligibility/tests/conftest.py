"""Fixtures shared by eligibility's integration tests: the real application (its lifespan included:
migrations, broker link, relay, worker and sweep) over a real database, reached through an in-process
HTTP client. The broker address is unreachable on purpose, so every event the service writes stays in its
outbox for the test to read; the clearinghouse is whatever the test hands in.

PostgreSQL tests get a throwaway database each and are skipped, with the reason, when no server answers
at 127.0.0.1:5432."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text

from rcm_common.auth import generate_keypair, mint_token
from rcm_common.testing import postgres_available, throwaway_postgres_database
from rcm_eligibility.adapters.clearinghouse import EligibilityGateway
from rcm_eligibility.bootstrap import Eligibility, bootstrap
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.app import create_app

UNREACHABLE_BROKER = "127.0.0.1:1"


@pytest.fixture(scope="session")
def signing_keys() -> tuple[str, str]:
    return generate_keypair()


@dataclass
class EligibilityApi:
    app: FastAPI
    client: httpx.AsyncClient
    private_pem: str

    @property
    def eligibility(self) -> Eligibility:
        eligibility: Eligibility = self.app.state.eligibility
        return eligibility

    def auth(self, *roles: str, **headers: str) -> dict[str, str]:
        token = mint_token(
            self.private_pem,
            subject="desk-clerk-1",
            roles=list(roles or ("front_desk",)),
            audience="rcm",
            issuer="rcm-local",
        )
        return {"Authorization": f"Bearer {token}", **{k.replace("_", "-"): v for k, v in headers.items()}}

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        async with self.eligibility.session_factory() as session:
            result = await session.execute(text(sql), params)
            return [dict(row) for row in result.mappings().all()]


@contextlib.asynccontextmanager
async def running_eligibility(
    state_dir: Path, signing_keys: tuple[str, str], gateway: EligibilityGateway, database_url: str = "", **settings: Any
) -> AsyncIterator[EligibilityApi]:
    private_pem, public_pem = signing_keys
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    config = EligibilitySettings(
        environment="test",
        state_dir=state_dir,
        database_url=database_url,
        kafka_bootstrap_servers=UNREACHABLE_BROKER,
        jwt_public_key=SecretStr(public_pem),
        worker_poll_seconds=0.05,
        retry_delays_seconds=(0.2,),
        **settings,
    )
    try:
        app = create_app(eligibility=bootstrap(config, gateway=gateway))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://eligibility.test") as client,
        ):
            yield EligibilityApi(app=app, client=client, private_pem=private_pem)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
)
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """Each test that asks for it runs on a SQLite file of its own and on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield ""
        return
    if not await postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432: postgres tests need it")
    async with throwaway_postgres_database() as url:
        yield url
