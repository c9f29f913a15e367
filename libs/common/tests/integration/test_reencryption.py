"""`reencrypt` over SQLite and PostgreSQL: every value sealed with an older field key is sealed again with the
current one, found from the schema (`*_encrypted`, its context from the table, primary key and column), in
batches; values already current and empty ones are left alone; a value no key opens stops the job with the
column and row named and its batch unchanged; the job refuses to finish while older values remain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcm_common import reencryption
from rcm_common.crypto import FieldCipher
from rcm_common.db import create_engine
from rcm_common.reencryption import (
    ReencryptionError,
    Resealed,
    SealedColumn,
    reencrypt,
    sealed_columns,
    values_under_older_keys,
)
from rcm_common.testing import postgres_available, throwaway_postgres_database

OLD_KEY, NEW_KEY, STRANGER_KEY = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96))
OLD = FieldCipher(OLD_KEY, "k1")
NEW_ONLY = FieldCipher(NEW_KEY, "k2")
ROTATED = FieldCipher(NEW_KEY, "k2", previous_keys={"k1": OLD_KEY})

schema = MetaData()
patient = Table(
    "patient",
    schema,
    Column("id", String(36), primary_key=True),
    Column("name", Text, nullable=False),
    Column("ssn_encrypted", Text, nullable=True),
)
decided_service = Table(
    "decided_service",
    schema,
    Column("payment_id", String(36), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("content_encrypted", Text, nullable=False),
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        async with schema_over(f"sqlite+aiosqlite:///{tmp_path / 'sealed.db'}") as made:
            yield made
        return
    async with schema_over_postgres() as made:
        yield made


@asynccontextmanager
async def schema_over(url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(url)
    async with made.begin() as connection:
        await connection.run_sync(schema.create_all)
    try:
        yield made
    finally:
        await made.dispose()


@asynccontextmanager
async def schema_over_postgres() -> AsyncIterator[AsyncEngine]:
    if not await postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    async with throwaway_postgres_database() as url, schema_over(url) as made:
        yield made


def ssn_of(number: int) -> str:
    return f"900-00-{number:04d}"


async def seal_patients(engine: AsyncEngine, count: int, cipher: FieldCipher = OLD, first: int = 0) -> None:
    async with engine.begin() as connection:
        for number in range(first, first + count):
            key = f"p{number:03d}"
            await connection.execute(
                insert(patient).values(
                    id=key,
                    name=f"n{number}",
                    ssn_encrypted=cipher.encrypt(ssn_of(number), context=f"patient:{key}:ssn"),
                )
            )


async def stored(engine: AsyncEngine, table: Table, column: str) -> dict[tuple[object, ...], str | None]:
    async with engine.connect() as connection:
        rows = (await connection.execute(select(*table.primary_key.columns, table.c[column]))).all()
    return {tuple(row[:-1]): row[-1] for row in rows}


async def test_the_sealed_columns_are_found_in_the_schema_with_their_keys(engine: AsyncEngine) -> None:
    found = await sealed_columns(engine)

    assert [column.name for column in found] == ["decided_service.content_encrypted", "patient.ssn_encrypted"]
    assert found[0].context_of(["pay-1", 2]) == "decided_service:pay-1:2:content"
    assert found[1].context_of(["p001"]) == "patient:p001:ssn"


async def test_every_older_value_is_sealed_again_with_the_current_key_in_batches(engine: AsyncEngine) -> None:
    await seal_patients(engine, 11)
    async with engine.begin() as connection:
        for line in (1, 2, 10):
            context = f"decided_service:pay-7:{line}:content"
            await connection.execute(
                insert(decided_service).values(
                    payment_id="pay-7", line_number=line, content_encrypted=OLD.encrypt(f"line {line}", context=context)
                )
            )

    done = await reencrypt(engine, ROTATED, batch_size=4)

    assert [(column.column, column.resealed, column.rewritten_meanwhile) for column in done] == [
        ("decided_service.content_encrypted", 3, 0),
        ("patient.ssn_encrypted", 11, 0),
    ]
    ssns = await stored(engine, patient, "ssn_encrypted")
    assert {key: NEW_ONLY.decrypt(value or "", context=f"patient:{key[0]}:ssn") for key, value in ssns.items()} == {
        (f"p{n:03d}",): ssn_of(n) for n in range(11)
    }
    lines = await stored(engine, decided_service, "content_encrypted")
    assert {
        key: NEW_ONLY.decrypt(value or "", context=f"decided_service:{key[0]}:{key[1]}:content")
        for key, value in lines.items()
    } == {("pay-7", 1): "line 1", ("pay-7", 2): "line 2", ("pay-7", 10): "line 10"}


async def test_current_and_empty_values_are_left_as_they_are(engine: AsyncEngine) -> None:
    await seal_patients(engine, 2, cipher=ROTATED)
    await seal_patients(engine, 2, first=2)
    async with engine.begin() as connection:
        await connection.execute(insert(patient).values(id="p-none", name="no ssn", ssn_encrypted=None))
    before = await stored(engine, patient, "ssn_encrypted")

    [_, column] = await reencrypt(engine, ROTATED)

    after = await stored(engine, patient, "ssn_encrypted")
    assert column.resealed == 2
    assert after[("p000",)] == before[("p000",)]
    assert after[("p001",)] == before[("p001",)]
    assert after[("p-none",)] is None
    assert after[("p002",)] != before[("p002",)]


async def test_a_value_no_key_opens_stops_the_job_naming_where_and_its_batch_is_unchanged(engine: AsyncEngine) -> None:
    await seal_patients(engine, 3)
    await seal_patients(engine, 1, cipher=FieldCipher(STRANGER_KEY, "k0"), first=3)
    before = await stored(engine, patient, "ssn_encrypted")

    with pytest.raises(ReencryptionError, match=r"patient\.ssn_encrypted of row p003: no key with id 'k0'") as caught:
        await reencrypt(engine, ROTATED)

    assert ssn_of(3) not in str(caught.value)
    assert await stored(engine, patient, "ssn_encrypted") == before


async def test_a_value_moved_onto_another_row_is_refused_not_resealed_there(engine: AsyncEngine) -> None:
    await seal_patients(engine, 2)
    async with engine.begin() as connection:
        moved = OLD.encrypt(ssn_of(0), context="patient:p000:ssn")
        await connection.execute(patient.update().where(patient.c.id == "p001").values(ssn_encrypted=moved))

    with pytest.raises(ReencryptionError, match=r"patient\.ssn_encrypted of row p001: .*wrong context"):
        await reencrypt(engine, ROTATED)


async def test_the_count_of_values_under_older_keys_is_what_the_job_refuses_to_leave(engine: AsyncEngine) -> None:
    await seal_patients(engine, 3)
    await seal_patients(engine, 1, cipher=ROTATED, first=3)
    columns = await sealed_columns(engine)

    assert await values_under_older_keys(engine, ROTATED, columns) == {
        "decided_service.content_encrypted": 0,
        "patient.ssn_encrypted": 3,
    }
    await reencrypt(engine, ROTATED)
    assert await values_under_older_keys(engine, ROTATED, columns) == {
        "decided_service.content_encrypted": 0,
        "patient.ssn_encrypted": 0,
    }


async def test_the_job_refuses_to_finish_while_a_value_stays_under_an_older_key(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As when a replica still on the old settings seals a value with the old key behind the job's pass."""
    await seal_patients(engine, 2)

    async def a_pass_that_a_replica_undid(*_: object) -> Resealed:
        return Resealed("patient.ssn_encrypted", 0, 0)

    monkeypatch.setattr(reencryption, "reseal_column", a_pass_that_a_replica_undid)

    with pytest.raises(ReencryptionError, match=r"still sealed with an older key .*patient\.ssn_encrypted: 2"):
        await reencrypt(engine, ROTATED)


