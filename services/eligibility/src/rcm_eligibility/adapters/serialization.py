"""JSON for the value objects eligibility stores in text columns: benefits, failures, authorisation uses,
people. Money and fractions go as strings, so no float ever touches them."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rcm_eligibility.domain.authorization import AuthorizationUse
from rcm_eligibility.domain.benefits import (
    CALENDAR_YEAR,
    Accumulator,
    Benefits,
    OtherPayer,
    PayerError,
    PlanAccumulator,
    ServiceCoinsurance,
    ServiceCopay,
)
from rcm_eligibility.domain.model import Failure, Person


def _default(value: object) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)  # type: ignore[call-overload]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not stored as JSON")


def dumps(value: Any) -> str:
    """A dataclass, or plain data holding dataclasses, dates and decimals, as JSON."""
    return json.dumps(value, default=_default)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _accumulator(data: dict[str, Any]) -> Accumulator:
    return Accumulator(total=_decimal(data["total"]), remaining=_decimal(data["remaining"]))


def benefits_from_json(text: str) -> Benefits:
    data = json.loads(text)
    return Benefits(
        active=data["active"],
        plan_begin=_date(data["plan_begin"]),
        plan_end=_date(data["plan_end"]),
        plan_description=data["plan_description"],
        insurance_type=data["insurance_type"],
        group_number=data["group_number"],
        copays=tuple(ServiceCopay(c["service_type"], Decimal(c["amount"])) for c in data["copays"]),
        coinsurance=tuple(ServiceCoinsurance(c["service_type"], Decimal(c["percent"])) for c in data["coinsurance"]),
        deductible=_accumulator(data["deductible"]),
        out_of_pocket=_accumulator(data["out_of_pocket"]),
        prior_authorization_service_types=tuple(data["prior_authorization_service_types"]),
        accumulators=tuple(
            PlanAccumulator(
                kind=a["kind"],
                insurance_type=a["insurance_type"],
                coverage_level=a["coverage_level"],
                total=_decimal(a["total"]),
                remaining=_decimal(a["remaining"]),
                plan_year=a.get("plan_year", CALENDAR_YEAR),
            )
            for a in data.get("accumulators", ())  # none in a check stored before they were kept
        ),
        other_payers=tuple(
            OtherPayer(
                name=o["name"],
                payer_id=o["payer_id"],
                insurance_type=o["insurance_type"],
                service_types=tuple(o["service_types"]),
                coordination_begin=_date(o["coordination_begin"]),
                coordination_end=_date(o.get("coordination_end")),
            )
            for o in data.get("other_payers", ())
        ),
    )


def failure_from_json(text: str) -> Failure:
    data = json.loads(text)
    return Failure(kind=data["kind"], reason=data["reason"], errors=tuple(PayerError(**e) for e in data["errors"]))


def person_from_json(data: dict[str, Any]) -> Person:
    return Person(
        first_name=data["first_name"],
        last_name=data["last_name"],
        birth_date=date.fromisoformat(data["birth_date"]),
        sex=data["sex"],
    )


def uses_from_json(text: str) -> list[AuthorizationUse]:
    return [
        AuthorizationUse(
            date_of_service=date.fromisoformat(u["date_of_service"]),
            procedure_code=u["procedure_code"],
            units=u["units"],
            recorded_at=datetime.fromisoformat(u["recorded_at"]),
        )
        for u in json.loads(text)
    ]
