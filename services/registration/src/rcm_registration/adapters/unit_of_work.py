"""Registration's SQL unit of work: the common transaction plus the patient repository."""

from __future__ import annotations

from rcm_common.uow import SqlUnitOfWork
from rcm_registration.adapters.repository import SqlPatientRepository


class SqlRegistrationUnitOfWork(SqlUnitOfWork):
    patients: SqlPatientRepository

    def _start(self) -> None:
        self.patients = self.tracked(SqlPatientRepository(self.session, self.cipher, self.blind_index, self.clock))
