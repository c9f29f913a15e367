"""Eligibility's aggregates: its copies of registration's patients and coverages (event-carried state), and
the eligibility check, whose life is pending → verified or failed, with deferred retries when the
clearinghouse or the payer could not answer now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final, Literal
from uuid import UUID

from rcm_eligibility.domain import events
from rcm_eligibility.domain.benefits import Benefits, PayerAnswer, PayerError

CheckStatus = Literal["pending", "verified", "failed"]
CheckTrigger = Literal["coverage_added", "coverage_updated", "on_demand", "appointment_sweep", "retry"]
FailureKind = Literal[
    "payer_rejected",
    "coverage_inactive",
    "clearinghouse_unavailable",
    "unreadable_response",
    "request_refused",
    "attempts_exhausted",
]
Sex = Literal["F", "M", "U"]

# Coverage changes that change what the payer would answer, so the coverage is checked again.
RECHECK_FIELDS: Final = frozenset(
    {"payer_id", "member_id", "group_number", "relationship", "subscriber", "effective_date", "termination_date"}
)


@dataclass(frozen=True, slots=True)
class Person:
    """Who the payer knows: the patient or the subscriber. PHI: kept out of repr."""

    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date = field(repr=False)
    sex: Sex = "U"


@dataclass(slots=True)
class PatientCopy:
    """What eligibility keeps of a registered patient: enough to name them in a 270."""

    patient_id: UUID
    person: Person
    merged_into: UUID | None = None


@dataclass(slots=True)
class CoverageCopy:
    """What eligibility keeps of a coverage. `subscriber` is None when the patient is the subscriber."""

    coverage_id: UUID
    patient_id: UUID
    payer_id: str
    payer_name: str
    member_id: str = field(repr=False)
    relationship: str
    effective_date: date
    order: str
    group_number: str | None = None
    plan_type: str | None = None
    subscriber: Person | None = None
    termination_date: date | None = None

    def covers(self, day: date) -> bool:
        """Registration's dates include the day (the payer has the last word)."""
        return self.effective_date <= day and (self.termination_date is None or day <= self.termination_date)

    def first_day_to_check(self, today: date) -> date | None:
        """Today while the coverage is in force, its first day when it starts later, None once it ended."""
        if self.termination_date is not None and self.termination_date < today:
            return None
        return max(today, self.effective_date)


@dataclass(frozen=True, slots=True)
class Failure:
    kind: FailureKind
    reason: str
    errors: tuple[PayerError, ...] = ()


