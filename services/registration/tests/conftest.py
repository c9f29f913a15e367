"""Registration's integration tests run the real app over a real database: a SQLite file, and PostgreSQL
when it answers (the `database_url` of the rcm pytest plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rcm_registration.testing import RegistrationApi, running_api


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[RegistrationApi]:
    async with running_api(tmp_path / "state", signing_keys, database_url) as running:
        yield running
