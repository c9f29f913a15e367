"""A hash-chained log of PHI access (HIPAA §164.312(b)): who, what, which patient, when and why.

Each record's hash covers its own fields and the previous record's hash, so editing or deleting a record
breaks the chain there, and `verify_chain` names the first broken row. Records are written in the caller's
transaction: a change and its audit record commit or fail together.

The chain proves integrity, not completeness at the tip: deleting the newest records leaves a valid chain, so
operators should periodically copy the latest hash somewhere the database's writers cannot reach.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from sqlalchemy import Column, Table, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from rcm_common.auth import Principal
from rcm_common.db import UtcDateTime, create_engine
from rcm_common.errors import ValidationFailed
from rcm_common.logs import get_correlation_id

TABLE_NAME: Final = "audit_log"
GENESIS_HASH: Final = "0" * 64
# Key of the PostgreSQL transaction-level advisory lock that serialises appends ("rcmaudit" in ASCII).
CHAIN_LOCK_KEY: Final = 0x72636D6175646974
PURPOSE_HEADER: Final = "X-Purpose-Of-Use"
DEFAULT_PURPOSE: Final = "payment"
PURPOSES_OF_USE: Final = frozenset({"treatment", "payment", "operations", "audit", "patient-request"})
_MAX_CORRELATION_ID: Final = 128
_VERIFY_BATCH: Final = 1000
_HASHED_FIELDS: Final = (
    "occurred_at",
    "actor",
    "actor_roles",
    "action",
    "resource_type",
    "resource_id",
    "patient_id",
    "purpose",
    "correlation_id",
    "prev_hash",
)


class AuditRecord(SQLModel, table=True):
    """One access to PHI. `action` is a verb such as read, search, create, update, merge or export."""

    __tablename__ = TABLE_NAME

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    actor: str = Field(max_length=255)
    actor_roles: str = Field(max_length=255)
    action: str = Field(max_length=32)
    resource_type: str = Field(max_length=64)
    resource_id: str | None = Field(default=None, max_length=128)
    patient_id: str | None = Field(default=None, max_length=128, index=True)
    purpose: str = Field(max_length=32)
    correlation_id: str | None = Field(default=None, max_length=_MAX_CORRELATION_ID)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


# The Core table, for streaming reads and for creating the table in tests and migrations.
AUDIT_TABLE: Final[Table] = SQLModel.metadata.tables[TABLE_NAME]


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and why, taken once per request and stamped on every record it writes."""

    actor: str
    roles: frozenset[str]
    purpose: str
    correlation_id: str


def consumer_audit(service: str) -> Callable[[], AuditContext]:
    """Who a service's event consumer is in the audit log (`system:<service>-consumer`), for the handlers
    that read or change PHI."""
    return system_audit(f"system:{service}-consumer")


def system_audit(actor: str) -> Callable[[], AuditContext]:
    """Who a service's own process (a consumer, a worker) is in the audit log: `actor`, acting for payment,
    each unit of work taking the correlation id it was given or a new one."""

    def context() -> AuditContext:
        return AuditContext(actor, frozenset(), "payment", get_correlation_id() or uuid.uuid4().hex)

    return context


def audit_context(request: Request) -> AuditContext:
    """Build the context from the principal the auth dependency stored, which must therefore run first."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise RuntimeError("audit_context needs require_scopes(...) to run first in the same route")
    purpose = request.headers.get(PURPOSE_HEADER, DEFAULT_PURPOSE).strip().lower()
    if purpose not in PURPOSES_OF_USE:
        raise ValidationFailed(
            [{"field": PURPOSE_HEADER, "message": f"must be one of: {', '.join(sorted(PURPOSES_OF_USE))}"}],
            detail="The purpose of use is not recognised.",
        )
    # The request middleware has validated and bound the correlation id; logs and audit share it.
    correlation_id = get_correlation_id() or uuid.uuid4().hex
    return AuditContext(principal.subject, principal.roles, purpose, correlation_id)


AuditContextDep = Annotated[AuditContext, Depends(audit_context)]


def _link_hash(fields: Mapping[Any, Any]) -> str:
    """sha256(prev_hash + canonical JSON of the hashed fields): sorted keys, compact, microsecond UTC time."""
    payload = {name: fields[name] for name in _HASHED_FIELDS}
    payload["occurred_at"] = payload["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((fields["prev_hash"] + canonical).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """An audit record as a handler asked for it: who is named is filled in from the audit context."""

    action: str
    resource_type: str
    resource_id: str | None
    patient_id: str | None

    @classmethod
    def of(cls, action: str, resource_type: str, resource_id: object | None, patient_id: object | None) -> AccessRecord:
        return cls(
            action,
            resource_type,
            None if resource_id is None else str(resource_id),
            None if patient_id is None else str(patient_id),
        )


async def append_audit(
    session: AsyncSession,
    ctx: AuditContext,
    *,
    action: str,
    resource_type: str,
    resource_id: str | None,
    patient_id: str | None,
) -> AuditRecord:
    """Chain one record onto the log inside the caller's transaction (`append_audits`)."""
    [fields] = await append_audits(session, ctx, [AccessRecord(action, resource_type, resource_id, patient_id)])
    return AuditRecord(**fields)


