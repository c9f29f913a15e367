"""Claim's SQL unit of work: the common transaction plus its repositories."""

from __future__ import annotations

from rcm_claim.adapters.repository import (
    SqlAuthorizations,
    SqlClaims,
    SqlCoverages,
    SqlDirectories,
    SqlEligibility,
    SqlPatients,
)
from rcm_common.merges import SqlMerges
from rcm_common.uow import SqlUnitOfWork


class SqlClaimUnitOfWork(SqlUnitOfWork):
    """One transaction with its events, audit records and idempotent response."""

    patients: SqlPatients
    coverages: SqlCoverages
    eligibility: SqlEligibility
    authorizations: SqlAuthorizations
    claims: SqlClaims
    directories: SqlDirectories

    def _start(self) -> None:
        self.patients = SqlPatients(self.session, self.cipher)
        self.merges = SqlMerges(self.session)
        self.coverages = SqlCoverages(self.session, self.cipher)
        self.eligibility = SqlEligibility(self.session)
        self.authorizations = SqlAuthorizations(self.session, self.cipher)
        self.claims = self.tracked(SqlClaims(self.session, self.cipher))
        self.directories = SqlDirectories(self.session)
