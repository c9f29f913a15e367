"""What people do with accounts through the API: read them and their ledgers, take payments, ask for and decide
refunds and write-offs, offer plans, send statements, place accounts with the agency and recall them.

Each change reads the account for update, asks the account (which refuses what its state does not allow,
changing nothing), stores it with its new entries and events, and audits the access, in one transaction.
A refusal for a value is answered 422, one for the account's state 409; an If-Match that no longer names the
account's version, 412.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from rcm_collections.adapters.repository import account_state
from rcm_collections.adapters.unit_of_work import SqlCollectionsUnitOfWork
from rcm_collections.domain.account import Account, Invalid, NotAllowed
from rcm_collections.domain.ledger import ZERO
from rcm_collections.domain.policy import CollectionPolicy, HowToPay
from rcm_collections.domain.statements import Statement
from rcm_collections.service_layer.commands import (
    AgencyPayment,
    CreatePlan,
    Decision,
    Place,
    Recall,
    ReceivePayment,
    RequestRefund,
    RequestWriteOff,
)
from rcm_collections.service_layer.views import (
    AccountPublic,
    AccountSummaryPublic,
    EntryPublic,
    PaymentPublic,
    PlacementPublic,
    PlanPublic,
    RequestPublic,
)
from rcm_common.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed

NO_ACCOUNT = "There is no account with this id."
MAX_ACCOUNTS_READ = 5_000
"""The most accounts one read across accounts decrypts (the approvals queue): requests wait on few accounts."""


@contextmanager
def refusals() -> Iterator[None]:
    """The account's refusals as the API's errors."""
    try:
        yield
    except Invalid as refusal:
        raise ValidationFailed([{"field": refusal.field, "message": refusal.message}], refusal.message) from None
    except NotAllowed as refusal:
        raise Conflict(str(refusal)) from None


async def account_to_change(uow: SqlCollectionsUnitOfWork, account_id: UUID, expected: int | None) -> Account:
    account = await uow.accounts.get(account_id, for_update=True)
    if account is None:
        raise NotFound(NO_ACCOUNT)
    if expected is not None and expected != account.version:
        raise PreconditionFailed("The account changed since it was read; read it again.")
    return account


def audit_change(uow: SqlCollectionsUnitOfWork, account: Account, action: str = "update") -> None:
    for patient_id in sorted(account.patients, key=str):
        uow.record_access(action, "guarantor_account", account.id, patient_id)


async def store_changed(uow: SqlCollectionsUnitOfWork, account: Account, now: datetime) -> None:
    """Store the account with its entries and events, audit the change, and commit."""
    await uow.accounts.save(account, now)
    audit_change(uow, account)
    await uow.commit()


async def store_created(
    uow: SqlCollectionsUnitOfWork, account: Account, item_id: UUID, kind: str, now: datetime
) -> None:
    """As `store_changed`, for a change that made something of its own (a payment, a refund asked for, a plan):
    it is found by its id from now on, and a repeat of the request with its Idempotency-Key answers with it."""
    await uow.accounts.save(account, now)
    await uow.directory.add_item(item_id, kind, account.id)
    audit_change(uow, account)
    uow.respond(201, item_id)
    await uow.commit()


async def list_accounts(
    uow: SqlCollectionsUnitOfWork,
    *,
    patient_id: UUID | None,
    state: str | None,
    min_due: Decimal | None,
    limit: int,
    offset: int,
) -> list[AccountSummaryPublic]:
    """Balances and states only, no names: a list by state is not audited. `patient_id` finds the patient's
    guarantor's account (where the patient's new visits go): that lookup is about the patient, and audited."""
    async with uow:
        account_ids = None
        if patient_id is not None:
            found_id = await uow.directory.account_of_patient(patient_id)
            account_ids = [] if found_id is None else [found_id]
            if found_id is not None:
                uow.record_access("search", "guarantor_account", found_id, patient_id)
        found = await uow.accounts.search(
            state=state, min_due=min_due, account_ids=account_ids, limit=limit, offset=offset
        )
        await uow.commit()
    return [AccountSummaryPublic.of(summary) for summary in found]


async def get_account(uow: SqlCollectionsUnitOfWork, account_id: UUID, today: date) -> tuple[AccountPublic, int]:
    async with uow:
        account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFound(NO_ACCOUNT)
        audit_change(uow, account, "read")
        await uow.commit()
    return AccountPublic.of(account, today, account_state(account)), account.version


async def ledger(uow: SqlCollectionsUnitOfWork, account_id: UUID, *, limit: int, offset: int) -> list[EntryPublic]:
    async with uow:
        account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFound(NO_ACCOUNT)
        entries = await uow.ledger.entries(account_id, limit=limit, offset=offset)
        audit_change(uow, account, "read")
        await uow.commit()
    return [EntryPublic.of(entry) for entry in entries]


async def receive_payment(
    uow: SqlCollectionsUnitOfWork, command: ReceivePayment, *, by: str, now: datetime
) -> PaymentPublic:
    async with uow:
        account_id = await payers_account(uow, command)
        account = await account_to_change(uow, account_id, None)
        payment_id = uuid4()
        with refusals():
            payment = account.receive_payment(
                payment_id=payment_id,
                amount=command.amount,
                method=command.method,
                processor_reference=command.processor_reference,
                encounter_id=command.encounter_id,
                at_visit=command.at_visit,
                patient_id=command.patient_id,
                source="patient",
                agency_fee=ZERO,
                cause=f"api:{by}",
                now=now,
            )
        if command.encounter_id is not None:
            await uow.directory.set_encounter(command.encounter_id, account.id)
        await store_created(uow, account, payment_id, "payment", now)
    return PaymentPublic.of(account.id, payment)


async def payers_account(uow: SqlCollectionsUnitOfWork, command: ReceivePayment) -> UUID:
    """The account a payment goes to: the one it names, else the patient's guarantor's; a payment naming a visit
    goes where that visit is posted (a visit stays on the account it was first posted to), and one that names
    an account the visit is not on is refused."""
    account_id = command.account_id
    if account_id is None:
        assert command.patient_id is not None  # the command names one of them
        account_id = await uow.directory.account_of_patient(command.patient_id)
        if account_id is None:
            raise NotFound("No account is known for this patient.")
    if command.encounter_id is not None:
        visit_account = await uow.directory.account_of_encounter(command.encounter_id)
        if visit_account is not None and visit_account != account_id:
            if command.account_id is not None:
                message = "The visit is on another account."
                raise ValidationFailed([{"field": "encounter_id", "message": message}], message)
            return visit_account
    return account_id


async def agency_payment(
    uow: SqlCollectionsUnitOfWork, account_id: UUID, command: AgencyPayment, *, by: str, now: datetime
) -> PaymentPublic:
    async with uow:
        account = await account_to_change(uow, account_id, None)
        payment_id = uuid4()
        with refusals():
            payment = account.receive_payment(
                payment_id=payment_id,
                amount=command.amount,
                method="agency",
                processor_reference=command.processor_reference,
                encounter_id=None,
                at_visit=False,
                patient_id=None,
                source="agency",
                agency_fee=command.agency_fee,
                cause=f"api:{by}",
                now=now,
            )
        await store_created(uow, account, payment_id, "payment", now)
    return PaymentPublic.of(account.id, payment)


async def get_payment(uow: SqlCollectionsUnitOfWork, payment_id: UUID) -> PaymentPublic:
    async with uow:
        account = await _account_of_item(uow, payment_id, "payment", "There is no payment with this id.")
        payment = next(p for p in account.payments if p.id == payment_id)
        audit_change(uow, account, "read")
        await uow.commit()
    return PaymentPublic.of(account.id, payment)


async def request_refund(
    uow: SqlCollectionsUnitOfWork, command: RequestRefund, *, by: str, now: datetime
) -> RequestPublic:
    async with uow:
        account = await account_to_change(uow, command.account_id, None)
        refund_id = uuid4()
        with refusals():
            refund = account.request_refund(
                refund_id=refund_id, amount=command.amount, method=command.method, reason=command.reason,
                requested_by=by, now=now,
            )  # fmt: skip
        await store_created(uow, account, refund_id, "refund", now)
    return RequestPublic.of(account.id, refund)


async def decide_refund(
    uow: SqlCollectionsUnitOfWork, refund_id: UUID, decision: Decision, *, by: str, now: datetime
) -> RequestPublic:
    async with uow:
        account = await _account_of_item(uow, refund_id, "refund", "There is no refund with this id.", lock=True)
        with refusals():
            refund = account.decide_refund(
                refund_id=refund_id, approve=decision.approve, decided_by=by, cause=f"api:{by}", now=now
            )
        refund.decision_note = decision.note
        await store_changed(uow, account, now)
    return RequestPublic.of(account.id, refund)


async def request_write_off(
    uow: SqlCollectionsUnitOfWork,
    account_id: UUID,
    command: RequestWriteOff,
    *,
    by: str,
    now: datetime,
    expected: int | None,
) -> RequestPublic:
    async with uow:
        account = await account_to_change(uow, account_id, expected)
        write_off_id = uuid4()
        with refusals():
            write_off = account.request_write_off(
                write_off_id=write_off_id, kind=command.kind, amount=command.amount, reason=command.reason,
                requested_by=by, now=now,
            )  # fmt: skip
        await store_created(uow, account, write_off_id, "write_off", now)
    return RequestPublic.of(account.id, write_off)


async def decide_write_off(
    uow: SqlCollectionsUnitOfWork, write_off_id: UUID, decision: Decision, *, by: str, now: datetime
) -> RequestPublic:
    async with uow:
        account = await _account_of_item(
            uow, write_off_id, "write_off", "There is no write-off with this id.", lock=True
        )
        with refusals():
            write_off = account.decide_write_off(
                write_off_id=write_off_id, approve=decision.approve, decided_by=by, cause=f"api:{by}", now=now
            )
        write_off.decision_note = decision.note
        await store_changed(uow, account, now)
    return RequestPublic.of(account.id, write_off)


async def get_request(uow: SqlCollectionsUnitOfWork, request_id: UUID, kind: str) -> RequestPublic:
    async with uow:
        account = await _account_of_item(uow, request_id, kind, "There is no such request.")
        found = next(r for r in account.requests if r.id == request_id)
        audit_change(uow, account, "read")
        await uow.commit()
    return RequestPublic.of(account.id, found)


async def open_requests(uow: SqlCollectionsUnitOfWork, *, limit: int) -> list[RequestPublic]:
    """Refunds and write-offs awaiting a collector's decision, the oldest first."""
    async with uow:
        summaries = await uow.accounts.search(with_open_requests=True, limit=MAX_ACCOUNTS_READ)
        found: list[RequestPublic] = []
        for summary in summaries:
            account = await uow.accounts.get(summary.id)
            assert account is not None  # just listed
            waiting = [r for r in account.requests if r.state == "requested"]
            found += [RequestPublic.of(account.id, r) for r in waiting]
            if waiting:
                audit_change(uow, account, "read")
        await uow.commit()
    return sorted(found, key=lambda r: r.requested_at)[:limit]


