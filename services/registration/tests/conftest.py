"""Fixtures shared by registration's tests.

Integration tests run the real application (its lifespan included: migrations, broker link, relay) over a
real database, through an in-process HTTP client. The broker address is unreachable on purpose: the relay
never publishes, so every outbox row a request wrote stays in the table for the test to read.

PostgreSQL tests get one throwaway database per test module, dropped afterwards; they are skipped, with the
reason, when no server answers at 127.0.0.1:5432 (override with RCM_TEST_POSTGRES_DSN).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from rcm_common.testing import bearer_headers, query_rows, serving
from rcm_registration.bootstrap import Registration
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.app import create_app

POSTGRES_ADMIN_DSN = os.environ.get("RCM_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
UNREACHABLE_BROKER = "127.0.0.1:1"

T = TypeVar("T")


@dataclass
class RegistrationApi:
    """The running app, a client for it, a way to mint tokens for it, and raw SQL access to its database."""

    app: FastAPI
    client: httpx.AsyncClient
    private_pem: str

    @property
    def registration(self) -> Registration:
        registration: Registration = self.app.state.registration
        return registration

    def auth(self, *roles: str, subject: str = "desk-clerk-1", **headers: str) -> dict[str, str]:
        """Request headers with a bearer token for `roles` (front_desk when none are named)."""
        return bearer_headers(self.private_pem, roles or ("front_desk",), subject=subject, **headers)

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        """Run one raw SQL statement on the service's own database and return its rows as dicts."""
        return await query_rows(self.registration.session_factory, sql, **params)


@contextlib.asynccontextmanager
async def running_api(
    state_dir: Path, signing_keys: tuple[str, str], database_url: str = ""
) -> AsyncIterator[RegistrationApi]:
    """Build the app as production does and run its lifespan."""
    private_pem, public_pem = signing_keys
    settings = RegistrationSettings(
        environment="test",
        state_dir=state_dir,
        database_url=database_url,
        kafka_bootstrap_servers=UNREACHABLE_BROKER,
        jwt_public_key=SecretStr(public_pem),
        migrate_on_start=True,
    )
    app = create_app(settings)
    async with serving(app, "http://registration.test") as client:
        yield RegistrationApi(app=app, client=client, private_pem=private_pem)


def _run_in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh loop in another thread, safe whether or not a loop runs here."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="postgres-admin")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the requesting test module; dropped when the module is done."""
    name = f"rcm_registration_test_{uuid.uuid4().hex}"
    try:
        _run_in_thread(_admin(f'CREATE DATABASE "{name}"'))
    except (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.InvalidAuthorizationSpecificationError,
    ) as exc:
        pytest.skip(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_DSN} ({type(exc).__name__}): postgres tests need it"
        )
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{base}/{name}"
    _run_in_thread(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that asks for it runs twice: on a SQLite file of its own (the default: empty, meaning the
    service's file in its state directory), and on the module's PostgreSQL database."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return ""


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[RegistrationApi]:
    async with running_api(tmp_path / "state", signing_keys, database_url) as running:
        yield running
