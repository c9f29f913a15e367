"""Collections' repositories over SQL.

An account is read once per unit of work and kept, so a consumer's batch that touches it several times
changes one object; each save writes the entries the change appended and the account's row, naming the
version it read: when another transaction saved the account since, nothing is written and ConcurrentUpdate
is raised (the consumer retries the batch, the API answers 409). On PostgreSQL the row is also taken for
update when read for a change, so concurrent writers queue rather than fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from pydantic import TypeAdapter
from sqlalchemy import bindparam, delete, insert, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from rcm_collections.adapters.tables import (
    AccountItemRow,
    AccountRow,
    ClaimEncounterRow,
    EncounterAccountRow,
    LedgerEntryRow,
    ParkedEventRow,
    PatientAccountRow,
    StatementRow,
)
from rcm_collections.domain.account import Account
from rcm_collections.domain.ledger import Entry, Totals
from rcm_collections.domain.statements import Statement
from rcm_common.crypto import FieldCipher, sealed_context
from rcm_common.db import is_postgres
from rcm_common.errors import ConcurrentUpdate

_ACCOUNT: Final = TypeAdapter(Account)
_STATEMENT: Final = TypeAdapter(Statement)
_NOT_STORED: Final = {"chain", "events", "version"}


@dataclass(frozen=True)
class AccountSummary:
    """An account as lists show it, from its row alone."""

    id: UUID
    state: str
    insurance_pending: Decimal
    patient_due: Decimal
    credit: Decimal
    balance: Decimal
    oldest_due_on: date | None
    last_statement_on: date | None
    open_requests: int
    version: int


def _summary(row: AccountRow) -> AccountSummary:
    return AccountSummary(
        UUID(row.id),
        row.state,
        row.insurance_pending,
        row.patient_due,
        row.credit,
        row.balance,
        row.oldest_due_on,
        row.last_statement_on,
        row.open_requests,
        row.version,
    )


def account_state(account: Account) -> str:
    if account.placement is not None:
        return "placed"
    if account.plan is not None:
        return "on_plan"
    return "active"


class SqlAccounts:
    """Accounts, each read once per unit of work. A save is written at the unit of work's commit, with every
    other account saved in it: one statement for the rows, one for their new ledger entries, each row naming
    the version it was read at (a consumer's batch touching many accounts, or one many times, writes once)."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher
        self._read: dict[UUID, Account] = {}
        self._pending: dict[UUID, tuple[Account, datetime]] = {}

    async def get(self, account_id: UUID, *, for_update: bool = False) -> Account | None:
        if account_id not in self._read:
            await self.read_many([account_id], for_update=for_update)
        return self._read.get(account_id)

    async def read_many(self, account_ids: Collection[UUID], *, for_update: bool = False) -> None:
        """Read the accounts not read yet in one query (taken for update, in id order, on PostgreSQL)."""
        wanted = sorted({str(i) for i in account_ids if i not in self._read})
        if not wanted:
            return
        query = select(AccountRow).where(col(AccountRow.id).in_(wanted)).order_by(col(AccountRow.id))
        if for_update and is_postgres(self._session):
            query = query.with_for_update()
        for row in (await self._session.scalars(query)).all():
            context = sealed_context("guarantor_account", row.id, "content")
            account = _ACCOUNT.validate_json(self._cipher.decrypt(row.content_encrypted, context=context))
            account.version = row.version
            account.chain.seq, account.chain.tip = row.tip_seq, row.tip_hash
            self._read[UUID(row.id)] = account

    async def add(self, account: Account, guarantor_digest: str, now: datetime) -> None:
        account.version = 1
        self._session.add(AccountRow(**self._values(account, now), guarantor_digest=guarantor_digest))
        await self._session.flush()
        await self._write_entries(account)
        self._read[account.id] = account

    async def save(self, account: Account, now: datetime) -> None:
        """The account is to be written at commit (`write_pending`), as it stands then."""
        self._pending[account.id] = (account, now)

    async def write_pending(self) -> None:
        """Write the accounts saved in this unit of work and their new entries. When any was changed by another
        transaction since it was read, ConcurrentUpdate is raised and nothing is written: the rows still at the
        versions read are taken first (for update, on PostgreSQL; SQLite's write transactions are serial)."""
        pending, self._pending = list(self._pending.values()), {}
        if not pending:
            return
        unchanged = select(AccountRow.id).where(
            tuple_(col(AccountRow.id), col(AccountRow.version)).in_([(str(a.id), a.version) for a, _ in pending])
        )
        if is_postgres(self._session):
            unchanged = unchanged.with_for_update()
        if len((await self._session.scalars(unchanged)).all()) != len(pending):
            raise ConcurrentUpdate("An account was changed by someone else meanwhile; read it and try again.")
        table = AccountRow.__table__  # type: ignore[attr-defined]
        columns = [name for name in AccountRow.model_fields if name not in ("id", "guarantor_digest")]
        statement = update(table).where(table.c.id == bindparam("the_id")).values({n: bindparam(n) for n in columns})
        rows = []
        for account, now in pending:
            values = self._values(account, now)
            values["the_id"] = values.pop("id")
            values["version"] = account.version + 1
            rows.append(values)
        await self._session.execute(statement, rows)
        for account, _ in pending:
            account.version += 1
        await self._write_entries(*(account for account, _ in pending))

    async def search(
        self,
        *,
        state: str | None = None,
        min_due: Decimal | None = None,
        with_open_requests: bool = False,
        account_ids: Sequence[UUID] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AccountSummary]:
        query = select(AccountRow)
        if account_ids is not None:
            query = query.where(col(AccountRow.id).in_([str(i) for i in account_ids]))
        if state is not None:
            query = query.where(col(AccountRow.state) == state)
        if min_due is not None:
            query = query.where(col(AccountRow.patient_due) >= min_due)
        if with_open_requests:
            query = query.where(col(AccountRow.open_requests) > 0)
        query = query.order_by(col(AccountRow.patient_due).desc(), col(AccountRow.id)).limit(limit).offset(offset)
        return [_summary(row) for row in (await self._session.scalars(query)).all()]

    async def with_patient_due(self) -> list[UUID]:
        """Accounts with anything due or a plan in force: those the daily cycle looks at."""
        query = (
            select(AccountRow.id)
            .where((col(AccountRow.patient_due) > 0) | (col(AccountRow.state) != "active"))
            .order_by(col(AccountRow.id))
        )
        return [UUID(i) for i in (await self._session.scalars(query)).all()]

    def _values(self, account: Account, now: datetime) -> dict[str, Any]:
        key = str(account.id)
        content = _ACCOUNT.dump_json(account, exclude=_NOT_STORED).decode()
        due = account.due_encounters()
        terms = account.terms
        return {
            "id": key,
            "state": account_state(account),
            "insurance_pending": account.insurance_pending,
            "patient_due": account.patient_due,
            "credit": account.credit,
            "balance": account.balance,
            "charges": terms.charges,
            "insurance_payments": terms.insurance_payments,
            "adjustments": terms.adjustments,
            "patient_payments": terms.patient_payments,
            "write_offs": terms.write_offs,
            "refunds": terms.refunds,
            "oldest_due_on": min((e.due_since for e in due if e.due_since), default=None),
            "last_statement_on": account.statements[-1].issued_on if account.statements else None,
            "open_requests": sum(1 for r in account.requests if r.state == "requested"),
            "tip_seq": account.chain.seq,
            "tip_hash": account.chain.tip,
            "version": account.version,
            "content_encrypted": self._cipher.encrypt(
                content, context=sealed_context("guarantor_account", key, "content")
            ),
            "updated_at": now,
        }

    async def _write_entries(self, *accounts: Account) -> None:
        appended = [entry for account in accounts for entry in account.chain.appended]
        for account in accounts:
            account.chain.appended = []
        if not appended:
            return
        await self._session.execute(
            insert(LedgerEntryRow),
            [
                {
                    "account_id": str(e.account_id),
                    "seq": e.seq,
                    "encounter_id": None if e.encounter_id is None else str(e.encounter_id),
                    "kind": e.kind,
                    "amount": e.amount,
                    "cause": e.cause,
                    "reference": e.reference,
                    "memo": e.memo,
                    "posted_at": e.posted_at,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                }
                for e in appended
            ],
        )


class SqlLedger:
    """The entries as stored, for reading and for verification."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def orphans(self) -> list[UUID]:
        """Accounts that have entries and no account row (deleted from under its ledger)."""
        known = select(AccountRow.id)
        query = select(LedgerEntryRow.account_id).where(col(LedgerEntryRow.account_id).not_in(known)).distinct()
        return sorted((UUID(i) for i in (await self._session.scalars(query)).all()), key=str)

    async def entries(self, account_id: UUID, *, limit: int | None = None, offset: int = 0) -> list[Entry]:
        query = select(LedgerEntryRow).where(col(LedgerEntryRow.account_id) == str(account_id))
        query = query.order_by(col(LedgerEntryRow.seq)).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return [_entry(row) for row in (await self._session.scalars(query)).all()]


def _entry(row: LedgerEntryRow) -> Entry:
    return Entry(
        UUID(row.account_id),
        row.seq,
        None if row.encounter_id is None else UUID(row.encounter_id),
        row.kind,  # type: ignore[arg-type]  # written from EntryKind; a tampered value fails the hash
        Decimal(row.amount),
        row.cause,
        row.reference,
        row.memo,
        row.posted_at,
        row.prev_hash,
        row.hash,
    )


@dataclass(frozen=True)
class StoredTip:
    """What an account's row says of its ledger: the tip and the invariant's terms."""

    account_id: UUID
    tip_seq: int
    tip_hash: str
    balance: Decimal
    totals: Totals


async def stored_tips(session: AsyncSession) -> AsyncIterator[StoredTip]:
    rows = await session.stream(select(AccountRow).order_by(col(AccountRow.id)).execution_options(yield_per=500))
    async for (row,) in rows:
        yield StoredTip(
            UUID(row.id),
            row.tip_seq,
            row.tip_hash,
            Decimal(row.balance),
            Totals(
                Decimal(row.charges),
                Decimal(row.insurance_payments),
                Decimal(row.adjustments),
                Decimal(row.patient_payments),
                Decimal(row.write_offs),
                Decimal(row.refunds),
            ),
        )


class SqlDirectory:
    """Which account a patient's new visits go to, which account holds a visit, which visit a claim bills, and
    which account a payment, refund, write-off, plan or placement belongs to."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def read_many(
        self, *, claims: Collection[UUID], encounters: Collection[UUID], patients: Collection[UUID]
    ) -> set[UUID]:
        """Read these claims', visits' and patients' rows in a query each, so the lookups after answer from the
        session; returns the accounts they lead to."""
        found: set[UUID] = set()
        visits = {str(i) for i in encounters}
        if claims:
            billed = select(ClaimEncounterRow).where(col(ClaimEncounterRow.claim_id).in_([str(i) for i in claims]))
            visits |= {row.encounter_id for row in (await self._session.scalars(billed)).all()}
        if visits:
            posted = select(EncounterAccountRow).where(col(EncounterAccountRow.encounter_id).in_(sorted(visits)))
            found |= {UUID(row.account_id) for row in (await self._session.scalars(posted)).all()}
        if patients:
            keyed = select(PatientAccountRow).where(col(PatientAccountRow.patient_id).in_([str(i) for i in patients]))
            found |= {UUID(row.account_id) for row in (await self._session.scalars(keyed)).all()}
        return found

    async def account_of_patient(self, patient_id: UUID) -> UUID | None:
        row = await self._session.get(PatientAccountRow, str(patient_id))
        return None if row is None else UUID(row.account_id)

    async def set_patient(self, patient_id: UUID, account_id: UUID) -> None:
        await self._session.merge(PatientAccountRow(patient_id=str(patient_id), account_id=str(account_id)))
        await self._session.flush()

    async def account_of_encounter(self, encounter_id: UUID) -> UUID | None:
        row = await self._session.get(EncounterAccountRow, str(encounter_id))
        return None if row is None else UUID(row.account_id)

    async def move_encounter(self, encounter_id: UUID, account_id: UUID) -> None:
        await self._session.merge(EncounterAccountRow(encounter_id=str(encounter_id), account_id=str(account_id)))
        await self._session.flush()

    async def set_encounter(self, encounter_id: UUID, account_id: UUID) -> None:
        if await self._session.get(EncounterAccountRow, str(encounter_id)) is None:
            self._session.add(EncounterAccountRow(encounter_id=str(encounter_id), account_id=str(account_id)))
            await self._session.flush()

    async def encounter_of_claim(self, claim_id: UUID) -> UUID | None:
        row = await self._session.get(ClaimEncounterRow, str(claim_id))
        return None if row is None else UUID(row.encounter_id)

    async def account_of_item(self, item_id: UUID, kind: str) -> UUID | None:
        row = await self._session.get(AccountItemRow, str(item_id))
        return None if row is None or row.kind != kind else UUID(row.account_id)

    async def accounts_with(self, kind: str) -> list[UUID]:
        """The accounts that have an item of this kind (a placement, say)."""
        query = select(AccountItemRow.account_id).where(col(AccountItemRow.kind) == kind).distinct()
        return sorted((UUID(i) for i in (await self._session.scalars(query)).all()), key=str)

    async def add_item(self, item_id: UUID, kind: str, account_id: UUID) -> None:
        self._session.add(AccountItemRow(id=str(item_id), account_id=str(account_id), kind=kind))
        await self._session.flush()

    async def set_claim(self, claim_id: UUID, encounter_id: UUID) -> None:
        if await self._session.get(ClaimEncounterRow, str(claim_id)) is None:
            self._session.add(ClaimEncounterRow(claim_id=str(claim_id), encounter_id=str(encounter_id)))
            await self._session.flush()


