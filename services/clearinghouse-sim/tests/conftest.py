"""The simulator's fixtures: a simulator on a clock the test moves, and a client calling its app in
process with the development API key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from rcm_clearinghouse_sim.bootstrap import Simulator, bootstrap
from rcm_clearinghouse_sim.config import ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints.app import create_app
from rcm_clearinghouse_sim.testing import API_HEADERS, X12, Clock, quiet_config


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def x12() -> X12:
    return X12()


@pytest.fixture
def simulator(clock: Clock) -> Simulator:
    return bootstrap(ClearinghouseSettings(environment="test"), config=quiet_config(), clock=clock)


@pytest.fixture
async def client(simulator: Simulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(simulator=simulator))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=API_HEADERS) as client:
        yield client
