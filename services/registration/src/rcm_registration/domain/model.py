"""The patient aggregate: demographics, guarantor and coverages, with the rules a registrar applies.

Plain Python: no framework, no I/O. Every change records a domain event; the unit of work turns those
into integration events in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal
from uuid import UUID

from rcm_common.errors import Conflict, NotFound, Problems, ValidationFailed
from rcm_registration.domain import events, rules

Sex = Literal["F", "M", "U"]
SubscriberRelationship = Literal["self", "spouse", "child", "other"]
GuarantorRelationship = Literal["self", "spouse", "parent", "legal_guardian", "other"]
CoverageOrder = Literal["primary", "secondary", "tertiary"]
PatientStatus = Literal["active", "merged"]
CoverageStatus = Literal["active", "ended"]


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    line2: str | None = None

    @classmethod
    def create(
        cls,
        problems: Problems,
        prefix: str,
        *,
        line1: str,
        city: str,
        state: str,
        postal_code: str,
        line2: str | None = None,
    ) -> Address:
        return cls(
            line1=rules.text(problems, f"{prefix}.line1", line1, max_length=55) or "",
            line2=rules.text(problems, f"{prefix}.line2", line2, max_length=55, required=False),
            city=rules.name(problems, f"{prefix}.city", city, max_length=30) or "",
            state=rules.state(problems, f"{prefix}.state", state),
            postal_code=rules.postal_code(problems, f"{prefix}.postal_code", postal_code),
        )


@dataclass(frozen=True, slots=True)
class Guarantor:
    """Who owes the patient's share; for `self` the patient's own name and address apply."""

    relationship: GuarantorRelationship
    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None
    address: Address | None = None
    phone: str | None = None

    @classmethod
    def self_pay(cls) -> Guarantor:
        return cls(relationship="self")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The policy holder when the patient is a dependant."""

    first_name: str
    last_name: str
    birth_date: date
    sex: Sex | None = None


@dataclass(frozen=True, slots=True)
class Demographics:
    first_name: str
    last_name: str
    birth_date: date
    sex: Sex
    address: Address
    middle_name: str | None = None
    phone: str | None = None
    email: str | None = None
    guarantor: Guarantor = field(default_factory=Guarantor.self_pay)

    def identity_key(self) -> tuple[str, str, date]:
        """What makes two records the same person for duplicate detection: names folded, and birth date."""
        return (normalise_name(self.first_name), normalise_name(self.last_name), self.birth_date)


def normalise_name(value: str) -> str:
    return "".join(ch for ch in value.upper() if ch.isalpha())


def validate_guarantor(problems: Problems, guarantor: Guarantor, today: date) -> Guarantor:
    if guarantor.relationship == "self":
        return Guarantor.self_pay()
    first = rules.name(problems, "guarantor.first_name", guarantor.first_name, max_length=35)
    last = rules.name(problems, "guarantor.last_name", guarantor.last_name, max_length=60)
    if guarantor.address is None:
        problems.add("guarantor.address", "is required when the guarantor is not the patient")
    born = guarantor.birth_date and rules.birth_date(problems, "guarantor.birth_date", guarantor.birth_date, today)
    return replace(
        guarantor,
        first_name=first,
        last_name=last,
        birth_date=born or None,
        phone=rules.phone(problems, "guarantor.phone", guarantor.phone),
    )


def validate_demographics(problems: Problems, details: Demographics, today: date) -> Demographics:
    return replace(
        details,
        first_name=rules.name(problems, "first_name", details.first_name, max_length=35) or "",
        middle_name=rules.name(problems, "middle_name", details.middle_name, max_length=25, required=False),
        last_name=rules.name(problems, "last_name", details.last_name, max_length=60) or "",
        birth_date=rules.birth_date(problems, "birth_date", details.birth_date, today),
        phone=rules.phone(problems, "phone", details.phone),
        email=rules.email(problems, "email", details.email),
        guarantor=validate_guarantor(problems, details.guarantor, today),
    )


