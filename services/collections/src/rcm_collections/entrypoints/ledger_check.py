"""`rcm ledger verify`: walk every account's chain and name the first broken entry.

For each account, its entries are read in order and checked as `domain.ledger.verify_account` does: each
follows the one before and carries the hash of its own fields, the last is the tip the account's row names,
and the entries' terms add up to the balance and the terms the row keeps (the invariant), to the cent.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rcm_collections.adapters.repository import SqlLedger, stored_tips
from rcm_collections.domain.ledger import Verdict, verify_account
from rcm_common.db import create_engine


async def verify_ledgers(session: AsyncSession) -> list[Verdict]:
    """A verdict per account, in account id order, after one for each account whose row is gone but whose
    entries are left."""
    ledger = SqlLedger(session)
    verdicts = [
        Verdict(account_id, len(await ledger.entries(account_id)), False, None, "entries with no account")
        for account_id in await ledger.orphans()
    ]
    async for tip in stored_tips(session):
        entries = await ledger.entries(tip.account_id)
        verdicts.append(
            verify_account(
                tip.account_id,
                entries,
                tip_seq=tip.tip_seq,
                tip_hash=tip.tip_hash,
                balance=tip.balance,
                totals=tip.totals,
            )
        )
    return verdicts


async def verify_ledgers_at(database_url: str) -> list[Verdict]:
    """`verify_ledgers` over the database at `database_url`, with an engine of its own."""
    engine = create_engine(database_url)
    try:
        async with AsyncSession(engine) as session:
            return await verify_ledgers(session)
    finally:
        await engine.dispose()


async def verify_ledger_command(database_url: str) -> int:
    """Print one line per broken account (or one saying all is well) and return the process exit code."""
    verdicts = await verify_ledgers_at(database_url)
    broken = [v for v in verdicts if not v.ok]
    for verdict in broken:
        where = f"entry {verdict.broken_seq}" if verdict.broken_seq is not None else "its tip"
        print(f"ledger BROKEN: account {verdict.account_id} at {where}: {verdict.reason}")
    if broken:
        return 1
    entries = sum(v.entries for v in verdicts)
    print(f"ledger ok: {len(verdicts)} accounts, {entries} entries, the invariant holds for each")
    return 0
