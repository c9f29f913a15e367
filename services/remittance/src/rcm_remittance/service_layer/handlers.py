"""The events remittance consumes: the claim service's, which keep the claim copies a claim payment is matched
to. A claim sent again (after a rejection is fixed) keeps the payer claim number it had; an answer for a claim
this service never heard of is passed over (the claim events of one claim come in order, so it cannot be
early)."""

from __future__ import annotations

from rcm_common.envelope import Envelope
from rcm_common.events import claim as claim_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.messaging import EventHandler
from rcm_common.types import Clock
from rcm_remittance.domain.copies import ClaimCopy, LineCopy
from rcm_remittance.service_layer.unit_of_work import RemittanceUnitOfWork

Handlers = dict[type[IntegrationEvent], EventHandler[RemittanceUnitOfWork]]


def claim_handlers(clock: Clock) -> Handlers:
    async def submitted(event: claim_contract.ClaimSubmitted, _: Envelope, uow: RemittanceUnitOfWork) -> None:
        known = await uow.copies.get(event.claim_id)
        copy = ClaimCopy(
            claim_id=event.claim_id,
            patient_id=event.patient_id,
            payer_id=event.payer_id,
            coverage_id=event.coverage_id,
            patient_control_number=event.patient_control_number,
            frequency=event.frequency or "1",
            total_charge=event.total_charge,
            lines=tuple(
                LineCopy(
                    control_number=line.line_control_number,
                    procedure_code=line.procedure_code,
                    modifiers=line.modifiers,
                    units=line.units,
                    date_of_service=line.date_of_service,
                    charge=line.charge,
                    expected_allowed=line.expected_allowed,
                )
                for line in event.lines
            ),
            state=known.state if known is not None else "submitted",
            payer_claim_number=known.payer_claim_number if known is not None else None,
            replaces_payer_claim_number=event.replaces_payer_claim_number,
        )
        await uow.copies.save(copy, clock())

    async def accepted(event: claim_contract.ClaimAccepted, _: Envelope, uow: RemittanceUnitOfWork) -> None:
        known = await uow.copies.get(event.claim_id)
        if known is not None:
            await uow.copies.save(known.accepted(event.payer_claim_number), clock())

    async def replaced(event: claim_contract.ClaimReplaced, _: Envelope, uow: RemittanceUnitOfWork) -> None:
        known = await uow.copies.get(event.claim_id)
        if known is not None:
            await uow.copies.save(known.superseded("replaced"), clock())

    async def voided(event: claim_contract.ClaimVoided, _: Envelope, uow: RemittanceUnitOfWork) -> None:
        known = await uow.copies.get(event.claim_id)
        if known is not None:
            await uow.copies.save(known.superseded("voided"), clock())

    return {
        claim_contract.ClaimSubmitted: submitted,
        claim_contract.ClaimAccepted: accepted,
        claim_contract.ClaimReplaced: replaced,
        claim_contract.ClaimVoided: voided,
    }