@pytest.fixture
async def postgres_engine() -> AsyncIterator[AsyncEngine]:
    """PostgreSQL, where a replica's write commits while the job's transaction is open (SQLite's writers are
    serial, so there the case cannot arise)."""
    async with schema_over_postgres() as made:
        yield made


async def test_a_value_a_replica_rewrote_during_the_pass_is_left_as_the_replica_wrote_it(
    postgres_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seal_patients(postgres_engine, 3)
    replica_value = ROTATED.encrypt("900-99-9999", context="patient:p000:ssn")
    opened = reencryption.reseal_row

    async def replica_writes_first(connection: AsyncConnection, cipher: FieldCipher, column: SealedColumn,
                                   key: Sequence[object]) -> bool:  # fmt: skip
        if key[0] == "p000":
            async with postgres_engine.begin() as replica:
                await replica.execute(
                    patient.update().where(patient.c.id == "p000").values(ssn_encrypted=replica_value)
                )
        return await opened(connection, cipher, column, key)

    monkeypatch.setattr(reencryption, "reseal_row", replica_writes_first)

    [_, column] = await reencrypt(postgres_engine, ROTATED)

    assert (column.resealed, column.rewritten_meanwhile) == (2, 1)
    assert (await stored(postgres_engine, patient, "ssn_encrypted"))[("p000",)] == replica_value


async def test_a_composite_key_pages_through_batches_smaller_than_a_payment(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for payment in ("pay-1", "pay-2"):
            for line in (1, 2, 3, 10, 11):
                context = f"decided_service:{payment}:{line}:content"
                await connection.execute(
                    insert(decided_service).values(
                        payment_id=payment, line_number=line, content_encrypted=OLD.encrypt("line", context=context)
                    )
                )

    [lines, _] = await reencrypt(engine, ROTATED, batch_size=2)

    assert (lines.resealed, lines.rewritten_meanwhile) == (10, 0)
    assert all(
        value and value.startswith("v1:k2:")
        for value in (await stored(engine, decided_service, "content_encrypted")).values()
    )


async def test_a_key_id_reused_for_another_key_is_refused_before_anything_moves(engine: AsyncEngine) -> None:
    """k2 named first one key, then another: what the first sealed would look current and never open again."""
    await seal_patients(engine, 1, cipher=FieldCipher(STRANGER_KEY, "k2"))
    await seal_patients(engine, 2, first=1)
    before = await stored(engine, patient, "ssn_encrypted")

    with pytest.raises(ReencryptionError, match="under the current key's id that it does not open"):
        await reencrypt(engine, ROTATED)

    assert await stored(engine, patient, "ssn_encrypted") == before


async def test_an_older_key_whose_id_differs_from_the_current_only_by_case_is_resealed(engine: AsyncEngine) -> None:
    """SQLite's LIKE ignores case: the comparison with the current key's prefix must not."""
    await seal_patients(engine, 2, cipher=FieldCipher(OLD_KEY, "K2"))
    rotated = FieldCipher(NEW_KEY, "k2", previous_keys={"K2": OLD_KEY})

    [_, column] = await reencrypt(engine, rotated)

    assert column.resealed == 2
    assert all(
        value and value.startswith("v1:k2:") for value in (await stored(engine, patient, "ssn_encrypted")).values()
    )
