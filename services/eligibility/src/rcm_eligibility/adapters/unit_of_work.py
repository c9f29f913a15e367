"""Eligibility's SQL unit of work: the common transaction plus its repositories."""

from __future__ import annotations

from rcm_common.control_numbers import SqlControlNumbers
from rcm_common.merges import SqlMerges
from rcm_common.uow import SqlUnitOfWork
from rcm_eligibility.adapters.repository import (
    SqlAllowedAmounts,
    SqlAppointments,
    SqlAuthorizations,
    SqlChecks,
    SqlCoverages,
    SqlPatients,
)


class SqlEligibilityUnitOfWork(SqlUnitOfWork):
    patients: SqlPatients
    coverages: SqlCoverages
    checks: SqlChecks
    authorizations: SqlAuthorizations
    appointments: SqlAppointments
    allowed_amounts: SqlAllowedAmounts
    control_numbers: SqlControlNumbers

    def _start(self) -> None:
        self.patients = SqlPatients(self.session, self.cipher)
        self.merges = SqlMerges(self.session)
        self.coverages = SqlCoverages(self.session, self.cipher)
        self.checks = self.tracked(SqlChecks(self.session, self.cipher))
        self.authorizations = self.tracked(SqlAuthorizations(self.session))
        self.appointments = SqlAppointments(self.session)
        self.allowed_amounts = SqlAllowedAmounts(self.session)
        self.control_numbers = SqlControlNumbers(self.session)
