"""SQL repositories for claim's unit of work. Encrypted columns are bound to their table, row and column,
so a ciphertext copied into another row does not decrypt.

The copies (patients, coverages, eligibility answers, authorisations) are read at most once per unit of work
(`Reads`): a consumer's batch builds and scrubs hundreds of claims against them, and reading each again per
claim was most of its round trips. A save keeps what it wrote; taking a patient's lock forgets the copies read
before it, so work done under the lock sees what committed before it. The directories, which change a few
times a year, are kept in the process until their version moves (`rcm_common.reference`)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, cast
from uuid import UUID

from sqlalchemy import bindparam, delete, or_, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from rcm_claim.adapters import serialization
from rcm_claim.adapters.tables import (
    AcknowledgmentFileRow,
    AuthorizationRow,
    BatchRow,
    ClaimRow,
    CoverageCopyRow,
    DecidedServiceRow,
    EligibilityAnswerRow,
    PatientCopyRow,
    PayerProfileRow,
    ProviderDirectoryRow,
)
from rcm_claim.domain.acknowledgments import AcknowledgmentFile
from rcm_claim.domain.batches import Batch, BatchState
from rcm_claim.domain.copies import Authorization, CoverageCopy, EligibilityAnswer, PatientCopy
from rcm_claim.domain.denial_risk import DecidedService, services_decided
from rcm_claim.domain.directories import (
    Address,
    BillingProvider,
    Facility,
    PayerProfile,
    Provider,
    ProviderDirectory,
)
from rcm_claim.domain.model import NOT_FILED, BillingNotes, Claim, ClaimState
from rcm_common.crypto import FieldCipher, sealed_context
from rcm_common.db import is_postgres
from rcm_common.errors import ConcurrentUpdate
from rcm_common.reference import FRESH, ReferenceReads

_PROVIDER_DIRECTORY_ROW = 1  # the practice has one directory


def _sealed(cipher: FieldCipher, table: str, key: str, content: dict[str, Any]) -> str:
    """A row's encrypted `content` column: its JSON, bound to the table and row."""
    return cipher.encrypt(serialization.dumps(content), context=sealed_context(table, key, "content"))


