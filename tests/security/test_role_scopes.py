"""Each role reaches exactly the actions its job needs (OWASP API Top 10 2023, API1 and API5): for every route of
every token-guarded service and every role, a token of that role is refused with 403 where the route demands a
scope the role lacks, and let in (neither 401 nor 403) where it has them all. Both sides come from the code's own
declarations: the roles' scopes from `rcm_common.auth.ROLE_SCOPES`, each route's scopes from its `require_scopes`
dependency. A route that demands no scope at all is a failure unless it is public by design (probes, metrics,
the OpenAPI document and its pages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import httpx

from rcm_common.auth import ROLE_SCOPES

ROLES: Final = {**ROLE_SCOPES, "retired_role": frozenset[str]()}
"""The platform's roles, and one it no longer knows: a token naming only that one is let in nowhere."""


def test_every_route_but_the_public_ones_demands_a_scope(
    guarded_routes: list[tuple[str, str, str, frozenset[str]]],
) -> None:
    unguarded = [f"{method} {path}" for method, path, _url, scopes in guarded_routes if not scopes]

    assert guarded_routes
    assert unguarded == []


async def test_each_role_is_let_in_exactly_where_its_scopes_cover_the_route(
    client: httpx.AsyncClient,
    guarded_routes: list[tuple[str, str, str, frozenset[str]]],
    sign: Callable[..., str],
) -> None:
    headers = {role: {"Authorization": f"Bearer {sign(sub=f'{role}-1', roles=[role])}"} for role in ROLES}

    wrong = []
    for method, path, url, needed in guarded_routes:
        for role, granted in ROLES.items():
            status = (await client.request(method, url, headers=headers[role])).status_code
            outcome = {401: "401", 403: "403"}.get(status, "let in")
            expected = "let in" if needed <= granted else "403"
            if outcome != expected:
                wrong.append(
                    f"{role} {method} {path} (needs {', '.join(sorted(needed))}): {status}, {expected} expected"
                )

    assert wrong == []
