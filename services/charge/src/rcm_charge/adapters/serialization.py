"""The JSON form of what charge stores encrypted: an encounter's details, issues and imported patient.
Decimals travel as strings and dates as ISO dates, so a round trip gives back equal domain objects."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from rcm_charge.domain.model import EncounterDetails, ImportedPatient, Issue, ServiceLine


def _default(value: object) -> str:
    if isinstance(value, Decimal | date | UUID):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__}")


def dumps(value: object) -> str:
    return json.dumps(value, default=_default, separators=(",", ":"), sort_keys=True)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def details_to_json(details: EncounterDetails) -> dict[str, Any]:
    return asdict(details)


def details_from_json(data: dict[str, Any]) -> EncounterDetails:
    return EncounterDetails(
        patient_id=_uuid(data["patient_id"]),
        coverage_id=_uuid(data["coverage_id"]),
        date_of_service=date.fromisoformat(data["date_of_service"]),
        place_of_service=data["place_of_service"],
        billing_provider_npi=data["billing_provider_npi"],
        rendering_provider_npi=data["rendering_provider_npi"],
        referring_provider_npi=data["referring_provider_npi"],
        location=data["location"],
        diagnoses=tuple(data["diagnoses"]),
        lines=tuple(
            ServiceLine(
                code=line["code"],
                modifiers=tuple(line["modifiers"]),
                units=Decimal(line["units"]),
                diagnosis_pointers=tuple(line["diagnosis_pointers"]),
                ndc=line["ndc"],
                date_of_service=_date(line["date_of_service"]),
                charge=_decimal(line["charge"]),
                expected_allowed=_decimal(line["expected_allowed"]),
            )
            for line in data["lines"]
        ),
    )


def issues_to_json(issues: tuple[Issue, ...]) -> list[dict[str, Any]]:
    return [asdict(issue) for issue in issues]


def issues_from_json(data: list[dict[str, Any]]) -> tuple[Issue, ...]:
    return tuple(
        Issue(
            code=item["code"],
            message=item["message"],
            severity=item["severity"],
            line=item["line"],
            codes=tuple(item["codes"]),
        )
        for item in data
    )


def imported_patient_to_json(patient: ImportedPatient | None) -> dict[str, Any] | None:
    return None if patient is None else asdict(patient)


def imported_patient_from_json(data: dict[str, Any] | None) -> ImportedPatient | None:
    if data is None:
        return None
    return ImportedPatient(
        first_name=data["first_name"],
        last_name=data["last_name"],
        birth_date=_date(data["birth_date"]),
        sex=data["sex"],
        member_id=data["member_id"],
        payer_id=data["payer_id"],
    )
