"""Prior authorisations: a payer's permission, by number, for so many units of some procedures between two
dates. Units are drawn down as they are used; an authorisation is no use once expired or exhausted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from rcm_common.errors import Conflict, Problems
from rcm_eligibility.domain import events, rules

AuthorizationStatus = Literal["active", "not_yet_valid", "expired", "exhausted"]


@dataclass(frozen=True, slots=True)
class AuthorizationUse:
    date_of_service: date
    procedure_code: str
    units: int
    recorded_at: datetime


class AuthorizationNotUsable(Conflict):
    """The authorisation does not cover the use asked for (dates, code or units)."""


@dataclass(slots=True)
class PriorAuthorization:
    id: UUID
    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    number: str
    procedure_codes: tuple[str, ...]
    units_authorized: int
    start_date: date
    end_date: date
    recorded_at: datetime
    service_type: str | None = None
    uses: list[AuthorizationUse] = field(default_factory=list)
    version: int = 1
    events: list[events.DomainEvent] = field(default_factory=list, repr=False)

    @classmethod
    def record(
        cls,
        *,
        authorization_id: UUID,
        patient_id: UUID,
        coverage_id: UUID,
        payer_id: str,
        number: str,
        procedure_codes: list[str],
        units_authorized: int,
        start_date: date,
        end_date: date,
        service_type: str | None,
        now: datetime,
    ) -> PriorAuthorization:
        problems = Problems()
        number = rules.authorization_number(problems, "authorization_number", number)
        codes = tuple(
            dict.fromkeys(
                rules.procedure_code(problems, f"procedure_codes[{i}]", code) for i, code in enumerate(procedure_codes)
            )
        )
        if not codes:
            problems.add("procedure_codes", "must name at least one procedure code")
        units = rules.units(problems, "units_authorized", units_authorized)
        if end_date < start_date:
            problems.add("end_date", "must be on or after start_date")
        kind = rules.service_type(problems, "service_type", service_type) if service_type is not None else None
        problems.raise_if_any()
        authorization = cls(
            id=authorization_id,
            patient_id=patient_id,
            coverage_id=coverage_id,
            payer_id=payer_id,
            number=number,
            procedure_codes=codes,
            units_authorized=units,
            start_date=start_date,
            end_date=end_date,
            recorded_at=now,
            service_type=kind,
        )
        authorization.events.append(events.AuthorizationRecorded())
        return authorization

    @property
    def units_used(self) -> int:
        return sum(use.units for use in self.uses)

    @property
    def units_remaining(self) -> int:
        return self.units_authorized - self.units_used

    def status(self, today: date) -> AuthorizationStatus:
        if self.units_remaining <= 0:
            return "exhausted"
        if today < self.start_date:
            return "not_yet_valid"
        if today > self.end_date:
            return "expired"
        return "active"

    def use(self, *, procedure_code: str, units: int, date_of_service: date, now: datetime) -> AuthorizationUse:
        """Draw units down for a service; refused, changing nothing, when the authorisation does not cover it."""
        problems = Problems()
        code = rules.procedure_code(problems, "procedure_code", procedure_code)
        rules.units(problems, "units", units)
        problems.raise_if_any()
        if not self.start_date <= date_of_service <= self.end_date:
            raise AuthorizationNotUsable("The date of service is outside the authorisation's dates.")
        if code not in self.procedure_codes:
            raise AuthorizationNotUsable("The procedure code is not one the authorisation names.")
        if units > self.units_remaining:
            raise AuthorizationNotUsable(
                f"The authorisation has {self.units_remaining} units left; {units} were asked for."
            )
        use = AuthorizationUse(date_of_service, code, units, now)
        self.uses.append(use)
        self.version += 1
        return use
