"""Collections' SQL unit of work: the common transaction plus its repositories."""

from __future__ import annotations

from rcm_collections.adapters.repository import SqlAccounts, SqlDirectory, SqlLedger, SqlParkedEvents, SqlStatements
from rcm_common.uow import SqlUnitOfWork


class SqlCollectionsUnitOfWork(SqlUnitOfWork):
    """One transaction with its events, audit records and idempotent response."""

    accounts: SqlAccounts
    ledger: SqlLedger
    directory: SqlDirectory
    statements: SqlStatements
    parked: SqlParkedEvents

    async def commit(self) -> None:
        """The accounts saved in this unit of work are written first, then the events, audit records and
        response, all in the one transaction."""
        await self.accounts.write_pending()
        await super().commit()

    def _start(self) -> None:
        self.accounts = self.tracked(SqlAccounts(self.session, self.cipher))
        self.ledger = SqlLedger(self.session)
        self.directory = SqlDirectory(self.session)
        self.statements = SqlStatements(self.session, self.cipher)
        self.parked = SqlParkedEvents(self.session, self.cipher)
