"""What the claim service keeps of other services' facts, as their events carried them.

A claim needs the patient and subscriber an 837P names (from registration), the latest eligibility answer
and the prior authorisations on file (from eligibility). These copies are the scrubber's inputs; when one
changes, the claims that depend on it are scrubbed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from rcm_claim.domain.directories import Address

EligibilityStatus = Literal["active", "inactive", "not_found", "mismatch", "unanswered"]


@dataclass(frozen=True, slots=True)
class Person:
    """A patient or a subscriber as the 837P names them (2010BA, 2010CA)."""

    last_name: str
    first_name: str
    birth_date: date | None
    sex: str | None = None


@dataclass(slots=True)
class PatientCopy:
    """The patient as registration last said: the 837P's patient (2010CA) or, when the patient is the
    subscriber, the subscriber (2010BA) with the address it requires."""

    patient_id: UUID
    person: Person
    address: Address
    merged_into: UUID | None = None


@dataclass(slots=True)
class CoverageCopy:
    """The coverage as registration last said (a merge moves it to the survivor)."""

    coverage_id: UUID
    patient_id: UUID
    payer_id: str
    member_id: str
    order: str  # primary, secondary or tertiary
    relationship: str  # the patient to the subscriber: self, spouse, child or other
    effective_date: date
    termination_date: date | None = None
    subscriber: Person | None = None  # None when the patient is the subscriber


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    """The latest answer about a coverage: what the payer said, for which date of service, and when.

    `not_found` is a payer's AAA rejection saying the member is unknown, `mismatch` one saying the member's
    details do not match its records (`reject_codes` are the AAA03 codes); `unanswered` is a check that
    failed before any payer answered (the clearinghouse down, a response that could not be read)."""

    coverage_id: UUID
    status: EligibilityStatus
    checked_at: datetime
    date_of_service: date
    plan_begin: date | None = None
    plan_end: date | None = None
    reject_codes: tuple[str, ...] = ()

    def speaks_for(self, day: date) -> bool:
        """True when the answer is about `day`: it was asked for that date of service, or the plan's dates
        it gave leave the day out."""
        outside_plan = (self.plan_begin is not None and day < self.plan_begin) or (
            self.plan_end is not None and day > self.plan_end
        )
        return self.date_of_service == day or outside_plan

    def active_on(self, day: date) -> bool:
        """True when the payer said the coverage is active and the plan's dates, if given, hold the day."""
        if self.status != "active":
            return False
        return (self.plan_begin is None or self.plan_begin <= day) and (self.plan_end is None or day <= self.plan_end)


@dataclass(frozen=True, slots=True)
class Authorization:
    """A prior authorisation recorded in eligibility: the payer's number, the codes it covers, its dates and
    the units it allows."""

    authorization_id: UUID
    coverage_id: UUID
    number: str
    procedure_codes: frozenset[str]
    start_date: date
    end_date: date
    units_authorized: int

    def covers(self, code: str, day: date) -> bool:
        return code in self.procedure_codes and self.start_date <= day <= self.end_date
