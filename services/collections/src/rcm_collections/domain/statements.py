"""A patient statement as the guarantor reads it: who it is for, each visit with what was billed, what
insurance paid and adjusted, what was paid and what is owed, how old it is, and how to pay; with a payment
plan's next installment, or else a notice chosen by the age of the oldest amount due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final
from uuid import UUID

DUNNING_MESSAGES: Final[dict[int, str]] = {
    1: "Thank you for choosing our practice. Your insurance has processed the visits below and the balance shown "
    "is yours to pay. Please pay by the due date, or call us if you have any questions.",
    2: "Second notice: the balance below is past due. Please pay it by the due date, or call us to arrange a "
    "payment plan that suits you.",
    3: "Final notice: the balance below is seriously past due. If it is not paid, or a payment plan arranged, by "
    "the due date, the account may be placed with a collection agency.",
}
PLAN_MESSAGE: Final = (
    "Thank you for keeping to your payment plan. Please pay the installment shown by its due date; paying more "
    "at any time shortens the plan."
)


@dataclass(frozen=True, slots=True)
class Addressee:
    name: str
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True, slots=True)
class StatementLine:
    encounter_id: UUID
    date_of_service: date | None
    provider_npi: str | None
    services: tuple[str, ...]  # procedure codes with their modifiers, as billed
    billed: Decimal
    insurance_paid: Decimal
    adjustments: Decimal  # insurance's adjustments and the practice's write-offs
    patient_paid: Decimal
    patient_owes: Decimal
    days_past_due: int
    aging: str


@dataclass(frozen=True, slots=True)
class PlanTerms:
    installment_due: Decimal  # the next installment, with anything past due
    next_due_on: date
    remaining: Decimal
    installments_left: int


@dataclass(frozen=True, slots=True)
class Statement:
    id: UUID
    account_id: UUID
    issued_on: date
    due_by: date
    addressee: Addressee
    lines: tuple[StatementLine, ...]
    awaiting_insurance: Decimal
    credit: Decimal
    amount_due: Decimal
    aging: dict[str, Decimal]
    dunning_level: int | None
    message: str
    plan: PlanTerms | None
    payee: str
    pay_address: str
    pay_phone: str
    pay_online: str
