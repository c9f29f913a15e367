"""Registration's events, which the consumer applies: they keep charge's copies of patients and coverages
(event-carried state) and release the encounters that were held waiting for their patient or coverage. Each
runs in the consumer's unit of work: the copies, the encounters released, their audit records and their events
commit together or not at all.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from rcm_charge.domain.copies import CoverageCopy
from rcm_charge.service_layer.evaluation import EncounterEvaluator
from rcm_charge.service_layer.projection import PROJECTION
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork
from rcm_common.events import registration as registration_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.messaging import EventHandler
from rcm_common.replica import CoverageState, replica_handlers

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


def event_handlers(evaluator: EncounterEvaluator) -> dict[type[IntegrationEvent], EventHandler[ChargeUnitOfWork]]:
    """Registration's events keep the copies (`rcm_common.replica`); then the encounters waiting for the
    patient or its coverage are validated again, and a merge moves the merged patient's encounters to the
    survivor first."""

    async def release_waiting(uow: ChargeUnitOfWork, patient_id: UUID) -> None:
        """Validate again the held encounters that were waiting only for this patient or its coverage."""
        now = evaluator.clock()
        for encounter in await uow.encounters.held_for_patient(patient_id):
            if not WAITING_FOR_REGISTRATION.intersection(issue.code for issue in encounter.issues):
                continue
            evaluated = await evaluator.evaluate(
                uow, encounter.details, encounter.source, today=now.date(), encounter_id=encounter.id
            )
            priced_anew = evaluated.details != encounter.details
            encounter.details = evaluated.details
            revalidated = encounter.revalidate(evaluated.issues, now, uuid.uuid4(), payer_id=evaluated.payer_id)
            if not revalidated and not priced_anew:
                continue  # nothing changed: the encounter is not saved, and its revision stays as coders read it
            await uow.encounters.save(encounter)
            uow.record_access("update", "encounter", encounter.id, encounter.details.patient_id)

    async def move_encounters(uow: ChargeUnitOfWork, merge: registration_contract.PatientsMerged) -> None:
        for encounter_id in await uow.encounters.repoint(merge.merged_patient_id, merge.surviving_patient_id):
            uow.record_access("update", "encounter", encounter_id, merge.surviving_patient_id)
        await release_waiting(uow, merge.surviving_patient_id)

    async def release_for_coverage(uow: ChargeUnitOfWork, event: CoverageState, coverage: CoverageCopy) -> None:
        await release_waiting(uow, coverage.patient_id)

    return replica_handlers(
        PROJECTION,
        evaluator.clock,
        after_patient=release_waiting,
        after_merge=move_encounters,
        after_coverage=release_for_coverage,
    )