# Attempts whose answer was never recorded (the process died, or the answer could not be stored) that a
# check may take on top of its deferred retries before it is given up as failed.
LOST_ATTEMPTS_ALLOWED: Final = 2


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait before asking again after the clearinghouse or the payer could not answer; the
    number of delays bounds the deferred attempts (each of which makes its own bounded in-call retries).
    `lease` is how long an attempt owns its check before another may ask again."""

    delays: tuple[timedelta, ...]
    lease: timedelta = timedelta(minutes=2)

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1 + LOST_ATTEMPTS_ALLOWED

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        if attempts > len(self.delays):
            return None
        return now + self.delays[attempts - 1]


@dataclass(slots=True)
class EligibilityCheck:
    """One question to a payer: is this coverage active on this date, and for what benefits."""

    id: UUID
    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    date_of_service: date
    service_type: str
    trigger: CheckTrigger
    created_at: datetime
    status: CheckStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    completed_at: datetime | None = None
    benefits: Benefits | None = None
    failure: Failure | None = None
    response_271: str | None = field(default=None, repr=False)
    events: list[events.DomainEvent] = field(default_factory=list, repr=False)

    @classmethod
    def request(
        cls,
        *,
        check_id: UUID,
        coverage: CoverageCopy,
        date_of_service: date,
        service_type: str,
        trigger: CheckTrigger,
        now: datetime,
        held_until: datetime | None = None,
    ) -> EligibilityCheck:
        """A check due now, or held for the caller that will ask at once until `held_until` (should the
        caller die, the worker asks then)."""
        return cls(
            id=check_id,
            patient_id=coverage.patient_id,
            coverage_id=coverage.coverage_id,
            payer_id=coverage.payer_id,
            date_of_service=date_of_service,
            service_type=service_type,
            trigger=trigger,
            created_at=now,
            next_attempt_at=held_until or now,
        )

    @property
    def trace_number(self) -> str:
        """TRN02 of the 270: the check id, so the 271 is matched to the question it answers."""
        return self.id.hex

    def start_attempt(self, now: datetime, policy: RetryPolicy) -> bool:
        """Claim the check for one attempt; if the process dies mid-call, the lease runs out and the
        worker asks again, so no check is ever lost. False when there is nothing to ask: the check is
        answered, or out of attempts (it is then failed for good, and says so)."""
        if self.status != "pending":
            return False
        if self.attempts >= policy.max_attempts:
            reason = f"no answer could be recorded in {self.attempts} attempts"
            self._fail(Failure("attempts_exhausted", reason), now, policy, False)
            return False
        self.attempts += 1
        self.next_attempt_at = now + policy.lease
        return True

    def lease_held(self, now: datetime) -> bool:
        """An attempt (or the caller the check was held for) owns the check until its lease runs out."""
        return self.next_attempt_at is not None and self.next_attempt_at > now

    def record_answer(self, answer: PayerAnswer, response_271: str, now: datetime, policy: RetryPolicy) -> None:
        """The payer answered: verified when it confirms coverage on the date, failed otherwise."""
        self.response_271 = response_271
        self.benefits = answer.benefits
        if answer.errors:
            described = "; ".join(error.describe() for error in answer.errors)
            later = all(error.ask_again_later for error in answer.errors)
            self._fail(Failure("payer_rejected", f"the payer answered {described}", answer.errors), now, policy, later)
        elif answer.benefits is None:
            reason = "the 271 states no coverage for the member asked about"
            self._fail(Failure("unreadable_response", reason), now, policy, False)
        elif not answer.benefits.covers(self.date_of_service):
            reason = "the payer reports the coverage inactive on the date of service"
            self._fail(Failure("coverage_inactive", reason), now, policy, False)
        else:
            self.status, self.failure, self.completed_at, self.next_attempt_at = "verified", None, now, None
            self.events.append(events.CheckVerified(answer.benefits))

    def record_unreachable(self, reason: str, now: datetime, policy: RetryPolicy) -> None:
        """The clearinghouse did not answer, even after the in-call retries: report it and ask again later."""
        self._fail(Failure("clearinghouse_unavailable", reason), now, policy, True)

    def record_refusal(self, kind: FailureKind, reason: str, now: datetime, policy: RetryPolicy) -> None:
        """The answer could not be used (unreadable, or our request refused): asking again will not help."""
        self._fail(Failure(kind, reason), now, policy, False)

    def _fail(self, failure: Failure, now: datetime, policy: RetryPolicy, retryable: bool) -> None:
        retry_at = policy.next_attempt(self.attempts, now) if retryable else None
        self.failure = failure
        self.completed_at = now
        # A check with a retry ahead stays pending: the worker asks again at retry_at.
        self.status = "pending" if retry_at is not None else "failed"
        self.next_attempt_at = retry_at
        self.events.append(events.CheckFailed(failure, retry_scheduled=retry_at is not None))


def latest_per_coverage(checks: Sequence[EligibilityCheck]) -> list[EligibilityCheck]:
    """The most recently answered check of each coverage (a check still waiting for its first answer is
    left out), newest first."""
    latest: dict[UUID, EligibilityCheck] = {}
    for check in checks:
        if check.completed_at is None:
            continue
        current = latest.get(check.coverage_id)
        if current is None or (current.completed_at or check.completed_at) < check.completed_at:
            latest[check.coverage_id] = check
    return sorted(latest.values(), key=lambda c: c.completed_at or c.created_at, reverse=True)
