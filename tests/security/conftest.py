"""The security suite's services and what the tests share about them.

Each service is its real app, built as production builds it, over a SQLite state directory of its own; no
broker answers (its events stay in the outbox) and the clearinghouse it calls is the simulator, in process, so
nothing goes over the network. The tests reach the apps with tokens of the session's signing key.

Test modules here cannot import one another (pytest's importlib mode keeps this directory off `sys.path`), so
what they share is fixtures: the apps, a token minter, and the routes with the scopes each one demands, read
from its own `require_scopes` dependency so that the role table is the code's own declaration."""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from rcm_charge.config import ChargeSettings
from rcm_charge.entrypoints.app import create_app as create_charge
from rcm_claim.bootstrap import bootstrap as bootstrap_claim
from rcm_claim.config import ClaimSettings
from rcm_claim.entrypoints.app import create_app as create_claim
from rcm_clearinghouse_sim.bootstrap import bootstrap as bootstrap_simulator
from rcm_clearinghouse_sim.config import DEV_API_KEY, ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints.app import create_app as create_simulator
from rcm_clearinghouse_sim.testing import InProcessClearinghouse, quiet_config
from rcm_collections.config import CollectionsSettings
from rcm_collections.entrypoints.app import create_app as create_collections
from rcm_common.auth import ALGORITHM, require_scopes
from rcm_common.settings import ServiceSettings
from rcm_common.testing import in_process_settings, serving
from rcm_common.types import utcnow
from rcm_eligibility.bootstrap import bootstrap as bootstrap_eligibility
from rcm_eligibility.config import EligibilitySettings
from rcm_eligibility.entrypoints.app import create_app as create_eligibility
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.app import create_app as create_registration
from rcm_remittance.bootstrap import bootstrap as bootstrap_remittance
from rcm_remittance.config import RemittanceSettings
from rcm_remittance.entrypoints.app import create_app as create_remittance
from rcm_reporting.config import ReportingSettings
from rcm_reporting.entrypoints.app import create_app as create_reporting

AUDIENCE: Final[str] = ServiceSettings.model_fields["jwt_audience"].default
ISSUER: Final[str] = ServiceSettings.model_fields["jwt_issuer"].default
"""Whom every service's tokens are for and from, by default."""
ANY_ID: Final = "00000000-0000-4000-8000-000000000000"
PUBLIC_PATHS: Final = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
)
"""Public by design: probes and metrics (no PHI, see `health_router` and `metrics_router`) and FastAPI's docs."""
SIMULATOR: Final = "clearinghouse-sim"
_AUTHORIZE: Final = require_scopes().__code__
"""The code of every `require_scopes` dependency: how a route's own scope requirement is recognised."""


class SimulatedClearinghouse(InProcessClearinghouse):
    """The simulator called in process for every exchange a service makes, eligibility included."""

    async def eligibility(self, request_270: str) -> str:
        return self.clearinghouse.eligibility(request_270.encode())


def _clearinghouse() -> SimulatedClearinghouse:
    return SimulatedClearinghouse.quiet(utcnow)


# Each service as production builds it, its background workers off as in an API-only replica (eligibility has no
# such switch: its worker runs and asks the simulator).
TOKEN_SERVICES: Final[dict[str, Callable[[Path, str], FastAPI]]] = {
    "registration": lambda state, key: create_registration(in_process_settings(RegistrationSettings, state, key)),
    "eligibility": lambda state, key: create_eligibility(
        eligibility=bootstrap_eligibility(
            in_process_settings(EligibilitySettings, state, key), gateway=_clearinghouse()
        )
    ),
    "charge": lambda state, key: create_charge(in_process_settings(ChargeSettings, state, key)),
    "claim": lambda state, key: create_claim(
        service=bootstrap_claim(
            in_process_settings(ClaimSettings, state, key, run_workers=False), gateway=_clearinghouse()
        )
    ),
    "remittance": lambda state, key: create_remittance(
        service=bootstrap_remittance(
            in_process_settings(RemittanceSettings, state, key, run_workers=False), gateway=_clearinghouse()
        )
    ),
    "collections": lambda state, key: create_collections(
        in_process_settings(CollectionsSettings, state, key, run_cycle=False)
    ),
    "reporting": lambda state, key: create_reporting(in_process_settings(ReportingSettings, state, key)),
}
"""The services guarded by bearer tokens. The clearinghouse simulator stands for an outside party and takes an API
key instead, so only the schemathesis run covers it."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`service` runs a test once per token-guarded service, `any_service` once per service and the simulator."""
    if "service" in metafunc.fixturenames:
        metafunc.parametrize("service", list(TOKEN_SERVICES))
    if "any_service" in metafunc.fixturenames:
        metafunc.parametrize("any_service", [*TOKEN_SERVICES, SIMULATOR])