async def append_audits(
    session: AsyncSession, ctx: AuditContext, accesses: Sequence[AccessRecord]
) -> list[dict[str, Any]]:
    """Chain the records onto the log, in order, inside the caller's transaction; the caller's commit makes
    them durable. The tip is read once and the records written in one statement, however many a transaction
    made (a consumer's batch makes hundreds, a large 835 thousands); each record's columns are returned, its id
    among them.

    Appends are serialised so that no two records claim the same predecessor: PostgreSQL takes a
    transaction-scoped advisory lock (READ COMMITTED, the default, then reads the newest committed tip);
    SQLite transactions begin IMMEDIATE, which already admits one writer at a time.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    await session.flush()  # rows the session holds are written first, so the tip read is the newest
    tip = await session.scalar(select(AUDIT_TABLE.c.hash).order_by(AUDIT_TABLE.c.id.desc()).limit(1))
    previous = tip or GENESIS_HASH
    roles = ",".join(sorted(ctx.roles))
    records = []
    for access in accesses:
        fields: dict[str, Any] = {
            "occurred_at": datetime.now(UTC),
            "actor": ctx.actor,
            "actor_roles": roles,
            "action": access.action,
            "resource_type": access.resource_type,
            "resource_id": access.resource_id,
            "patient_id": access.patient_id,
            "purpose": ctx.purpose,
            "correlation_id": ctx.correlation_id,
            "prev_hash": previous,
        }
        fields["hash"] = previous = _link_hash(fields)
        records.append(fields)
    written = await session.execute(
        insert(AUDIT_TABLE).returning(AUDIT_TABLE.c.id, sort_by_parameter_order=True), records
    )
    for fields, record_id in zip(records, written.scalars(), strict=True):
        fields["id"] = record_id
    return records


@dataclass(frozen=True)
class ChainVerification:
    """The outcome of a walk along the chain; `rows_checked` includes the broken row, if any."""

    ok: bool
    rows_checked: int
    first_broken_id: int | None
    reason: str | None


async def verify_chain(session: AsyncSession) -> ChainVerification:
    """Recompute every link in id order, streaming the table in batches so any size of log fits in memory."""
    rows = await session.stream(
        select(AUDIT_TABLE).order_by(AUDIT_TABLE.c.id).execution_options(yield_per=_VERIFY_BATCH)
    )
    expected_prev, checked = GENESIS_HASH, 0
    async for row in rows.mappings():
        checked += 1
        if row["prev_hash"] != expected_prev:
            return ChainVerification(False, checked, row["id"], "prev_hash differs from the previous row's hash")
        if _link_hash(row) != row["hash"]:
            return ChainVerification(False, checked, row["id"], "hash does not match the row's contents")
        expected_prev = row["hash"]
    return ChainVerification(True, checked, None, None)


async def verify_chain_command(database_url: str) -> int:
    """`rcm audit verify`: print one line with the verdict and return the process exit code."""
    engine = create_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            result = await verify_chain(session)
    finally:
        await engine.dispose()
    if result.ok:
        print(f"audit chain ok: {result.rows_checked} rows")
        return 0
    print(f"audit chain BROKEN at row {result.first_broken_id}: {result.reason}")
    return 1
