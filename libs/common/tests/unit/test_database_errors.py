"""Which database errors pass: asyncpg's deadlocks, serialization failures and refused locks come as a plain
DBAPIError naming their SQLSTATE, and are as worth trying again as a lost connection, or a SQLite file's one
connection not free in time; a broken rule is not."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from rcm_common.db import create_engine, is_transient_database_error


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "passes"), [
    ("40P01", True), ("40001", True), ("55P03", True), ("57P01", True), ("08006", True),
    ("23505", False), ("22001", False), ("42P01", False),
])  # fmt: skip
def test_a_driver_error_passes_by_its_sqlstate(sqlstate: str, passes: bool) -> None:
    error = DBAPIError("SELECT 1", {}, _DriverError(sqlstate))
    assert is_transient_database_error(error) is passes


def test_a_lost_connection_passes_and_a_broken_rule_or_another_error_does_not() -> None:
    assert is_transient_database_error(OperationalError("SELECT 1", {}, Exception("gone")))
    assert is_transient_database_error(DBAPIError("SELECT 1", {}, Exception("x"), connection_invalidated=True))
    assert not is_transient_database_error(IntegrityError("INSERT", {}, _DriverError("23505")))
    assert not is_transient_database_error(ValueError("not a database error"))


async def test_a_sqlite_file_queues_its_transactions_on_one_connection_and_a_wait_too_long_passes(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}", pool_timeout=0.2)
    try:
        async with engine.connect() as holding:
            await holding.execute(text("SELECT 1"))
            with pytest.raises(PoolTimeout) as waited:
                async with engine.connect():
                    pass
        assert is_transient_database_error(waited.value)  # read again later, never dead-lettered
        async with engine.connect() as next_in_line:  # the one connection is free again
            assert (await next_in_line.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
