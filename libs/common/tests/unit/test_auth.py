from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from rcm_common.auth import (
    ALL_SCOPES,
    ROLE_SCOPES,
    Principal,
    TokenVerifier,
    ensure_dev_keypair,
    generate_keypair,
    load_verifier,
    mint_token,
    require_scopes,
)
from rcm_common.errors import AuthenticationRequired, RcmError
from rcm_common.settings import ServiceSettings

AUDIENCE = "rcm"
ISSUER = "rcm-test"


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture(scope="module")
def verifier(keys: tuple[str, str]) -> TokenVerifier:
    return TokenVerifier(keys[1], audience=AUDIENCE, issuer=ISSUER)


def _token(private_pem: str, roles: list[str], scopes: tuple[str, ...] = ()) -> str:
    return mint_token(private_pem, subject="user-1", roles=roles, audience=AUDIENCE, issuer=ISSUER, scopes=scopes)


def _claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims with some replaced, or dropped when set to None."""
    expiry = datetime.now(UTC) + timedelta(minutes=5)
    claims: dict[str, Any] = {"sub": "user-1", "aud": AUDIENCE, "iss": ISSUER, "exp": expiry, **overrides}
    return {name: value for name, value in claims.items() if value is not None}


def _raw_token(private_pem: str, **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), private_pem, algorithm="ES256")


def _refusal(verifier: TokenVerifier, token: str) -> AuthenticationRequired:
    with pytest.raises(AuthenticationRequired) as caught:
        verifier.verify(token)
    assert token not in str(caught.value)
    assert caught.value.headers["WWW-Authenticate"].startswith("Bearer ")
    return caught.value


# --- the role table --------------------------------------------------------------------------------------


def test_every_role_grants_only_known_scopes() -> None:
    assert set(ROLE_SCOPES) == {"front_desk", "coder", "biller", "collector", "auditor", "admin"}
    for scopes in ROLE_SCOPES.values():
        assert scopes <= ALL_SCOPES


def test_auditor_reads_everything_and_writes_nothing() -> None:
    auditor = ROLE_SCOPES["auditor"]
    assert auditor == {scope for scope in ALL_SCOPES if scope.endswith(":read")}
    assert "audit:read" in auditor
    assert "coding:review" not in auditor


def test_admin_has_everything_and_merges_are_limited() -> None:
    assert ROLE_SCOPES["admin"] == ALL_SCOPES
    mergers = {role for role, scopes in ROLE_SCOPES.items() if "patients:merge" in scopes}
    assert mergers == {"front_desk", "admin"}


def test_job_roles_get_their_daily_work() -> None:
    assert {"charges:write", "coding:review"} <= ROLE_SCOPES["coder"]
    assert "claims:write" not in ROLE_SCOPES["coder"]
    assert {"claims:write", "remittance:write", "reports:read"} <= ROLE_SCOPES["biller"]
    assert "patients:write" not in ROLE_SCOPES["biller"]
    assert {"collections:write", "remittance:read"} <= ROLE_SCOPES["collector"]
    assert "remittance:write" not in ROLE_SCOPES["collector"]


# --- verifying tokens ------------------------------------------------------------------------------------


def test_valid_token_yields_role_and_token_scopes(keys: tuple[str, str], verifier: TokenVerifier) -> None:
    principal = verifier.verify(_token(keys[0], ["biller", "no-such-role"], scopes=("audit:read",)))

    assert principal == Principal(
        subject="user-1",
        roles=frozenset({"biller"}),
        scopes=ROLE_SCOPES["biller"] | {"audit:read"},
    )
    assert principal.has("claims:write")
    assert not principal.has("collections:approve")  # a refund or write-off is a collector's to approve


def test_minted_token_carries_iat_exp_and_jti(keys: tuple[str, str]) -> None:
    first, second = (_token(keys[0], ["coder"]) for _ in range(2))
    claims = jwt.decode(first, options={"verify_signature": False})

    assert claims["exp"] - claims["iat"] == 3600
    assert claims["roles"] == ["coder"]
    assert "scope" not in claims
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]


def test_mint_refuses_a_non_positive_ttl(keys: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        mint_token(keys[0], subject="u", roles=[], audience=AUDIENCE, issuer=ISSUER, ttl_seconds=0)


def test_expiry_allows_small_clock_skew(keys: tuple[str, str], verifier: TokenVerifier) -> None:
    recently = datetime.now(UTC) - timedelta(seconds=10)
    assert verifier.verify(_raw_token(keys[0], exp=recently)).subject == "user-1"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": datetime.now(UTC) - timedelta(minutes=5)}, "expired"),
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "evil"}, "issuer"),
        ({"sub": None}, "'sub'"),
        ({"exp": None}, "'exp'"),
        ({"sub": ""}, "subject"),
        ({"roles": "admin"}, "roles"),
        ({"scope": ["admin"]}, "scope"),
    ],
)
def test_bad_claims_are_refused_with_a_reason(
    keys: tuple[str, str], verifier: TokenVerifier, overrides: dict[str, Any], reason: str
) -> None:
    assert reason in _refusal(verifier, _raw_token(keys[0], **overrides)).detail


def test_token_signed_by_another_key_is_refused(verifier: TokenVerifier) -> None:
    other_private, _ = generate_keypair()
    assert "signature" in _refusal(verifier, _raw_token(other_private)).detail


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "..."])
def test_garbage_is_refused(verifier: TokenVerifier, token: str) -> None:
    assert "malformed" in _refusal(verifier, token).detail


def test_unsigned_token_is_refused(verifier: TokenVerifier) -> None:
    assert "invalid" in _refusal(verifier, jwt.encode(_claims(), "", algorithm="none")).detail


def test_verifier_rejects_a_non_p256_key() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = p384.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ValueError, match="P-256"):
        TokenVerifier(pem, audience=AUDIENCE, issuer=ISSUER)


# --- several trusted keys: the signing key rotated without refusing valid tokens ---------------------------


@pytest.fixture(scope="module")
def new_keys() -> tuple[str, str]:
    return generate_keypair()


def test_a_bundle_of_two_keys_accepts_a_token_signed_by_either(
    keys: tuple[str, str], new_keys: tuple[str, str]
) -> None:
    both = TokenVerifier(keys[1] + new_keys[1], audience=AUDIENCE, issuer=ISSUER)

    assert both.verify(_raw_token(keys[0], sub="old")).subject == "old"
    assert both.verify(_raw_token(new_keys[0], sub="new")).subject == "new"


def test_a_bundle_refuses_a_key_outside_it(keys: tuple[str, str], new_keys: tuple[str, str]) -> None:
    stranger, _ = generate_keypair()
    both = TokenVerifier(keys[1] + "\n" + new_keys[1], audience=AUDIENCE, issuer=ISSUER)

    assert "signature is invalid" in _refusal(both, _raw_token(stranger)).detail


def test_with_several_keys_a_bad_claim_is_reported_not_hidden_behind_the_next_key(
    keys: tuple[str, str], new_keys: tuple[str, str]
) -> None:
    both = TokenVerifier(keys[1] + new_keys[1], audience=AUDIENCE, issuer=ISSUER)
    expired = _raw_token(keys[0], exp=datetime.now(UTC) - timedelta(hours=1))
    elsewhere = _raw_token(keys[0], aud="another-platform")

    assert "expired" in _refusal(both, expired).detail
    assert "audience" in _refusal(both, elsewhere).detail


def test_a_bundle_with_one_unusable_key_is_refused_whole(keys: tuple[str, str]) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = p384.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()

    with pytest.raises(ValueError, match="P-256"):
        TokenVerifier(keys[1] + pem, audience=AUDIENCE, issuer=ISSUER)
    with pytest.raises(ValueError, match="no PEM public key"):
        TokenVerifier("not a key", audience=AUDIENCE, issuer=ISSUER)
    with pytest.raises(ValueError, match="text outside its PEM blocks"):
        TokenVerifier(keys[1] + "and a stray line", audience=AUDIENCE, issuer=ISSUER)


def test_a_certificate_in_the_bundle_is_refused_not_skipped(keys: tuple[str, str]) -> None:
    certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

    with pytest.raises(ValueError, match="holds a CERTIFICATE block: give public keys only"):
        TokenVerifier(keys[1] + certificate, audience=AUDIENCE, issuer=ISSUER)


# --- keys on disk and from settings ----------------------------------------------------------------------


def test_dev_keypair_is_created_once_with_a_private_mode(tmp_path: Path) -> None:
    private_path, public_path = tmp_path / "a" / "priv.pem", tmp_path / "b" / "pub.pem"

    first = ensure_dev_keypair(private_path, public_path)
    second = ensure_dev_keypair(private_path, public_path)

    assert first == second == (private_path.read_text(), public_path.read_text())
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert list(tmp_path.rglob(".tmp-*")) == []
    token = mint_token(first[0], subject="u", roles=["admin"], audience=AUDIENCE, issuer=ISSUER)
    assert TokenVerifier(first[1], audience=AUDIENCE, issuer=ISSUER).verify(token).subject == "u"


def test_dev_keypair_restores_a_missing_public_key(tmp_path: Path) -> None:
    private_path, public_path = tmp_path / "priv.pem", tmp_path / "pub.pem"
    original = ensure_dev_keypair(private_path, public_path)
    public_path.unlink()

    assert ensure_dev_keypair(private_path, public_path) == original
    assert public_path.read_text() == original[1]


def test_dev_keypair_survives_a_race(tmp_path: Path) -> None:
    private_path, public_path = tmp_path / "state" / "priv.pem", tmp_path / "state" / "pub.pem"

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: ensure_dev_keypair(private_path, public_path), range(16)))

    assert len(set(results)) == 1
    assert results[0] == (private_path.read_text(), public_path.read_text())


def test_load_verifier_prefers_the_configured_key(keys: tuple[str, str], tmp_path: Path) -> None:
    settings = ServiceSettings(
        environment="test", state_dir=tmp_path, jwt_public_key=SecretStr(keys[1]), jwt_issuer=ISSUER
    )

    verifier = load_verifier(settings)

    assert verifier.verify(_token(keys[0], ["coder"])).roles == {"coder"}
    assert not settings.dev_jwt_private_key_path.exists()


def test_load_verifier_uses_the_dev_key_in_development(tmp_path: Path) -> None:
    settings = ServiceSettings(environment="development", state_dir=tmp_path / "state")

    verifier = load_verifier(settings)

    private_pem = settings.dev_jwt_private_key_path.read_text()
    token = mint_token(
        private_pem,
        subject="dev",
        roles=["admin"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    assert verifier.verify(token).subject == "dev"


def test_load_verifier_refuses_production_without_a_key(tmp_path: Path) -> None:
    settings = ServiceSettings.model_construct(environment="production", state_dir=tmp_path, jwt_public_key=None)

    with pytest.raises(RuntimeError, match="RCM_JWT_PUBLIC_KEY"):
        load_verifier(settings)
    assert list(tmp_path.iterdir()) == []


# --- the FastAPI dependency ------------------------------------------------------------------------------


def test_require_scopes_rejects_unknown_scopes() -> None:
    with pytest.raises(ValueError, match="patients:reed"):
        require_scopes("patients:reed")


def _app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = verifier

    @app.exception_handler(RcmError)
    async def render(request: Request, exc: RcmError) -> JSONResponse:
        body = {"title": exc.title, "detail": exc.detail, **exc.extra}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.get("/claims")
    async def claims(
        request: Request, principal: Annotated[Principal, Depends(require_scopes("claims:write"))]
    ) -> dict[str, str]:
        assert request.state.principal is principal
        return {"subject": principal.subject}

    return app


@pytest.fixture
async def client(verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_route_without_a_token_answers_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/claims")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="rcm"'


async def test_route_with_another_scheme_answers_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/claims", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401


async def test_route_with_an_invalid_token_answers_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/claims", headers={"Authorization": "Bearer not.a.token"})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "not.a.token" not in response.text


async def test_route_without_the_scope_answers_403(client: httpx.AsyncClient, keys: tuple[str, str]) -> None:
    token = _token(keys[0], ["collector"])

    response = await client.get("/claims", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert "claims:write" in response.json()["detail"]
    assert response.json()["missing_scopes"] == ["claims:write"]


@pytest.mark.parametrize(("roles", "scopes"), [(["biller"], ()), ([], ("claims:write",))])
async def test_route_with_the_scope_answers_200(
    client: httpx.AsyncClient, keys: tuple[str, str], roles: list[str], scopes: tuple[str, ...]
) -> None:
    token = _token(keys[0], roles, scopes)

    response = await client.get("/claims", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json() == {"subject": "user-1"}


async def test_route_without_a_configured_verifier_fails_loudly(keys: tuple[str, str]) -> None:
    app = FastAPI()

    @app.get("/claims")
    async def claims(principal: Annotated[Principal, Depends(require_scopes("claims:read"))]) -> str:
        return principal.subject

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with pytest.raises(RuntimeError, match="token_verifier"):
            await client.get("/claims", headers={"Authorization": f"Bearer {_token(keys[0], ['admin'])}"})
