"""Reference data kept in the process: read once, served from memory while its version stands, dropped by
every process once any change of it commits (through a service or not), and never kept from a transaction
that did not commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from rcm_common.reference import FRESH, ReferenceVersionRow, reference_version_statements
from rcm_common.testing import create_database, postgres_available, throwaway_postgres_database
from rcm_common.uow import SqlUnitOfWork

PRICES = "test_prices"


class PriceRow(SQLModel, table=True):
    __tablename__ = "test_reference_price"

    code: str = Field(primary_key=True, max_length=10)
    charge: str = Field(max_length=20)


TABLES = [PriceRow.__table__, ReferenceVersionRow.__table__]  # type: ignore[attr-defined]


class Process:
    """One service process over the database: its own session factory, so its own copies."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory
        self.rows_read = 0

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory, producer="test", publication=None)

    async def price(self, code: str) -> str | None:
        """What a capture would read: the kept price, or the row read and kept."""
        async with self.uow() as uow:
            kept = await uow.reference.kept(PRICES)
            if code not in kept:
                self.rows_read += 1
                row = await uow.session.get(PriceRow, code, execution_options=FRESH)
                kept[code] = None if row is None else row.charge
            price: str | None = kept[code]
            return price

    async def replace(self, code: str, charge: str, *, commit: bool = True) -> str | None:
        """Change the price list; what the changing transaction reads of it afterwards is its own."""
        async with self.uow() as uow:
            uow.reference.changing(PRICES)
            await uow.session.merge(PriceRow(code=code, charge=charge))
            await uow.session.flush()
            kept = await uow.reference.kept(PRICES)
            kept[code] = (await uow.session.get(PriceRow, code)).charge  # type: ignore[union-attr]
            if commit:
                await uow.commit()
            price: str | None = kept[code]
            return price


async def versioned_database(url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """The price table with its version moved by triggers, as a service's migration makes it."""
    engine, factory = await create_database(url, TABLES)
    async with engine.begin() as connection:
        for statement in reference_version_statements(engine.dialect.name, {"test_reference_price": PRICES}):
            await connection.execute(text(statement))
    return engine, factory


@pytest.fixture
async def processes(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Process, Process]]:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
    first_engine, first = await versioned_database(url)
    second_engine, second = await create_database(url)
    yield Process(first), Process(second)
    await first_engine.dispose()
    await second_engine.dispose()


@pytest.fixture
async def postgres_processes() -> AsyncIterator[tuple[Process, Process]]:
    """Two processes over PostgreSQL, where (read committed) one can commit while the other's unit of work
    runs; SQLite's write transactions are serial, so there nothing commits in the middle of another."""
    if not await postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    async with throwaway_postgres_database() as url:
        first_engine, first = await versioned_database(url)
        second_engine, second = await create_database(url)
        yield Process(first), Process(second)
        await first_engine.dispose()
        await second_engine.dispose()


async def test_a_price_is_read_once_and_then_served_from_the_process(processes: tuple[Process, Process]) -> None:
    front, _ = processes
    await front.replace("99213", "120.00")

    assert [await front.price("99213") for _ in range(3)] == ["120.00"] * 3
    assert await front.price("99999") is None
    assert await front.price("99999") is None
    assert front.rows_read == 2


async def test_a_change_committed_by_another_process_is_seen_at_the_next_read(
    processes: tuple[Process, Process],
) -> None:
    front, back = processes
    await back.replace("99213", "120.00")
    assert await front.price("99213") == "120.00"

    await back.replace("99213", "135.00")

    assert await front.price("99213") == "135.00"
    assert await front.price("99213") == "135.00"
    assert front.rows_read == 2


async def test_a_change_that_rolls_back_leaves_nothing_kept(processes: tuple[Process, Process]) -> None:
    front, _ = processes
    await front.replace("99213", "120.00")
    assert await front.price("99213") == "120.00"

    assert await front.replace("99213", "999.00", commit=False) == "999.00"

    assert await front.price("99213") == "120.00"


async def test_a_change_made_in_sql_outside_any_service_is_seen_at_the_next_read(
    processes: tuple[Process, Process],
) -> None:
    front, _ = processes
    await front.replace("99213", "120.00")
    assert await front.price("99213") == "120.00"

    async with front.session_factory() as session, session.begin():
        await session.execute(text("UPDATE test_reference_price SET charge = '125.00'"))

    assert await front.price("99213") == "125.00"


@pytest.mark.postgres
async def test_a_unit_of_work_older_than_the_copies_reads_for_itself_and_leaves_them(
    postgres_processes: tuple[Process, Process],
) -> None:
    front, back = postgres_processes
    await front.replace("99213", "120.00")
    async with front.uow() as older:
        assert await older.reference.kept(PRICES) == {}  # its versions are read now
        await back.replace("99213", "135.00")
        assert await front.price("99213") == "135.00"  # a newer unit of work fills the copies

        assert await older.reference.kept(PRICES) == {}  # not the newer copies, nor dropping them
    assert await front.price("99213") == "135.00"
    assert front.rows_read == 1


@pytest.mark.postgres
async def test_a_row_the_session_loaded_before_a_change_is_never_kept_under_the_newer_version(
    postgres_processes: tuple[Process, Process],
) -> None:
    """What a unit of work keeps under the version it reads after another replica's change is read from the
    database, not the row its session loaded before the change."""
    front, back = postgres_processes
    await front.replace("99213", "120.00")
    async with front.uow() as uow:
        loaded = await uow.session.get(PriceRow, "99213")  # held by the session from before the change
        assert loaded is not None
        await back.replace("99213", "135.00")
        kept = await uow.reference.kept(PRICES)
        kept["99213"] = (await uow.session.get(PriceRow, "99213", execution_options=FRESH)).charge  # type: ignore[union-attr]
        assert loaded.charge == "135.00"

    assert await front.price("99213") == "135.00"


def test_only_plain_table_and_kind_names_make_triggers() -> None:
    with pytest.raises(ValueError, match="not a plain table or kind name"):
        reference_version_statements("sqlite", {"prices; DROP TABLE claim": "prices"})


async def test_each_database_has_its_own_copies(tmp_path: Path) -> None:
    made = [await versioned_database(f"sqlite+aiosqlite:///{tmp_path / name}") for name in ("a.db", "b.db")]
    (engine_a, a), (engine_b, b) = made
    await Process(a).replace("99213", "120.00")
    await Process(b).replace("99213", "80.00")

    assert await Process(a).price("99213") == "120.00"
    assert await Process(b).price("99213") == "80.00"
    await engine_a.dispose()
    await engine_b.dispose()
