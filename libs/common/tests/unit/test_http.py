from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from rcm_common.errors import AuthenticationRequired, NotFound, ValidationFailed
from rcm_common.http import (
    IdempotencyKeyDep,
    IdempotencyKeyReusedError,
    IdempotencyRecord,
    StoredResponse,
    find_replay,
    health_router,
    install_problem_handlers,
    purge_idempotency_records,
    read_body,
    remember_response,
    replay_response,
    request_fingerprint,
    utf8_text,
    validation_message,
)
from rcm_common.logs import JsonFormatter
from rcm_common.telemetry import HttpMetrics, RequestContextMiddleware, instrument_fastapi

PROBLEM = "application/problem+json"
CORRELATION = {"X-Correlation-ID": "corr-test"}


class PatientIn(BaseModel):
    ssn: str = Field(pattern=r"^\d{3}-\d{2}-\d{4}$")
    birth_date: date
    first_name: str = Field(max_length=35)


async def _failing_check() -> None:
    raise ConnectionError("postgresql://rcm:s3cret@db/rcm refused")


async def _passing_check() -> None:
    return None


async def _hanging_check() -> None:
    await asyncio.sleep(10)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service_name="test", metrics=HttpMetrics(CollectorRegistry()))

    @app.post("/patients", status_code=201)
    async def register(patient: PatientIn) -> dict[str, str]:
        return {"patient_id": "p-1"}

    @app.get("/patients/{patient_id}")
    async def read(patient_id: uuid.UUID) -> dict[str, str]:
        raise NotFound("No such patient.", extra={"resource": "patient"})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("INSERT failed for Jane Doe, ssn 123-45-6789")

    @app.get("/whoami")
    async def whoami() -> None:
        raise AuthenticationRequired("A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})

    @app.post("/keys")
    async def echo_key(key: IdempotencyKeyDep) -> dict[str, str | None]:
        return {"key": key}

    app.include_router(health_router({"database": _passing_check, "broker": _failing_check}))
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test", headers=CORRELATION)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with _client(_app()) as client:
        yield client


def _assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://rcm.dev/problems/{slug}"
    assert body["status"] == status
    assert body["correlation_id"] == "corr-test"
    return body


# --- problem+json ----------------------------------------------------------------------------------


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nothing/here?ssn=123-45-6789")

    body = _assert_problem(response, 404, "not-found")
    assert body["title"] == "Not Found"
    assert "instance" not in body  # a path no route matched is the client's own text: not echoed
    assert "nothing" not in response.text


async def test_wrong_method_is_a_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/patients")

    _assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == "POST"


async def test_rcm_error_renders_title_extra_and_headers(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/patients/{uuid.uuid4()}")
    unauthenticated = await client.get("/whoami")

    body = _assert_problem(missing, 404, "not-found")
    assert (body["title"], body["detail"], body["resource"]) == ("Not found", "No such patient.", "patient")
    _assert_problem(unauthenticated, 401, "authentication-required")
    assert unauthenticated.headers["www-authenticate"] == "Bearer"


async def test_malformed_values_are_never_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/patients", json={"ssn": "123-45-678", "birth_date": "123-45-678", "first_name": "J" * 36}
    )

    body = _assert_problem(response, 422, "validation-failed")
    assert body["errors"] == [
        {"field": "ssn", "message": "has an invalid format"},
        {"field": "birth_date", "message": "is not a valid date"},
        {"field": "first_name", "message": "is too long"},
    ]
    for fragment in ("123-45-678", "123", "678", "JJJ", "pattern", "input"):
        assert fragment not in response.text


async def test_missing_and_unknown_error_types(client: httpx.AsyncClient) -> None:
    response = await client.post("/patients", json={"birth_date": "2024-02-30", "first_name": "Jo"})

    assert response.json()["errors"] == [
        {"field": "ssn", "message": "is required"},
        {"field": "birth_date", "message": "is not a valid date"},
    ]


async def test_malformed_path_parameter_is_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/patients/123-45-6789")

    body = _assert_problem(response, 422, "validation-failed")
    assert body["errors"] == [{"field": "path.patient_id", "message": "is not a valid UUID"}]
    assert "6789" not in response.text


async def test_a_problem_names_the_route_not_the_path_the_client_typed(client: httpx.AsyncClient) -> None:
    # Found by tests/security/test_phi_stays_put.py: a name where the id goes came back in `instance`, as no
    # masking recognises a name.
    malformed = await client.get("/patients/Quixbyrne")
    missing = await client.get(f"/patients/{uuid.uuid4()}")

    assert _assert_problem(malformed, 422, "validation-failed")["instance"] == "/patients/{patient_id}"
    assert "Quixbyrne" not in malformed.text
    assert _assert_problem(missing, 404, "not-found")["instance"] == "/patients/{patient_id}"


async def test_invalid_json_body_is_a_422_without_the_fragment(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/patients",
        content=b'{"ssn": "123-45-6789", "first_name": Jane',
        headers={"content-type": "application/json"},
    )

    body = _assert_problem(response, 422, "validation-failed")
    assert body["detail"] == "The request body is not valid JSON."
    assert body["errors"] == [{"field": "body", "message": "is not valid JSON"}]
    assert "6789" not in response.text
    assert "Jane" not in response.text


async def test_unexpected_error_is_a_bare_500_and_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/boom")

    body = _assert_problem(response, 500, "internal-error")
    assert body["title"] == "Internal error"
    for fragment in ("RuntimeError", "INSERT", "Jane", "6789"):
        assert fragment not in response.text
    (record,) = [r for r in caplog.records if r.name == "rcm_common.http"]
    assert record.exc_info is not None
    logged = json.loads(JsonFormatter("test").format(record))
    assert logged["exc_type"] == "RuntimeError"
    assert logged["message"] == "unhandled RuntimeError on GET /boom"
    assert "123-45-6789" not in logged["exc"]


async def test_unexpected_error_text_stays_out_of_the_trace() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = _app()
    instrument_fastapi(app, tracer_provider=provider)

    async with _client(app) as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    (span,) = exporter.get_finished_spans()
    assert span.status.is_ok is False
    recorded = json.dumps([dict(event.attributes or {}) for event in span.events]) + str(span.status.description)
    assert "Jane" not in recorded
    assert "6789" not in recorded


async def test_error_in_a_user_middleware_is_still_a_problem() -> None:
    app = _app()

    @app.middleware("http")
    async def broken(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        raise RuntimeError("ssn 123-45-6789")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://test"
    ) as client:
        response = await client.get("/healthz")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "6789" not in response.text


# --- health ----------------------------------------------------------------------------------------


async def test_healthz_is_always_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert (response.status_code, response.json()) == (200, {"status": "alive"})


async def test_readyz_names_the_failed_check_without_its_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "ok", "broker": "unreachable"}}
    assert "s3cret" not in response.text


