"""HTTP helpers every service mounts: problem+json errors, bounded request bodies, health probes and
Idempotency-Key replay.

Error bodies name fields and rules, never values: FastAPI's default 422 echoes the input (and pydantic's
messages can quote it), so it is replaced here, and unexpected errors answer with a correlation id only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import responses as status_phrases
from typing import Annotated, Any, Final, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy import Column, DateTime, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel, col
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rcm_common.errors import Conflict, RcmError, ValidationFailed
from rcm_common.logs import get_correlation_id
from rcm_common.telemetry import UNMATCHED_ROUTE, route_template

logger = logging.getLogger(__name__)
V = TypeVar("V", bound=BaseModel)

PROBLEM_TYPE_BASE = "https://rcm.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# --- problem+json ----------------------------------------------------------------------------------


def _problem(
    scope: Scope,
    *,
    status: int,
    title: str,
    type_slug: str,
    detail: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + type_slug,
        "title": title,
        "status": status,
        "detail": detail,
        "correlation_id": get_correlation_id(),
    }
    # The route's template, never the path: a path holds whatever the client typed there (a patient's name where
    # an id goes, an unknown route), which no masking recognises. A path that matched no route is not named.
    template = route_template(scope)
    if template != UNMATCHED_ROUTE:
        body["instance"] = template
    body.update({key: value for key, value in (extra or {}).items() if key not in body})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _rcm_error_response(scope: Scope, exc: RcmError) -> JSONResponse:
    return _problem(
        scope,
        status=exc.status,
        title=exc.title,
        type_slug=exc.type_slug,
        detail=exc.detail,
        extra=exc.extra,
        headers=exc.headers,
    )


# Messages chosen by pydantic error type: pydantic's own `msg` can quote the input or a pattern.
_VALIDATION_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not allowed",
    "string_type": "must be a string",
    "string_too_short": "is too short",
    "string_too_long": "is too long",
    "string_pattern_mismatch": "has an invalid format",
    "too_short": "has too few items",
    "too_long": "has too many items",
    "literal_error": "must be one of the allowed values",
    "enum": "must be one of the allowed values",
    "date_type": "is not a valid date",
    "date_parsing": "is not a valid date",
    "date_from_datetime_parsing": "is not a valid date",
    "date_from_datetime_inexact": "is not a valid date",
    "date_past": "must be in the past",
    "date_future": "must be in the future",
    "datetime_type": "is not a valid date-time",
    "datetime_parsing": "is not a valid date-time",
    "datetime_from_date_parsing": "is not a valid date-time",
    "timezone_aware": "must include a time zone",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "decimal_type": "must be a decimal number",
    "decimal_parsing": "must be a decimal number",
    "decimal_max_digits": "has too many digits",
    "decimal_max_places": "has too many decimal places",
    "greater_than": "is too small",
    "greater_than_equal": "is too small",
    "less_than": "is too large",
    "less_than_equal": "is too large",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "uuid_type": "is not a valid UUID",
    "uuid_parsing": "is not a valid UUID",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "json_invalid": "is not valid JSON",
    "card_number": "looks like a card number: give the payment processor's reference, never the card",
}
# Field names and list indexes pass; anything else in a location (a client-chosen dict key) is masked.
_SAFE_LOC_PART = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts = loc[1:] if loc[:1] == ("body",) and len(loc) > 1 else loc
    return ".".join(str(part) if isinstance(part, int) or _SAFE_LOC_PART.fullmatch(part) else "*" for part in parts)


def validation_message(error_type: str) -> str:
    """What a 422 says of a value pydantic refused with an error of this type: the rule, never the value."""
    return _VALIDATION_MESSAGES.get(error_type, "is invalid")


def _validation_failed(exc: RequestValidationError) -> ValidationFailed:
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        return ValidationFailed(
            [{"field": "body", "message": "is not valid JSON"}], detail="The request body is not valid JSON."
        )
    return ValidationFailed(
        [
            {
                "field": _field_name(tuple(error["loc"])),
                "message": validation_message(error["type"]),
            }
            for error in errors
        ]
    )


def _http_exception_response(scope: Scope, exc: StarletteHTTPException) -> JSONResponse:
    phrase = status_phrases.get(exc.status_code, "Error")
    return _problem(
        scope,
        status=exc.status_code,
        title=phrase,
        type_slug=phrase.lower().replace(" ", "-").replace("'", ""),
        detail=exc.detail if isinstance(exc.detail, str) else phrase,
        headers=exc.headers,
    )


def _internal_error(scope: Scope, exc: Exception) -> JSONResponse:
    logger.error("unhandled %s on %s %s", type(exc).__name__, scope.get("method"), route_template(scope), exc_info=exc)
    return _problem(
        scope,
        status=500,
        title="Internal error",
        type_slug="internal-error",
        detail="An unexpected error occurred; quote the correlation id when reporting it.",
    )


async def _on_error(request: Request, exc: Exception) -> JSONResponse:
    """The one exception handler, registered for each class `install_problem_handlers` names."""
    if isinstance(exc, RcmError):
        return _rcm_error_response(request.scope, exc)
    if isinstance(exc, RequestValidationError):
        return _rcm_error_response(request.scope, _validation_failed(exc))
    if isinstance(exc, StarletteHTTPException):
        return _http_exception_response(request.scope, exc)
    return _internal_error(request.scope, exc)


class _UnexpectedErrorMiddleware:
    """Turns an unexpected exception into the 500 problem right where it leaves the route.

    Innermost on purpose: the error never reaches the outer middlewares, among them OpenTelemetry's,
    which would record the exception message (it may quote PHI, e.g. a failed INSERT's parameters)
    on the span; the span still ends as an error through its 500 status.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if response_started:  # too late to answer with a problem: let the server drop the connection
                raise
            await _internal_error(scope, exc)(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error as `application/problem+json`; call it while building the app."""
    # `Exception` is Starlette's outermost handler: the backstop for errors raised by user middlewares,
    # which sit outside the innermost catcher below.
    for exc_class in (RcmError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_class, _on_error)
    app.user_middleware.append(Middleware(_UnexpectedErrorMiddleware))


# --- request bodies --------------------------------------------------------------------------------

JSON_BODY_LIMIT: Final = 1_000_000
"""Bytes: the largest JSON body any endpoint takes (a visit with its lines is a few kilobytes)."""
UPLOAD_BODY_LIMIT: Final = 50_000_000
"""Bytes: the largest upload (an X12 or CSV file, a directory replaced whole), before its endpoint applies its
own, tighter bound (`read_body`)."""
BODY_IDLE_SECONDS: Final = 15.0
"""The longest a request body may pause between two of its chunks."""
JSON_BODY_SECONDS: Final = 30.0
UPLOAD_BODY_SECONDS: Final = 300.0
"""The longest a whole body may take to arrive: a JSON body, and an upload (50 MB at a slow office line)."""


class BodyLimitMiddleware:
    """Bounds every request body, so no endpoint reads more than it could ever take: a body sent to one of
    `upload_paths` (the routes that read their body themselves, with `read_body`) at `upload_limit`, any other
    at `json_limit`, whatever media type the client names. A declared Content-Length over the bound is refused
    before a byte is read; a body sent without one is refused as soon as it passes the bound. 413,
    problem+json. A body that stalls for `idle_seconds`, or is still arriving after its route's time, is refused
    with 408: a client trickling bytes (or none) cannot hold a worker and its buffer for ever."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_limit: int = JSON_BODY_LIMIT,
        upload_limit: int = UPLOAD_BODY_LIMIT,
        upload_paths: Iterable[str] = (),
        idle_seconds: float = BODY_IDLE_SECONDS,
        json_seconds: float = JSON_BODY_SECONDS,
        upload_seconds: float = UPLOAD_BODY_SECONDS,
    ) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.upload_paths = frozenset(upload_paths)
        self.idle_seconds = idle_seconds
        self.json_seconds = json_seconds
        self.upload_seconds = upload_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["path"] in self.upload_paths
        limit = self.upload_limit if upload else self.json_limit
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _http_exception_response(scope, too_large(limit))(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        allowed = self.upload_seconds if upload else self.json_seconds
        deadline: float | None = None  # from the route's first read: the server's own work before it is not counted
        received = 0
        complete = False

        async def bounded_receive() -> Message:
            nonlocal received, complete, deadline
            if complete:
                return await receive()  # the body is in: what is left to hear is the client leaving
            deadline = deadline or loop.time() + allowed
            try:
                async with asyncio.timeout(min(self.idle_seconds, deadline - loop.time())):
                    message = await receive()
            except TimeoutError:
                raise StarletteHTTPException(408, "The request body did not arrive in time.") from None
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large(limit)
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, bounded_receive, send)


def too_large(limit: int) -> StarletteHTTPException:
    """An HTTP exception, so that FastAPI's body reading passes it on as it is rather than as a 400."""
    return StarletteHTTPException(413, f"The request body is larger than {limit} bytes.")


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refused past `limit` bytes before it is all read, or when empty; `what` names it."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ValidationFailed([{"field": "body", "message": f"the {what} is larger than {limit} bytes"}])
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data.strip():
        raise ValidationFailed([{"field": "body", "message": f"the {what} is empty"}])
    return data


def utf8_text(data: bytes, what: str) -> str:
    """An uploaded text file (a spreadsheet's byte order mark dropped), refused when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed([{"field": "body", "message": f"the {what} is not UTF-8 text"}]) from None


# --- health ----------------------------------------------------------------------------------------

ReadinessCheck = Callable[[], Awaitable[None]]


def health_router(
    readiness_checks: Mapping[str, ReadinessCheck],
    *,
    reported_checks: Mapping[str, ReadinessCheck] | None = None,
    timeout_seconds: float = 2.0,
) -> APIRouter:
    """`/healthz` (the process is alive) and `/readyz`: 200 once every readiness check answered within the
    timeout, 503 otherwise. A reported check is answered too but does not decide: when one fails the replica
    says `degraded` and stays in service. The broker link is such a check: a replica whose broker is away still
    serves reads and takes writes (their events wait in the outbox), and an outage of the broker, which every
    replica shares, must not take them all out of their Service at once.

    A failed check is named, never explained: the exception text may hold a connection string.
    """
    router = APIRouter()
    reported = dict(reported_checks or {})

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        every = {**readiness_checks, **reported}
        names = list(every)
        outcomes = await asyncio.gather(*(_run_check(name, every[name], timeout_seconds) for name in names))
        checks = dict(zip(names, outcomes, strict=True))
        if any(checks[name] != "ok" for name in readiness_checks):
            return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503)
        status = "ready" if all(outcome == "ok" for outcome in outcomes) else "degraded"
        return JSONResponse({"status": status, "checks": checks}, status_code=200)

    return router


async def _run_check(name: str, check: ReadinessCheck, timeout_seconds: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout_seconds)
    except Exception as exc:
        logger.warning("readiness check %s failed: %s", name, type(exc).__name__)
        return "unreachable"
    return "ok"


# --- idempotency -----------------------------------------------------------------------------------
# A create handler looks the key up with `find_replay` and, on a miss, creates its entity and calls
# `remember_response` in the same unit of work, so the entity and the record of it commit together.
# Only the created resource's id is kept, never the answer's body (it would be PHI at rest, unencrypted):
# a replay reads the resource again through the service's audited read and answers with the first status.
# Two concurrent requests with one key both miss; the second fails on the primary key at commit and then
# answers as a replay.

IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyRecord(SQLModel, table=True):
    """What one (scope, key) created, so the same request sent again creates nothing new."""

    __tablename__ = "idempotency_record"

    scope: str = Field(primary_key=True, description="Operation and caller, e.g. 'POST /patients user-42'.")
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int
    resource_id: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class IdempotencyKeyReusedError(RcmError):
    """The key was first used with a different request body; replaying that answer would be wrong."""

    status = 422
    title = "Idempotency key reused"
    type_slug = "idempotency-key-reused"


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """A create request sent with an Idempotency-Key: where its response is remembered."""

    scope: str
    key: str
    fingerprint: str


async def create_once(
    session_factory: async_sessionmaker[AsyncSession],
    scope: str,
    key: str | None,
    body: BaseModel,
    create: Callable[[IdempotentRequest | None], Awaitable[V]],
    reread: Callable[[UUID], Awaitable[V]],
) -> V | JSONResponse:
    """Run a create at most once per Idempotency-Key: a repeat gets the first status and the resource,
    read again through the audited read (nothing of the first answer's body is kept)."""
    if key is None:
        return await create(None)
    request = IdempotentRequest(scope=scope, key=key, fingerprint=request_fingerprint(body))

    async def replay() -> JSONResponse | None:
        async with session_factory() as session:
            found = await find_replay(session, scope=scope, key=key, fingerprint=request.fingerprint)
        if found is None:
            return None
        return replay_response(found.status_code, await reread(UUID(found.resource_id)))

    if (replayed := await replay()) is not None:
        return replayed
    try:
        return await create(request)
    except (Conflict, IntegrityError):
        # A concurrent request with the same key may have won the race: answer as it did.
        if (replayed := await replay()) is not None:
            return replayed
        raise


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    resource_id: str


def idempotency_key(
    key: Annotated[str | None, Header(alias=IDEMPOTENCY_HEADER)] = None,
) -> str | None:
    """The request's Idempotency-Key: 1-255 visible ASCII characters, or absent."""
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ValidationFailed([{"field": IDEMPOTENCY_HEADER, "message": "must be 1 to 255 visible ASCII characters"}])
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def request_fingerprint(payload: Mapping[str, Any] | BaseModel) -> str:
    """SHA-256 of the payload as canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(to_jsonable_python(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def find_replay(session: AsyncSession, *, scope: str, key: str, fingerprint: str) -> StoredResponse | None:
    """What this key created, or None on first use; raises if the key came with another request."""
    record = await session.get(IdempotencyRecord, (scope, key))
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReusedError("Idempotency-Key was used with a different request.")
    return StoredResponse(status_code=record.status_code, resource_id=record.resource_id)


def remember_response(
    session: AsyncSession, *, scope: str, key: str, fingerprint: str, status_code: int, resource_id: str
) -> None:
    """Add the record of a creation to the caller's unit of work."""
    session.add(
        IdempotencyRecord(
            scope=scope, key=key, request_hash=fingerprint, status_code=status_code, resource_id=resource_id
        )
    )


def replay_response(status_code: int, body: BaseModel) -> JSONResponse:
    """The first answer's status with the resource as it is now, flagged as a replay."""
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers={"Idempotent-Replayed": "true"})


async def purge_idempotency_records(session: AsyncSession, older_than: timedelta) -> int:
    """Forget keys older than the window in which a client may retry."""
    result = await session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < datetime.now(UTC) - older_than)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def etag(version: int) -> str:
    """The ETag of a resource at a version, as reads answer with and If-Match gives back."""
    return f'"v{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match header names, or None without one; a malformed one is refused."""
    if if_match is None:
        return None
    tag = if_match.strip()
    if tag.startswith('"v') and tag.endswith('"') and tag[2:-1].isdigit():
        return int(tag[2:-1])
    raise ValidationFailed([{"field": "If-Match", "message": 'must be an ETag from a read, such as "v3"'}])
