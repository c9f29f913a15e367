"""Bearer-token access control (HIPAA §164.312(a) and (d)): ES256 JWTs, role scopes, FastAPI dependencies.

A route states the one scope its action needs; the dependency verifies the token, keeps the principal on
`request.state.principal` for the audit log and the logs, and refuses with 401 or 403::

    @router.get("/patients/{patient_id}")
    async def get_patient(
        principal: Annotated[Principal, Depends(require_scopes("patients:read"))],
        audit: AuditContextDep,
    ) -> PatientPublic: ...

Errors never echo the token: they state why it was refused, nothing more.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rcm_common.errors import AuthenticationRequired, PermissionDenied
from rcm_common.settings import ServiceSettings

ALGORITHM: Final = "ES256"
LEEWAY_SECONDS: Final = 30
_REALM: Final = 'Bearer realm="rcm"'

_RESOURCES: Final = (
    "patients",
    "coverages",
    "eligibility",
    "charges",
    "claims",
    "remittance",
    "collections",
)
READ_SCOPES: Final = frozenset({f"{r}:read" for r in _RESOURCES} | {"reports:read", "audit:read"})
WRITE_SCOPES: Final = frozenset(f"{r}:write" for r in _RESOURCES)
# Scopes beyond read and write: merging patients, coding review, the reference data a practice sets up, taking a
# patient's payment (at the front desk too), and a collector's approval of a refund or write-off another person
# asked for.
SPECIAL_SCOPES: Final = frozenset(
    {"patients:merge", "coding:review", "pricing:write", "directories:write", "payments:take", "collections:approve"}
)
ALL_SCOPES: Final = READ_SCOPES | WRITE_SCOPES | SPECIAL_SCOPES

# Least privilege per job: each role gets what its daily work needs and nothing more.
ROLE_SCOPES: Final[dict[str, frozenset[str]]] = {
    "front_desk": frozenset(
        {
            "patients:read",
            "patients:write",
            "patients:merge",
            "coverages:read",
            "coverages:write",
            "eligibility:read",
            "eligibility:write",
            "payments:take",
        }
    ),
    "coder": frozenset({"patients:read", "coverages:read", "charges:read", "charges:write", "coding:review"}),
    "biller": frozenset(
        {
            "patients:read",
            "coverages:read",
            "eligibility:read",
            "charges:read",
            "claims:read",
            "claims:write",
            "remittance:read",
            "remittance:write",
            "collections:read",
            "collections:write",
            "payments:take",
            "reports:read",
        }
    ),
    "collector": frozenset(
        {
            "patients:read",
            "coverages:read",
            "collections:read",
            "collections:write",
            "collections:approve",
            "payments:take",
            "remittance:read",
        }
    ),
    "auditor": READ_SCOPES,
    "admin": ALL_SCOPES,
}


@dataclass(frozen=True)
class Principal:
    """Who is calling and what they may do: the token's own scopes plus those of its known roles."""

    subject: str
    roles: frozenset[str]
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    @classmethod
    def from_roles(cls, subject: str, roles: Iterable[str], scopes: Iterable[str] = ()) -> Principal:
        """Unknown roles are dropped rather than refused, so an older service accepts a newer token."""
        known = frozenset(role for role in roles if role in ROLE_SCOPES)
        granted = frozenset(scopes).union(*(ROLE_SCOPES[role] for role in known))
        return cls(subject=subject, roles=known, scopes=granted)


def _unauthenticated(reason: str) -> AuthenticationRequired:
    # RFC 6750 §3: a presented but unusable token is reported as invalid_token.
    return AuthenticationRequired(reason, headers={"WWW-Authenticate": f'{_REALM}, error="invalid_token"'})


PEM_BLOCK: Final = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)


def public_keys_of(pem_bundle: str) -> list[ec.EllipticCurvePublicKey]:
    """Every public key of a PEM bundle, each an EC P-256 key (ES256); at least one. Anything else in the
    bundle is refused, not skipped: a certificate pasted in place of a key would otherwise be dropped without a
    word, and the tokens signed by its key refused once the identity provider switches to it."""
    blocks = list(PEM_BLOCK.finditer(pem_bundle))
    if not blocks:
        raise ValueError("the token public key setting holds no PEM public key")
    if PEM_BLOCK.sub("", pem_bundle).strip():
        raise ValueError("the token public key setting holds text outside its PEM blocks")
    keys = []
    for block in blocks:
        if block.group(1) != "PUBLIC KEY":
            raise ValueError(
                f"the token public key setting holds a {block.group(1)} block: give public keys only "
                "(a certificate's is `openssl x509 -pubkey -noout`)"
            )
        key = serialization.load_pem_public_key(block.group(0).encode())
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("every token public key must be an EC P-256 key (ES256)")
        keys.append(key)
    return keys


