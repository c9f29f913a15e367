"""Registration's events, which the consumer applies: they keep charge's copies of patients and coverages
(event-carried state) and release the encounters that were held waiting for their patient or coverage. Each
runs in the consumer's unit of work: the copies, the encounters released, their audit records and their events
commit together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from rcm_charge.domain.code_sets import CodeSets
from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.service_layer.evaluation import evaluate, utc_now
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork
from rcm_common.audit import AuditContext
from rcm_common.envelope import Envelope
from rcm_common.events import registration as registration_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.logs import get_correlation_id

# Issues that registration's events can clear: encounters held for them are validated again when they arrive.
WAITING_FOR_REGISTRATION = frozenset(
    {
        "PATIENT_UNKNOWN",
        "COVERAGE_UNKNOWN",
        "COVERAGE_NOT_PATIENTS",
        "COVERAGE_INACTIVE",
        "ICD10_SEX_CONFLICT",
        "ICD10_AGE_CONFLICT",
        "DATE_OF_SERVICE_BEFORE_BIRTH",
    }
)
CONSUMER_ACTOR = "system:charge-consumer"


def consumer_audit() -> AuditContext:
    """Who the consumer is in the audit log when registration's events release a held encounter."""
    return AuditContext(CONSUMER_ACTOR, frozenset(), "payment", get_correlation_id() or uuid.uuid4().hex)


async def _release_waiting(uow: ChargeUnitOfWork, patient_id: UUID, code_sets: CodeSets) -> None:
    """Validate again the held encounters that were waiting only for this patient or its coverage."""
    now = utc_now()
    for encounter in await uow.encounters.held_for_patient(patient_id):
        if not WAITING_FOR_REGISTRATION.intersection(issue.code for issue in encounter.issues):
            continue
        evaluated = await evaluate(uow, encounter.details, code_sets, now.date(), encounter.source)
        priced_anew = evaluated.details != encounter.details
        encounter.details = evaluated.details
        if (
            not encounter.revalidate(evaluated.issues, now, uuid.uuid4(), payer_id=evaluated.payer_id)
            and not priced_anew
        ):
            continue  # nothing changed: the encounter is not saved, and its revision stays as coders read it
        await uow.encounters.save(encounter)
        uow.record_access("update", "encounter", encounter.id, encounter.details.patient_id)


EventHandler = Callable[[Any, Envelope, ChargeUnitOfWork], Awaitable[None]]


def event_handlers(code_sets: CodeSets) -> dict[type[IntegrationEvent], EventHandler]:
    """Registration's events, handled with the service's code sets."""

    async def on_patient_state(
        event: registration_contract.PatientRegistered | registration_contract.PatientUpdated,
        _envelope: Envelope,
        uow: ChargeUnitOfWork,
    ) -> None:
        existing = await uow.patients.get(event.patient_id)
        merged_into = existing.merged_into if existing else None
        await uow.patients.save(PatientCopy(event.patient_id, event.sex, event.birth_date, merged_into), utc_now())
        await _release_waiting(uow, event.patient_id, code_sets)

    async def on_patients_merged(
        event: registration_contract.PatientsMerged, _envelope: Envelope, uow: ChargeUnitOfWork
    ) -> None:
        now = utc_now()
        merged = await uow.patients.get(event.merged_patient_id)
        if merged is not None:
            merged.merged_into = event.surviving_patient_id
            await uow.patients.save(merged, now)
        for coverage_id in event.moved_coverage_ids:
            coverage = await uow.coverages.get(coverage_id)
            if coverage is not None:
                coverage.patient_id = event.surviving_patient_id
                await uow.coverages.save(coverage, now)
        for encounter_id in await uow.encounters.repoint(event.merged_patient_id, event.surviving_patient_id):
            uow.record_access("update", "encounter", encounter_id, event.surviving_patient_id)
        await _release_waiting(uow, event.surviving_patient_id, code_sets)

    async def on_coverage_state(
        event: registration_contract.CoverageAdded | registration_contract.CoverageUpdated,
        _envelope: Envelope,
        uow: ChargeUnitOfWork,
    ) -> None:
        coverage = CoverageCopy(
            coverage_id=event.coverage_id,
            patient_id=event.patient_id,
            payer_id=event.payer_id,
            member_id=event.member_id,
            effective_date=event.effective_date,
            termination_date=event.termination_date,
        )
        await uow.coverages.save(coverage, utc_now())
        await _release_waiting(uow, event.patient_id, code_sets)

    async def on_coverage_ended(
        event: registration_contract.CoverageEnded, _envelope: Envelope, uow: ChargeUnitOfWork
    ) -> None:
        coverage = await uow.coverages.get(event.coverage_id)
        if coverage is not None:
            coverage.termination_date = event.termination_date
            await uow.coverages.save(coverage, utc_now())

    return {
        registration_contract.PatientRegistered: on_patient_state,
        registration_contract.PatientUpdated: on_patient_state,
        registration_contract.PatientsMerged: on_patients_merged,
        registration_contract.CoverageAdded: on_coverage_state,
        registration_contract.CoverageUpdated: on_coverage_state,
        registration_contract.CoverageEnded: on_coverage_ended,
    }
