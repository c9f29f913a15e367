"""Across accounts: the patient A/R aging, the placements, and the agency's export file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rcm_collections.adapters.agency_export import PlacedAccount, placement_csv
from rcm_collections.adapters.unit_of_work import SqlCollectionsUnitOfWork
from rcm_collections.domain.account import Account, Placement
from rcm_collections.domain.ledger import ZERO
from rcm_collections.domain.policy import AGING_BUCKETS
from rcm_collections.service_layer.accounts import audit_change
from rcm_collections.service_layer.views import AgingPublic, AgingRow, PlacementPublic


async def aging(uow: SqlCollectionsUnitOfWork, today: date) -> AgingPublic:
    """Each account's patient-due balance by how long it has been the patient's, and the practice's totals.
    Balances and ids only: no names, so no audit record."""
    totals = dict.fromkeys(AGING_BUCKETS, ZERO)
    rows = []
    async with uow:
        for summary in await uow.accounts.search(min_due=Decimal("0.01"), limit=1_000_000):
            account = await uow.accounts.get(summary.id)
            assert account is not None  # just listed
            buckets = account.aging(today)
            for name, amount in buckets.items():
                totals[name] += amount
            rows.append(AgingRow(account_id=account.id, buckets=buckets, total=sum(buckets.values(), ZERO)))
    rows.sort(key=lambda row: (-row.total, str(row.account_id)))
    return AgingPublic(as_of=today, totals=totals, total=sum(totals.values(), ZERO), accounts=rows)


async def placements(uow: SqlCollectionsUnitOfWork, *, active_only: bool) -> list[PlacementPublic]:
    async with uow:
        found = []
        for account, placement in await _placed(uow):
            if placement.active or not active_only:
                found.append(PlacementPublic.of(account.id, placement))
                audit_change(uow, account, "read")
        await uow.commit()
    return sorted(found, key=lambda p: (p.placed_on, str(p.account_id)))


async def placement_export(uow: SqlCollectionsUnitOfWork, placed_on: date | None) -> str:
    """The CSV for the agency: the accounts placed (on `placed_on`, or all in force), audited as an export."""
    rows = []
    async with uow:
        for account, placement in await _placed(uow):
            if not placement.active or (placed_on is not None and placed_on not in placement.days_placed):
                continue
            rows.append(_placed_account(account, placement))
            audit_change(uow, account, "export")
        await uow.commit()
    rows.sort(key=lambda row: (row.placed_on, str(row.account_id)))
    return placement_csv(rows)


async def _placed(uow: SqlCollectionsUnitOfWork) -> list[tuple[Account, Placement]]:
    found = []
    for account_id in await uow.directory.accounts_with("placement"):
        account = await uow.accounts.get(account_id)
        assert account is not None  # an item's account is never removed
        found += [(account, placement) for placement in account.placements]
    return found


def _placed_account(account: Account, placement: Placement) -> PlacedAccount:
    address = account.guarantor.address
    services = [v.date_of_service for v in account.due_encounters() if v.date_of_service]
    last_payment = account.payments[-1] if account.payments else None
    return PlacedAccount(
        placement_id=placement.id,
        account_id=account.id,
        agency=placement.agency,
        placed_on=placement.placed_on,
        amount_placed=placement.amount,
        balance_due=account.placed_due(placement),
        guarantor_name=account.guarantor.name,
        address_line1=address.line1 if address else "",
        address_line2=(address.line2 or "") if address else "",
        city=address.city if address else "",
        state=address.state if address else "",
        postal_code=address.postal_code if address else "",
        phone=account.guarantor.phone or "",
        oldest_service_date=min(services, default=None),
        last_statement_on=account.statements[-1].issued_on if account.statements else None,
        statements_sent=len(account.statements),
        last_payment_on=last_payment.received_at.date() if last_payment else None,
        last_payment_amount=last_payment.amount if last_payment else None,
        paid_to_practice=placement.paid_directly,
    )
