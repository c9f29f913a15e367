"""SQL repositories for eligibility's aggregates. PHI columns are encrypted here and nowhere else, each
value bound to its row and column."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from rcm_common.crypto import FieldCipher, sealed_context
from rcm_common.db import is_postgres
from rcm_common.errors import ConcurrentUpdate
from rcm_eligibility.adapters import serialization
from rcm_eligibility.adapters.tables import (
    AllowedAmountRow,
    AppointmentRow,
    CoverageCopyRow,
    EligibilityCheckRow,
    PatientCopyRow,
    PriorAuthorizationRow,
)
from rcm_eligibility.domain.appointment import Appointment
from rcm_eligibility.domain.authorization import PriorAuthorization
from rcm_eligibility.domain.model import CoverageCopy, EligibilityCheck, PatientCopy


class SqlPatients:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get(self, patient_id: UUID) -> PatientCopy | None:
        row = await self._session.get(PatientCopyRow, str(patient_id))
        if row is None:
            return None
        person = json.loads(
            self._cipher.decrypt(row.person_encrypted, context=sealed_context("patient_copy", row.patient_id, "person"))
        )
        return PatientCopy(
            patient_id=patient_id,
            person=serialization.person_from_json(person),
            merged_into=UUID(row.merged_into_id) if row.merged_into_id else None,
        )

    async def save(self, patient: PatientCopy, now: datetime) -> None:
        key = str(patient.patient_id)
        await self._session.merge(
            PatientCopyRow(
                patient_id=key,
                person_encrypted=self._cipher.encrypt(
                    serialization.dumps(patient.person), context=sealed_context("patient_copy", key, "person")
                ),
                merged_into_id=str(patient.merged_into) if patient.merged_into else None,
                updated_at=now,
            )
        )
        await self._session.flush()  # visible to `get` in this unit of work


class SqlCoverages:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get(self, coverage_id: UUID) -> CoverageCopy | None:
        row = await self._session.get(CoverageCopyRow, str(coverage_id))
        return None if row is None else self._coverage(row)

    async def for_patient(self, patient_id: UUID) -> list[CoverageCopy]:
        query = select(CoverageCopyRow).where(col(CoverageCopyRow.patient_id) == str(patient_id))
        return [self._coverage(row) for row in (await self._session.scalars(query)).all()]

    async def save(self, coverage: CoverageCopy, now: datetime) -> None:
        key = str(coverage.coverage_id)
        member = {"member_id": coverage.member_id, "subscriber": coverage.subscriber}
        await self._session.merge(
            CoverageCopyRow(
                coverage_id=key,
                patient_id=str(coverage.patient_id),
                payer_id=coverage.payer_id,
                payer_name=coverage.payer_name,
                member_encrypted=self._cipher.encrypt(
                    serialization.dumps(member), context=sealed_context("coverage_copy", key, "member")
                ),
                group_number=coverage.group_number,
                plan_type=coverage.plan_type,
                relationship=coverage.relationship,
                effective_date=coverage.effective_date,
                termination_date=coverage.termination_date,
                coverage_order=coverage.order,
                updated_at=now,
            )
        )
        await self._session.flush()  # visible to `get` in this unit of work

    def _coverage(self, row: CoverageCopyRow) -> CoverageCopy:
        member = json.loads(
            self._cipher.decrypt(
                row.member_encrypted, context=sealed_context("coverage_copy", row.coverage_id, "member")
            )
        )
        subscriber = member["subscriber"]
        return CoverageCopy(
            coverage_id=UUID(row.coverage_id),
            patient_id=UUID(row.patient_id),
            payer_id=row.payer_id,
            payer_name=row.payer_name,
            member_id=member["member_id"],
            relationship=row.relationship,
            effective_date=row.effective_date,
            order=row.coverage_order,
            group_number=row.group_number,
            plan_type=row.plan_type,
            subscriber=serialization.person_from_json(subscriber) if subscriber else None,
            termination_date=row.termination_date,
        )


class SqlChecks:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get(self, check_id: UUID, *, for_update: bool = False) -> EligibilityCheck | None:
        query = select(EligibilityCheckRow).where(col(EligibilityCheckRow.id) == str(check_id))
        if for_update and is_postgres(self._session):
            query = query.with_for_update()
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else self._check(row)

    async def add(self, check: EligibilityCheck) -> None:
        self._session.add(self._row(check))

    async def save(self, check: EligibilityCheck) -> None:
        await self._session.merge(self._row(check))
        await self._session.flush()  # visible to `get` in this unit of work

    async def claim_due(self, now: datetime, limit: int) -> list[EligibilityCheck]:
        """Pending checks whose next attempt is due, oldest first; on PostgreSQL skipping those another
        replica holds, so replicas share the work."""
        query = (
            select(EligibilityCheckRow)
            .where(col(EligibilityCheckRow.status) == "pending", col(EligibilityCheckRow.next_attempt_at) <= now)
            .order_by(col(EligibilityCheckRow.next_attempt_at))
            .limit(limit)
        )
        if is_postgres(self._session):
            query = query.with_for_update(skip_locked=True)
        return [self._check(row) for row in (await self._session.scalars(query)).all()]

    async def for_patient(self, patient_id: UUID) -> list[EligibilityCheck]:
        query = select(EligibilityCheckRow).where(col(EligibilityCheckRow.patient_id) == str(patient_id))
        return [self._check(row) for row in (await self._session.scalars(query)).all()]

    async def pending_for(self, coverage_id: UUID, date_of_service: date, service_type: str) -> EligibilityCheck | None:
        query = select(EligibilityCheckRow).where(
            col(EligibilityCheckRow.coverage_id) == str(coverage_id),
            col(EligibilityCheckRow.date_of_service) == date_of_service,
            col(EligibilityCheckRow.service_type) == service_type,
            col(EligibilityCheckRow.status) == "pending",
        )
        row = (await self._session.scalars(query.limit(1))).first()
        return None if row is None else self._check(row)

    async def repoint(self, coverage_ids: tuple[UUID, ...], patient_id: UUID) -> None:
        if coverage_ids:
            await self._session.execute(
                update(EligibilityCheckRow)
                .where(col(EligibilityCheckRow.coverage_id).in_([str(c) for c in coverage_ids]))
                .values(patient_id=str(patient_id))
            )

    def _row(self, check: EligibilityCheck) -> EligibilityCheckRow:
        key = str(check.id)
        return EligibilityCheckRow(
            id=key,
            patient_id=str(check.patient_id),
            coverage_id=str(check.coverage_id),
            payer_id=check.payer_id,
            date_of_service=check.date_of_service,
            service_type=check.service_type,
            trigger=check.trigger,
            status=check.status,
            attempts=check.attempts,
            next_attempt_at=check.next_attempt_at,
            created_at=check.created_at,
            completed_at=check.completed_at,
            benefits=serialization.dumps(check.benefits) if check.benefits else None,
            failure=serialization.dumps(check.failure) if check.failure else None,
            response_271_encrypted=(
                self._cipher.encrypt(
                    check.response_271, context=sealed_context("eligibility_check", key, "response_271")
                )
                if check.response_271 is not None
                else None
            ),
        )

    def _check(self, row: EligibilityCheckRow) -> EligibilityCheck:
        return EligibilityCheck(
            id=UUID(row.id),
            patient_id=UUID(row.patient_id),
            coverage_id=UUID(row.coverage_id),
            payer_id=row.payer_id,
            date_of_service=row.date_of_service,
            service_type=row.service_type,
            trigger=row.trigger,  # type: ignore[arg-type]
            created_at=row.created_at,
            status=row.status,  # type: ignore[arg-type]
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            completed_at=row.completed_at,
            benefits=serialization.benefits_from_json(row.benefits) if row.benefits else None,
            failure=serialization.failure_from_json(row.failure) if row.failure else None,
            response_271=(
                self._cipher.decrypt(
                    row.response_271_encrypted, context=sealed_context("eligibility_check", row.id, "response_271")
                )
                if row.response_271_encrypted is not None
                else None
            ),
        )


class SqlAuthorizations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, authorization_id: UUID) -> PriorAuthorization | None:
        row = await self._session.get(PriorAuthorizationRow, str(authorization_id))
        return None if row is None else _authorization(row)

    async def find(self, payer_id: str, number: str) -> PriorAuthorization | None:
        query = select(PriorAuthorizationRow).where(
            col(PriorAuthorizationRow.payer_id) == payer_id, col(PriorAuthorizationRow.number) == number
        )
        row = (await self._session.scalars(query)).one_or_none()
        return None if row is None else _authorization(row)

    async def for_patient(self, patient_id: UUID) -> list[PriorAuthorization]:
        query = (
            select(PriorAuthorizationRow)
            .where(col(PriorAuthorizationRow.patient_id) == str(patient_id))
            .order_by(col(PriorAuthorizationRow.end_date).desc())
        )
        return [_authorization(row) for row in (await self._session.scalars(query)).all()]

    async def add(self, authorization: PriorAuthorization) -> None:
        self._session.add(_authorization_row(authorization))

    async def save(self, authorization: PriorAuthorization) -> None:
        """Write a changed authorisation, refusing if another transaction changed it first."""
        row = _authorization_row(authorization)
        result = await self._session.execute(
            update(PriorAuthorizationRow)
            .where(
                col(PriorAuthorizationRow.id) == row.id,
                col(PriorAuthorizationRow.version) == authorization.version - 1,
            )
            .values(uses=row.uses, version=row.version)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate("The authorisation changed meanwhile; read it again and retry.")


def _authorization_row(authorization: PriorAuthorization) -> PriorAuthorizationRow:
    return PriorAuthorizationRow(
        id=str(authorization.id),
        patient_id=str(authorization.patient_id),
        coverage_id=str(authorization.coverage_id),
        payer_id=authorization.payer_id,
        number=authorization.number,
        procedure_codes=json.dumps(list(authorization.procedure_codes)),
        service_type=authorization.service_type,
        units_authorized=authorization.units_authorized,
        start_date=authorization.start_date,
        end_date=authorization.end_date,
        uses=serialization.dumps(authorization.uses),
        recorded_at=authorization.recorded_at,
        version=authorization.version,
    )


def _authorization(row: PriorAuthorizationRow) -> PriorAuthorization:
    return PriorAuthorization(
        id=UUID(row.id),
        patient_id=UUID(row.patient_id),
        coverage_id=UUID(row.coverage_id),
        payer_id=row.payer_id,
        number=row.number,
        procedure_codes=tuple(json.loads(row.procedure_codes)),
        units_authorized=row.units_authorized,
        start_date=row.start_date,
        end_date=row.end_date,
        recorded_at=row.recorded_at,
        service_type=row.service_type,
        uses=serialization.uses_from_json(row.uses),
        version=row.version,
    )


class SqlAppointments:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, appointment_id: UUID) -> Appointment | None:
        row = await self._session.get(AppointmentRow, str(appointment_id))
        return None if row is None else _appointment(row)

    async def add(self, appointment: Appointment) -> None:
        self._session.add(_appointment_row(appointment))

    async def save(self, appointment: Appointment) -> None:
        await self._session.merge(_appointment_row(appointment))
        await self._session.flush()  # visible to `get` in this unit of work

    async def due(self, today: date, days_ahead: int, limit: int) -> list[Appointment]:
        query = (
            select(AppointmentRow)
            .where(
                col(AppointmentRow.status) == "scheduled",
                col(AppointmentRow.check_id).is_(None),
                col(AppointmentRow.date_of_service) >= today,
                col(AppointmentRow.date_of_service) <= today + timedelta(days=days_ahead),
            )
            .order_by(col(AppointmentRow.date_of_service))
            .limit(limit)
        )
        if is_postgres(self._session):
            query = query.with_for_update(skip_locked=True)
        return [_appointment(row) for row in (await self._session.scalars(query)).all()]


def _appointment_row(appointment: Appointment) -> AppointmentRow:
    return AppointmentRow(
        id=str(appointment.id),
        patient_id=str(appointment.patient_id),
        coverage_id=str(appointment.coverage_id),
        date_of_service=appointment.date_of_service,
        service_type=appointment.service_type,
        status=appointment.status,
        check_id=str(appointment.check_id) if appointment.check_id else None,
        created_at=appointment.created_at,
    )


def _appointment(row: AppointmentRow) -> Appointment:
    return Appointment(
        id=UUID(row.id),
        patient_id=UUID(row.patient_id),
        coverage_id=UUID(row.coverage_id),
        date_of_service=row.date_of_service,
        service_type=row.service_type,
        created_at=row.created_at,
        status=row.status,  # type: ignore[arg-type]
        check_id=UUID(row.check_id) if row.check_id else None,
    )


class SqlAllowedAmounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, payer_id: str, procedure_code: str) -> Decimal | None:
        row = await self._session.get(AllowedAmountRow, (payer_id, procedure_code))
        return None if row is None else Decimal(row.amount).quantize(Decimal("0.01"))

    async def put(self, payer_id: str, procedure_code: str, amount: Decimal, now: datetime) -> None:
        await self._session.merge(
            AllowedAmountRow(payer_id=payer_id, procedure_code=procedure_code, amount=amount, updated_at=now)
        )
        await self._session.flush()  # visible to `get` in this unit of work
