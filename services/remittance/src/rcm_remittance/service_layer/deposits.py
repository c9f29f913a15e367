"""Recording bank deposits and reconciling them with the remittances (`domain/deposits.py`)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from uuid import UUID

from sqlalchemy.exc import IntegrityError

from rcm_common.errors import Conflict, NotFound
from rcm_common.types import Clock
from rcm_remittance.domain.deposits import Deposit, reconcile
from rcm_remittance.service_layer.unit_of_work import RemittanceUnitOfWork
from rcm_remittance.service_layer.views import DepositPublic, ReconciliationPublic

RECONCILED_AT_MOST = 10_000
"""Remittances and deposits a reconciliation reads at most: a quarter of a large practice's."""


async def record_deposit(
    uow: RemittanceUnitOfWork, deposit_date: date, amount: Decimal, trace_number: str, by: str, clock: Clock
) -> DepositPublic:
    """Keep a bank deposit line; the same line (trace, date and amount) twice is a 409."""
    deposit = Deposit(uuid.uuid4(), deposit_date, amount, trace_number, clock(), by)
    try:
        async with uow:
            await uow.deposits.add(deposit)
            uow.respond(201, deposit.deposit_id)
            await uow.commit()
    except IntegrityError:
        raise Conflict("This deposit line (trace, date and amount) is recorded already.") from None
    return await get_deposit(uow, deposit.deposit_id)


async def get_deposit(uow: RemittanceUnitOfWork, deposit_id: UUID) -> DepositPublic:
    async with uow:
        deposit = await uow.deposits.get(deposit_id)
        if deposit is None:
            raise NotFound("There is no deposit with this id.")
        reconciliation = reconcile(
            await uow.deposits.with_traces({deposit.trace_number}),
            await uow.remittances.with_traces({deposit.trace_number}),
        )
    for matched, remittance in reconciliation.matched:
        if matched.deposit_id == deposit_id:
            return DepositPublic.of(deposit, remittance.remittance_id, None)
    [why] = [u.reason for u in reconciliation.deposits_without_remittance if u.deposit.deposit_id == deposit_id]
    return DepositPublic.of(deposit, None, why)


async def reconciliation(uow: RemittanceUnitOfWork, date_from: date, date_to: date) -> ReconciliationPublic:
    """The deposits of the period and the remittances paid in it, paired; what is left on either side. A
    deposit of the period may pair with a remittance paid before it (and the other way round), by its trace."""
    async with uow:
        deposits = await uow.deposits.between(date_from, date_to)
        remittances = await uow.remittances.search(date_from=date_from, date_to=date_to, limit=RECONCILED_AT_MOST)
        known = {r.remittance_id for r in remittances}
        remittances += [
            r
            for r in await uow.remittances.with_traces({d.trace_number for d in deposits})
            if r.remittance_id not in known
        ]
        known_deposits = {d.deposit_id for d in deposits}
        deposits += [
            d
            for d in await uow.deposits.with_traces({r.advice.trace_number for r in remittances})
            if d.deposit_id not in known_deposits
        ]
    result = reconcile(deposits, remittances)
    in_period = [r for r in result.remittances_without_deposit if _paid_in(r.advice.payment_date, date_from, date_to)]
    return ReconciliationPublic.of(
        result.matched,
        in_period,
        [u for u in result.deposits_without_remittance if date_from <= u.deposit.deposit_date <= date_to],
    )


def _paid_in(payment_date: date | None, date_from: date, date_to: date) -> bool:
    return payment_date is not None and date_from <= payment_date <= date_to
