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
    SqlDecidedServices,
    SqlDirectories,
    SqlEligibility,
    SqlPatients,
)
from rcm_common.control_numbers import SqlControlNumbers
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
    control_numbers: SqlControlNumbers
    directories: SqlDirectories
    decided_services: SqlDecidedServices
    reads: Reads

    def _start(self) -> None:
        self.reads = Reads()
        self._locked: set[UUID] = set()
        self.patients = SqlPatients(self.session, self.cipher, self.reads)
        self.merges = SqlMerges(self.session)
        self.coverages = SqlCoverages(self.session, self.cipher, self.reads)
        self.eligibility = SqlEligibility(self.session, self.reads)
        self.authorizations = SqlAuthorizations(self.session, self.cipher, self.reads)
        self.claims = self.tracked(SqlClaims(self.session, self.cipher, self.reads))
        self.batches = SqlBatches(self.session, self.cipher)
        self.acknowledgment_files = SqlAcknowledgmentFiles(self.session, self.cipher)
        self.control_numbers = SqlControlNumbers(self.session)
        self.directories = SqlDirectories(self.session, self.reference)
        self.decided_services = SqlDecidedServices(self.session, self.cipher)

    async def lock_patient(self, patient_id: UUID) -> None:
        """Take the patient for the rest of the transaction. Each topic has its own consumer, so a charge and an
        authorisation for one patient may be handled at once; on PostgreSQL (read committed) the second waits
        here until the first commits, so neither scrubs without seeing the other. SQLite's write transactions
        are serial already. What was read of the copies before is read again after: it may have changed."""
        await self.lock_patients([patient_id])

    async def lock_patients(self, patient_ids: Collection[UUID]) -> None:
        """Take the patients in one statement, in the order of their keys, so two takers never deadlock. A
        patient taken already in this transaction is not taken again, and what was read stands."""
        new = set(patient_ids) - self._locked
        self._locked |= new
        if is_postgres(self.session) and new:
            await self.session.flush()  # what this transaction added is read back once the memo is forgotten
            keys = sorted(f"claim:patient:{patient_id}" for patient_id in new)
            await self.session.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(key, 0)) FROM unnest(CAST(:keys AS text[])) AS key"
                ),
                {"keys": keys},
            )
            self.reads.forget_copies()

    async def commit(self) -> None:
        """Commit; the patients' locks end with the transaction."""
        await super().commit()
        self._locked.clear()

    async def read_for_batch(
        self, patient_ids: Collection[UUID], coverage_ids: Collection[UUID], encounter_ids: Collection[UUID]
    ) -> None:
        """Take a consumer batch's patients (and the survivors of any merged away) and read their copies and
        claims, the coverages' copies, eligibility answers and authorisations, and the encounters' claims, in
        one query each, so the handlers that follow read them from memory rather than one event at a time. The
        patients whose claims the encounters already have are taken with the others, in one statement, so a
        handler seldom takes one later."""
        patient_ids = {*patient_ids, *await self.claims.patients_of_encounters(encounter_ids)}
        await self.lock_patients(patient_ids)
        await self.patients.read_many(patient_ids)
        copies = [await self.patients.get(patient_id) for patient_id in patient_ids]
        survivors = {copy.merged_into for copy in copies if copy is not None and copy.merged_into is not None}
        if survivors - self._locked:
            await self.lock_patients(survivors)  # forgets what was read: read again under every lock
            await self.patients.read_many({*patient_ids, *survivors})
        await self.coverages.read_many(coverage_ids)
        await self.eligibility.read_many(coverage_ids)
        await self.authorizations.read_many(coverage_ids)
        await self.claims.read_many({*patient_ids, *survivors}, encounter_ids)
