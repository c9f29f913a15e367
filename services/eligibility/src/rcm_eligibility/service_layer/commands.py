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


MAX_ESTIMATED_SERVICES = 20


class PlannedServiceIn(_Command):
    """`allowed_amount` overrides the payer's allowed amount on file, for a code the contract table lacks."""

    procedure_code: str
    service_type: str = "30"
    allowed_amount: Amount | None = None


class RequestEstimate(_Command):
    """One service (`procedure_code`, `service_type`, `allowed_amount`) or several (`services`, estimated in
    the order given), on `date_of_service` (today when not given)."""

    patient_id: UUID
    coverage_id: UUID
    date_of_service: date | None = None
    procedure_code: str | None = None
    service_type: str = "30"
    allowed_amount: Amount | None = None
    services: list[PlannedServiceIn] = Field(default_factory=list, max_length=MAX_ESTIMATED_SERVICES)

    def planned(self) -> list[PlannedServiceIn]:
        """The services asked about, whichever way they were given."""
        if self.procedure_code is None:
            return list(self.services)
        return [
            PlannedServiceIn(
                procedure_code=self.procedure_code, service_type=self.service_type, allowed_amount=self.allowed_amount
            )
        ]


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
