"""Capturing, reading, correcting and voiding an encounter. A correction or void names the revision its author
read; each runs in one unit of work: the change, its audit records and its events commit together or not at
all.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any
from uuid import UUID

from rcm_charge.domain.model import Encounter, EncounterDetails, EncounterError, ServiceLine, Source
from rcm_charge.domain.procedures import normalized_ndc
from rcm_charge.service_layer import commands
from rcm_charge.service_layer.evaluation import EncounterEvaluator
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork
from rcm_charge.service_layer.views import EncounterPublic
from rcm_common.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from rcm_common.types import Clock


def _line(line: commands.LineIn) -> ServiceLine:
    return ServiceLine(
        code=line.code,
        modifiers=line.modifiers,
        units=line.units,
        diagnosis_pointers=line.diagnosis_pointers,
        ndc=(normalized_ndc(line.ndc) or line.ndc) if line.ndc else None,
        date_of_service=line.date_of_service,
    )


def _details(cmd: commands.CaptureEncounter) -> EncounterDetails:
    return EncounterDetails(
        patient_id=cmd.patient_id,
        coverage_id=cmd.coverage_id,
        date_of_service=cmd.date_of_service,
        place_of_service=cmd.place_of_service,
        billing_provider_npi=cmd.billing_provider_npi,
        rendering_provider_npi=cmd.rendering_provider_npi,
        referring_provider_npi=cmd.referring_provider_npi,
        location=cmd.location,
        diagnoses=tuple(cmd.diagnoses),
        lines=tuple(_line(line) for line in cmd.lines),
    )


def corrected(details: EncounterDetails, cmd: commands.CorrectEncounter) -> EncounterDetails:
    """The details with the correction's given fields (null clears an optional one) replacing theirs."""
    changes: dict[str, Any] = {}
    for name in cmd.model_fields_set:
        value = getattr(cmd, name)
        if name in ("date_of_service", "place_of_service", "billing_provider_npi", "diagnoses") and value is None:
            raise ValidationFailed([{"field": name, "message": "cannot be cleared"}])
        if name == "lines":
            value = tuple(_line(line) for line in value) if value is not None else None
            if value is None:
                raise ValidationFailed([{"field": name, "message": "cannot be cleared"}])
        changes[name] = tuple(value) if name == "diagnoses" else value
    return replace(details, **changes)


async def capture(
    cmd: commands.CaptureEncounter, uow: ChargeUnitOfWork, evaluator: EncounterEvaluator
) -> EncounterPublic:
    async with uow:
        encounter = await evaluator.open_encounter(uow, _details(cmd), Source(), now=evaluator.clock())
        uow.respond(201, encounter.id)
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view


async def _encounter(uow: ChargeUnitOfWork, encounter_id: UUID, *, for_update: bool = False) -> Encounter:
    encounter = await uow.encounters.get(encounter_id, for_update=for_update)
    if encounter is None:
        raise NotFound("No such encounter.")
    return encounter


def refuse_stale(encounter: Encounter, revision: int) -> None:
    """A change names the revision its author read: one made on an encounter changed since is refused, so
    nobody's correction is overwritten and no review flag is approved unseen."""
    if revision != encounter.revision:
        raise PreconditionFailed("The encounter changed since it was read (its revision differs); read it again.")


async def get_encounter(encounter_id: UUID, uow: ChargeUnitOfWork) -> EncounterPublic:
    async with uow:
        encounter = await _encounter(uow, encounter_id)
        uow.record_access("read", "encounter", encounter.id, encounter.details.patient_id)
        await uow.commit()
    return EncounterPublic.of(encounter)


def _refused(exc: EncounterError) -> Conflict:
    return Conflict(f"{exc.message}.")


async def _apply_correction(
    uow: ChargeUnitOfWork, encounter: Encounter, cmd: commands.CorrectEncounter, evaluator: EncounterEvaluator
) -> None:
    if encounter.status == "voided":
        raise Conflict("The encounter is voided.")
    details = corrected(encounter.details, cmd)
    now = evaluator.clock()
    evaluated = await evaluator.evaluate(
        uow, details, encounter.source, today=now.date(), before=encounter.details, encounter_id=encounter.id
    )
    if encounter.correct(evaluated.details, evaluated.issues, now, uuid.uuid4(), payer_id=evaluated.payer_id):
        encounter.source = evaluated.source
        await uow.encounters.save(encounter)
        uow.record_access("update", "encounter", encounter.id, encounter.details.patient_id)


async def correct(
    encounter_id: UUID,
    cmd: commands.CorrectEncounter,
    uow: ChargeUnitOfWork,
    evaluator: EncounterEvaluator,
    *,
    revision: int,
) -> EncounterPublic:
    """Validate the corrected encounter again: clean, it is captured (or, if it was, a correction is
    published); otherwise it waits in the review queue."""
    async with uow:
        encounter = await _encounter(uow, encounter_id, for_update=True)
        refuse_stale(encounter, revision)
        await _apply_correction(uow, encounter, cmd, evaluator)
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view


async def void(
    encounter_id: UUID, cmd: commands.VoidEncounter, uow: ChargeUnitOfWork, clock: Clock, *, by: str, revision: int
) -> EncounterPublic:
    async with uow:
        encounter = await _encounter(uow, encounter_id, for_update=True)
        refuse_stale(encounter, revision)
        try:
            encounter.void(cmd.reason, cmd.note, by=by, now=clock())
        except EncounterError as exc:
            raise _refused(exc) from None
        await uow.encounters.save(encounter)
        uow.record_access("void", "encounter", encounter.id, encounter.details.patient_id)
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view
