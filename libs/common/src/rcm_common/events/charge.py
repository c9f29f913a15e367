"""Integration events published by the charge service on `rcm.charge.events`, keyed by encounter.

ChargesCaptured carries everything the claim service needs to build a claim: who, where and when, the
diagnoses, the coded and priced lines and the expected reimbursement. ChargesCorrected carries the whole
corrected encounter with the next version (a claim already built from an earlier version is replaced).
ChargesHeld says a version the claim side has is being corrected and must not be billed until the
correction (or a void) follows; ChargesVoided says an encounter the claim side has seen is withdrawn.
Patient names never travel here, nor free text.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from rcm_common.events.base import IntegrationEvent, OpenEnum
from rcm_common.types import Money, Quantity

VoidReason = Annotated[
    Literal["duplicate", "wrong_patient", "wrong_date", "entered_in_error", "not_performed", "other"],
    OpenEnum(unknown_reads_as="other"),
]


# Units may be fractional (minutes of anaesthesia, say); on the wire as a plain decimal string, like money.
Units = Annotated[Quantity, Field(gt=0)]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Diagnosis(_Part):
    """An ICD-10-CM code as billed (dotted), at its pointer position (1 is the principal diagnosis)."""

    pointer: int
    code: str
    description: str


class ChargeLine(_Part):
    line_number: int
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    units: Units
    diagnosis_pointers: tuple[int, ...]
    date_of_service: date
    charge: Money
    ndc: str | None = None  # 11 digits, 5-4-2
    expected_allowed: Money | None = None  # None: no contract rate on file for this payer and code


class _EncounterCharges(IntegrationEvent):
    subject_field: ClassVar[str] = "encounter_id"

    encounter_id: UUID
    version: int
    patient_id: UUID
    coverage_id: UUID | None  # None: self-pay
    payer_id: str | None = None
    date_of_service: date
    place_of_service: str
    billing_provider_npi: str
    rendering_provider_npi: str | None = None
    referring_provider_npi: str | None = None
    location: str | None = None
    diagnoses: tuple[Diagnosis, ...]
    lines: tuple[ChargeLine, ...]
    total_charge: Money
    expected_reimbursement: Money | None = None  # None unless every line has an expected allowed
    icd10cm_edition: str


class ChargesCaptured(_EncounterCharges):
    event_type: ClassVar[str] = "rcm.charge.charges_captured"


class ChargesCorrected(_EncounterCharges):
    """The whole encounter as corrected; `version` is one more than the version it replaces."""

    event_type: ClassVar[str] = "rcm.charge.charges_corrected"

    replaces_version: int


class ChargesHeld(IntegrationEvent):
    """A captured encounter's correction went to coding review: do not bill `version` until a ChargesCorrected
    (the next version) or a ChargesVoided follows. `issue_codes` say what stopped the correction."""

    event_type: ClassVar[str] = "rcm.charge.charges_held"
    subject_field: ClassVar[str] = "encounter_id"

    encounter_id: UUID
    version: int
    patient_id: UUID | None
    issue_codes: tuple[str, ...]


class ChargesVoided(IntegrationEvent):
    event_type: ClassVar[str] = "rcm.charge.charges_voided"
    subject_field: ClassVar[str] = "encounter_id"

    encounter_id: UUID
    version: int
    patient_id: UUID | None
    reason: VoidReason
