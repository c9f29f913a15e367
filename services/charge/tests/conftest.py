"""Fixtures shared by charge's tests: the signing keys, and the database each integration test runs
on (the app itself is started by `charge_support.running_charge`).

PostgreSQL tests get a throwaway database each and are skipped, with the reason, when no server answers
at 127.0.0.1:5432."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rcm_common.auth import generate_keypair
from rcm_common.testing import postgres_available, throwaway_postgres_database


@pytest.fixture(scope="session")
def signing_keys() -> tuple[str, str]:
    return generate_keypair()


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
