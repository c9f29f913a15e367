"""What reporting keeps of the platform's events: plain records, one kind per fact, each written by one topic's
consumer so that the order in which the topics are read never changes what is stored (a replay into an empty
database stores the same rows).

A visit and its lines come from charge; a claim's life from claim; money from charge (charges), remittance (the
payers' payments, adjustments, denials and reversals), claim (a biller's write-off of a denial) and collections
(the patients' payments, refunds and write-offs). Nothing here names a person: patients, accounts and claims are
ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final
from uuid import UUID

ZERO: Final = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Visit:
    """An encounter as charge last published it."""

    encounter_id: UUID
    version: int
    patient_id: UUID
    payer_id: str | None
    self_pay: bool
    date_of_service: date
    captured_at: datetime
    rendering_npi: str | None
    total_charge: Decimal
    procedure_codes: tuple[str, ...]
    voided: bool = False
    held: bool = False
    """Held in charge's coding review: a correction is awaited before it is billed again."""


@dataclass(frozen=True, slots=True)
class VisitVersion:
    """What A/R on a past date needs of the visit as it stood then: whose, self-pay or not, and when it was."""

    encounter_id: UUID
    version: int
    occurred_at: datetime
    patient_id: UUID
    self_pay: bool
    date_of_service: date


class MovementKind(StrEnum):
    """What moved the practice's receivables, with the sign its amount carries (+ raises A/R, - lowers it)."""

    CHARGE = "charge"  # + a visit's charges (a correction's difference, a void's negative)
    INSURANCE_PAYMENT = "insurance_payment"  # - what a payer paid (+ when taken back)
    CONTRACTUAL = "contractual"  # - the contract's adjustment (CAS with a contractual reason)
    OTHER_ADJUSTMENT = "other_adjustment"  # - any other payer adjustment but the patient's share (PR)
    DENIAL_HELD = "denial_held"  # + a denied amount kept on the books while billers work it
    DENIAL_WRITE_OFF = "denial_write_off"  # - a biller wrote a denial off (+ when withdrawn)
    DENIAL_RELEASED = "denial_released"  # - what was left of a denial when its claim closed
    PATIENT_PAYMENT = "patient_payment"  # - the patient's (or the agency's) payment, applied or to credit
    REFUND = "refund"  # + credit paid back to the patient
    PATIENT_WRITE_OFF = "patient_write_off"  # - small balance, hardship, bad debt (+ when taken back)
    CREDIT_MOVED = "credit_moved"  # the patient's money between a visit and the account's credit: nets to zero


PAYMENT_KINDS: Final = frozenset({MovementKind.INSURANCE_PAYMENT, MovementKind.PATIENT_PAYMENT})


@dataclass(frozen=True, slots=True)
class Movement:
    """One change to the receivables. A/R on any date is the sum of the movements up to it."""

    occurred_at: datetime
    kind: MovementKind
    amount: Decimal
    encounter_id: UUID | None = None
    claim_id: UUID | None = None
    account_id: UUID | None = None
    payment_id: UUID | None = None
    """The payer's claim payment (remittance's) or the patient's payment it came with."""
    payer_id: str | None = None
    at_visit: bool = False
    """A patient's payment taken at the visit."""


@dataclass(frozen=True, slots=True)
class Hold:
    """A payer's denied amount on one line of a claim ("" for the claim as a whole), held until worked."""

    payment_id: UUID
    claim_id: UUID
    line: str
    amount: Decimal
    held_at: datetime


@dataclass(frozen=True, slots=True)
class Answer:
    """A payment's answer to a claim's lines (None: the claim as a whole), which supersedes earlier denials of
    them; `reversed_at` when the payer took the payment back."""

    payment_id: UUID
    claim_id: UUID
    lines: tuple[str, ...] | None
    answered_at: datetime


@dataclass(frozen=True, slots=True)
class Resolution:
    """A biller's resolution of a denial (by the payment that carried it): moved to the patient or written off;
    a withdrawn one comes with a negative amount."""

    payment_id: UUID
    kind: str  # "transferred_to_patient" or "written_off"
    amount: Decimal
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Reversal:
    payment_id: UUID
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Opening:
    """A claim opened (built, reopened) or closed (closed, replaced, voided) with the payer at a moment."""

    claim_id: UUID
    occurred_at: datetime
    open: bool
    reason: str


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """A guarantor account as collections last published it."""

    account_id: UUID
    insurance_pending: Decimal
    patient_due: Decimal
    credit: Decimal
    balance: Decimal
    placed: bool
    on_plan: bool
    plan_defaulted: bool
    statements: int
