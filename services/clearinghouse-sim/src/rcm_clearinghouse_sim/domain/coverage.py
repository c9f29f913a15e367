"""Who the simulated payers cover. Every member id is enrolled, from 1 January of the year before the date
of service, except the documented test conventions: an id starting NOTFOUND is unknown, TERM has a plan that
ended before the date of service (the last day of the month two months before it), DOWN makes the payer
unable to answer an eligibility inquiry now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum


class Standing(Enum):
    ACTIVE = "active"
    TERMINATED = "terminated"
    NOT_FOUND = "not found"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class Coverage:
    standing: Standing
    begin: date | None = None
    end: date | None = None

    def covers(self, day: date) -> bool:
        if self.standing is Standing.NOT_FOUND or self.begin is None:
            return False
        return self.begin <= day and (self.end is None or day <= self.end)


def coverage_of(member_id: str, service_date: date) -> Coverage:
    """The member's coverage as it stands for the date of service."""
    if not member_id or member_id.startswith("NOTFOUND"):
        return Coverage(Standing.NOT_FOUND)
    begin = date(service_date.year - 1, 1, 1)
    if member_id.startswith("TERM"):
        return Coverage(Standing.TERMINATED, begin, _end_of_month_two_before(service_date))
    if member_id.startswith("DOWN"):
        return Coverage(Standing.UNAVAILABLE, begin)
    return Coverage(Standing.ACTIVE, begin)


def _end_of_month_two_before(day: date) -> date:
    first_of_last_month = day.replace(day=1) - timedelta(days=1)
    return first_of_last_month.replace(day=1) - timedelta(days=1)
