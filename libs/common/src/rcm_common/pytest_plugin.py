"""The pytest plugin every service's tests use (registered as the `rcm` pytest11 entry point): one signing
key pair per session, and the database each integration test runs on.

PostgreSQL tests get a throwaway database each and are skipped, with the reason, when no server answers
at 127.0.0.1:5432."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rcm_common.auth import generate_keypair
from rcm_common.testing import postgres_available, throwaway_postgres_database


@pytest.fixture(scope="session")
def signing_keys() -> tuple[str, str]:
    """One ES256 key pair for the session: (private PEM, public PEM)."""
    return generate_keypair()


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]
)
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """Each test that asks for it runs on a SQLite file of its own (the empty URL: the service's file in its
    state directory) and on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        yield ""
        return
    if not await postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432: postgres tests need it")
    async with throwaway_postgres_database() as url:
        yield url