async def create_plan(
    uow: SqlCollectionsUnitOfWork,
    account_id: UUID,
    command: CreatePlan,
    policy: CollectionPolicy,
    *,
    by: str,
    now: datetime,
    expected: int | None,
) -> PlanPublic:
    async with uow:
        account = await account_to_change(uow, account_id, expected)
        plan_id = uuid4()
        with refusals():
            plan = account.create_plan(
                plan_id=plan_id, months=command.months, first_due_on=command.first_due_on, policy=policy,
                today=now.date(),
            )  # fmt: skip
        await store_created(uow, account, plan_id, "plan", now)
    return PlanPublic.of(plan, account.plan_remaining(plan))


async def get_plan(uow: SqlCollectionsUnitOfWork, plan_id: UUID) -> PlanPublic:
    async with uow:
        account = await _account_of_item(uow, plan_id, "plan", "There is no payment plan with this id.")
        plan = next(p for p in account.plans if p.id == plan_id)
        audit_change(uow, account, "read")
        await uow.commit()
    return PlanPublic.of(plan, account.plan_remaining(plan))


async def issue_statement(
    uow: SqlCollectionsUnitOfWork,
    account_id: UUID,
    policy: CollectionPolicy,
    how_to_pay: HowToPay,
    *,
    now: datetime,
) -> Statement:
    """A statement for the account now, if one is due by the cycle's rules (409 otherwise)."""
    async with uow:
        account = await account_to_change(uow, account_id, None)
        with refusals():
            statement = account.issue_statement(
                statement_id=uuid4(), policy=policy, how_to_pay=how_to_pay, today=now.date()
            )
        await uow.statements.add(statement)
        await store_changed(uow, account, now)
    return statement


