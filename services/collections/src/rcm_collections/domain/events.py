"""What happens to a guarantor account, as the account records it; the mapper turns each into the contract's
event on `rcm.collections.events`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class BalanceChanged:
    insurance_pending: Decimal
    patient_due: Decimal
    credit: Decimal
    balance: Decimal
    cause: str


@dataclass(frozen=True, slots=True)
class StatementIssued:
    statement_id: UUID
    issued_on: date
    amount_due: Decimal
    dunning_level: int | None  # None: the account is on a payment plan, which the statement shows instead
    due_by: date


@dataclass(frozen=True, slots=True)
class PlanCreated:
    plan_id: UUID
    total: Decimal
    months: int
    installment_amount: Decimal
    first_due_on: date


@dataclass(frozen=True, slots=True)
class PlanDefaulted:
    plan_id: UUID
    missed: int
    remaining: Decimal


@dataclass(frozen=True, slots=True)
class PaymentReceived:
    payment_id: UUID
    amount: Decimal
    method: str
    source: str
    agency_fee: Decimal
    applied: tuple[tuple[UUID, Decimal], ...]
    to_credit: Decimal
    at_visit: bool


@dataclass(frozen=True, slots=True)
class RefundIssued:
    refund_id: UUID
    amount: Decimal
    method: str


@dataclass(frozen=True, slots=True)
class WrittenOff:
    write_off_id: UUID
    kind: str
    amount: Decimal
    applied: tuple[tuple[UUID, Decimal], ...]


@dataclass(frozen=True, slots=True)
class WriteOffUndone:
    encounter_id: UUID
    amount: Decimal
    reason: str  # "recovered": paid after all; "no_longer_owed": the visit was voided or its charges lowered


@dataclass(frozen=True, slots=True)
class CreditMoved:
    encounter_id: UUID
    amount: Decimal  # > 0: the account's credit applied to the visit; < 0: the visit's overpayment moved to credit


@dataclass(frozen=True, slots=True)
class PlacedWithAgency:
    placement_id: UUID
    agency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Recalled:
    placement_id: UUID
    agency: str
    reason: str
    amount: Decimal
