"""Charge's SQL unit of work: the common transaction plus its repositories."""

from __future__ import annotations

from rcm_charge.adapters.repository import SqlCoverages, SqlEncounters, SqlImports, SqlPatients, SqlPrices
from rcm_common.merges import SqlMerges
from rcm_common.uow import SqlUnitOfWork


class SqlChargeUnitOfWork(SqlUnitOfWork):
    patients: SqlPatients
    coverages: SqlCoverages
    encounters: SqlEncounters
    prices: SqlPrices
    imports: SqlImports

    def _start(self) -> None:
        self.patients = SqlPatients(self.session, self.cipher)
        self.merges = SqlMerges(self.session)
        self.coverages = SqlCoverages(self.session, self.blind_index)
        self.encounters = self.tracked(SqlEncounters(self.session, self.cipher, self.blind_index))
        self.prices = SqlPrices(self.session, self.reference)
        self.imports = SqlImports(self.session)