def build_app(name: str, state_dir: Path, public_pem: str) -> FastAPI:
    """A service's app, not started, with the root logger put back as it was: the app's logging setup binds a
    handler to the stdout of the moment, which later tests must not write to."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        if name == SIMULATOR:
            return create_simulator(
                simulator=bootstrap_simulator(ClearinghouseSettings(environment="test"), config=quiet_config())
            )
        return TOKEN_SERVICES[name](state_dir, public_pem)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@pytest.fixture
def unstarted_app(any_service: str, tmp_path: Path, signing_keys: tuple[str, str]) -> FastAPI:
    """A fresh app on an empty database, not started: for schemathesis, which runs its lifespan itself."""
    return build_app(any_service, tmp_path, signing_keys[1])


@pytest.fixture
def service_app(service: str, tmp_path: Path, signing_keys: tuple[str, str]) -> FastAPI:
    """A token-guarded service's app on an empty database."""
    return build_app(service, tmp_path, signing_keys[1])


@pytest.fixture
async def client(service: str, service_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The service running, its lifespan too, and an in-process client of it."""
    async with serving(service_app, f"http://{service}.test") as running:
        yield running


@pytest.fixture(scope="session")
def sign(signing_keys: tuple[str, str]) -> Callable[..., str]:
    """Signs a token with the session's key: an admin's, valid for a day (longer than any run), unless claims are
    changed (a claim given as None is left out), or signed with `key=` another key."""

    def signed(key: str = signing_keys[0], **changes: Any) -> str:
        now = datetime.now(UTC)
        claims = {"sub": "security-suite", "roles": ["admin"], "aud": AUDIENCE, "iss": ISSUER, "iat": now}
        claims |= {"exp": now + timedelta(days=1), **changes}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=ALGORITHM)

    return signed


@pytest.fixture
def credentials(any_service: str, sign: Callable[..., str]) -> dict[str, str]:
    """Headers that may call every operation: an admin's token, or the simulator's development API key."""
    if any_service == SIMULATOR:
        return {"X-Api-Key": DEV_API_KEY}
    return {"Authorization": f"Bearer {sign()}"}


def _scopes_demanded(dependant: Dependant | None) -> frozenset[str]:
    """The scopes a route's `require_scopes` dependencies demand, however deep they sit; none without any."""
    found: set[str] = set()
    for dependency in dependant.dependencies if dependant else ():
        call = dependency.call
        if call is not None and getattr(call, "__code__", None) is _AUTHORIZE:
            found |= set(inspect.getclosurevars(call).nonlocals["scopes"])
        found |= _scopes_demanded(dependency)
    return frozenset(found)


@pytest.fixture
def guarded_routes(service_app: FastAPI) -> list[tuple[str, str, str, frozenset[str]]]:
    """Every route of the app but the public ones, as (method, path template, a path to call, the scopes its
    dependencies demand: empty when none does). The path to call has a UUID for each path parameter, which a
    name or number parameter takes too: once the caller is let in, it is answered 404 or 422."""
    routes = []
    for route in iter_route_contexts(service_app.routes):
        path = str(route.path)
        if path in PUBLIC_PATHS:
            continue
        needed = _scopes_demanded(getattr(route, "dependant", None))
        url = re.sub(r"\{[^}]+\}", ANY_ID, path)
        routes += [(method, path, url, needed) for method in sorted(route.methods or ())]
    return routes
