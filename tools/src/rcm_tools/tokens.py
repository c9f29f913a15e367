"""Tokens for the local stack, signed with the development key every service of the stack trusts.

The key pair lives in the state directory (ServiceSettings' dev paths); `rcm up` creates it before any
service starts, and the services read the public half from the same place.
"""

from __future__ import annotations

from pathlib import Path

from rcm_common.auth import ROLE_SCOPES, ensure_dev_keypair, mint_token
from rcm_common.settings import ServiceSettings

ROLES = tuple(sorted(ROLE_SCOPES))


def local_settings(state_dir: Path) -> ServiceSettings:
    """The settings a service of the local stack sees: development, rooted in the stack's state directory."""
    return ServiceSettings(environment="development", state_dir=state_dir.resolve())


def ensure_signing_key(settings: ServiceSettings) -> str:
    """The development private key, created on first use; returns its PEM."""
    private_pem, _ = ensure_dev_keypair(settings.dev_jwt_private_key_path, settings.dev_jwt_public_key_path)
    return private_pem


def mint_local_token(state_dir: Path, *, role: str, subject: str, ttl_seconds: int = 3600) -> str:
    """A bearer token the local stack accepts, with the audience and issuer its services check."""
    if role not in ROLE_SCOPES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    settings = local_settings(state_dir)
    return mint_token(
        ensure_signing_key(settings),
        subject=subject,
        roles=[role],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        ttl_seconds=ttl_seconds,
    )
