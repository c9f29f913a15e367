"""Commands: what a caller asks eligibility to do. They are also the HTTP request bodies.

Shapes and types are checked here; the rules (code formats, date windows, units) in the domain.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from rcm_common.types import Money

MAX_ALLOWED_AMOUNTS = 5000
# What NUMERIC(12,2) holds: larger amounts are refused at the door, on every database alike.
MAX_AMOUNT = Decimal("9999999999.99")
Amount = Annotated[Money, Field(ge=0, le=MAX_AMOUNT)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=255)


class RequestCheck(_Command):
    patient_id: UUID
    coverage_id: UUID
    date_of_service: date
    service_type: str = "30"


class RequestEstimate(_Command):
    """`allowed_amount` overrides the payer's allowed amount on file, for a code the contract table lacks."""

    patient_id: UUID
    coverage_id: UUID
    procedure_code: str
    service_type: str = "30"
    allowed_amount: Amount | None = None


class RecordAuthorization(_Command):
    patient_id: UUID
    coverage_id: UUID
    authorization_number: str
    procedure_codes: list[str] = Field(max_length=50)
    units_authorized: int
    start_date: date
    end_date: date
    service_type: str | None = None


class UseAuthorization(_Command):
    procedure_code: str
    units: int
    date_of_service: date


class ScheduleAppointment(_Command):
    patient_id: UUID
    coverage_id: UUID
    date_of_service: date
    service_type: str = "30"


class AllowedAmount(_Command):
    payer_id: str
    procedure_code: str
    amount: Amount


class PutAllowedAmounts(_Command):
    amounts: list[AllowedAmount] = Field(min_length=1, max_length=MAX_ALLOWED_AMOUNTS)
