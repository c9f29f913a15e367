"""Remittance's SQL unit of work: the common transaction plus its repositories."""

from __future__ import annotations

from rcm_common.uow import SqlUnitOfWork
from rcm_remittance.adapters.repository import (
    SqlClaimCopies,
    SqlClaimPayments,
    SqlDeposits,
    SqlFiles,
    SqlRemittances,
)


class SqlRemittanceUnitOfWork(SqlUnitOfWork):
    """One transaction with its events, audit records and idempotent response."""

    copies: SqlClaimCopies
    files: SqlFiles
    remittances: SqlRemittances
    payments: SqlClaimPayments
    deposits: SqlDeposits

    def _start(self) -> None:
        self.copies = SqlClaimCopies(self.session, self.cipher)
        self.files = SqlFiles(self.session, self.cipher)
        self.remittances = self.tracked(SqlRemittances(self.session))
        self.payments = self.tracked(SqlClaimPayments(self.session, self.cipher))
        self.deposits = SqlDeposits(self.session)
