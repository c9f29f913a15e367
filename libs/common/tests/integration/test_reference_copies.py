"""Reference data kept in the process: read once, served from memory while its version stands, dropped by
every process once a change of it commits, and never kept from a transaction that did not commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from rcm_common.reference import ReferenceVersionRow
from rcm_common.testing import create_database
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
                row = await uow.session.get(PriceRow, code)
                kept[code] = None if row is None else row.charge
            price: str | None = kept[code]
            return price

    async def replace(self, code: str, charge: str, *, commit: bool = True) -> str | None:
        """Change the price list; what the changing transaction reads of it afterwards is its own."""
        async with self.uow() as uow:
            await uow.reference.changed(PRICES)
            await uow.session.merge(PriceRow(code=code, charge=charge))
            await uow.session.flush()
            kept = await uow.reference.kept(PRICES)
            kept[code] = (await uow.session.get(PriceRow, code)).charge  # type: ignore[union-attr]
            if commit:
                await uow.commit()
            price: str | None = kept[code]
            return price


@pytest.fixture
async def processes(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Process, Process]]:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"
    first_engine, first = await create_database(url, TABLES)
    second_engine, second = await create_database(url, TABLES)
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


async def test_each_database_has_its_own_copies(tmp_path: Path) -> None:
    made = [await create_database(f"sqlite+aiosqlite:///{tmp_path / name}", TABLES) for name in ("a.db", "b.db")]
    (engine_a, a), (engine_b, b) = made
    await Process(a).replace("99213", "120.00")
    await Process(b).replace("99213", "80.00")

    assert await Process(a).price("99213") == "120.00"
    assert await Process(b).price("99213") == "80.00"
    await engine_a.dispose()
    await engine_b.dispose()
