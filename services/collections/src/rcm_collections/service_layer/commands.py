"""What people ask of collections, as request bodies: each field bounded, and nothing taken that is not named."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Final, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from rcm_common.types import Money

PaymentMethod = Literal["card", "cash", "check", "ach", "hsa_fsa", "online", "money_order", "other"]
Amount = Annotated[Money, Field(gt=0, le=Decimal("9999999.99"))]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
_DIGITS: Final = re.compile(r"\d{12,19}")
_SEPARATORS: Final = re.compile(r"[ _.:#/-]")  # what a reference may hold besides letters and digits


def _passes_luhn(digits: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def refuse_card_number(reference: str | None) -> str | None:
    """A processor's reference, never a card number: a run of 12 to 19 digits that passes the card check digit
    (whatever separators a reference may hold between them) is refused, so a card number typed in the wrong box
    is never stored."""
    if reference is not None:
        for run in _DIGITS.findall(_SEPARATORS.sub("", reference)):
            if _passes_luhn(run):
                raise PydanticCustomError("card_number", "looks like a card number")
    return reference


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceivePayment(_Body):
    """A patient's payment: to the account, or to the patient's guarantor's account (the front desk knows the
    patient). `encounter_id` applies it to that visit (a copay at the visit: `at_visit`)."""

    account_id: UUID | None = None
    patient_id: UUID | None = None
    amount: Amount
    method: PaymentMethod
    processor_reference: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 _.:#/-]+$",
        description="The card processor's or bank's reference for the payment; never a card number.",
    )  # fmt: skip
    encounter_id: UUID | None = None
    at_visit: bool = Field(default=False, description="Taken at the visit (a copay), before insurance answers.")

    _no_card = field_validator("processor_reference")(refuse_card_number)

    @model_validator(mode="after")
    def names_one_account(self) -> Self:
        if (self.account_id is None) == (self.patient_id is None):
            raise ValueError("name the account (account_id) or the patient (patient_id), one of them")
        if self.at_visit and self.encounter_id is None:
            raise ValueError("a payment at the visit names the visit (encounter_id)")
        return self


class AgencyPayment(_Body):
    """What the agency collected for the account, and the fee it kept."""

    amount: Amount
    agency_fee: Money = Field(ge=0, le=Decimal("9999999.99"))
    processor_reference: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 _.:#/-]+$")

    _no_card = field_validator("processor_reference")(refuse_card_number)


class RequestRefund(_Body):
    account_id: UUID
    amount: Amount
    method: PaymentMethod
    reason: Reason


class Decision(_Body):
    approve: StrictBool
    note: str | None = Field(default=None, max_length=500, description="Kept with the request, never published.")


class RequestWriteOff(_Body):
    kind: Literal["hardship", "bad_debt"]
    amount: Amount | None = Field(default=None, description="The whole balance due when not given.")
    reason: Reason


class CreatePlan(_Body):
    months: int = Field(ge=2, le=120, description="Monthly installments.")
    first_due_on: date


class Recall(_Body):
    reason: Literal["payment_arranged", "dispute", "hardship", "returned_by_agency", "placed_in_error", "other"]
    note: str | None = Field(default=None, max_length=500, description="Kept with the account, never published.")


class Place(_Body):
    reason: Reason = Field(description="Why now, before the policy's terms; kept with the account, never published.")
