"""Registration's HTTP API end to end, access control: every route needs a valid token, a role without the
route's scope is 403 and changes nothing; and the health probes, which need none.

Run on SQLite and, when reachable, PostgreSQL: see the conftest.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import jwt
from fastapi.routing import APIRoute

from rcm_common.auth import generate_keypair, mint_token
from rcm_registration.entrypoints.api import router
from rcm_registration.testing import (
    add_coverage,
    count,
    coverage_body,
    patient_body,
    problem,
    register,
    unique_member_id,
    unique_name,
)

if TYPE_CHECKING:
    from rcm_registration.testing import RegistrationApi

PID, CID = str(uuid.uuid4()), str(uuid.uuid4())
ROUTES = [
    ("POST", "/patients"),
    ("GET", "/patients?last_name=Gonzalez"),
    ("GET", f"/patients/{PID}"),
    ("PATCH", f"/patients/{PID}"),
    ("POST", f"/patients/{PID}/merge"),
    ("GET", f"/patients/{PID}/coverages"),
    ("POST", f"/patients/{PID}/coverages"),
    ("GET", f"/patients/{PID}/coverages/{CID}"),
    ("PATCH", f"/patients/{PID}/coverages/{CID}"),
    ("POST", f"/patients/{PID}/coverages/{CID}/end"),
]


def test_the_route_list_covers_the_whole_api() -> None:
    declared = {
        (method, route.path) for route in router.routes if isinstance(route, APIRoute) for method in route.methods or ()
    }
    listed = {(method, re.sub(r"/[0-9a-f-]{36}", "/{id}", path.split("?")[0])) for method, path in ROUTES}
    normalised = {(m, re.sub(r"\{[a-z_]+\}", "{id}", p)) for m, p in declared}
    assert listed == normalised


def _expired_token(private_pem: str) -> str:
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = {
        "sub": "desk-clerk-1",
        "roles": ["front_desk"],
        "aud": "rcm",
        "iss": "rcm-local",
        "iat": past,
        "exp": past + timedelta(minutes=5),
    }
    return jwt.encode(claims, private_pem, algorithm="ES256")


async def test_every_endpoint_needs_a_valid_token(api: RegistrationApi) -> None:
    stranger_key, _ = generate_keypair()
    bad_tokens = {
        "none": None,
        "garbage": "not-a-jwt",
        "foreign-key": mint_token(stranger_key, subject="x", roles=["admin"], audience="rcm", issuer="rcm-local"),
        "wrong-audience": mint_token(
            api.private_pem, subject="x", roles=["admin"], audience="billing", issuer="rcm-local"
        ),
        "wrong-issuer": mint_token(api.private_pem, subject="x", roles=["admin"], audience="rcm", issuer="elsewhere"),
        "expired": _expired_token(api.private_pem),
    }
    for method, path in ROUTES:
        for kind, token in bad_tokens.items():
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            response = await api.client.request(method, path, json={}, headers=headers)
            assert response.status_code == 401, f"{method} {path} with {kind} token: {response.status_code}"
            assert response.headers["www-authenticate"].startswith('Bearer realm="rcm"')
            body = problem(response, 401)
            assert body["type"] == "https://rcm.dev/problems/authentication-required"
            if token is not None:
                assert token not in response.text
    assert await count(api, "SELECT count(*) AS n FROM audit_log WHERE patient_id = :p", p=PID) == 0


async def test_a_role_without_the_scope_is_403_and_changes_nothing(api: RegistrationApi) -> None:
    patient = await register(api, unique_name())
    coverage = await add_coverage(api, patient["id"])
    pid, cid = patient["id"], coverage["id"]
    other = await register(api, unique_name())
    audited_before = await count(api, "SELECT count(*) AS n FROM audit_log WHERE patient_id = :p", p=pid)

    refused = [
        ("coder", "POST", "/patients", patient_body(unique_name()), "patients:write"),
        ("coder", "PATCH", f"/patients/{pid}", {"phone": "2145550199"}, "patients:write"),
        ("coder", "POST", f"/patients/{pid}/merge", {"duplicate_id": other["id"]}, "patients:merge"),
        (
            "coder",
            "POST",
            f"/patients/{pid}/coverages",
            coverage_body(unique_member_id(), order="secondary"),
            "coverages:write",
        ),
        ("auditor", "PATCH", f"/patients/{pid}", {"phone": "2145550199"}, "patients:write"),
        ("auditor", "POST", f"/patients/{pid}/merge", {"duplicate_id": other["id"]}, "patients:merge"),
        ("auditor", "PATCH", f"/patients/{pid}/coverages/{cid}", {"plan_type": "HMO"}, "coverages:write"),
        (
            "auditor",
            "POST",
            f"/patients/{pid}/coverages/{cid}/end",
            {"termination_date": "2026-06-30"},
            "coverages:write",
        ),
        ("biller", "POST", f"/patients/{pid}/merge", {"duplicate_id": other["id"]}, "patients:merge"),
    ]
    for role, method, url, body, scope in refused:
        response = await api.client.request(method, url, json=body, headers=api.auth(role, subject=f"{role}-1"))
        denied = problem(response, 403)
        assert denied["missing_scopes"] == [scope], (role, method, url)

    for role in ("coder", "auditor", "front_desk"):
        assert (await api.client.get(f"/patients/{pid}", headers=api.auth(role))).status_code == 200
        assert (await api.client.get(f"/patients/{pid}/coverages", headers=api.auth(role))).status_code == 200
    assert (
        await api.client.get("/patients", params={"mrn": patient["mrn"]}, headers=api.auth("coder"))
    ).status_code == 200

    after = (await api.client.get(f"/patients/{pid}", headers=api.auth())).json()
    assert (after["version"], after["phone"], after["status"]) == (2, "5125550134", "active")
    assert [c["status"] for c in after["coverages"]] == ["active"]
    actions = await api.rows("SELECT actor, action FROM audit_log WHERE patient_id = :p ORDER BY id", p=pid)
    assert len(actions) == audited_before + 8
    assert {r["action"] for r in actions[audited_before:]} == {"read", "search"}
    assert await count(api, "SELECT count(*) AS n FROM patient WHERE status = 'merged' AND id = :o", o=other["id"]) == 0


async def test_health_probes(api: RegistrationApi) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "alive"}
    ready = await api.client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "unreachable"}
