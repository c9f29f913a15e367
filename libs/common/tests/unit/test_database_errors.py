"""Which database errors pass: asyncpg's deadlocks, serialization failures and refused locks come as a plain
DBAPIError naming their SQLSTATE, and are as worth trying again as a lost connection; a broken rule is not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from rcm_common.db import is_transient_database_error


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
