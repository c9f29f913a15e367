from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from rcm_common import audit
from rcm_common.audit import (
    AUDIT_TABLE,
    GENESIS_HASH,
    AuditContext,
    AuditContextDep,
    AuditRecord,
    ChainVerification,
    append_audit,
    audit_context,
    verify_chain,
    verify_chain_command,
)
from rcm_common.auth import Principal, TokenVerifier, generate_keypair, mint_token, require_scopes
from rcm_common.errors import RcmError
from rcm_common.telemetry import RequestContextMiddleware

CTX = AuditContext(actor="user-1", roles=frozenset({"biller", "auditor"}), purpose="payment", correlation_id="c-1")
PG_HOST, PG_PORT = "127.0.0.1", 5432


async def _append(sessions: async_sessionmaker[AsyncSession], count: int) -> list[AuditRecord]:
    """Append records one transaction each, the way request handlers do."""
    records = []
    for n in range(count):
        async with sessions.begin() as session:
            records.append(
                await append_audit(
                    session,
                    CTX,
                    action="read",
                    resource_type="patient",
                    resource_id=f"p{n}",
                    patient_id=f"p{n}",
                )
            )
    return records


async def _verify(sessions: async_sessionmaker[AsyncSession]) -> ChainVerification:
    async with sessions() as session:
        return await verify_chain(session)


async def _execute(engine: AsyncEngine, statement: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(statement))


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(AUDIT_TABLE.create)
    await engine.dispose()
    return url


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# --- appending and verifying -----------------------------------------------------------------------------


