"""Registration's SQL unit of work: the common transaction plus the patient repository."""

from __future__ import annotations

from typing import Any

from rcm_common.crypto import BlindIndex, FieldCipher
from rcm_common.uow import SqlUnitOfWork
from rcm_registration.adapters.repository import SqlPatientRepository


class SqlRegistrationUnitOfWork(SqlUnitOfWork):
    patients: SqlPatientRepository

    def __init__(self, *args: Any, cipher: FieldCipher, blind_index: BlindIndex, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cipher = cipher
        self._blind_index = blind_index

    def _start(self) -> None:
        self.patients = SqlPatientRepository(self.session, self._cipher, self._blind_index)
