"""Claim's SQL unit of work: the common transaction plus its repositories."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from sqlalchemy import text

from rcm_claim.adapters.repository import (
    Reads,
    SqlAcknowledgmentFiles,
    SqlAuthorizations,
    SqlBatches,
    SqlClaims,
    SqlCoverages,
    SqlDirectories,
    SqlEligibility,
    SqlPatients,
)
from rcm_common.db import is_postgres
from rcm_common.merges import SqlMerges
from rcm_common.uow import SqlUnitOfWork


class SqlClaimUnitOfWork(SqlUnitOfWork):
    """One transaction with its events, audit records and idempotent response."""

    patients: SqlPatients
    coverages: SqlCoverages
    eligibility: SqlEligibility
    authorizations: SqlAuthorizations
    claims: SqlClaims
    batches: SqlBatches
    acknowledgment_files: SqlAcknowledgmentFiles
    directories: SqlDirectories
    reads: Reads

    def _start(self) -> None:
        self.reads = Reads()
        self.patients = SqlPatients(self.session, self.cipher, self.reads)
        self.merges = SqlMerges(self.session)
        self.coverages = SqlCoverages(self.session, self.cipher, self.reads)
        self.eligibility = SqlEligibility(self.session, self.reads)
        self.authorizations = SqlAuthorizations(self.session, self.cipher, self.reads)
        self.claims = self.tracked(SqlClaims(self.session, self.cipher))
        self.batches = SqlBatches(self.session, self.cipher)
        self.acknowledgment_files = SqlAcknowledgmentFiles(self.session, self.cipher)
        self.directories = SqlDirectories(self.session, self.reads)

    async def lock_patient(self, patient_id: UUID) -> None:
        """Take the patient for the rest of the transaction. Each topic has its own consumer, so a charge and an
        authorisation for one patient may be handled at once; on PostgreSQL (read committed) the second waits
        here until the first commits, so neither scrubs without seeing the other. SQLite's write transactions
        are serial already. What was read of the copies before is read again after: it may have changed."""
        await self.lock_patients([patient_id])

    async def lock_patients(self, patient_ids: Collection[UUID]) -> None:
        """Take the patients in one statement, in the order of their keys, so two takers never deadlock."""
        if is_postgres(self.session) and patient_ids:
            keys = sorted({f"claim:patient:{patient_id}" for patient_id in patient_ids})
            await self.session.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(CAST(:keys AS text[])) AS key"
                ),
                {"keys": keys},
            )
            self.reads.forget_copies()
