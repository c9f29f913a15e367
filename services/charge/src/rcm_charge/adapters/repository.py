"""SQL repositories for charge's unit of work. Encrypted columns are bound to their table, row and column,
so a ciphertext copied into another row does not decrypt."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final
from uuid import UUID

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from rcm_charge.adapters import serialization
from rcm_charge.adapters.tables import (
    ChargemasterRow,
    ContractRateRow,
    CoverageFactsRow,
    EncounterRow,
    ImportRow,
    PatientFactsRow,
    ReviewItemRow,
)
from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.domain.model import Encounter, ReviewItem, Source
from rcm_charge.domain.pricing import FEE_SCHEDULE_RATE, ChargemasterEntry, ContractRate
from rcm_charge.service_layer.unit_of_work import ImportRecord
from rcm_common.crypto import BlindIndex, FieldCipher, sealed_context
from rcm_common.db import is_postgres
from rcm_common.errors import ConcurrentUpdate
from rcm_common.reference import FRESH, ReferenceReads

CHARGEMASTER: Final = "chargemaster"
CONTRACT_RATES: Final = "contract_rates"
"""The names of the price lists' versions (`rcm_common.reference`)."""


class SqlPatients:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get(self, patient_id: UUID) -> PatientCopy | None:
        row = await self._session.get(PatientFactsRow, str(patient_id))
        if row is None:
            return None
        birth_date = self._cipher.decrypt(
            row.birth_date_encrypted, context=sealed_context("patient_facts", row.patient_id, "birth_date")
        )
        return PatientCopy(
            patient_id=patient_id,
            sex=row.sex,  # type: ignore[arg-type]
            birth_date=date.fromisoformat(birth_date),
            merged_into=UUID(row.merged_into_id) if row.merged_into_id else None,
        )

    async def save(self, patient: PatientCopy, now: datetime) -> None:
        key = str(patient.patient_id)
        await self._session.merge(
            PatientFactsRow(
                patient_id=key,
                sex=patient.sex,
                birth_date_encrypted=self._cipher.encrypt(
                    patient.birth_date.isoformat(), context=sealed_context("patient_facts", key, "birth_date")
                ),
                merged_into_id=str(patient.merged_into) if patient.merged_into else None,
                updated_at=now,
            )
        )
        await self._session.flush()  # visible to `get` in this unit of work


class SqlCoverages:
    """Coverage copies. The member id is kept only as its blind index: the import matches on it, and
    nothing here ever shows it, so the copy read back carries an empty member id."""

    def __init__(self, session: AsyncSession, blind_index: BlindIndex) -> None:
        self._session = session
        self._index = blind_index

    async def get(self, coverage_id: UUID) -> CoverageCopy | None:
        row = await self._session.get(CoverageFactsRow, str(coverage_id))
        return None if row is None else _coverage(row)

    async def find_by_member(self, payer_id: str, member_id: str) -> list[CoverageCopy]:
        query = select(CoverageFactsRow).where(
            col(CoverageFactsRow.payer_id) == payer_id,
            col(CoverageFactsRow.member_index) == self._index.digest(member_id),
        )
        return [_coverage(row) for row in (await self._session.scalars(query)).all()]

    async def save(self, coverage: CoverageCopy, now: datetime) -> None:
        existing = await self._session.get(CoverageFactsRow, str(coverage.coverage_id))
        member_index = (
            self._index.digest(coverage.member_id) if coverage.member_id or existing is None else existing.member_index
        )
        await self._session.merge(
            CoverageFactsRow(
                coverage_id=str(coverage.coverage_id),
                patient_id=str(coverage.patient_id),
                payer_id=coverage.payer_id,
                member_index=member_index,
                effective_date=coverage.effective_date,
                termination_date=coverage.termination_date,
                updated_at=now,
            )
        )
        await self._session.flush()


def _coverage(row: CoverageFactsRow) -> CoverageCopy:
    return CoverageCopy(
        coverage_id=UUID(row.coverage_id),
        patient_id=UUID(row.patient_id),
        payer_id=row.payer_id,
        member_id="",
        effective_date=row.effective_date,
        termination_date=row.termination_date,
    )


