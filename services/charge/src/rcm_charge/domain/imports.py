"""Claims read from another system's file, as encounter drafts: what the 837P import gives the use case that
matches, prices and validates them. Claim numbers and diagnoses are PHI: they stay out of reprs."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from rcm_charge.domain.model import EncounterDetails, ImportedPatient


@dataclass(frozen=True, slots=True)
class ClaimPosition:
    """Where a claim stands in the file: its 837 transaction set (from 1), its place in that set (from 1) and
    the position of its CLM segment in its interchange, as X12 tools count segments."""

    batch: int
    claim: int
    segment: int


@dataclass(frozen=True, slots=True)
class ImportedClaim:
    """One claim as an encounter draft. `details` has no patient or coverage, no location and unpriced lines;
    `source_charges` are the sender's charges of those lines, in order; `reference` is CLM01."""

    reference: str = field(repr=False)
    position: ClaimPosition
    details: EncounterDetails = field(repr=False)  # its diagnoses are PHI
    source_patient: ImportedPatient
    payer_id: str
    source_charges: tuple[Decimal, ...]
    findings: tuple[str, ...] = ()
    icd9_diagnoses: bool = False  # the sender coded the diagnoses in ICD-9-CM (HI qualifiers BK, BF)


@dataclass(frozen=True, slots=True)
class SkippedClaim:
    """A claim that cannot become an encounter (a void, no lines, no HCPCS/CPT line, no date), and why."""

    reference: str = field(repr=False)
    position: ClaimPosition
    reason: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The claims taken and skipped, in file order, and what the reader noted about the file itself."""

    claims: tuple[ImportedClaim, ...]
    skipped: tuple[SkippedClaim, ...]
    findings: tuple[str, ...]
