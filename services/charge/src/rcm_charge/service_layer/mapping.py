"""The one mapper from charge's domain to its contract: an encounter's domain events become the integration
events of `rcm_common.events.charge`, with the encounter as it is stored."""

from __future__ import annotations

import functools

from rcm_charge.domain import events
from rcm_charge.domain.code_sets import DiagnosisCatalog
from rcm_charge.domain.model import Encounter
from rcm_common.aggregates import EventMapper
from rcm_common.events import charge as contract
from rcm_common.events.base import IntegrationEvent


def event_mapper(catalog: DiagnosisCatalog) -> EventMapper:
    """The unit of work's mapper: diagnoses are described from the service's own catalog."""
    return functools.partial(to_integration_event, catalog=catalog)


def to_integration_event(
    encounter: Encounter, event: events.DomainEvent, *, catalog: DiagnosisCatalog
) -> IntegrationEvent:
    details = encounter.details
    if isinstance(event, events.EncounterVoided):
        return contract.ChargesVoided(
            encounter_id=encounter.id,
            version=event.version,
            patient_id=details.patient_id,
            reason=encounter.void_reason or "other",
        )
    if isinstance(event, events.EncounterHeld):
        return contract.ChargesHeld(
            encounter_id=encounter.id,
            version=event.version,
            patient_id=details.patient_id,
            issue_codes=tuple(dict.fromkeys(issue.code for issue in encounter.blocking_issues)),
        )
    day = details.date_of_service
    diagnoses = []
    for pointer, code in enumerate(details.diagnoses, start=1):
        known = catalog.lookup(code, day)
        diagnoses.append(contract.Diagnosis(pointer=pointer, code=code, description=known.description if known else ""))
    fields = {
        "encounter_id": encounter.id,
        "version": event.version,
        "patient_id": details.patient_id,
        "coverage_id": details.coverage_id,
        "payer_id": event.payer_id,
        "date_of_service": day,
        "place_of_service": details.place_of_service,
        "billing_provider_npi": details.billing_provider_npi,
        "rendering_provider_npi": details.rendering_provider_npi,
        "referring_provider_npi": details.referring_provider_npi,
        "location": details.location,
        "diagnoses": diagnoses,
        "lines": [
            contract.ChargeLine(
                line_number=number,
                procedure_code=line.code,
                modifiers=line.modifiers,
                units=line.units,
                diagnosis_pointers=line.diagnosis_pointers,
                date_of_service=line.service_date(day),
                charge=line.charge,
                ndc=line.ndc,
                expected_allowed=line.expected_allowed,
            )
            for number, line in enumerate(details.lines, start=1)
        ],
        "total_charge": details.total_charge,
        "expected_reimbursement": details.expected_reimbursement,
        "icd10cm_edition": catalog.edition_for(day),
    }
    if isinstance(event, events.EncounterCaptured):
        return contract.ChargesCaptured.model_validate(fields)
    return contract.ChargesCorrected.model_validate(fields | {"replaces_version": event.version - 1})
