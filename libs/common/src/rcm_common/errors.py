"""Errors that cross layers, rendered as RFC 9457 problem+json by the HTTP layer.

Messages must never contain PHI or echo input values: they name fields and rules, not what was sent.
"""

from __future__ import annotations

from typing import Any


class RcmError(Exception):
    """Base of every error the platform raises on purpose; `status` is the HTTP status it maps to."""

    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(
        self, detail: str, *, extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        # Response headers the HTTP layer must send with the problem, e.g. `WWW-Authenticate` on a 401.
        self.headers: dict[str, str] = headers or {}


class ValidationFailed(RcmError):
    """Input broke a business rule; `errors` lists each field and rule, never the offending value."""

    status = 422
    title = "Validation failed"
    type_slug = "validation-failed"

    def __init__(self, errors: list[dict[str, str]], detail: str = "The request has invalid fields.") -> None:
        super().__init__(detail, extra={"errors": errors})
        self.errors = errors


class Problems:
    """Collects every broken rule of a request, so the caller sees them all at once (a 422 naming each
    field and rule, never the value)."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


class NotFound(RcmError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(RcmError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class ConcurrentUpdate(Conflict):
    """Another transaction changed the same record first; trying again will usually succeed."""


class PreconditionFailed(RcmError):
    status = 412
    title = "Precondition failed"
    type_slug = "precondition-failed"


class AuthenticationRequired(RcmError):
    status = 401
    title = "Authentication required"
    type_slug = "authentication-required"


class PermissionDenied(RcmError):
    status = 403
    title = "Permission denied"
    type_slug = "permission-denied"