async def test_readyz_ready_and_timeout() -> None:
    app = FastAPI()
    app.include_router(health_router({"database": _passing_check}), prefix="/ok")
    app.include_router(health_router({"database": _hanging_check}, timeout_seconds=0.05), prefix="/slow")

    async with _client(app) as client:
        ready = await client.get("/ok/readyz")
        slow = await client.get("/slow/readyz")

    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": {"database": "ok"}})
    assert (slow.status_code, slow.json()["checks"]) == (503, {"database": "unreachable"})


async def test_a_reported_check_that_fails_leaves_the_replica_in_service_as_degraded() -> None:
    """The broker link is reported, not decisive: a replica whose broker is away still serves and takes writes
    (the outbox keeps their events), so a broker outage does not take every replica out of its Service."""
    app = FastAPI()
    app.include_router(health_router({"database": _passing_check}, reported_checks={"broker": _hanging_check},
                                     timeout_seconds=0.05), prefix="/degraded")  # fmt: skip
    app.include_router(health_router({"database": _hanging_check}, reported_checks={"broker": _passing_check},
                                     timeout_seconds=0.05), prefix="/down")  # fmt: skip
    app.include_router(health_router({"database": _passing_check}, reported_checks={"broker": _passing_check}),
                       prefix="/up")  # fmt: skip

    async with _client(app) as client:
        degraded, down, up = [await client.get(f"/{name}/readyz") for name in ("degraded", "down", "up")]

    assert (degraded.status_code, degraded.json()) == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "broker": "unreachable"}},
    )
    assert (down.status_code, down.json()["status"]) == (503, "unavailable")
    assert (up.status_code, up.json()) == (200, {"status": "ready", "checks": {"database": "ok", "broker": "ok"}})