def _opened(cipher: FieldCipher, table: str, key: str, ciphertext: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(cipher.decrypt(ciphertext, context=sealed_context(table, key, "content")))
    return content


def _codes_column(codes: frozenset[str]) -> str:
    return f",{','.join(sorted(codes))}," if codes else ""


def _codes(column: str) -> frozenset[str]:
    return frozenset(code for code in column.split(",") if code)


class Reads:
    """What one unit of work has read, by kind and key, so it is read once; `forget_copies` drops it all.
    A patient's or an encounter's claims, once read, are all of them: `SqlClaims` keeps them as it stores
    claims, and hands out detached copies, as a query would."""

    def __init__(self) -> None:
        self.copies: dict[tuple[str, object], Any] = {}
        self.claims_of_patient: dict[UUID, dict[UUID, Claim]] = {}
        self.claims_of_encounter: dict[UUID, dict[UUID, Claim]] = {}
        self.patient_of_claim: dict[UUID, UUID] = {}

    def forget_copies(self) -> None:
        """Forget what another transaction may have changed: the copies and the claims."""
        self.copies.clear()
        self.claims_of_patient.clear()
        self.claims_of_encounter.clear()
        self.patient_of_claim.clear()


_UNREAD: Final = object()
PROVIDER_DIRECTORY: Final = "provider_directory"
PAYER_DIRECTORY: Final = "payer_directory"
"""The names of the directories' versions (`rcm_common.reference`)."""


class SqlPatients:
    def __init__(self, session: AsyncSession, cipher: FieldCipher, reads: Reads) -> None:
        self._session = session
        self._cipher = cipher
        self._reads = reads

    async def get(self, patient_id: UUID) -> PatientCopy | None:
        found = self._reads.copies.get(("patient", patient_id), _UNREAD)
        if found is _UNREAD:
            found = self._reads.copies[("patient", patient_id)] = await self._read(patient_id)
        return cast("PatientCopy | None", found)

    async def read_many(self, patient_ids: Collection[UUID]) -> None:
        """Read the patients not read yet in one query; `get` then answers from what was read."""
        wanted = [i for i in set(patient_ids) if ("patient", i) not in self._reads.copies]
        if not wanted:
            return
        query = select(PatientCopyRow).where(col(PatientCopyRow.patient_id).in_([str(i) for i in wanted]))
        found = {UUID(row.patient_id): self._copy(row) for row in (await self._session.scalars(query)).all()}
        for patient_id in wanted:
            self._reads.copies[("patient", patient_id)] = found.get(patient_id)

    async def _read(self, patient_id: UUID) -> PatientCopy | None:
        row = await self._session.get(PatientCopyRow, str(patient_id))
        return None if row is None else self._copy(row)

    def _copy(self, row: PatientCopyRow) -> PatientCopy:
        patient_id = UUID(row.patient_id)
        content = _opened(self._cipher, "patient_demographics", row.patient_id, row.content_encrypted)
        person = serialization.person_from_json(content["person"])
        assert person is not None  # a patient copy always has its person
        return PatientCopy(
            patient_id=patient_id,
            person=person,
            address=Address(**content["address"]),
            merged_into=UUID(row.merged_into_id) if row.merged_into_id else None,
        )

    async def save(self, patient: PatientCopy, now: datetime) -> None:
        key = str(patient.patient_id)
        content = {
            "person": serialization.person_to_json(patient.person),
            "address": asdict(patient.address),
        }
        await self._session.merge(
            PatientCopyRow(
                patient_id=key,
                content_encrypted=_sealed(self._cipher, "patient_demographics", key, content),
                merged_into_id=str(patient.merged_into) if patient.merged_into else None,
                updated_at=now,
            )
        )
        await self._session.flush()
        self._reads.copies[("patient", patient.patient_id)] = patient


class SqlCoverages:
    def __init__(self, session: AsyncSession, cipher: FieldCipher, reads: Reads) -> None:
        self._session = session
        self._cipher = cipher
        self._reads = reads

    async def get(self, coverage_id: UUID) -> CoverageCopy | None:
        found = self._reads.copies.get(("coverage", coverage_id), _UNREAD)
        if found is _UNREAD:
            found = self._reads.copies[("coverage", coverage_id)] = await self._read(coverage_id)
        return cast("CoverageCopy | None", found)

    async def read_many(self, coverage_ids: Collection[UUID]) -> None:
        """Read the coverages not read yet in one query; `get` then answers from what was read."""
        wanted = [i for i in set(coverage_ids) if ("coverage", i) not in self._reads.copies]
        if not wanted:
            return
        query = select(CoverageCopyRow).where(col(CoverageCopyRow.coverage_id).in_([str(i) for i in wanted]))
        found = {UUID(row.coverage_id): self._copy(row) for row in (await self._session.scalars(query)).all()}
        for coverage_id in wanted:
            self._reads.copies[("coverage", coverage_id)] = found.get(coverage_id)

    async def for_patient(self, patient_id: UUID) -> list[CoverageCopy]:
        """The patient's coverages, whatever their order and dates."""
        query = select(CoverageCopyRow).where(col(CoverageCopyRow.patient_id) == str(patient_id))
        found = [self._copy(row) for row in (await self._session.scalars(query)).all()]
        for coverage in found:
            self._reads.copies[("coverage", coverage.coverage_id)] = coverage
        return found

    async def _read(self, coverage_id: UUID) -> CoverageCopy | None:
        row = await self._session.get(CoverageCopyRow, str(coverage_id))
        return None if row is None else self._copy(row)

    def _copy(self, row: CoverageCopyRow) -> CoverageCopy:
        coverage_id = UUID(row.coverage_id)
        content = _opened(self._cipher, "coverage_membership", row.coverage_id, row.content_encrypted)
        return CoverageCopy(
            coverage_id=coverage_id,
            patient_id=UUID(row.patient_id),
            payer_id=row.payer_id,
            member_id=content["member_id"],
            order=row.coverage_order,
            relationship=row.relationship,
            effective_date=row.effective_date,
            termination_date=row.termination_date,
            subscriber=serialization.person_from_json(content["subscriber"]),
        )

    async def save(self, coverage: CoverageCopy, now: datetime) -> None:
        key = str(coverage.coverage_id)
        content = {"member_id": coverage.member_id, "subscriber": serialization.person_to_json(coverage.subscriber)}
        await self._session.merge(
            CoverageCopyRow(
                coverage_id=key,
                patient_id=str(coverage.patient_id),
                payer_id=coverage.payer_id,
                coverage_order=coverage.order,
                relationship=coverage.relationship,
                effective_date=coverage.effective_date,
                termination_date=coverage.termination_date,
                content_encrypted=_sealed(self._cipher, "coverage_membership", key, content),
                updated_at=now,
            )
        )
        await self._session.flush()
        self._reads.copies[("coverage", coverage.coverage_id)] = coverage


class SqlEligibility:
    """The latest answer per coverage: an answer checked before the one kept is ignored, so events read
    out of order never put an older answer over a newer one."""

    def __init__(self, session: AsyncSession, reads: Reads) -> None:
        self._session = session
        self._reads = reads

    async def latest(self, coverage_id: UUID) -> EligibilityAnswer | None:
        found = self._reads.copies.get(("eligibility", coverage_id), _UNREAD)
        if found is _UNREAD:
            found = self._reads.copies[("eligibility", coverage_id)] = await self._read(coverage_id)
        return cast("EligibilityAnswer | None", found)

    async def read_many(self, coverage_ids: Collection[UUID]) -> None:
        """Read the answers not read yet in one query; `latest` then answers from what was read."""
        wanted = [i for i in set(coverage_ids) if ("eligibility", i) not in self._reads.copies]
        if not wanted:
            return
        query = select(EligibilityAnswerRow).where(col(EligibilityAnswerRow.coverage_id).in_([str(i) for i in wanted]))
        found = {UUID(row.coverage_id): self._answer(row) for row in (await self._session.scalars(query)).all()}
        for coverage_id in wanted:
            self._reads.copies[("eligibility", coverage_id)] = found.get(coverage_id)

    async def _read(self, coverage_id: UUID) -> EligibilityAnswer | None:
        row = await self._session.get(EligibilityAnswerRow, str(coverage_id))
        return None if row is None else self._answer(row)

    @staticmethod
    def _answer(row: EligibilityAnswerRow) -> EligibilityAnswer:
        return EligibilityAnswer(
            coverage_id=UUID(row.coverage_id),
            status=row.status,  # type: ignore[arg-type]
            checked_at=row.checked_at,
            date_of_service=row.date_of_service,
            plan_begin=row.plan_begin,
            plan_end=row.plan_end,
            reject_codes=tuple(sorted(_codes(row.reject_codes))),
        )

    async def record(self, answer: EligibilityAnswer) -> bool:
        """Keep the answer unless a later one is kept; True when it was kept."""
        kept = await self.latest(answer.coverage_id)
        if kept is not None and kept.checked_at > answer.checked_at:
            return False
        await self._session.merge(
            EligibilityAnswerRow(
                coverage_id=str(answer.coverage_id),
                status=answer.status,
                checked_at=answer.checked_at,
                date_of_service=answer.date_of_service,
                plan_begin=answer.plan_begin,
                plan_end=answer.plan_end,
                reject_codes=_codes_column(frozenset(answer.reject_codes)),
            )
        )
        await self._session.flush()
        kept = dataclasses.replace(answer, reject_codes=tuple(sorted(set(answer.reject_codes))))  # as stored
        self._reads.copies[("eligibility", answer.coverage_id)] = kept
        return True


class SqlAuthorizations:
    def __init__(self, session: AsyncSession, cipher: FieldCipher, reads: Reads) -> None:
        self._session = session
        self._cipher = cipher
        self._reads = reads

    async def for_coverage(self, coverage_id: UUID) -> list[Authorization]:
        found = self._reads.copies.get(("authorizations", coverage_id), _UNREAD)
        if found is _UNREAD:
            found = self._reads.copies[("authorizations", coverage_id)] = await self._read(coverage_id)
        return list(cast("list[Authorization]", found))

    async def read_many(self, coverage_ids: Collection[UUID]) -> None:
        """Read the coverages' authorisations not read yet in one query; `for_coverage` then answers."""
        wanted = [i for i in set(coverage_ids) if ("authorizations", i) not in self._reads.copies]
        if not wanted:
            return
        query = (
            select(AuthorizationRow)
            .where(col(AuthorizationRow.coverage_id).in_([str(i) for i in wanted]))
            .order_by(col(AuthorizationRow.start_date), col(AuthorizationRow.authorization_id))
        )
        found: dict[UUID, list[Authorization]] = {coverage_id: [] for coverage_id in wanted}
        for row in (await self._session.scalars(query)).all():
            found[UUID(row.coverage_id)].append(self._authorization(row))
        for coverage_id, authorizations in found.items():
            self._reads.copies[("authorizations", coverage_id)] = authorizations

    async def _read(self, coverage_id: UUID) -> list[Authorization]:
        query = (
            select(AuthorizationRow)
            .where(col(AuthorizationRow.coverage_id) == str(coverage_id))
            .order_by(col(AuthorizationRow.start_date), col(AuthorizationRow.authorization_id))
        )
        return [self._authorization(row) for row in (await self._session.scalars(query)).all()]

    async def save(self, authorization: Authorization) -> None:
        key = str(authorization.authorization_id)
        await self._session.merge(
            AuthorizationRow(
                authorization_id=key,
                coverage_id=str(authorization.coverage_id),
                number_encrypted=self._cipher.encrypt(
                    authorization.number, context=sealed_context("authorization_on_file", key, "number")
                ),
                procedure_codes=_codes_column(authorization.procedure_codes),
                start_date=authorization.start_date,
                end_date=authorization.end_date,
                units_authorized=authorization.units_authorized,
            )
        )
        await self._session.flush()
        self._reads.copies.pop(("authorizations", authorization.coverage_id), None)

    def _authorization(self, row: AuthorizationRow) -> Authorization:
        return Authorization(
            authorization_id=UUID(row.authorization_id),
            coverage_id=UUID(row.coverage_id),
            number=self._cipher.decrypt(
                row.number_encrypted, context=sealed_context("authorization_on_file", row.authorization_id, "number")
            ),
            procedure_codes=_codes(row.procedure_codes),
            start_date=row.start_date,
            end_date=row.end_date,
            units_authorized=row.units_authorized,
        )


class SqlClaims:
    """Claims. A save names the revision it read: when another transaction saved the claim since, nothing is
    written and ConcurrentUpdate is raised (the caller reads it again). A patient's and an encounter's claims
    are read once per unit of work (`read_many` reads a batch's at once) and kept as they are stored."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, reads: Reads) -> None:
        self._session = session
        self._cipher = cipher
        self._reads = reads

    async def read_many(self, patient_ids: Collection[UUID], encounter_ids: Collection[UUID]) -> None:
        """Read the claims of these patients and encounters in one query, for `for_patient` and
        `for_encounter` to answer from memory."""
        patients = [i for i in set(patient_ids) if i not in self._reads.claims_of_patient]
        encounters = [i for i in set(encounter_ids) if i not in self._reads.claims_of_encounter]
        if not patients and not encounters:
            return
        await self._write_added()
        query = select(ClaimRow).where(
            or_(
                col(ClaimRow.patient_id).in_([str(i) for i in patients]),
                col(ClaimRow.encounter_id).in_([str(i) for i in encounters]),
            )
        )
        found = self._claims((await self._session.scalars(query)).all())
        self._reads.claims_of_patient.update({patient_id: {} for patient_id in patients})
        self._reads.claims_of_encounter.update({encounter_id: {} for encounter_id in encounters})
        for claim in found:
            self._remember(claim)

    async def patients_of_encounters(self, encounter_ids: Collection[UUID]) -> set[UUID]:
        """Whose claims these encounters' claims are (a batch takes those patients with its own)."""
        if not encounter_ids:
            return set()
        query = select(ClaimRow.patient_id).where(col(ClaimRow.encounter_id).in_([str(i) for i in encounter_ids]))
        return {UUID(patient_id) for patient_id in (await self._session.scalars(query.distinct())).all()}

    def _remember(self, claim: Claim) -> None:
        """Keep the claim as stored in the groups read, moving it when its patient changed (a merge)."""
        kept = _detached(claim)
        before = self._reads.patient_of_claim.get(claim.id)
        if before is not None and before != claim.patient_id:
            self._reads.claims_of_patient.get(before, {}).pop(claim.id, None)
        self._reads.patient_of_claim[claim.id] = claim.patient_id
        if claim.patient_id in self._reads.claims_of_patient:
            self._reads.claims_of_patient[claim.patient_id][claim.id] = kept
        if claim.encounter_id in self._reads.claims_of_encounter:
            self._reads.claims_of_encounter[claim.encounter_id][claim.id] = kept

    async def get(self, claim_id: UUID, *, for_update: bool = False) -> Claim | None:
        query = select(ClaimRow).where(col(ClaimRow.id) == str(claim_id))
        if for_update and is_postgres(self._session):
            query = query.with_for_update()
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else self._claim(row)

    async def add(self, claim: Claim) -> None:
        """Add the claim; its row is written with the transaction's other new rows at the next flush (before
        a save, a read of claims from the database, a lock, or the commit), so a consumer's batch inserts its
        claims together."""
        claim.revision = 1
        self._session.add(self._row(claim))
        self._remember(claim)

    async def _write_added(self) -> None:
        """Write the claims added and not written yet (the session does not flush by itself before a query)."""
        if self._session.new:
            await self._session.flush()

    async def save(self, claim: Claim) -> None:
        await self._write_added()
        values = self._values(claim)
        values["revision"] = claim.revision + 1
        key = values.pop("id")
        changed = await self._session.execute(
            update(ClaimRow)
            .where(col(ClaimRow.id) == key, col(ClaimRow.revision) == claim.revision)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate("The claim was changed by someone else meanwhile; read it and try again.")
        claim.revision += 1
        await self._session.flush()
        self._remember(claim)

    async def save_many(self, claims: Sequence[Claim]) -> None:
        """Save the claims in one statement, each naming the revision it read; when any was saved by another
        transaction since, ConcurrentUpdate is raised and nothing is written. The rows still at the revisions
        read are taken first (for update, on PostgreSQL; SQLite's write transactions are serial), so none can
        change between that check and the write."""
        claims = list({claim.id: claim for claim in claims}.values())  # each once, as last changed
        if not claims:
            return
        await self._write_added()
        unchanged = select(ClaimRow.id).where(
            tuple_(col(ClaimRow.id), col(ClaimRow.revision)).in_([(str(c.id), c.revision) for c in claims])
        )
        if is_postgres(self._session):
            unchanged = unchanged.with_for_update()
        if len((await self._session.scalars(unchanged)).all()) != len(claims):
            raise ConcurrentUpdate("A claim was changed by someone else meanwhile; read it and try again.")
        table = ClaimRow.__table__  # type: ignore[attr-defined]
        columns = [name for name in ClaimRow.model_fields if name != "id"]
        statement = update(table).where(table.c.id == bindparam("the_id")).values({n: bindparam(n) for n in columns})
        rows = []
        for claim in claims:
            values = self._values(claim)
            values["the_id"] = values.pop("id")  # the key the update finds the row by, not a column it sets
            values["revision"] = claim.revision + 1
            rows.append(values)
        await self._session.execute(statement, rows)
        for claim in claims:
            claim.revision += 1
            self._remember(claim)

    async def for_encounter(self, encounter_id: UUID) -> list[Claim]:
        """Every claim built for the encounter, oldest first."""
        if encounter_id not in self._reads.claims_of_encounter:
            await self.read_many((), (encounter_id,))
        return _oldest_first(self._reads.claims_of_encounter[encounter_id])

    async def for_patient(self, patient_id: UUID) -> list[Claim]:
        """The patient's claims in any state, for the rules that look across claims."""
        if patient_id not in self._reads.claims_of_patient:
            await self.read_many((patient_id,), ())
        return _oldest_first(self._reads.claims_of_patient[patient_id])

    async def search(
        self, *, state: ClaimState | None = None, rule: str | None = None, rejection_code: str | None = None,
        payer_id: str | None = None, patient_id: UUID | None = None, date_from: date | None = None,
        date_to: date | None = None, limit: int = 100, offset: int = 0,
    ) -> list[Claim]:  # fmt: skip
        """Claims the longest in their state first, narrowed by state, the rule holding them, the code of their
        last rejection, payer, patient and date of service: the work queues and the claim list."""
        query = select(ClaimRow)
        if rejection_code is not None:
            query = query.where(col(ClaimRow.rejection_codes).contains(f",{rejection_code},"))
        if state is not None:
            query = query.where(col(ClaimRow.state) == state)
        if rule is not None:
            query = query.where(col(ClaimRow.blocking_rules).contains(f",{rule},"))
        if payer_id is not None:
            query = query.where(col(ClaimRow.payer_id) == payer_id)
        if patient_id is not None:
            query = query.where(col(ClaimRow.patient_id) == str(patient_id))
        if date_from is not None:
            query = query.where(col(ClaimRow.date_of_service) >= date_from)
        if date_to is not None:
            query = query.where(col(ClaimRow.date_of_service) <= date_to)
        query = query.order_by(col(ClaimRow.state_since), col(ClaimRow.id)).limit(limit).offset(offset)
        return self._claims((await self._session.scalars(query)).all())

    async def ready_to_batch(self, payer_id: str, limit: int) -> list[Claim]:
        """The payer's ready claims not kept back, the longest waiting first: the next batch's candidates."""
        query = (
            select(ClaimRow)
            .where(col(ClaimRow.payer_id) == payer_id, col(ClaimRow.state) == "ready", col(ClaimRow.held).is_(False))
            .order_by(col(ClaimRow.state_since), col(ClaimRow.id))
            .limit(limit)
        )
        return self._claims((await self._session.scalars(query)).all())

    async def in_batch(self, batch_id: UUID) -> list[Claim]:
        query = select(ClaimRow).where(col(ClaimRow.batch_id) == str(batch_id)).order_by(col(ClaimRow.id))
        return self._claims((await self._session.scalars(query)).all())

    async def waiting_for(self, claim_ids: Collection[UUID]) -> list[Claim]:
        """The claims waiting for the payer's answer to any of these, oldest first."""
        query = (
            select(ClaimRow)
            .where(col(ClaimRow.waits_for).in_([str(claim_id) for claim_id in claim_ids]))
            .order_by(col(ClaimRow.created_at), col(ClaimRow.id))
        )
        return self._claims((await self._session.scalars(query)).all())

    async def by_patient_control_numbers(self, numbers: Collection[str]) -> list[Claim]:
        """The claims a payer's answer names by CLM01."""
        query = select(ClaimRow).where(col(ClaimRow.patient_control_number).in_(list(numbers)))
        return self._claims((await self._session.scalars(query)).all())

    async def unanswered_since(
        self, before: datetime, *, payer_id: str | None = None, limit: int, offset: int = 0
    ) -> list[Claim]:
        """Claims sent before `before` that no 277CA has answered (submitted), or that no 999 has (batched, a
        clearinghouse not answering): the follow-up work queue."""
        query = select(ClaimRow).where(
            col(ClaimRow.state).in_(("batched", "submitted")), col(ClaimRow.state_since) < before
        )
        if payer_id is not None:
            query = query.where(col(ClaimRow.payer_id) == payer_id)
        query = query.order_by(col(ClaimRow.state_since), col(ClaimRow.id)).limit(limit).offset(offset)
        return self._claims((await self._session.scalars(query)).all())

    async def status_due(self, payer_id: str, accepted_before: datetime, *, limit: int) -> list[Claim]:
        """The payer's accepted claims unpaid since before `accepted_before` and not asked about since then:
        the ones a 276 asks about next, the longest waiting first."""
        asked_before = or_(col(ClaimRow.status_checked_at).is_(None), col(ClaimRow.status_checked_at) < accepted_before)
        query = (
            select(ClaimRow)
            .where(
                col(ClaimRow.payer_id) == payer_id,
                col(ClaimRow.state) == "accepted",
                col(ClaimRow.state_since) < accepted_before,
                asked_before,
            )
            .order_by(col(ClaimRow.state_since), col(ClaimRow.id))
            .limit(limit)
        )
        return self._claims((await self._session.scalars(query)).all())

    async def with_open_denials(
        self, *, category: str | None = None, payer_id: str | None = None, limit: int
    ) -> list[Claim]:
        """The claims with a denial no biller has resolved yet (the denial queue), the earliest denied first."""
        query = select(ClaimRow).where(col(ClaimRow.denial_category).is_not(None))
        if category is not None:
            query = query.where(col(ClaimRow.denial_category) == category)
        if payer_id is not None:
            query = query.where(col(ClaimRow.payer_id) == payer_id)
        query = query.order_by(col(ClaimRow.denied_on), col(ClaimRow.id)).limit(limit)
        return self._claims((await self._session.scalars(query)).all())

    async def not_filed(self, payer_id: str, *, serviced_on_or_before: date, limit: int) -> list[Claim]:
        """The payer's claims it has not taken yet (not sent, or rejected) for services on or before a date: those
        whose timely-filing window closes soonest, the oldest service first."""
        query = (
            select(ClaimRow)
            .where(
                col(ClaimRow.payer_id) == payer_id,
                col(ClaimRow.state).in_(NOT_FILED),
                col(ClaimRow.frequency) != "8",
                col(ClaimRow.date_of_service) <= serviced_on_or_before,
            )
            .order_by(col(ClaimRow.date_of_service), col(ClaimRow.id))
            .limit(limit)
        )
        return self._claims((await self._session.scalars(query)).all())

    async def repoint(self, merged_patient_id: UUID, surviving_patient_id: UUID) -> list[UUID]:
        """Move the merged patient's claims to the survivor; returns their ids."""
        moved = await self.for_patient(merged_patient_id)
        for claim in moved:
            claim.patient_id = surviving_patient_id
            await self.save(claim)
        return [claim.id for claim in moved]

    def _claims(self, rows: Sequence[ClaimRow]) -> list[Claim]:
        return [self._claim(row) for row in rows]

    def _row(self, claim: Claim) -> ClaimRow:
        return ClaimRow(**self._values(claim))

    def _values(self, claim: Claim) -> dict[str, Any]:
        """The claim's columns by name: for a row to add, or straight into an update."""
        key = str(claim.id)
        content = {
            "responsibility": claim.responsibility,
            "place_of_service": claim.place_of_service,
            "location": claim.location,
            "diagnoses": list(claim.diagnoses),
            "lines": serialization.lines_to_json(claim.lines),
            "billing_provider_npi": claim.billing_provider_npi,
            "rendering_provider_npi": claim.rendering_provider_npi,
            "referring_provider_npi": claim.referring_provider_npi,
            "replaces_payer_claim_number": claim.replaces_payer_claim_number,
            "held": claim.held,
            "scrub": serialization.scrub_to_json(claim.scrub),
            "timeline": serialization.timeline_to_json(claim.timeline),
            "rejection": serialization.rejection_to_json(claim.rejection),
            "billing_notes": serialization.flat(claim.billing_notes),
            "adjudications": serialization.adjudications_to_json(claim.adjudications),
            "denials": serialization.denials_to_json(claim.denials),
            "underpaid_by": claim.underpaid_by,
            "settled_as": claim.settled_as,
            "resolutions": serialization.resolutions_to_json(claim.resolutions),
            "appeals": serialization.appeals_to_json(claim.appeals),
            "prior_payers": serialization.prior_payers_to_json(claim.prior_payers),
            "reversals_awaited": [str(payment_id) for payment_id in claim.reversals_awaited],
        }
        denial = claim.open_denial
        blocking = claim.scrub.blocking_rules if claim.scrub is not None and claim.state == "scrub_failed" else ()
        return dict(
            id=key,
            encounter_id=str(claim.encounter_id),
            encounter_version=claim.encounter_version,
            patient_id=str(claim.patient_id),
            coverage_id=str(claim.coverage_id),
            payer_id=claim.payer_id,
            state=claim.state,
            state_since=claim.in_state_since,
            date_of_service=claim.date_of_service,
            patient_control_number=claim.patient_control_number,
            frequency=claim.frequency,
            payer_claim_number=claim.payer_claim_number,
            batch_id=str(claim.batch_id) if claim.batch_id is not None else None,
            waits_for=str(claim.waits_for) if claim.waits_for is not None else None,
            status_checked_at=claim.status_checked_at,
            held=claim.kept_back,
            blocking_rules=_codes_column(frozenset(blocking)),
            rejection_codes=_codes_column(
                frozenset(p.code for p in claim.rejection.problems) if claim.rejection is not None else frozenset()
            ),
            denial_category=denial.category if denial is not None else None,
            denied_on=claim.denied_on(denial) if denial is not None else None,
            revision=claim.revision,
            content_encrypted=_sealed(self._cipher, "claim", key, content),
            created_at=claim.timeline[0].at,
        )

    def _claim(self, row: ClaimRow) -> Claim:
        content = _opened(self._cipher, "claim", row.id, row.content_encrypted)
        return Claim(
            id=UUID(row.id),
            encounter_id=UUID(row.encounter_id),
            encounter_version=row.encounter_version,
            patient_id=UUID(row.patient_id),
            coverage_id=UUID(row.coverage_id),
            payer_id=row.payer_id,
            responsibility=content["responsibility"],
            patient_control_number=row.patient_control_number,
            date_of_service=row.date_of_service,
            place_of_service=content["place_of_service"],
            location=content["location"],
            diagnoses=tuple(content["diagnoses"]),
            lines=serialization.lines_from_json(content["lines"]),
            billing_provider_npi=content["billing_provider_npi"],
            rendering_provider_npi=content["rendering_provider_npi"],
            referring_provider_npi=content["referring_provider_npi"],
            state=row.state,  # type: ignore[arg-type]
            frequency=row.frequency,  # type: ignore[arg-type]
            replaces_payer_claim_number=content["replaces_payer_claim_number"],
            payer_claim_number=row.payer_claim_number,
            batch_id=UUID(row.batch_id) if row.batch_id is not None else None,
            status_checked_at=row.status_checked_at,
            scrub=serialization.scrub_from_json(content["scrub"]),
            held=content["held"],
            waits_for=UUID(row.waits_for) if row.waits_for is not None else None,
            revision=row.revision,
            timeline=serialization.timeline_from_json(content["timeline"]),
            rejection=serialization.rejection_from_json(content["rejection"]),
            billing_notes=BillingNotes(**content["billing_notes"]),
            adjudications=serialization.adjudications_from_json(content.get("adjudications", [])),
            denials=serialization.denials_from_json(content.get("denials", [])),
            underpaid_by=Decimal(content["underpaid_by"]) if content.get("underpaid_by") is not None else None,
            settled_as=content.get("settled_as", ""),
            resolutions=serialization.resolutions_from_json(content.get("resolutions", [])),
            appeals=serialization.appeals_from_json(content.get("appeals", [])),
            prior_payers=serialization.prior_payers_from_json(content.get("prior_payers", [])),
            reversals_awaited=tuple(UUID(payment_id) for payment_id in content.get("reversals_awaited", [])),
        )


def _detached(claim: Claim) -> Claim:
    """A copy of the claim its holder may change without changing the original: its lists are its own, and
    everything else in it is immutable or replaced whole when it changes."""
    return dataclasses.replace(claim, timeline=list(claim.timeline), events=[])


def _oldest_first(claims: dict[UUID, Claim]) -> list[Claim]:
    return [
        _detached(claim) for claim in sorted(claims.values(), key=lambda claim: (claim.timeline[0].at, str(claim.id)))
    ]


class SqlBatches:
    """The 837P interchanges built: kept before they are sent, their X12 encrypted."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get(self, batch_id: UUID) -> Batch | None:
        row = await self._session.get(BatchRow, str(batch_id))
        return None if row is None else self._batch(row)

    async def add(self, batch: Batch) -> None:
        self._session.add(self._row(batch))
        await self._session.flush()

    async def save(self, batch: Batch) -> None:
        await self._session.merge(self._row(batch))
        await self._session.flush()

    async def unanswered(self) -> list[Batch]:
        """Batches built or sent that no 999 has answered yet, oldest first: the sender's work."""
        query = (
            select(BatchRow)
            .where(col(BatchRow.state).in_(("built", "sent")))
            .order_by(col(BatchRow.built_at), col(BatchRow.id))
        )
        return [self._batch(row) for row in (await self._session.scalars(query)).all()]

    async def search(
        self, *, payer_id: str | None = None, state: BatchState | None = None, limit: int = 100, offset: int = 0
    ) -> list[Batch]:
        """Batches, the newest first."""
        query = select(BatchRow)
        if payer_id is not None:
            query = query.where(col(BatchRow.payer_id) == payer_id)
        if state is not None:
            query = query.where(col(BatchRow.state) == state)
        query = query.order_by(col(BatchRow.built_at).desc(), col(BatchRow.id)).limit(limit).offset(offset)
        return [self._batch(row) for row in (await self._session.scalars(query)).all()]

    def _row(self, batch: Batch) -> BatchRow:
        key = str(batch.id)
        return BatchRow(
            id=key,
            payer_id=batch.payer_id,
            interchange_control_number=batch.interchange_control_number,
            state=batch.state,
            claim_ids=json.dumps([str(claim_id) for claim_id in batch.claim_ids]),
            x12_encrypted=self._cipher.encrypt(batch.x12, context=sealed_context("claim_batch", key, "x12")),
            built_at=batch.built_at,
            sent_at=batch.sent_at,
            attempts=batch.attempts,
            answered_at=batch.answered_at,
            acknowledgment_encrypted=(
                self._cipher.encrypt(batch.acknowledgment, context=sealed_context("claim_batch", key, "acknowledgment"))
                if batch.acknowledgment is not None
                else None
            ),
        )

    def _batch(self, row: BatchRow) -> Batch:
        return Batch(
            id=UUID(row.id),
            payer_id=row.payer_id,
            interchange_control_number=row.interchange_control_number,
            claim_ids=tuple(UUID(claim_id) for claim_id in json.loads(row.claim_ids)),
            x12=self._cipher.decrypt(row.x12_encrypted, context=sealed_context("claim_batch", row.id, "x12")),
            built_at=row.built_at,
            state=row.state,  # type: ignore[arg-type]
            sent_at=row.sent_at,
            attempts=row.attempts,
            answered_at=row.answered_at,
            acknowledgment=self._opened_acknowledgment(row),
        )

    def _opened_acknowledgment(self, row: BatchRow) -> str | None:
        if row.acknowledgment_encrypted is None:
            return None
        return self._cipher.decrypt(
            row.acknowledgment_encrypted, context=sealed_context("claim_batch", row.id, "acknowledgment")
        )


class SqlAcknowledgmentFiles:
    """The 277CA files taken from the mailbox, known by their content's digest."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def seen(self, digest: str) -> bool:
        return await self._session.get(AcknowledgmentFileRow, digest) is not None

    async def add(self, file: AcknowledgmentFile) -> None:
        self._session.add(
            AcknowledgmentFileRow(
                digest=file.digest,
                mailbox_file_id=file.mailbox_file_id,
                payer_id=file.payer_id,
                claims=file.claims,
                content_encrypted=self._cipher.encrypt(
                    file.content, context=sealed_context("acknowledgment_file", file.digest, "content")
                ),
                received_at=file.received_at,
            )
        )
        await self._session.flush()


class SqlDecidedServices:
    """The lines payers decided, the denial-risk warning's history: a claim's rows are replaced whenever its
    standing payments or their denial change, so they always say what the claim's payments say now."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher
        self._by_payer: dict[tuple[str, date], tuple[DecidedService, ...]] = {}

    async def record(self, claim: Claim) -> None:
        """Keep what the claim's standing payments decided of its lines, in place of what was kept before."""
        self._by_payer = {}
        await self._session.execute(delete(DecidedServiceRow).where(col(DecidedServiceRow.claim_id) == str(claim.id)))
        self._session.add_all(
            DecidedServiceRow(
                payment_id=str(payment_id),
                line_number=line_number,
                claim_id=str(claim.id),
                payer_id=service.payer_id,
                decided_on=service.decided_on,
                denied=service.denied,
                content_encrypted=_sealed(
                    self._cipher, "decided_service", f"{payment_id}:{line_number}",
                    {"procedure_code": service.procedure_code, "modifiers": list(service.modifiers),
                     "diagnosis_category": service.diagnosis_category, "reasons": list(service.reasons)},
                ),
            )
            for line_number, payment_id, service in services_decided(claim)
        )  # fmt: skip

    async def for_payer(self, payer_id: str, *, since: date) -> tuple[DecidedService, ...]:
        """The payer's services decided after `since`, read once per unit of work (every claim to the payer scrubbed
        in it shares the one tuple)."""
        key = (payer_id, since)
        if key not in self._by_payer:
            query = select(DecidedServiceRow).where(
                col(DecidedServiceRow.payer_id) == payer_id, col(DecidedServiceRow.decided_on) > since
            )
            self._by_payer[key] = tuple(self._service(row) for row in (await self._session.scalars(query)).all())
        return self._by_payer[key]

    def _service(self, row: DecidedServiceRow) -> DecidedService:
        content = _opened(self._cipher, "decided_service", f"{row.payment_id}:{row.line_number}", row.content_encrypted)
        return DecidedService(
            UUID(row.claim_id), row.payer_id, content["procedure_code"], tuple(content["modifiers"]),
            content["diagnosis_category"], row.decided_on, row.denied, tuple(content["reasons"]),
        )  # fmt: skip


class SqlDirectories:
    """The provider directory (one document) and the payer directory (a row per payer), each replaced whole.
    Both are kept in the process as read (`rcm_common.reference`): every claim's scrub reads them."""

    def __init__(self, session: AsyncSession, reference: ReferenceReads) -> None:
        self._session = session
        self._reference = reference

    async def providers(self) -> ProviderDirectory | None:
        kept = await self._reference.kept(PROVIDER_DIRECTORY)
        if "providers" not in kept:
            row = await self._session.get(ProviderDirectoryRow, _PROVIDER_DIRECTORY_ROW, execution_options=FRESH)
            kept["providers"] = None if row is None else _provider_directory(json.loads(row.document))
        return cast("ProviderDirectory | None", kept["providers"])

    async def replace_providers(self, directory: ProviderDirectory, by: str, now: datetime) -> None:
        self._reference.changing(PROVIDER_DIRECTORY)
        document = serialization.dumps(asdict(directory))
        await self._session.merge(ProviderDirectoryRow(id=_PROVIDER_DIRECTORY_ROW, document=document, updated_by=by,
                                                       updated_at=now))  # fmt: skip
        await self._session.flush()

    async def payers(self) -> list[PayerProfile]:
        rows = (await self._session.scalars(select(PayerProfileRow).order_by(col(PayerProfileRow.payer_id)))).all()
        return [_payer(row) for row in rows]

    async def payer(self, payer_id: str) -> PayerProfile | None:
        kept = await self._reference.kept(PAYER_DIRECTORY)
        if payer_id not in kept:
            row = await self._session.get(PayerProfileRow, payer_id, execution_options=FRESH)
            kept[payer_id] = None if row is None else _payer(row)
        return cast("PayerProfile | None", kept[payer_id])

    async def replace_payers(self, payers: Sequence[PayerProfile], now: datetime) -> None:
        self._reference.changing(PAYER_DIRECTORY)
        await self._session.execute(delete(PayerProfileRow))
        self._session.add_all(
            PayerProfileRow(
                payer_id=payer.payer_id,
                name=payer.name,
                filing_indicator=payer.filing_indicator,
                timely_filing_days=payer.timely_filing_days,
                follow_up_days=payer.follow_up_days,
                batch_size=payer.batch_size,
                batch_interval_seconds=payer.batch_interval_seconds,
                eligibility_max_age_days=payer.eligibility_max_age_days,
                prior_authorization_codes=_codes_column(payer.prior_authorization_codes),
                appeal_days=payer.appeal_days,
                appeals_address=serialization.dumps(asdict(payer.appeals_address)) if payer.appeals_address else None,
                updated_at=now,
            )
            for payer in payers
        )
        await self._session.flush()


def _payer(row: PayerProfileRow) -> PayerProfile:
    return PayerProfile(
        payer_id=row.payer_id,
        name=row.name,
        filing_indicator=row.filing_indicator,
        timely_filing_days=row.timely_filing_days,
        follow_up_days=row.follow_up_days,
        batch_size=row.batch_size,
        batch_interval_seconds=row.batch_interval_seconds,
        prior_authorization_codes=_codes(row.prior_authorization_codes),
        eligibility_max_age_days=row.eligibility_max_age_days,
        appeal_days=row.appeal_days,
        appeals_address=Address(**json.loads(row.appeals_address)) if row.appeals_address is not None else None,
    )


def _provider_directory(data: dict[str, Any]) -> ProviderDirectory:
    billing = data["billing"]
    return ProviderDirectory(
        billing=BillingProvider(
            name=billing["name"],
            npi=billing["npi"],
            tax_id=billing["tax_id"],
            taxonomy=billing["taxonomy"],
            address=Address(**billing["address"]),
            pay_to=serialization.address_from_json(billing["pay_to"]),
            phone=billing.get("phone", ""),
        ),
        providers=tuple(Provider(**provider) for provider in data["providers"]),
        facilities=tuple(
            Facility(f["location"], f["name"], Address(**f["address"]), f["npi"]) for f in data["facilities"]
        ),
    )