@dataclass(frozen=True, slots=True)
class CoverageTerms:
    """What a coverage says: who pays, for whom, from when to when, in which order."""

    payer_id: str
    payer_name: str
    member_id: str
    relationship: SubscriberRelationship
    effective_date: date
    order: CoverageOrder
    group_number: str | None = None
    plan_type: str | None = None
    subscriber: Subscriber | None = None
    termination_date: date | None = None


def validate_terms(problems: Problems, terms: CoverageTerms, today: date) -> CoverageTerms:
    subscriber = terms.subscriber
    if terms.relationship == "self":
        subscriber = None
    elif subscriber is None:
        problems.add("subscriber", "is required when the patient is not the subscriber")
    else:
        subscriber = replace(
            subscriber,
            first_name=rules.name(problems, "subscriber.first_name", subscriber.first_name, max_length=35) or "",
            last_name=rules.name(problems, "subscriber.last_name", subscriber.last_name, max_length=60) or "",
            birth_date=rules.birth_date(problems, "subscriber.birth_date", subscriber.birth_date, today),
        )
    if terms.termination_date is not None and terms.termination_date < terms.effective_date:
        problems.add("termination_date", "is before the effective date")
    return replace(
        terms,
        payer_id=rules.payer_id(problems, "payer_id", terms.payer_id),
        payer_name=rules.text(problems, "payer_name", terms.payer_name, max_length=60) or "",
        member_id=rules.member_id(problems, "member_id", terms.member_id),
        group_number=rules.group_number(problems, "group_number", terms.group_number),
        subscriber=subscriber,
    )


@dataclass(slots=True)
class Coverage:
    id: UUID
    patient_id: UUID
    terms: CoverageTerms
    status: CoverageStatus = "active"
    end_reason: str | None = None

    def overlaps(self, other: CoverageTerms) -> bool:
        """True when both are in force on at least one common day."""
        mine_ends = self.terms.termination_date or date.max
        theirs_ends = other.termination_date or date.max
        return self.terms.effective_date <= theirs_ends and other.effective_date <= mine_ends

    def same_policy(self, terms: CoverageTerms) -> bool:
        """The same payer and member id, however the id was punctuated: one policy, listed twice."""
        return self.terms.payer_id == terms.payer_id and policy_number(self.terms.member_id) == policy_number(
            terms.member_id
        )


def policy_number(member_id: str) -> str:
    """A member id as payers compare them: upper case, without spaces or hyphens."""
    return "".join(ch for ch in member_id.upper() if ch not in " -")


