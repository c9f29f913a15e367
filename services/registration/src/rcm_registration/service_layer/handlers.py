"""Registration's use cases. Each runs in one unit of work: the change, its audit records, its events
and (for creates) the response to replay all commit together or not at all."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from rcm_common.errors import Conflict, NotFound, PreconditionFailed, Problems, ValidationFailed
from rcm_common.events import registration as contract
from rcm_common.types import Clock, utcnow
from rcm_registration.domain import model, rules
from rcm_registration.domain.model import CoverageTerms, Demographics, Patient
from rcm_registration.service_layer import commands
from rcm_registration.service_layer.unit_of_work import RegistrationUnitOfWork
from rcm_registration.service_layer.views import CoveragePublic, PatientPublic

MAX_PAGE = 100
MAX_OFFSET = 1_000_000
"""The deepest a search pages, as in the other services: past the database's integers an offset would fail."""


async def register_patient(
    cmd: commands.RegisterPatient, uow: RegistrationUnitOfWork, *, clock: Clock = utcnow
) -> PatientPublic:
    problems = Problems()
    details = model.validate_demographics(problems, _demographics(problems, cmd), clock().date())
    ssn = rules.ssn(problems, "ssn", cmd.ssn)
    problems.raise_if_any()
    async with uow:
        # Taking the MRN first queues concurrent registrations on its row lock: the twin check sees the winner.
        mrn = await uow.patients.next_mrn()
        await _refuse_twin(uow, details, None)
        patient = Patient.register(patient_id=uuid.uuid4(), mrn=mrn, details=details, ssn=ssn)
        await uow.patients.add(patient)
        uow.record_access("create", "patient", patient.id, patient.id)
        view = PatientPublic.of(patient)
        uow.respond(201, patient.id)
        await _commit(uow)
    return view


async def get_patient(patient_id: UUID, uow: RegistrationUnitOfWork) -> PatientPublic:
    async with uow:
        patient = await _load(uow, patient_id)
        uow.record_access("read", "patient", patient.id, patient.id)
        view = PatientPublic.of(patient)
        await uow.commit()
    return view


