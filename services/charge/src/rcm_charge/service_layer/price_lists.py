"""The price lists: the chargemaster and the payers' contract rates, each replaced whole from its file."""

from __future__ import annotations

from rcm_charge.domain.pricing import ChargemasterEntry, ContractRate
from rcm_charge.service_layer.unit_of_work import ChargeUnitOfWork
from rcm_charge.service_layer.views import PriceFileSummary
from rcm_common.types import Clock


async def replace_chargemaster(
    entries: list[ChargemasterEntry], uow: ChargeUnitOfWork, clock: Clock
) -> PriceFileSummary:
    async with uow:
        await uow.prices.replace_chargemaster(entries, clock())
        uow.record_access("update", "chargemaster", None, None)
        await uow.commit()
    return PriceFileSummary(stored=len(entries))


async def chargemaster(uow: ChargeUnitOfWork) -> list[ChargemasterEntry]:
    async with uow:
        return await uow.prices.chargemaster()


async def replace_contract_rates(rates: list[ContractRate], uow: ChargeUnitOfWork, clock: Clock) -> PriceFileSummary:
    payers = {rate.payer_id for rate in rates}
    async with uow:
        await uow.prices.replace_rates(payers, rates, clock())
        uow.record_access("update", "contract_rates", None, None)
        await uow.commit()
    return PriceFileSummary(stored=len(rates), payers=sorted(payers))


async def contract_rates(uow: ChargeUnitOfWork, payer_id: str | None) -> list[ContractRate]:
    async with uow:
        return await uow.prices.rates(payer_id)
