"""Commands: what a caller asks charge to do. They are also the HTTP request bodies.

Shapes, types and the 837P's hard limits are checked here (a request that breaks them is refused whole);
coding rules are the domain's, and an encounter that breaks them is kept and held for a coder.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rcm_charge.domain.model import MAX_DIAGNOSES, MAX_LINES, MAX_MODIFIERS, MAX_POINTERS, VoidReason
from rcm_charge.domain.pricing import LOCATION_PATTERN

Code = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=10)]
Modifier = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=2)]
Npi = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
Location = Annotated[str, StringConstraints(strip_whitespace=True, pattern=f"^{LOCATION_PATTERN}$")]
Units = Annotated[Decimal, Field(gt=0, le=Decimal("9999.999"), decimal_places=3)]
Pointer = Annotated[int, Field(ge=1, le=MAX_DIAGNOSES)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=255)


class LineIn(_Command):
    code: Code
    modifiers: tuple[Modifier, ...] = Field(default=(), max_length=MAX_MODIFIERS)
    units: Units = Decimal(1)
    diagnosis_pointers: tuple[Pointer, ...] = Field(min_length=1, max_length=MAX_POINTERS)
    ndc: Annotated[str, StringConstraints(strip_whitespace=True, max_length=13)] | None = None
    date_of_service: date | None = None


class _EncounterFields(_Command):
    date_of_service: date
    place_of_service: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2)]
    billing_provider_npi: Npi
    rendering_provider_npi: Npi | None = None
    referring_provider_npi: Npi | None = None
    location: Location | None = None
    diagnoses: tuple[Code, ...] = Field(min_length=1, max_length=MAX_DIAGNOSES)
    lines: tuple[LineIn, ...] = Field(min_length=1, max_length=MAX_LINES)


class CaptureEncounter(_EncounterFields):
    patient_id: UUID
    coverage_id: UUID | None = None  # None: self-pay


class CorrectEncounter(_Command):
    """A correction: the fields given replace the encounter's; `lines` and `diagnoses` replace them whole."""

    patient_id: UUID | None = None
    coverage_id: UUID | None = None
    date_of_service: date | None = None
    place_of_service: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2)] | None = None
    billing_provider_npi: Npi | None = None
    rendering_provider_npi: Npi | None = None
    referring_provider_npi: Npi | None = None
    location: Location | None = None
    diagnoses: tuple[Code, ...] | None = Field(default=None, min_length=1, max_length=MAX_DIAGNOSES)
    lines: tuple[LineIn, ...] | None = Field(default=None, min_length=1, max_length=MAX_LINES)


Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class VoidEncounter(_Command):
    """`reason` is published; `note` stays in charge (encrypted), for free text may name the patient."""

    reason: VoidReason
    note: Note | None = None


class ResolveReview(_Command):
    """`approve` accepts the review flags as coded (errors must be corrected first, with `correction` or a
    PATCH); `void` withdraws the encounter for `void_reason`. `revision` is the encounter's as the coder read
    it: a decision on an encounter changed since is refused (412), so no flag is approved unseen."""

    decision: Literal["approve", "void"]
    note: Note
    revision: int = Field(ge=1)
    correction: CorrectEncounter | None = None
    void_reason: VoidReason = "entered_in_error"
