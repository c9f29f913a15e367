"""Charge's SQL unit of work: the common transaction plus its repositories."""

from __future__ import annotations

from typing import Any

from rcm_charge.adapters.repository import SqlCoverages, SqlEncounters, SqlImports, SqlPatients, SqlPrices
from rcm_common.crypto import BlindIndex, FieldCipher
from rcm_common.uow import SqlUnitOfWork


class SqlChargeUnitOfWork(SqlUnitOfWork):
    patients: SqlPatients
    coverages: SqlCoverages
    encounters: SqlEncounters
    prices: SqlPrices
    imports: SqlImports

    def __init__(self, *args: Any, cipher: FieldCipher, blind_index: BlindIndex, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cipher = cipher
        self._blind_index = blind_index

    def _start(self) -> None:
        self.patients = SqlPatients(self.session, self._cipher)
        self.coverages = SqlCoverages(self.session, self._blind_index)
        self.encounters = SqlEncounters(self.session, self._cipher, self._blind_index)
        self.prices = SqlPrices(self.session)
        self.imports = SqlImports(self.session)
