"""Reporting's SQL unit of work: the common transaction with the facts repository."""

from __future__ import annotations

from rcm_common.uow import SqlUnitOfWork
from rcm_reporting.adapters.repository import SqlFacts


class SqlReportingUnitOfWork(SqlUnitOfWork):
    """One transaction over reporting's facts (it publishes nothing: no outbox rows are ever written)."""

    facts: SqlFacts

    def _start(self) -> None:
        self.facts = SqlFacts(self.session)
