"""The HTTP API's use cases: reading remittances and claim payments (each read of a payment audited against its
patient), the raw 835 (audited), a poster's match of an unmatched payment and release of a held file."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from rcm_common.errors import Conflict, NotFound
from rcm_common.types import Clock
from rcm_remittance.domain.model import ClaimPayment, PaymentState, RemittanceError, RemittanceState
from rcm_remittance.service_layer.posting import PostingRules, match_by_hand
from rcm_remittance.service_layer.unit_of_work import RemittanceUnitOfWork
from rcm_remittance.service_layer.views import ClaimPaymentPublic, RemittancePublic, RemittanceSummary

NO_REMITTANCE = "There is no remittance with this id."


async def list_remittances(
    uow: RemittanceUnitOfWork,
    *,
    payer_id: str | None,
    state: RemittanceState | None,
    date_from: date | None,
    date_to: date | None,
    limit: int,
    offset: int,
) -> list[RemittanceSummary]:
    async with uow:
        found = await uow.remittances.search(
            payer_id=payer_id, state=state, date_from=date_from, date_to=date_to, limit=limit, offset=offset
        )
        return [RemittanceSummary.of(remittance) for remittance in found]


async def get_remittance(
    uow: RemittanceUnitOfWork, remittance_id: UUID, rules: PostingRules, *, limit: int, offset: int
) -> RemittancePublic:
    """The remittance with its balance checks, its PLB and a page of its claim payments (in the 835's order)."""
    async with uow:
        remittance = await uow.remittances.get(remittance_id)
        if remittance is None:
            raise NotFound(NO_REMITTANCE)
        payments = await uow.payments.search(remittance_id=remittance_id, limit=limit, offset=offset)
        _audit_reads(uow, payments)
        await uow.commit()
        return RemittancePublic.with_payments(remittance, payments, rules.codes)


async def raw_835(uow: RemittanceUnitOfWork, remittance_id: UUID) -> bytes:
    """The file the remittance came in, as it came; it names patients, so the read is audited against each
    patient its claim payments were posted to."""
    async with uow:
        remittance = await uow.remittances.get(remittance_id)
        if remittance is None:
            raise NotFound(NO_REMITTANCE)
        content = await uow.files.content(remittance.file_id)
        patients: list[UUID | None] = [*await uow.payments.patients_of_file(remittance.file_id)]
        for patient_id in patients or [None]:  # the file names them all: each read is audited against each
            uow.record_access("export", "remittance_file", remittance.file_id, patient_id)
        await uow.commit()
        return content


async def list_payments(
    uow: RemittanceUnitOfWork,
    rules: PostingRules,
    *,
    claim_id: UUID | None = None,
    state: PaymentState | None = None,
    limit: int,
    offset: int,
) -> list[ClaimPaymentPublic]:
    async with uow:
        payments = await uow.payments.search(claim_id=claim_id, state=state, limit=limit, offset=offset)
        _audit_reads(uow, payments)
        await uow.commit()
        return [ClaimPaymentPublic.of(payment, rules.codes) for payment in payments]


async def match(
    uow: RemittanceUnitOfWork, payment_id: UUID, claim_id: UUID, rules: PostingRules, clock: Clock, by: str
) -> ClaimPaymentPublic:
    """A poster posts an unmatched claim payment to the claim they chose."""
    async with uow:
        payment = await uow.payments.get(payment_id, for_update=True)
        if payment is None:
            raise NotFound("There is no claim payment with this id.")
        if payment.state != "unmatched":
            raise Conflict("The claim payment is posted already: only an unmatched one is matched by hand.")
        if await match_by_hand(uow, payment, claim_id, rules, clock(), by) is None:
            raise NotFound("There is no claim with this id: it has not been submitted, or not heard of here yet.")
        await uow.payments.save(payment)
        uow.record_access("update", "claim_payment", payment.payment_id, payment.patient_id)
        await uow.commit()
        return ClaimPaymentPublic.of(payment, rules.codes)


async def release(uow: RemittanceUnitOfWork, remittance_id: UUID, by: str, reason: str) -> RemittanceSummary:
    """A poster has reviewed a held remittance and has it posted as the payer sent it."""
    async with uow:
        remittance = await uow.remittances.get(remittance_id, for_update=True)
        if remittance is None:
            raise NotFound(NO_REMITTANCE)
        try:
            remittance.release(by, reason)
        except RemittanceError as error:
            raise Conflict(f"{str(error).capitalize()}.") from None
        await uow.remittances.save(remittance)
        uow.record_access("update", "remittance", remittance_id, None)
        await uow.commit()
        return RemittanceSummary.of(remittance)


def _audit_reads(uow: RemittanceUnitOfWork, payments: list[ClaimPayment]) -> None:
    for payment in payments:
        uow.record_access("read", "claim_payment", payment.payment_id, payment.patient_id)