async def get_statement(uow: SqlCollectionsUnitOfWork, statement_id: UUID, action: str = "read") -> Statement:
    async with uow:
        statement = await uow.statements.get(statement_id)
        if statement is None:
            raise NotFound("There is no statement with this id.")
        account = await uow.accounts.get(statement.account_id)
        assert account is not None  # a statement's account is never removed
        audit_change(uow, account, action)
        await uow.commit()
    return statement


async def place_with_agency(
    uow: SqlCollectionsUnitOfWork,
    account_id: UUID,
    command: Place,
    policy: CollectionPolicy,
    *,
    now: datetime,
    expected: int | None,
) -> PlacementPublic:
    """A collector places what the statements bill now, thresholds or not (not on a plan); with a placement in
    force, those visits join it."""
    async with uow:
        account = await account_to_change(uow, account_id, expected)
        placement_id = uuid4()
        with refusals():
            placement = account.place_with_agency(
                placement_id=placement_id, policy=policy, today=now.date(), by_collector=True
            )
        if placement.id == placement_id:
            placement.reason = command.reason
            await store_created(uow, account, placement_id, "placement", now)
        else:
            await store_changed(uow, account, now)
    return PlacementPublic.of(account.id, placement)


async def recall(
    uow: SqlCollectionsUnitOfWork, account_id: UUID, command: Recall, *, now: datetime, expected: int | None
) -> PlacementPublic:
    async with uow:
        account = await account_to_change(uow, account_id, expected)
        with refusals():
            placement = account.recall(reason=command.reason, note=command.note, today=now.date())
        await store_changed(uow, account, now)
    return PlacementPublic.of(account.id, placement)


async def _account_of_item(
    uow: SqlCollectionsUnitOfWork, item_id: UUID, kind: str, missing: str, *, lock: bool = False
) -> Account:
    account_id = await uow.directory.account_of_item(item_id, kind)
    account = None if account_id is None else await uow.accounts.get(account_id, for_update=lock)
    if account is None:
        raise NotFound(missing)
    return account
