"""Moving every sealed value to the current field key, so an older key can be retired without downtime.

Every service seals a value bound to where it lives: a value of column `<x>_encrypted` in table `<t>` is
sealed under the context `<t>:<the row's primary key>:<x>` (a composite key's parts joined by `:`). So the
sealed columns are found in the database itself, by name, and `python -m rcm_<service> reencrypt` needs no
list that a new column could be missing from. It walks each column in batches while the service runs: each
value sealed with an older key is opened with its context and sealed again with the current key, and written
back only if the row still holds the value that was read (a replica that rewrote it meanwhile sealed it with
the current key already). A value no configured key opens stops the job with the column and row named, the
batch it was in unchanged. At the end the job counts what is still under an older key: nothing, or it fails,
and the older key must stay.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Column, MetaData, Select, Table, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rcm_common.crypto import DecryptionError, FieldCipher, sealed_context

logger = logging.getLogger(__name__)

BATCH_SIZE: Final = 500
SEALED_SUFFIX: Final = "_encrypted"


class ReencryptionError(Exception):
    """A sealed value could not be opened, or values under an older key remain; the message names where."""


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """A column of values sealed by the field cipher, each bound to its table, row and column."""

    table: Table
    column: str

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def key(self) -> list[Column[Any]]:
        return list(self.table.primary_key.columns)

    @property
    def values(self) -> Column[Any]:
        return self.table.c[self.column]

    def context_of(self, key: Sequence[object]) -> str:
        """The context the row's value is sealed under, as the service's repository seals it."""
        return sealed_context(
            self.table.name, ":".join(str(part) for part in key), self.column.removesuffix(SEALED_SUFFIX)
        )


@dataclass(frozen=True, slots=True)
class Resealed:
    """What one column's pass did."""

    column: str
    resealed: int
    rewritten_meanwhile: int
    """Values a replica changed between the read and the write: left as the replica wrote them."""


async def sealed_columns(engine: AsyncEngine) -> list[SealedColumn]:
    """Every `*_encrypted` column of the database, read from its schema."""
    metadata = MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
    found = []
    for table in sorted(metadata.tables.values(), key=lambda table: table.name):
        for column in table.columns:
            if column.name.endswith(SEALED_SUFFIX):
                if not table.primary_key.columns:
                    raise ReencryptionError(f"{table.name}.{column.name} is sealed but its table has no primary key")
                found.append(SealedColumn(table, column.name))
    return found


async def reencrypt(engine: AsyncEngine, cipher: FieldCipher, *, batch_size: int = BATCH_SIZE) -> list[Resealed]:
    """Seal every value of every sealed column with the current key; then refuse if any is still under an
    older one. First, a value already under the current key's id must open with it: the same id given to
    another key would otherwise pass for current and be left unreadable."""
    columns = await sealed_columns(engine)
    await refuse_an_id_given_to_another_key(engine, cipher, columns)
    done = [await reseal_column(engine, cipher, column, batch_size) for column in columns]
    left = await values_under_older_keys(engine, cipher, columns)
    if any(left.values()):
        remaining = ", ".join(f"{name}: {count}" for name, count in left.items() if count)
        raise ReencryptionError(f"values still sealed with an older key (a replica on the old settings?): {remaining}")
    return done


async def refuse_an_id_given_to_another_key(
    engine: AsyncEngine, cipher: FieldCipher, columns: Sequence[SealedColumn]
) -> None:
    """Open one value of each column that names the current key's id; refuse if it does not open."""
    async with engine.connect() as connection:
        for column in columns:
            query = select(*column.key, column.values).where(under_current_key(column, cipher)).limit(1)
            for *key, sealed in (await connection.execute(query)).all():
                try:
                    cipher.decrypt(sealed, context=column.context_of(key))
                except DecryptionError:
                    raise ReencryptionError(
                        f"{column.name} holds values under the current key's id that it does not open: "
                        "was the id given to another key? Each key keeps its id for good"
                    ) from None


async def reseal_column(engine: AsyncEngine, cipher: FieldCipher, column: SealedColumn, batch_size: int) -> Resealed:
    """Re-seal the column's older values, a batch of keys per transaction, one value in memory at a time (a
    stored 835 or 837P can be megabytes)."""
    resealed = rewritten = 0
    after: tuple[object, ...] | None = None
    while True:
        async with engine.begin() as connection:
            keys = [tuple(row) for row in (await connection.execute(older_keys(column, cipher, after, batch_size)))]
            for key in keys:
                moved = await reseal_row(connection, cipher, column, key)
                resealed, rewritten = resealed + moved, rewritten + (not moved)
        if len(keys) < batch_size:
            break
        after = keys[-1]
    logger.info("%s: %d values sealed again with the current key", column.name, resealed)
    return Resealed(column.name, resealed, rewritten)


def older_keys(
    column: SealedColumn, cipher: FieldCipher, after: tuple[object, ...] | None, batch_size: int
) -> Select[Any]:
    """The keys of the next batch of rows whose value is sealed with an older key, in key order after `after`."""
    query = select(*column.key).where(under_older_key(column, cipher))
    if after is not None:
        query = query.where(tuple_(*column.key) > tuple_(*after))
    return query.order_by(*column.key).limit(batch_size)


def under_current_key(column: SealedColumn, cipher: FieldCipher) -> Any:
    """The value starts with the current key's prefix, compared exactly (SQLite's LIKE ignores case)."""
    prefix = cipher.current_prefix
    return func.substr(column.values, 1, len(prefix)) == prefix


def under_older_key(column: SealedColumn, cipher: FieldCipher) -> Any:
    return column.values.is_not(None) & ~under_current_key(column, cipher)


async def reseal_row(
    connection: AsyncConnection, cipher: FieldCipher, column: SealedColumn, key: Sequence[object]
) -> bool:
    """Seal one row's value again; False if it changed since its key was read (a replica rewrote it)."""
    same_row = [part == value for part, value in zip(column.key, key, strict=True)]
    sealed = (
        await connection.execute(select(column.values).where(*same_row, under_older_key(column, cipher)))
    ).scalar()
    if sealed is None:
        return False
    context = column.context_of(key)
    try:
        plaintext = cipher.decrypt(sealed, context=context)
    except DecryptionError as exc:
        where = ":".join(str(part) for part in key)
        raise ReencryptionError(f"{column.name} of row {where}: {exc}") from None
    written = await connection.execute(
        update(column.table)
        .where(*same_row, column.values == sealed)
        .values({column.column: cipher.encrypt(plaintext, context=context)})
    )
    return bool(written.rowcount)


async def values_under_older_keys(
    engine: AsyncEngine, cipher: FieldCipher, columns: Sequence[SealedColumn]
) -> dict[str, int]:
    """How many values each column still holds sealed with a key other than the current one."""
    counts = {}
    async with engine.connect() as connection:
        for column in columns:
            query = select(func.count()).select_from(column.table).where(under_older_key(column, cipher))
            counts[column.name] = int((await connection.execute(query)).scalar_one())
    return counts