class TokenVerifier:
    """Checks an ES256 token's signature, `exp`, `aud`, `iss` and `sub` and turns it into a Principal.

    It trusts every public key of its PEM bundle, so an identity provider's signing key is rotated without
    a moment where valid tokens are refused: add the new key beside the old, let the provider switch, remove
    the old key once the last token it signed has expired."""

    def __init__(self, public_key_pem: str, *, audience: str, issuer: str) -> None:
        self._keys = public_keys_of(public_key_pem)
        self._audience = audience
        self._issuer = issuer

    def verify(self, token: str) -> Principal:
        try:
            claims = self._claims_of(token)
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("The token has expired.") from None
        except jwt.InvalidAudienceError:
            raise _unauthenticated("The token is not meant for this audience.") from None
        except jwt.InvalidIssuerError:
            raise _unauthenticated("The token comes from an unknown issuer.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _unauthenticated(f"The token lacks the {exc.claim!r} claim.") from None
        except jwt.InvalidSignatureError:
            raise _unauthenticated("The token signature is invalid.") from None
        except jwt.DecodeError:
            raise _unauthenticated("The token is malformed.") from None
        except jwt.InvalidTokenError:
            raise _unauthenticated("The token is invalid.") from None
        return _principal_from_claims(claims)

    def _claims_of(self, token: str) -> dict[str, Any]:
        """The token's claims under the first trusted key that signed it. The signature is checked before any
        claim, so a key that did not sign the token fails on it alone and the next key is tried."""
        *others, last = self._keys
        for key in others:
            with contextlib.suppress(jwt.InvalidSignatureError):
                return self._decode(token, key)
        return self._decode(token, last)

    def _decode(self, token: str, key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=self._audience,
            issuer=self._issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "aud", "iss", "sub"]},
        )
        return claims


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    subject, roles, scope = claims["sub"], claims.get("roles", []), claims.get("scope", "")
    if not isinstance(subject, str) or not subject:
        raise _unauthenticated("The token subject is empty.")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise _unauthenticated("The token 'roles' claim must be a list of strings.")
    if not isinstance(scope, str):
        raise _unauthenticated("The token 'scope' claim must be a space-separated string.")
    return Principal.from_roles(subject, roles, scope.split())


def mint_token(
    private_key_pem: str,
    *,
    subject: str,
    roles: Sequence[str],
    audience: str,
    issuer: str,
    ttl_seconds: int = 3600,
    scopes: Sequence[str] = (),
) -> str:
    """Sign a token for the local stack, its CLI and tests; in production an identity provider signs them."""
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": list(roles),
        "aud": audience,
        "iss": issuer,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    return jwt.encode(claims, private_key_pem, algorithm=ALGORITHM)


def generate_keypair() -> tuple[str, str]:
    """A fresh P-256 signing key: (private PEM in PKCS#8, public PEM)."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private_pem, _public_pem_of(private_pem)


def _public_pem_of(private_pem: str) -> str:
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _write_temp(directory: Path, content: str, mode: int) -> Path:
    fd, name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pem")
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(name, mode)
    return Path(name)


def ensure_dev_keypair(private_path: Path, public_path: Path) -> tuple[str, str]:
    """Create the local stack's signing key once and reuse it, even when several services start together.

    The private key is published with `os.link`, which fails if the file exists, so exactly one process wins
    and nobody reads a half-written key; the public key is always derived from whichever private key won.
    """
    if not private_path.exists():
        private_path.parent.mkdir(parents=True, exist_ok=True)
        candidate = _write_temp(private_path.parent, generate_keypair()[0], 0o600)
        try:
            os.link(candidate, private_path)
        except FileExistsError:
            pass  # another process won the race; use its key
        finally:
            candidate.unlink()
    private_pem = private_path.read_text()
    public_pem = _public_pem_of(private_pem)
    if not public_path.exists() or public_path.read_text() != public_pem:
        public_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(_write_temp(public_path.parent, public_pem, 0o644), public_path)
    return private_pem, public_pem


def load_verifier(settings: ServiceSettings) -> TokenVerifier:
    """The configured public key; development and test fall back to the local key in the state directory."""
    if settings.jwt_public_key is not None:
        public_pem = settings.jwt_public_key.get_secret_value()
    elif settings.environment in ("development", "test"):
        _, public_pem = ensure_dev_keypair(settings.dev_jwt_private_key_path, settings.dev_jwt_public_key_path)
    else:
        raise RuntimeError(f"RCM_JWT_PUBLIC_KEY is required in the {settings.environment} environment")
    return TokenVerifier(public_pem, audience=settings.jwt_audience, issuer=settings.jwt_issuer)


_bearer = HTTPBearer(auto_error=False)


def require_scopes(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates the caller and demands every scope named (typos fail at import)."""
    unknown = sorted(set(scopes) - ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")

    async def authorize(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise AuthenticationRequired("A bearer token is required.", headers={"WWW-Authenticate": _REALM})
        verifier = getattr(request.app.state, "token_verifier", None)
        if not isinstance(verifier, TokenVerifier):
            raise RuntimeError("app.state.token_verifier is not set; call load_verifier() in the app lifespan")
        principal = verifier.verify(credentials.credentials)
        # Kept before the scope check so that a refused attempt is still attributed in logs.
        request.state.principal = principal
        missing = [scope for scope in scopes if not principal.has(scope)]
        if missing:
            raise PermissionDenied(f"This action needs the {missing[0]} scope.", extra={"missing_scopes": missing})
        return principal

    return authorize
