"""A claim as the simulated payers see it: who, what, when, for how much, and (on a secondary claim) what
the prior payer paid and left to the patient. The X12 adapter makes it from an 837P claim."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Patient:
    """Whose deductible and out-of-pocket a claim or an inquiry counts against: the subscriber, by member
    id, or a dependant, whom the payer knows only under the subscriber's member id, by (last name, first
    name, birth date)."""

    member_id: str = field(repr=False)
    dependant: tuple[str, str, date | None] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class PriorShare:
    """What the prior payer paid on a claim or line, and what it left the patient (its PR adjustments)."""

    paid: Decimal
    patient: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    number: int
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    units: Decimal
    service_date: date
    pointers: tuple[int, ...]
    prior_authorization: str = ""
    prior: PriorShare | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """`claim_id` is CLM01. `responsibility` is SBR01 (P, S, T); `prior` the prior payer's adjudication
    of the whole claim, when the claim carries one (2320 AMT*D). `frequency` is CLM05-3 (1 original, 7
    replacement, 8 void) and `corrects` the payer claim number a replacement or void names (REF*F8);
    `dependant` is the patient when not the subscriber (see `Patient`)."""

    claim_id: str = field(repr=False)
    payer_id: str
    member_id: str = field(repr=False)
    billing_npi: str
    rendering_npi: str
    charge: Decimal
    diagnoses: tuple[str, ...] = field(repr=False)
    lines: tuple[Line, ...]
    prior_authorization: str = ""
    responsibility: str = "P"
    prior: PriorShare | None = None
    frequency: str = "1"
    corrects: str = ""
    dependant: tuple[str, str, date | None] | None = field(default=None, repr=False)

    @property
    def patient(self) -> Patient:
        return Patient(self.member_id, self.dependant)

    @property
    def service_date(self) -> date:
        return min(line.service_date for line in self.lines)

    @property
    def service_end(self) -> date:
        return max(line.service_date for line in self.lines)

    @property
    def line_charges(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00"))