class SqlStatements:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def add(self, statement: Statement) -> None:
        key = str(statement.id)
        content = _STATEMENT.dump_json(statement).decode()
        self._session.add(
            StatementRow(
                id=key,
                account_id=str(statement.account_id),
                issued_on=statement.issued_on,
                amount_due=statement.amount_due,
                dunning_level=statement.dunning_level,
                content_encrypted=self._cipher.encrypt(content, context=sealed_context("statement", key, "content")),
            )
        )
        await self._session.flush()

    async def get(self, statement_id: UUID) -> Statement | None:
        row = await self._session.get(StatementRow, str(statement_id))
        if row is None:
            return None
        return _STATEMENT.validate_json(
            self._cipher.decrypt(row.content_encrypted, context=sealed_context("statement", row.id, "content"))
        )


@dataclass(frozen=True)
class ParkedEvent:
    id: int
    event_type: str
    event_version: int
    cause: str
    payload: str


class SqlParkedEvents:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def serialise(self, waits_for: str) -> bool:
        """Take this transaction's lock on the key (PostgreSQL; SQLite runs one writer at a time anyway): True
        when a lock was taken, so what was awaited may have committed meanwhile and is worth looking for again."""
        if not is_postgres(self._session):
            return False
        await self._session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": waits_for})
        return True

    async def park(
        self, waits_for: str, event_type: str, event_version: int, cause: str, payload: str, now: datetime
    ) -> None:
        row = ParkedEventRow(
            waits_for=waits_for,
            event_type=event_type,
            event_version=event_version,
            cause=cause,
            payload_encrypted="",
            parked_at=now,
        )
        self._session.add(row)
        await self._session.flush()
        row.payload_encrypted = self._cipher.encrypt(
            payload, context=sealed_context("parked_event", str(row.id), "payload")
        )
        await self._session.flush()

    async def take(self, waits_for: str) -> list[ParkedEvent]:
        """The events waiting for `waits_for`, in the order they came, removed from the table."""
        query = (
            select(ParkedEventRow).where(col(ParkedEventRow.waits_for) == waits_for).order_by(col(ParkedEventRow.id))
        )
        rows: Sequence[ParkedEventRow] = (await self._session.scalars(query)).all()
        if not rows:
            return []
        await self._session.execute(delete(ParkedEventRow).where(col(ParkedEventRow.id).in_([r.id for r in rows])))
        return [
            ParkedEvent(
                row.id or 0,
                row.event_type,
                row.event_version,
                row.cause,
                self._cipher.decrypt(
                    row.payload_encrypted, context=sealed_context("parked_event", str(row.id), "payload")
                ),
            )
            for row in rows
        ]