async def search_patients(
    uow: RegistrationUnitOfWork,
    *,
    last_name: str | None = None,
    first_name: str | None = None,
    birth_date: date | None = None,
    mrn: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[PatientPublic]:
    if not any((last_name, first_name, birth_date, mrn)):
        raise ValidationFailed(
            [{"field": "query", "message": "give at least one of last_name, first_name, birth_date or mrn"}]
        )
    if not 1 <= limit <= MAX_PAGE or not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed([{"field": "limit", "message": f"must be 1 to {MAX_PAGE}, offset 0 to {MAX_OFFSET}"}])
    async with uow:
        found = await uow.patients.search(
            last_name=last_name,
            first_name=first_name,
            birth_date=birth_date,
            mrn=mrn,
            limit=limit,
            offset=offset,
        )
        for patient in found:
            uow.record_access("search", "patient", patient.id, patient.id)
        views = [PatientPublic.of(p) for p in found]
        await uow.commit()
    return views


async def update_patient(
    patient_id: UUID,
    cmd: commands.UpdatePatient,
    uow: RegistrationUnitOfWork,
    *,
    expected_version: int | None = None,
    clock: Clock = utcnow,
) -> PatientPublic:
    async with uow:
        patient = await _load(uow, patient_id)
        if expected_version is not None and expected_version != patient.version:
            raise PreconditionFailed("The patient changed since it was read; read it again and retry.")
        problems = Problems()
        sent = cmd.model_fields_set
        for required in ("first_name", "last_name", "birth_date", "sex", "address"):
            if required in sent and getattr(cmd, required) is None:
                problems.add(required, "cannot be cleared")
        problems.raise_if_any()
        current = patient.details
        changes: dict[str, Any] = {name: getattr(cmd, name) for name in sent if name != "ssn"}
        if cmd.address is not None:
            changes["address"] = _address(problems, cmd.address)
        if "guarantor" in sent:
            changes["guarantor"] = _guarantor(problems, cmd.guarantor)
        # Required fields sent as null were refused above; an empty string goes on to the rules, which refuse it.
        merged = replace(current, **changes)
        details = model.validate_demographics(problems, merged, clock().date())
        ssn = rules.ssn(problems, "ssn", cmd.ssn) if "ssn" in sent else patient.ssn
        problems.raise_if_any()
        if details.identity_key() != current.identity_key():
            await _refuse_twin(uow, details, patient.id)
        patient.update(details, ssn)
        uow.record_access("update", "patient", patient.id, patient.id)
        view = PatientPublic.of(patient)
        await _commit(uow)
    return view


async def add_coverage(
    patient_id: UUID, cmd: commands.AddCoverage, uow: RegistrationUnitOfWork, *, clock: Clock = utcnow
) -> CoveragePublic:
    problems = Problems()
    terms = model.validate_terms(problems, _terms(cmd), clock().date())
    problems.raise_if_any()
    async with uow:
        patient = await _load(uow, patient_id)
        await _refuse_second_holder(uow, terms, patient)
        coverage = patient.add_coverage(terms)
        uow.record_access("create", "coverage", coverage.id, patient.id)
        view = CoveragePublic.of(coverage)
        uow.respond(201, coverage.id)
        await _commit(uow)
    return view


async def get_coverage(patient_id: UUID, coverage_id: UUID, uow: RegistrationUnitOfWork) -> CoveragePublic:
    async with uow:
        patient = await _load(uow, patient_id)
        coverage = patient.coverage(coverage_id)
        uow.record_access("read", "coverage", coverage.id, patient.id)
        view = CoveragePublic.of(coverage)
        await uow.commit()
    return view


async def list_coverages(patient_id: UUID, uow: RegistrationUnitOfWork) -> list[CoveragePublic]:
    async with uow:
        patient = await _load(uow, patient_id)
        uow.record_access("read", "coverage", None, patient.id)
        views = [CoveragePublic.of(c) for c in patient.coverages]
        await uow.commit()
    return views


async def update_coverage(
    patient_id: UUID,
    coverage_id: UUID,
    cmd: commands.UpdateCoverage,
    uow: RegistrationUnitOfWork,
    *,
    clock: Clock = utcnow,
) -> CoveragePublic:
    async with uow:
        patient = await _load(uow, patient_id)
        coverage = patient.coverage(coverage_id)
        sent = {name: getattr(cmd, name) for name in cmd.model_fields_set}
        problems = Problems()
        for required in ("payer_name", "member_id", "relationship", "effective_date", "order"):
            if required in sent and sent[required] is None:
                problems.add(required, "cannot be cleared")
        problems.raise_if_any()
        if "subscriber" in sent:
            sent["subscriber"] = _subscriber(cmd.subscriber)
        terms = model.validate_terms(problems, replace(coverage.terms, **sent), clock().date())
        problems.raise_if_any()
        await _refuse_second_holder(uow, terms, patient, ignore=coverage.id)
        patient.update_coverage(coverage_id, terms)
        uow.record_access("update", "coverage", coverage.id, patient.id)
        view = CoveragePublic.of(coverage)
        await _commit(uow)
    return view


async def end_coverage(
    patient_id: UUID, coverage_id: UUID, cmd: commands.EndCoverage, uow: RegistrationUnitOfWork
) -> CoveragePublic:
    problems = Problems()
    reason = rules.text(problems, "reason", cmd.reason, max_length=200, required=False)
    problems.raise_if_any()
    async with uow:
        patient = await _load(uow, patient_id)
        coverage = patient.end_coverage(coverage_id, cmd.termination_date, reason)
        uow.record_access("update", "coverage", coverage.id, patient.id)
        view = CoveragePublic.of(coverage)
        await _commit(uow)
    return view


async def merge_patients(
    surviving_id: UUID, cmd: commands.MergePatients, uow: RegistrationUnitOfWork, *, clock: Clock = utcnow
) -> PatientPublic:
    async with uow:
        survivor = await _load(uow, surviving_id)
        duplicate = await uow.patients.get(cmd.duplicate_id)
        if duplicate is None:
            raise NotFound("No patient has the duplicate_id given.")
        survivor.absorb(duplicate, clock().date())
        uow.record_access("merge", "patient", duplicate.id, duplicate.id)
        uow.record_access("merge", "patient", survivor.id, survivor.id)
        view = PatientPublic.of(survivor)
        await _commit(uow)
    return view


async def _commit(uow: RegistrationUnitOfWork) -> None:
    """Persist every patient touched, then commit (which turns what each recorded into integration events)."""
    for patient in uow.patients.seen.values():
        await uow.patients.save(patient)
    await uow.commit()


async def _load(uow: RegistrationUnitOfWork, patient_id: UUID) -> Patient:
    patient = await uow.patients.get(patient_id)
    if patient is None:
        raise NotFound("No patient has that id.")
    return patient


async def _refuse_twin(uow: RegistrationUnitOfWork, details: Demographics, itself: UUID | None) -> None:
    existing = await uow.patients.find_same_person(details)
    if existing is not None and existing != itself:
        raise Conflict(
            "A patient with the same name and birth date is already registered.",
            extra={"existing_patient_id": str(existing)},
        )


async def _refuse_second_holder(
    uow: RegistrationUnitOfWork, terms: CoverageTerms, patient: Patient, ignore: UUID | None = None
) -> None:
    """A policy listed twice on one patient is a mistake; the same payer's member id held as subscriber by two
    patients is one person registered twice (dependants share their subscriber's id, legitimately)."""
    for coverage in patient.active_coverages():
        if coverage.id != ignore and coverage.same_policy(terms):
            raise Conflict("The patient already has this coverage.", extra={"coverage_id": str(coverage.id)})
    if terms.relationship != "self":
        return
    holder = await uow.patients.find_policy_holder(terms)
    if holder is not None and holder != patient.id:
        raise Conflict(
            "Another patient already holds this payer's member id as subscriber.",
            extra={"existing_patient_id": str(holder)},
        )


def _address(problems: Problems, address: contract.Address, prefix: str = "address") -> model.Address:
    return model.Address.create(
        problems,
        prefix,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        state=address.state,
        postal_code=address.postal_code,
    )


def _guarantor(problems: Problems, guarantor: contract.Guarantor | None) -> model.Guarantor:
    if guarantor is None or guarantor.relationship == "self":
        return model.Guarantor.self_pay()
    return model.Guarantor(
        relationship=guarantor.relationship,
        first_name=guarantor.first_name,
        last_name=guarantor.last_name,
        birth_date=guarantor.birth_date,
        address=_address(problems, guarantor.address, "guarantor.address") if guarantor.address else None,
        phone=guarantor.phone,
    )


def _subscriber(subscriber: contract.Subscriber | None) -> model.Subscriber | None:
    if subscriber is None:
        return None
    return model.Subscriber(
        first_name=subscriber.first_name,
        last_name=subscriber.last_name,
        birth_date=subscriber.birth_date,
        sex=subscriber.sex,
    )


def _demographics(problems: Problems, cmd: commands.RegisterPatient) -> Demographics:
    return Demographics(
        first_name=cmd.first_name,
        middle_name=cmd.middle_name,
        last_name=cmd.last_name,
        birth_date=cmd.birth_date,
        sex=cmd.sex,
        address=_address(problems, cmd.address),
        phone=cmd.phone,
        email=cmd.email,
        guarantor=_guarantor(problems, cmd.guarantor),
    )


def _terms(cmd: commands.AddCoverage) -> CoverageTerms:
    return CoverageTerms(
        payer_id=cmd.payer_id,
        payer_name=cmd.payer_name,
        member_id=cmd.member_id,
        group_number=cmd.group_number,
        plan_type=cmd.plan_type,
        relationship=cmd.relationship,
        subscriber=_subscriber(cmd.subscriber),
        effective_date=cmd.effective_date,
        termination_date=cmd.termination_date,
        order=cmd.order,
    )