@dataclass(slots=True)
class Patient:
    id: UUID
    mrn: str
    details: Demographics
    ssn: str | None = None
    status: PatientStatus = "active"
    merged_into_id: UUID | None = None
    version: int = 1
    coverages: list[Coverage] = field(default_factory=list)
    events: list[events.DomainEvent] = field(default_factory=list)

    @classmethod
    def register(cls, *, patient_id: UUID, mrn: str, details: Demographics, ssn: str | None) -> Patient:
        patient = cls(id=patient_id, mrn=mrn, details=details, ssn=ssn)
        patient.events.append(events.PatientRegistered(patient_id))
        return patient

    def _require_active(self) -> None:
        if self.status != "active":
            raise Conflict(
                "The patient was merged into another record; change the surviving record instead.",
                extra={"merged_into_id": str(self.merged_into_id)},
            )

    def _changed(self) -> None:
        self.version += 1

    def update(self, details: Demographics, ssn: str | None) -> tuple[str, ...]:
        """Replace demographics; records PatientUpdated naming the fields that really changed."""
        self._require_active()
        changed = tuple(
            name for name in Demographics.__dataclass_fields__ if getattr(details, name) != getattr(self.details, name)
        )
        if ssn != self.ssn:
            changed += ("ssn",)
        if not changed:
            return ()
        self.details, self.ssn = details, ssn
        self._changed()
        # The SSN never leaves registration: consumers are told only about what they hold.
        published = tuple(name for name in changed if name != "ssn")
        if published:
            self.events.append(events.PatientUpdated(self.id, published))
        return changed

    def coverage(self, coverage_id: UUID) -> Coverage:
        for coverage in self.coverages:
            if coverage.id == coverage_id:
                return coverage
        raise NotFound("The patient has no coverage with that id.")

    def _check_order_free(self, terms: CoverageTerms, ignore: UUID | None = None) -> None:
        """One coverage per order on any day: an ended coverage still counts up to its termination date."""
        for other in self.coverages:
            if other.id != ignore and other.terms.order == terms.order and other.overlaps(terms):
                raise Conflict(
                    f"A {terms.order} coverage already covers some of these dates; end it earlier first.",
                    extra={"coverage_id": str(other.id)},
                )

    def active_coverages(self) -> list[Coverage]:
        return [c for c in self.coverages if c.status == "active"]

    def add_coverage(self, terms: CoverageTerms, coverage_id: UUID | None = None) -> Coverage:
        self._require_active()
        self._check_order_free(terms)
        coverage = Coverage(id=coverage_id or uuid.uuid4(), patient_id=self.id, terms=terms)
        self.coverages.append(coverage)
        self._changed()
        self.events.append(events.CoverageAdded(self.id, coverage.id))
        return coverage

    def update_coverage(self, coverage_id: UUID, terms: CoverageTerms) -> tuple[str, ...]:
        self._require_active()
        coverage = self.coverage(coverage_id)
        if coverage.status != "active":
            raise Conflict("The coverage has ended; add a new coverage instead.")
        self._check_order_free(terms, ignore=coverage_id)
        changed = tuple(
            name for name in CoverageTerms.__dataclass_fields__ if getattr(terms, name) != getattr(coverage.terms, name)
        )
        if changed:
            coverage.terms = terms
            self._changed()
            self.events.append(events.CoverageUpdated(self.id, coverage.id, changed))
        return changed

    def end_coverage(self, coverage_id: UUID, termination_date: date, reason: str | None) -> Coverage:
        self._require_active()
        coverage = self.coverage(coverage_id)
        if coverage.status != "active":
            raise Conflict("The coverage has already ended.")
        if termination_date < coverage.terms.effective_date:
            raise ValidationFailed([{"field": "termination_date", "message": "is before the effective date"}])
        coverage.terms = replace(coverage.terms, termination_date=termination_date)
        coverage.status, coverage.end_reason = "ended", reason
        self._changed()
        self.events.append(events.CoverageEnded(self.id, coverage.id, termination_date, reason))
        return coverage

    def absorb(self, duplicate: Patient, today: date) -> None:
        """Merge a duplicate record into this one.

        The duplicate's coverages move here, except a policy this record already lists (same payer and
        member id, whatever the relationship), which is ended as a duplicate. Moving a coverage that would give this
        record two active coverages of the same order on the same dates is refused: a registrar decides.
        """
        self._require_active()
        if duplicate.id == self.id:
            raise ValidationFailed([{"field": "duplicate_id", "message": "is the surviving patient itself"}])
        duplicate._require_active()
        moving: list[Coverage] = []
        ending: list[Coverage] = []
        for coverage in duplicate.active_coverages():
            if any(mine.same_policy(coverage.terms) for mine in self.active_coverages()):
                ending.append(coverage)
            else:
                self._check_order_free(coverage.terms)
                moving.append(coverage)
        for coverage in ending:
            ended_on = max(today, coverage.terms.effective_date)
            coverage.terms = replace(coverage.terms, termination_date=ended_on)
            coverage.status, coverage.end_reason = "ended", "duplicate of a coverage on the surviving record"
            duplicate.events.append(events.CoverageEnded(duplicate.id, coverage.id, ended_on, coverage.end_reason))
        for coverage in moving:
            duplicate.coverages.remove(coverage)
            coverage.patient_id = self.id
            self.coverages.append(coverage)
        duplicate.status, duplicate.merged_into_id = "merged", self.id
        duplicate._changed()
        self._changed()
        self.events.append(
            events.PatientsMerged(
                surviving_patient_id=self.id,
                merged_patient_id=duplicate.id,
                moved_coverage_ids=tuple(c.id for c in moving),
                ended_coverage_ids=tuple(c.id for c in ending),
            )
        )