def test_probes_stay_out_of_the_openapi_schema() -> None:
    paths = _app().openapi()["paths"]

    assert "/healthz" not in paths
    assert "/readyz" not in paths


# --- idempotency -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "status"),
    [("a1b2-c3", 200), ("k" * 255, 200), ("k" * 256, 422), ("has space", 422), ("é", 422), ("", 422)],
)
async def test_idempotency_key_header_is_validated(client: httpx.AsyncClient, key: str, status: int) -> None:
    response = await client.post("/keys", headers=[(b"idempotency-key", key.encode())])

    assert response.status_code == status
    if status == 422:
        assert response.json()["errors"] == [
            {"field": "Idempotency-Key", "message": "must be 1 to 255 visible ASCII characters"}
        ]
    else:
        assert response.json() == {"key": key}


async def test_idempotency_key_is_optional(client: httpx.AsyncClient) -> None:
    response = await client.post("/keys")

    assert response.json() == {"key": None}


class Charge(BaseModel):
    amount: Decimal
    service_date: date


def test_fingerprint_is_canonical() -> None:
    as_model = request_fingerprint(Charge(amount=Decimal("12.50"), service_date=date(2025, 3, 1)))
    as_mapping = request_fingerprint({"service_date": "2025-03-01", "amount": "12.50"})
    other = request_fingerprint({"service_date": "2025-03-01", "amount": "12.51"})

    assert as_model == as_mapping
    assert as_model != other
    assert len(as_model) == 64


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'idempotency.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(IdempotencyRecord.metadata.tables["idempotency_record"].create)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


SCOPE = "POST /patients user-1"


async def _remember(sessions: async_sessionmaker[AsyncSession], fingerprint: str, resource_id: str) -> None:
    async with sessions() as session:
        remember_response(
            session, scope=SCOPE, key="k-1", fingerprint=fingerprint, status_code=201, resource_id=resource_id
        )
        await session.commit()


