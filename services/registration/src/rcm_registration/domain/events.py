"""Domain events: what happened inside registration, recorded by the aggregate, mapped to contracts later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID


@dataclass(frozen=True, slots=True)
class PatientRegistered:
    patient_id: UUID


@dataclass(frozen=True, slots=True)
class PatientUpdated:
    patient_id: UUID
    changed_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PatientsMerged:
    surviving_patient_id: UUID
    merged_patient_id: UUID
    moved_coverage_ids: tuple[UUID, ...]
    ended_coverage_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class CoverageAdded:
    patient_id: UUID
    coverage_id: UUID


@dataclass(frozen=True, slots=True)
class CoverageUpdated:
    patient_id: UUID
    coverage_id: UUID
    changed_fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CoverageEnded:
    patient_id: UUID
    coverage_id: UUID
    termination_date: date
    reason: str | None


DomainEvent = PatientRegistered | PatientUpdated | PatientsMerged | CoverageAdded | CoverageUpdated | CoverageEnded
