"""The coding review queue: the encounters held for a coder, and a coder's decision on one of them (approve,
with a correction optionally, or void).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from uuid import UUID

from rcm_charge.domain.model import EncounterError
from rcm_charge.service_layer import commands
from rcm_charge.service_layer.encounters import corrected, refuse_stale
from rcm_charge.service_layer.evaluation import EncounterEvaluator
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork
from rcm_charge.service_layer.views import EncounterPublic, ReviewPublic
from rcm_common.errors import NotFound, ValidationFailed


async def review_queue(uow: ChargeUnitOfWork, *, limit: int, offset: int, issue_code: str | None) -> list[ReviewPublic]:
    async with uow:
        encounters = await uow.encounters.open_reviews(limit=limit, offset=offset, issue_code=issue_code)
        for encounter in encounters:
            uow.record_access("read", "encounter", encounter.id, encounter.details.patient_id)
        await uow.commit()
    return [ReviewPublic.of(encounter) for encounter in encounters]


async def resolve_review(
    review_id: UUID, cmd: commands.ResolveReview, uow: ChargeUnitOfWork, evaluator: EncounterEvaluator, *, by: str
) -> EncounterPublic:
    """A coder's decision on an open review item: approve (with a correction, optionally) or void. An
    approval of an encounter that still has errors is refused and changes nothing."""
    now = evaluator.clock()
    async with uow:
        encounter = await uow.encounters.by_review(review_id, for_update=True)
        review = encounter.open_review if encounter is not None else None
        if encounter is None or review is None or review.id != review_id:
            raise NotFound("No such open review item.")
        refuse_stale(encounter, cmd.revision)
        if cmd.decision == "void":
            encounter.void(cmd.void_reason or "other", cmd.note, by=by, now=now)
        else:
            details = corrected(encounter.details, cmd.correction) if cmd.correction else encounter.details
            evaluated = await evaluator.evaluate(
                uow, details, encounter.source, today=now.date(), before=encounter.details, encounter_id=encounter.id
            )
            try:
                encounter.approve(
                    evaluated.details,
                    evaluated.issues,
                    by=by,
                    note=cmd.note,
                    now=now,
                    review_id=uuid.uuid4(),
                    payer_id=evaluated.payer_id,
                )
            except EncounterError as exc:
                raise ValidationFailed(
                    [
                        {"field": f"lines.{issue.line}" if issue.line else "encounter", "message": issue.code}
                        for issue in exc.issues
                    ],
                    detail="The encounter has errors a coder cannot approve; correct them first.",
                ) from None
            encounter.source = evaluated.source
            if "IMPORT_FINDINGS" not in {issue.code for issue in encounter.blocking_issues}:
                # the coder has seen and approved what the import could not take: it is not raised again
                encounter.source = replace(encounter.source, findings=())
        await uow.encounters.save(encounter)
        uow.record_access("review", "encounter", encounter.id, encounter.details.patient_id)
        view = EncounterPublic.of(encounter)
        await uow.commit()
    return view