async def test_store_replays_the_same_request(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await find_replay(session, scope=SCOPE, key="k-1", fingerprint="f" * 64) is None

    await _remember(sessions, "f" * 64, "p-1")

    async with sessions() as session:
        stored = await find_replay(session, scope=SCOPE, key="k-1", fingerprint="f" * 64)
        other_caller = await find_replay(session, scope="POST /patients user-2", key="k-1", fingerprint="f" * 64)
    assert stored == StoredResponse(status_code=201, resource_id="p-1")
    assert other_caller is None


async def test_store_refuses_a_key_reused_for_another_request(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _remember(sessions, "f" * 64, "p-1")

    async with sessions() as session:
        with pytest.raises(IdempotencyKeyReusedError) as refused:
            await find_replay(session, scope=SCOPE, key="k-1", fingerprint="e" * 64)
    assert refused.value.status == 422


async def test_concurrent_duplicate_fails_on_the_primary_key(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _remember(sessions, "f" * 64, "p-1")

    with pytest.raises(IntegrityError):
        await _remember(sessions, "f" * 64, "p-2")

    async with sessions() as session:
        stored = await find_replay(session, scope=SCOPE, key="k-1", fingerprint="f" * 64)
    assert stored is not None
    assert stored.resource_id == "p-1"


async def test_keys_older_than_the_window_are_purged(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _remember(sessions, "f" * 64, "p-1")
    async with sessions() as session, session.begin():
        assert await purge_idempotency_records(session, timedelta(hours=24)) == 0
        assert await purge_idempotency_records(session, timedelta(seconds=-1)) == 1


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_session)]


def test_replay_response_is_flagged() -> None:
    response = replay_response(201, Charge(amount=Decimal("80.00"), service_date=date(2025, 3, 1)))

    assert response.status_code == 201
    assert response.headers["Idempotent-Replayed"] == "true"
    assert json.loads(bytes(response.body)) == {"amount": "80.00", "service_date": "2025-03-01"}


class StoredCharge(Charge):
    charge_id: str


async def test_create_endpoint_replays_and_refuses_reuse(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The pieces together, the way a service's create handler uses them."""
    created: dict[str, StoredCharge] = {}

    app = FastAPI()
    app.state.sessions = sessions
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service_name="test", metrics=HttpMetrics(CollectorRegistry()))

    @app.post("/charges", status_code=201)
    async def capture(charge: Charge, key: IdempotencyKeyDep, session: SessionDep) -> Any:
        fingerprint = request_fingerprint(charge)
        if key and (stored := await find_replay(session, scope="POST /charges", key=key, fingerprint=fingerprint)):
            return replay_response(stored.status_code, created[stored.resource_id])
        charge_id = f"ch-{len(created) + 1}"
        created[charge_id] = StoredCharge(charge_id=charge_id, **charge.model_dump())
        if key:
            remember_response(
                session, scope="POST /charges", key=key, fingerprint=fingerprint, status_code=201, resource_id=charge_id
            )
        await session.commit()
        return JSONResponse(created[charge_id].model_dump(mode="json"), status_code=201)

    payload = {"amount": "80.00", "service_date": "2025-03-01"}
    async with _client(app) as client:
        first = await client.post("/charges", json=payload, headers={"Idempotency-Key": "k-1"})
        again = await client.post("/charges", json=payload, headers={"Idempotency-Key": "k-1"})
        reused = await client.post("/charges", json={**payload, "amount": "90.00"}, headers={"Idempotency-Key": "k-1"})

    assert list(created) == ["ch-1"]
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() == {"charge_id": "ch-1", "amount": "80.00", "service_date": "2025-03-01"}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    body = _assert_problem(reused, 422, "idempotency-key-reused")
    assert body["detail"] == "Idempotency-Key was used with a different request."


# --- request bodies --------------------------------------------------------------------------------


def _upload(*chunks: bytes) -> Request:
    """A request whose body arrives in `chunks`."""
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return Request({"type": "http", "method": "PUT", "headers": []}, receive)


async def test_a_body_is_read_whole_within_its_limit() -> None:
    assert await read_body(_upload(b"code,", b"charge\n"), 12, "file") == b"code,charge\n"


@pytest.mark.parametrize(
    ("chunks", "message"),
    [((b"x" * 8, b"x" * 8), "the price file is larger than 12 bytes"), ((b" \r\n",), "the price file is empty")],
)
async def test_a_body_too_large_or_empty_is_refused(chunks: tuple[bytes, ...], message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await read_body(_upload(*chunks), 12, "price file")

    assert refused.value.errors == [{"field": "body", "message": message}]


def test_a_text_file_drops_a_byte_order_mark_and_is_refused_unless_utf8() -> None:
    assert utf8_text("\ufeffcode,Peña".encode(), "file") == "code,Peña"
    with pytest.raises(ValidationFailed) as refused:
        utf8_text("code,Peña".encode("latin-1"), "price file")

    assert refused.value.errors == [{"field": "body", "message": "the price file is not UTF-8 text"}]


def test_a_validation_message_names_the_rule_never_the_value() -> None:
    assert validation_message("string_too_long") == "is too long"
    assert validation_message("int_parsing") == "must be a whole number"
    assert validation_message("a_type_pydantic_adds_later") == "is invalid"