async def test_empty_log_verifies(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await _verify(sessions) == ChainVerification(True, 0, None, None)


async def test_appended_records_form_a_chain(sessions: async_sessionmaker[AsyncSession]) -> None:
    records = await _append(sessions, 5)

    assert records[0].prev_hash == GENESIS_HASH
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert len({r.hash for r in records}) == 5
    assert await _verify(sessions) == ChainVerification(True, 5, None, None)


async def test_a_record_stores_who_what_which_patient_when_and_why(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (appended,) = await _append(sessions, 1)

    async with sessions() as session:
        stored = (await session.scalars(select(AuditRecord))).one()

    assert (stored.actor, stored.actor_roles, stored.purpose, stored.correlation_id) == (
        "user-1",
        "auditor,biller",
        "payment",
        "c-1",
    )
    assert (stored.action, stored.resource_type, stored.resource_id, stored.patient_id) == (
        "read",
        "patient",
        "p0",
        "p0",
    )
    assert stored.occurred_at.tzinfo is UTC
    assert stored.occurred_at == appended.occurred_at


async def test_a_rolled_back_change_leaves_no_audit_record(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _append(sessions, 1)

    async with sessions() as session:
        await append_audit(session, CTX, action="update", resource_type="patient", resource_id="p", patient_id="p")
        await session.rollback()  # the change failed, so its unit of work rolls back
    await _append(sessions, 1)

    assert await _verify(sessions) == ChainVerification(True, 2, None, None)


async def test_an_edited_row_is_named(sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> None:
    records = await _append(sessions, 5)

    await _execute(engine, f"UPDATE audit_log SET patient_id = 'someone-else' WHERE id = {records[2].id}")

    result = await _verify(sessions)
    assert (result.ok, result.first_broken_id, result.rows_checked) == (False, records[2].id, 3)
    assert result.reason is not None
    assert "hash" in result.reason


async def test_a_deleted_row_is_named_by_its_successor(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    records = await _append(sessions, 5)

    await _execute(engine, f"DELETE FROM audit_log WHERE id = {records[2].id}")

    result = await _verify(sessions)
    assert (result.ok, result.first_broken_id) == (False, records[3].id)
    assert result.reason is not None
    assert "prev_hash" in result.reason


async def test_verification_streams_across_batches(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "_VERIFY_BATCH", 2)
    records = await _append(sessions, 7)

    assert await _verify(sessions) == ChainVerification(True, 7, None, None)

    await _execute(engine, f"UPDATE audit_log SET purpose = 'treatment' WHERE id = {records[5].id}")
    assert (await _verify(sessions)).first_broken_id == records[5].id


async def test_verify_command_reports_ok_and_broken(
    sqlite_url: str,
    sessions: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    records = await _append(sessions, 3)

    assert await verify_chain_command(sqlite_url) == 0
    assert capsys.readouterr().out == "audit chain ok: 3 rows\n"

    await _execute(engine, f"UPDATE audit_log SET actor = 'mallory' WHERE id = {records[1].id}")
    assert await verify_chain_command(sqlite_url) == 1
    assert capsys.readouterr().out.startswith(f"audit chain BROKEN at row {records[1].id}: ")


async def test_naive_timestamps_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    (record,) = await _append(sessions, 1)

    with pytest.raises(StatementError, match="timezone-aware"):
        async with sessions.begin() as session:
            await session.execute(AUDIT_TABLE.update().values(occurred_at=record.occurred_at.replace(tzinfo=None)))


# --- the request context ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
async def client(keys: tuple[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(keys[1], audience="rcm", issuer="rcm-test")
    app.add_middleware(RequestContextMiddleware, service_name="test")

    @app.exception_handler(RcmError)
    async def render(request: Request, exc: RcmError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=exc.status, headers=exc.headers)

    @app.get("/patients")
    async def patients(
        principal: Annotated[Principal, Depends(require_scopes("patients:read"))], ctx: AuditContextDep
    ) -> dict[str, str]:
        return {
            "actor": ctx.actor,
            "roles": ",".join(sorted(ctx.roles)),
            "purpose": ctx.purpose,
            "correlation_id": ctx.correlation_id,
        }

    token = mint_token(keys[0], subject="user-7", roles=["front_desk"], audience="rcm", issuer="rcm-test")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


async def test_context_defaults_to_payment_and_a_fresh_correlation_id(client: httpx.AsyncClient) -> None:
    first, second = [(await client.get("/patients")).json() for _ in range(2)]

    assert (first["actor"], first["roles"], first["purpose"]) == ("user-7", "front_desk", "payment")
    assert first["correlation_id"] != second["correlation_id"]


@pytest.mark.parametrize("purpose", ["treatment", "payment", "operations", "audit", "patient-request", " Audit "])
async def test_context_takes_the_stated_purpose_and_correlation_id(client: httpx.AsyncClient, purpose: str) -> None:
    response = await client.get("/patients", headers={"X-Purpose-Of-Use": purpose, "X-Correlation-ID": "req-42"})

    assert response.status_code == 200
    assert response.json()["purpose"] == purpose.strip().lower()
    assert response.json()["correlation_id"] == "req-42"


@pytest.mark.parametrize("purpose", ["marketing", "", "payment,treatment"])
async def test_context_refuses_an_unknown_purpose(client: httpx.AsyncClient, purpose: str) -> None:
    response = await client.get("/patients", headers={"X-Purpose-Of-Use": purpose})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "X-Purpose-Of-Use"


async def test_context_shares_the_request_correlation_id_and_replaces_an_unsafe_one(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/patients", headers={"X-Correlation-ID": "x" * 129})

    assert response.status_code == 200
    assert response.json()["correlation_id"] != "x" * 129
    assert response.json()["correlation_id"] == response.headers["X-Correlation-ID"]


def test_context_without_authentication_is_a_wiring_error() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})

    with pytest.raises(RuntimeError, match="require_scopes"):
        audit_context(request)


# --- PostgreSQL ------------------------------------------------------------------------------------------


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
async def pg_engine() -> AsyncIterator[AsyncEngine]:
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}")
    name = f"rcm_audit_{uuid.uuid4().hex}"
    admin = create_async_engine(
        f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT"
    )
    await _execute(admin, f'CREATE DATABASE "{name}"')
    engine = create_async_engine(f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{name}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(AUDIT_TABLE.create)
        yield engine
    finally:
        await engine.dispose()
        await _execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


@pytest.mark.postgres
async def test_postgres_chain_appends_verifies_and_detects_tampering(pg_engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(pg_engine, expire_on_commit=False)
    records = await _append(sessions, 4)

    assert await _verify(sessions) == ChainVerification(True, 4, None, None)

    await _execute(pg_engine, f"UPDATE audit_log SET patient_id = 'someone-else' WHERE id = {records[1].id}")
    assert (await _verify(sessions)).first_broken_id == records[1].id


@pytest.mark.postgres
async def test_postgres_concurrent_appends_keep_one_chain(pg_engine: AsyncEngine) -> None:
    sessions = async_sessionmaker(pg_engine, expire_on_commit=False)

    await asyncio.gather(*(_append(sessions, 3) for _ in range(12)))

    assert await _verify(sessions) == ChainVerification(True, 36, None, None)