class SqlEncounters:
    """Encounters with their review items. A save names the revision it read: when another transaction saved
    the encounter since, nothing is written and ConcurrentUpdate is raised (the caller reads it again)."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher, blind_index: BlindIndex) -> None:
        self._session = session
        self._cipher = cipher
        self._index = blind_index

    async def get(self, encounter_id: UUID, *, for_update: bool = False) -> Encounter | None:
        query = select(EncounterRow).where(col(EncounterRow.id) == str(encounter_id))
        if for_update and is_postgres(self._session):
            query = query.with_for_update()
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else (await self._encounters([row]))[0]

    async def add(self, encounter: Encounter) -> None:
        """A new encounter: inserted without the lookup a merge makes."""
        encounter.revision = 1
        self._session.add(self._row(encounter))
        self._session.add_all([self._review_row(review) for review in encounter.reviews])
        await self._session.flush()

    async def save(self, encounter: Encounter) -> None:
        row = self._row(encounter)
        row.revision = encounter.revision + 1
        changed = await self._session.execute(
            update(EncounterRow)
            .where(col(EncounterRow.id) == row.id, col(EncounterRow.revision) == encounter.revision)
            .values({name: getattr(row, name) for name in EncounterRow.model_fields if name != "id"})
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate("The encounter was changed by someone else meanwhile; read it and try again.")
        encounter.revision += 1
        for review in encounter.reviews:
            await self._session.merge(self._review_row(review))
        await self._session.flush()

    async def find_imported(self, natural_key: str) -> UUID | None:
        query = select(EncounterRow.id).where(col(EncounterRow.source_key) == self._index.exact_digest(natural_key))
        found = (await self._session.scalars(query)).first()
        return UUID(found) if found else None

    async def held_for_patient(self, patient_id: UUID) -> list[Encounter]:
        query = select(EncounterRow).where(
            col(EncounterRow.patient_id) == str(patient_id), col(EncounterRow.status) == "held"
        )
        if is_postgres(self._session):
            query = query.with_for_update()
        return await self._encounters((await self._session.scalars(query)).all())

    async def captured_same_day(self, patient_id: UUID, day: date, excluding: UUID | None) -> list[Encounter]:
        query = select(EncounterRow).where(
            col(EncounterRow.patient_id) == str(patient_id),
            col(EncounterRow.date_of_service) == day,
            col(EncounterRow.status) == "captured",
        )
        if excluding is not None:
            query = query.where(col(EncounterRow.id) != str(excluding))
        return await self._encounters((await self._session.scalars(query)).all())

    async def open_reviews(self, *, limit: int, offset: int, issue_code: str | None) -> list[Encounter]:
        """Encounters waiting for a coder, the longest waiting first."""
        query = (
            select(ReviewItemRow.encounter_id)
            .where(col(ReviewItemRow.resolved_at).is_(None))
            .order_by(col(ReviewItemRow.opened_at), col(ReviewItemRow.id))
            .offset(offset)
            .limit(limit)
        )
        if issue_code is not None:
            query = query.where(col(ReviewItemRow.issue_codes).contains(f",{issue_code},", autoescape=True))
        encounter_ids = (await self._session.scalars(query)).all()
        rows = {
            row.id: row
            for row in (
                await self._session.scalars(select(EncounterRow).where(col(EncounterRow.id).in_(encounter_ids)))
            ).all()
        }
        return await self._encounters([rows[encounter_id] for encounter_id in encounter_ids])

    async def by_review(self, review_id: UUID, *, for_update: bool = False) -> Encounter | None:
        review = await self._session.get(ReviewItemRow, str(review_id))
        return None if review is None else await self.get(UUID(review.encounter_id), for_update=for_update)

    async def repoint(self, merged_patient_id: UUID, surviving_patient_id: UUID) -> list[UUID]:
        rows = (
            await self._session.scalars(
                select(EncounterRow).where(col(EncounterRow.patient_id) == str(merged_patient_id))
            )
        ).all()
        moved = await self._encounters(rows)
        for encounter in moved:
            encounter.details = replace(encounter.details, patient_id=surviving_patient_id)
            await self.save(encounter)
        return [encounter.id for encounter in moved]

    def _row(self, encounter: Encounter) -> EncounterRow:
        key = str(encounter.id)
        content = {
            "details": serialization.details_to_json(encounter.details),
            "issues": serialization.issues_to_json(encounter.issues),
            "accepted_reviews": sorted(encounter.accepted_reviews),
            "void_reason": encounter.void_reason,
            "void_note": encounter.void_note,
            "claim_reference": encounter.source.claim_reference,
            "imported_patient": serialization.imported_patient_to_json(encounter.source.imported_patient),
            "findings": list(encounter.source.findings),
            "icd9_diagnoses": encounter.source.icd9_diagnoses,
            "natural_key": encounter.source.natural_key,
        }
        details = encounter.details
        return EncounterRow(
            id=key,
            patient_id=str(details.patient_id) if details.patient_id else None,
            coverage_id=str(details.coverage_id) if details.coverage_id else None,
            status=encounter.status,
            version=encounter.version,
            revision=encounter.revision,
            date_of_service=details.date_of_service,
            source_kind=encounter.source.kind,
            import_id=str(encounter.source.import_id) if encounter.source.import_id else None,
            # A voided import gives its key up, so the claim can be imported again.
            source_key=(
                self._index.exact_digest(encounter.source.natural_key)
                if encounter.source.natural_key and encounter.status != "voided"
                else None
            ),
            content_encrypted=self._cipher.encrypt(
                serialization.dumps(content), context=sealed_context("encounter", key, "content")
            ),
            created_at=encounter.created_at,
            updated_at=encounter.updated_at,
        )

    def _review_row(self, review: ReviewItem) -> ReviewItemRow:
        key = str(review.id)
        return ReviewItemRow(
            id=key,
            encounter_id=str(review.encounter_id),
            issue_codes=f",{','.join(dict.fromkeys(issue.code for issue in review.issues))},"[:2000],
            issues_encrypted=self._cipher.encrypt(
                serialization.dumps(serialization.issues_to_json(review.issues)),
                context=sealed_context("review_item", key, "issues"),
            ),
            opened_at=review.opened_at,
            resolved_at=review.resolved_at,
            resolved_by=review.resolved_by,
            decision=review.decision,
            note_encrypted=(
                self._cipher.encrypt(review.note, context=sealed_context("review_item", key, "note"))
                if review.note is not None
                else None
            ),
        )

    async def _encounters(self, rows: Sequence[EncounterRow]) -> list[Encounter]:
        """The encounters of the rows, in their order, with their review items read in one query for all."""
        if not rows:
            return []
        reviews: dict[str, list[ReviewItemRow]] = defaultdict(list)
        for review in (
            await self._session.scalars(
                select(ReviewItemRow)
                .where(col(ReviewItemRow.encounter_id).in_([row.id for row in rows]))
                .order_by(col(ReviewItemRow.opened_at), col(ReviewItemRow.id))
            )
        ).all():
            reviews[review.encounter_id].append(review)
        return [self._encounter(row, reviews[row.id]) for row in rows]

    def _encounter(self, row: EncounterRow, reviews: list[ReviewItemRow]) -> Encounter:
        content: dict[str, Any] = json.loads(
            self._cipher.decrypt(row.content_encrypted, context=sealed_context("encounter", row.id, "content"))
        )
        return Encounter(
            id=UUID(row.id),
            details=serialization.details_from_json(content["details"]),
            status=row.status,  # type: ignore[arg-type]
            issues=serialization.issues_from_json(content["issues"]),
            created_at=row.created_at,
            updated_at=row.updated_at,
            source=Source(
                kind=row.source_kind,  # type: ignore[arg-type]
                import_id=UUID(row.import_id) if row.import_id else None,
                claim_reference=content["claim_reference"],
                imported_patient=serialization.imported_patient_from_json(content["imported_patient"]),
                findings=tuple(content["findings"]),
                icd9_diagnoses=content["icd9_diagnoses"],
                natural_key=content["natural_key"],
            ),
            version=row.version,
            revision=row.revision,
            accepted_reviews=frozenset(content["accepted_reviews"]),
            void_reason=content["void_reason"],
            void_note=content["void_note"],
            reviews=[self._review(review) for review in reviews],
        )

    def _review(self, row: ReviewItemRow) -> ReviewItem:
        return ReviewItem(
            id=UUID(row.id),
            encounter_id=UUID(row.encounter_id),
            issues=serialization.issues_from_json(
                json.loads(
                    self._cipher.decrypt(row.issues_encrypted, context=sealed_context("review_item", row.id, "issues"))
                )
            ),
            opened_at=row.opened_at,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
            decision=row.decision,  # type: ignore[arg-type]
            note=(
                self._cipher.decrypt(row.note_encrypted, context=sealed_context("review_item", row.id, "note"))
                if row.note_encrypted is not None
                else None
            ),
        )


class SqlPrices:
    """The chargemaster and the contract rates. What captures read of them, by code, is kept in the process
    until either changes (`rcm_common.reference`): every capture prices its lines against them. A code the
    chargemaster does not list is never kept (an imported file may name any number of them), so what is kept
    is bounded by the lists themselves."""

    def __init__(self, session: AsyncSession, reference: ReferenceReads) -> None:
        self._session = session
        self._reference = reference

    async def chargemaster(self, codes: Iterable[str] | None = None) -> list[ChargemasterEntry]:
        if codes is None:
            return [_chargemaster_entry(row) for row in await self._chargemaster_rows(None)]
        kept = await self._reference.kept(CHARGEMASTER)
        wanted = sorted(set(codes))
        entries = {code: kept[code] for code in wanted if code in kept}
        if missing := [code for code in wanted if code not in kept]:
            found: dict[str, list[ChargemasterEntry]] = {code: [] for code in missing}
            for row in await self._chargemaster_rows(missing):
                found[row.code].append(_chargemaster_entry(row))
            listed = {code: tuple(code_entries) for code, code_entries in found.items() if code_entries}
            kept.update(listed)
            entries.update(listed)
        return [entry for code in wanted for entry in entries.get(code, ())]

    async def _chargemaster_rows(self, codes: list[str] | None) -> Sequence[ChargemasterRow]:
        query = select(ChargemasterRow).order_by(
            col(ChargemasterRow.code), col(ChargemasterRow.modifier), col(ChargemasterRow.location)
        )
        if codes is not None:
            query = query.where(col(ChargemasterRow.code).in_(codes))
        return (await self._session.scalars(query.execution_options(**FRESH))).all()

    async def replace_chargemaster(self, entries: list[ChargemasterEntry], now: datetime) -> None:
        self._reference.changing(CHARGEMASTER)
        await self._session.execute(delete(ChargemasterRow))
        self._session.add_all(
            ChargemasterRow(
                code=entry.code,
                modifier=entry.modifier or "",
                location=entry.location or "",
                charge=entry.charge,
                description=entry.description,
                updated_at=now,
            )
            for entry in entries
        )
        await self._session.flush()

    async def rates(self, payer_id: str | None = None, codes: Iterable[str] | None = None) -> list[ContractRate]:
        """The rates of one payer or of every payer, for the codes or for all, by payer, code and modifier. A
        code's rates (none, for a payer priced by the fee schedule) are kept when the chargemaster lists it."""
        if codes is None:
            return [_contract_rate(row) for row in await self._rate_rows(payer_id, None)]
        kept = await self._reference.kept(CONTRACT_RATES)
        wanted = sorted(set(codes))
        rates = {code: kept[code] for code in wanted if code in kept}
        if missing := [code for code in wanted if code not in kept]:
            found: dict[str, list[ContractRate]] = {code: [] for code in missing}
            for row in await self._rate_rows(None, missing):
                found[row.code].append(_contract_rate(row))
            listed = await self._reference.kept(CHARGEMASTER)
            for code, code_rates in found.items():
                rates[code] = tuple(code_rates)
                if code_rates or code in listed or code == FEE_SCHEDULE_RATE:
                    kept[code] = rates[code]
        chosen = [rate for code in wanted for rate in rates[code] if payer_id is None or rate.payer_id == payer_id]
        return sorted(chosen, key=lambda rate: (rate.payer_id, rate.code, rate.modifier or ""))

    async def _rate_rows(self, payer_id: str | None, codes: list[str] | None) -> Sequence[ContractRateRow]:
        query = select(ContractRateRow).order_by(
            col(ContractRateRow.payer_id), col(ContractRateRow.code), col(ContractRateRow.modifier)
        )
        if payer_id is not None:
            query = query.where(col(ContractRateRow.payer_id) == payer_id)
        if codes is not None:
            query = query.where(col(ContractRateRow.code).in_(codes))
        return (await self._session.scalars(query.execution_options(**FRESH))).all()

    async def replace_rates(self, payer_ids: set[str], rates: list[ContractRate], now: datetime) -> None:
        """The contracts of the payers named are replaced whole; other payers' rates stay."""
        self._reference.changing(CONTRACT_RATES)
        await self._session.execute(delete(ContractRateRow).where(col(ContractRateRow.payer_id).in_(payer_ids)))
        self._session.add_all(
            ContractRateRow(
                payer_id=rate.payer_id,
                code=rate.code,
                modifier=rate.modifier or "",
                allowed=rate.allowed,
                updated_at=now,
            )
            for rate in rates
        )
        await self._session.flush()


def _chargemaster_entry(row: ChargemasterRow) -> ChargemasterEntry:
    return ChargemasterEntry(
        code=row.code,
        charge=Decimal(row.charge),
        modifier=row.modifier or None,
        location=row.location or None,
        description=row.description,
    )


def _contract_rate(row: ContractRateRow) -> ContractRate:
    return ContractRate(
        payer_id=row.payer_id, code=row.code, allowed=Decimal(row.allowed), modifier=row.modifier or None
    )


class SqlImports:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, file_sha256: str) -> ImportRecord | None:
        query = select(ImportRow).where(col(ImportRow.file_sha256) == file_sha256)
        row = (await self._session.scalars(query)).one_or_none()
        if row is None:
            return None
        return ImportRecord(
            id=UUID(row.id),
            file_sha256=row.file_sha256,
            report=json.loads(row.report_json),
            imported_by=row.imported_by,
            imported_at=row.imported_at,
        )

    async def add(self, record: ImportRecord) -> None:
        self._session.add(
            ImportRow(
                id=str(record.id),
                file_sha256=record.file_sha256,
                report_json=serialization.dumps(record.report),
                imported_by=record.imported_by,
                imported_at=record.imported_at,
            )
        )
        await self._session.flush()
