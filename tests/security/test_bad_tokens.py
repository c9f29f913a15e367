"""Every endpoint of every token-guarded service refuses, with 401, a caller whose token is missing or must not be
believed: expired, signed by a key the service does not trust, unsigned (`alg: none`), signed with HS256 using
the service's public key as the secret (the algorithm-confusion attack), minted for another audience or by
another issuer, or without an expiry. The refusal carries a `WWW-Authenticate: Bearer` challenge (RFC 6750) and
never echoes the token. The endpoints are every route but the public ones (probes, metrics, the OpenAPI
document and its pages), hidden from the document or not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final

import httpx

from rcm_common.auth import LEEWAY_SECONDS, generate_keypair

Sign = Callable[..., str]


def _base64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _resigned(token: str, algorithm: str, secret: bytes | None) -> str:
    """A valid token's claims under a header naming `algorithm`, signed by hand (a JWT library refuses to): by
    HMAC-SHA256 with `secret`, or not at all."""
    _header, claims, _signature = token.split(".")
    signing_input = f"{_base64(json.dumps({'alg': algorithm, 'typ': 'JWT'}).encode())}.{claims}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest() if secret else b""
    return f"{signing_input}.{_base64(signature)}"


BAD_TOKENS: Final[dict[str, Callable[[Sign, str], str | None]]] = {
    "no token": lambda sign, public_pem: None,
    "expired": lambda sign, public_pem: sign(exp=datetime.now(UTC) - timedelta(seconds=LEEWAY_SECONDS + 60)),
    "signed by another key": lambda sign, public_pem: sign(key=generate_keypair()[0]),
    "alg none": lambda sign, public_pem: _resigned(sign(), "none", None),
    "HS256 keyed with the public key": lambda sign, public_pem: _resigned(sign(), "HS256", public_pem.encode()),
    "another audience": lambda sign, public_pem: sign(aud="another-platform"),
    "another issuer": lambda sign, public_pem: sign(iss="https://idp.example.com"),
    "no expiry": lambda sign, public_pem: sign(exp=None),
}


async def test_every_endpoint_refuses_a_missing_or_untrustworthy_token_with_401(
    client: httpx.AsyncClient,
    guarded_routes: list[tuple[str, str, str, frozenset[str]]],
    sign: Sign,
    signing_keys: tuple[str, str],
) -> None:
    wrong = []
    for kind, make in BAD_TOKENS.items():
        token = make(sign, signing_keys[1])
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path, url, _scopes in guarded_routes:
            answer = await client.request(method, url, headers=headers)
            if answer.status_code != 401 or not answer.headers.get("www-authenticate", "").startswith("Bearer"):
                wrong.append(f"{kind}: {method} {path} answered {answer.status_code} {answer.text[:200]}")
            elif token and token in answer.text:
                wrong.append(f"{kind}: {method} {path} echoes the token")

    assert guarded_routes
    assert wrong == []
