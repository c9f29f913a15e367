"""Async engines and sessions for a service's own datastore: SQLite by default, PostgreSQL in production.

SQLite runs in WAL mode and every transaction begins IMMEDIATE: one writer at a time, taken up front, so
read-then-write sequences (the audit chain, the MRN counter) cannot interleave and fail half way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import DateTime, Dialect, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, even from SQLite, which stores no offset: a naive value is refused
    rather than guessed, and comparisons in SQL see one clock."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine tuned for the dialect; a SQLite file's folder is created when missing.

    Statement parameters are kept out of error messages: they are patients' data, and errors get logged.
    """
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        if parsed.database and parsed.database != ":memory:" and "poolclass" not in kwargs:
            # One connection: every transaction takes SQLite's single write lock at BEGIN IMMEDIATE, and waiting
            # for it in SQLite's busy handler sleeps up to 100 ms at a time after the lock is free. Waiting for the
            # pool's one connection instead is a queue that wakes the next transaction as the last one ends.
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 30)  # as long as SQLite's own busy timeout
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        return engine
    if "poolclass" not in kwargs:  # sizing applies to the default QueuePool only; NullPool refuses it
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (the driver would otherwise issue a deferred one).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_postgres(session: AsyncSession) -> bool:
    """Whether the session's database is PostgreSQL (row locks, advisory locks) rather than SQLite."""
    bind = session.bind
    if bind is None:
        raise RuntimeError("the session is not bound to an engine")
    return bind.dialect.name == "postgresql"


async def ping(engine: AsyncEngine) -> None:
    """Raise when the database cannot answer a trivial query (the readiness check)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


PASSING_SQLSTATES: Final = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})
"""PostgreSQL's errors that trying again may mend: a serialization failure, a deadlock, a lock not granted, a
server shutting down or restarting (with the connection exceptions, class 08)."""


def is_transient_database_error(exc: BaseException) -> bool:
    """Whether the database error is one that passes: a lost connection, a deadlock, a serialization failure,
    a lock not granted, no connection free in time. asyncpg's come as a plain DBAPIError naming its SQLSTATE,
    not an OperationalError."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return True  # a pool timeout: every connection busy (SQLite's one), as a lock not granted
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(code, str) and (code in PASSING_SQLSTATES or code.startswith("08"))
