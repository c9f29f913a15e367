"""The SQL patient repository: maps the patient aggregate to rows, encrypting what must be encrypted."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from pydantic import TypeAdapter
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rcm_common.crypto import BlindIndex, FieldCipher, sealed_context
from rcm_common.errors import ConcurrentUpdate, Conflict
from rcm_common.types import Clock
from rcm_registration.adapters.tables import CoverageRow, MrnSequence, PatientRow
from rcm_registration.domain.model import (
    Address,
    Coverage,
    CoverageTerms,
    Demographics,
    Guarantor,
    Patient,
    Subscriber,
    normalise_name,
)

_GUARANTOR = TypeAdapter(Guarantor)
_SUBSCRIBER = TypeAdapter(Subscriber | None)
PATIENT = PatientRow.__table__  # type: ignore[attr-defined]
COVERAGE = CoverageRow.__table__  # type: ignore[attr-defined]
MRN = MrnSequence.__table__  # type: ignore[attr-defined]


def mrn_with_check_digit(number: int) -> str:
    """Eight digits and a Luhn check digit, so a mistyped MRN is caught at the front desk."""
    body = f"{number:08d}"
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return body + str((10 - total % 10) % 10)


class SqlPatientRepository:
    def __init__(self, session: AsyncSession, cipher: FieldCipher, blind_index: BlindIndex, clock: Clock) -> None:
        self._session = session
        self._clock = clock
        self._cipher = cipher
        self._index = blind_index
        self.seen: dict[UUID, Patient] = {}
        self._stored_versions: dict[UUID, int] = {}
        self._stored_coverages: dict[UUID, Coverage] = {}  # each coverage as last read or written

    async def next_mrn(self) -> str:
        result = await self._session.execute(
            update(MRN).where(MRN.c.name == "mrn").values(value=MRN.c.value + 1).returning(MRN.c.value)
        )
        return mrn_with_check_digit(int(result.scalar_one()))

    async def add(self, patient: Patient) -> None:
        self.seen[patient.id] = patient

    async def get(self, patient_id: UUID) -> Patient | None:
        if patient_id in self.seen:
            return self.seen[patient_id]
        row = (await self._session.execute(select(PATIENT).where(PATIENT.c.id == str(patient_id)))).first()
        if row is None:
            return None
        return (await self._hydrate([row]))[0]

    async def find_same_person(self, details: Demographics) -> UUID | None:
        first, last, born = details.identity_key()
        found = await self._session.scalar(
            select(PATIENT.c.id).where(
                PATIENT.c.status == "active",
                PATIENT.c.first_name_key == first,
                PATIENT.c.last_name_key == last,
                PATIENT.c.birth_date == born,
            )
        )
        return UUID(found) if found else None

    async def find_policy_holder(self, terms: CoverageTerms) -> UUID | None:
        found = await self._session.scalar(
            select(COVERAGE.c.patient_id).where(
                COVERAGE.c.status == "active",
                COVERAGE.c.relationship == "self",
                COVERAGE.c.policy_index == self._policy_index(terms),
            )
        )
        return UUID(found) if found else None

    async def search(
        self,
        *,
        last_name: str | None,
        first_name: str | None,
        birth_date: date | None,
        mrn: str | None,
        limit: int,
        offset: int,
    ) -> list[Patient]:
        query = select(PATIENT)
        if last_name:
            query = query.where(PATIENT.c.last_name_key.startswith(normalise_name(last_name), autoescape=True))
        if first_name:
            query = query.where(PATIENT.c.first_name_key.startswith(normalise_name(first_name), autoescape=True))
        if birth_date:
            query = query.where(PATIENT.c.birth_date == birth_date)
        if mrn:
            query = query.where(PATIENT.c.mrn == mrn.strip())
        query = query.order_by(PATIENT.c.last_name_key, PATIENT.c.first_name_key, PATIENT.c.id)
        rows = (await self._session.execute(query.limit(limit).offset(offset))).all()
        return await self._hydrate(rows)

    async def save(self, patient: Patient) -> None:
        """Write what changed; a patient changed meanwhile by another transaction is a conflict, not a loss."""
        stored = self._stored_versions.get(patient.id)
        if stored == patient.version:
            return
        values = self._patient_values(patient)
        try:
            if stored is None:
                await self._session.execute(insert(PATIENT).values(**values, created_at=values["updated_at"]))
            else:
                result = await self._session.execute(
                    update(PATIENT).where(PATIENT.c.id == values["id"], PATIENT.c.version == stored).values(**values)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    raise ConcurrentUpdate("The patient was changed by another request at the same time; retry.")
            for coverage in patient.coverages:
                await self._save_coverage(coverage)
        except IntegrityError as exc:
            raise Conflict("The change collides with a registration made at the same time; retry.") from exc
        self._stored_versions[patient.id] = patient.version

    async def _save_coverage(self, coverage: Coverage) -> None:
        """Write a coverage that is new or changed; one as it was read is left alone (its columns are encrypted,
        and a patient's every save would otherwise encrypt and rewrite all of them)."""
        stored = self._stored_coverages.get(coverage.id)
        if stored == coverage:
            return
        values = self._coverage_values(coverage)
        if stored is not None:
            await self._session.execute(update(COVERAGE).where(COVERAGE.c.id == values["id"]).values(**values))
        else:
            await self._session.execute(insert(COVERAGE).values(**values, created_at=values["updated_at"]))
        self._stored_coverages[coverage.id] = copy.copy(coverage)

    async def _hydrate(self, rows: Sequence[Any]) -> list[Patient]:
        ids = [row.id for row in rows]
        coverage_rows = (
            await self._session.execute(
                select(COVERAGE).where(COVERAGE.c.patient_id.in_(ids)).order_by(COVERAGE.c.created_at, COVERAGE.c.id)
            )
        ).all()
        by_patient: dict[str, list[Coverage]] = {}
        for row in coverage_rows:
            coverage = self._coverage(row)
            by_patient.setdefault(row.patient_id, []).append(coverage)
            self._stored_coverages[coverage.id] = copy.copy(coverage)
        patients = []
        for row in rows:
            patient_id = UUID(row.id)
            if patient_id in self.seen:
                patients.append(self.seen[patient_id])
                continue
            patient = self._patient(row, by_patient.get(row.id, []))
            self.seen[patient_id] = patient
            self._stored_versions[patient_id] = patient.version
            patients.append(patient)
        return patients

    def _policy_index(self, terms: CoverageTerms) -> str:
        return self._index.digest(f"{terms.payer_id}|{terms.member_id}")

    def _patient(self, row: Any, coverages: list[Coverage]) -> Patient:
        ssn = (
            self._cipher.decrypt(row.ssn_encrypted, context=sealed_context("patient", row.id, "ssn"))
            if row.ssn_encrypted
            else None
        )
        return Patient(
            id=UUID(row.id),
            mrn=row.mrn,
            details=Demographics(
                first_name=row.first_name,
                middle_name=row.middle_name,
                last_name=row.last_name,
                birth_date=row.birth_date,
                sex=row.sex,
                address=Address(
                    line1=row.address_line1,
                    line2=row.address_line2,
                    city=row.city,
                    state=row.state,
                    postal_code=row.postal_code,
                ),
                phone=row.phone,
                email=row.email,
                guarantor=_GUARANTOR.validate_json(row.guarantor),
            ),
            ssn=ssn,
            status=row.status,
            merged_into_id=UUID(row.merged_into_id) if row.merged_into_id else None,
            version=row.version,
            coverages=coverages,
        )

    def _patient_values(self, patient: Patient) -> dict[str, Any]:
        details = patient.details
        first, last, _ = details.identity_key()
        return {
            "id": str(patient.id),
            "mrn": patient.mrn,
            "first_name": details.first_name,
            "middle_name": details.middle_name,
            "last_name": details.last_name,
            "first_name_key": first,
            "last_name_key": last,
            "birth_date": details.birth_date,
            "sex": details.sex,
            "address_line1": details.address.line1,
            "address_line2": details.address.line2,
            "city": details.address.city,
            "state": details.address.state,
            "postal_code": details.address.postal_code,
            "phone": details.phone,
            "email": details.email,
            "guarantor": _GUARANTOR.dump_json(details.guarantor).decode(),
            "ssn_encrypted": (
                self._cipher.encrypt(patient.ssn, context=sealed_context("patient", patient.id, "ssn"))
                if patient.ssn
                else None
            ),
            "ssn_index": self._index.digest(patient.ssn) if patient.ssn else None,
            "status": patient.status,
            "merged_into_id": str(patient.merged_into_id) if patient.merged_into_id else None,
            "version": patient.version,
            "updated_at": self._clock(),
        }

    def _coverage(self, row: Any) -> Coverage:
        return Coverage(
            id=UUID(row.id),
            patient_id=UUID(row.patient_id),
            terms=CoverageTerms(
                payer_id=row.payer_id,
                payer_name=row.payer_name,
                member_id=self._cipher.decrypt(
                    row.member_id_encrypted, context=sealed_context("coverage", row.id, "member_id")
                ),
                relationship=row.relationship,
                effective_date=row.effective_date,
                order=row.coverage_order,
                group_number=row.group_number,
                plan_type=row.plan_type,
                subscriber=_SUBSCRIBER.validate_json(row.subscriber) if row.subscriber else None,
                termination_date=row.termination_date,
            ),
            status=row.status,
            end_reason=row.end_reason,
        )

    def _coverage_values(self, coverage: Coverage) -> dict[str, Any]:
        terms = coverage.terms
        return {
            "id": str(coverage.id),
            "patient_id": str(coverage.patient_id),
            "payer_id": terms.payer_id,
            "payer_name": terms.payer_name,
            "member_id_encrypted": self._cipher.encrypt(
                terms.member_id, context=sealed_context("coverage", coverage.id, "member_id")
            ),
            "policy_index": self._policy_index(terms),
            "group_number": terms.group_number,
            "plan_type": terms.plan_type,
            "relationship": terms.relationship,
            "subscriber": _SUBSCRIBER.dump_json(terms.subscriber).decode() if terms.subscriber else None,
            "effective_date": terms.effective_date,
            "termination_date": terms.termination_date,
            "coverage_order": terms.order,
            "status": coverage.status,
            "end_reason": coverage.end_reason,
            "updated_at": self._clock(),
        }
