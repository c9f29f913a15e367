"""Reporting running in process over SQLite or PostgreSQL, on 20 November 2026 unless a test moves its clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rcm_common.sample_events import MovableClock
from rcm_reporting.testing import ReportingApi, running_reporting


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))


@pytest.fixture
async def reporting(
    tmp_path: Path, signing_keys: tuple[str, str], database_url: str, clock: MovableClock
) -> AsyncIterator[ReportingApi]:
    async with running_reporting(tmp_path, signing_keys, database_url, clock=clock) as running:
        yield running
