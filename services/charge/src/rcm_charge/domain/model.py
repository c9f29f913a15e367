"""The encounter aggregate: what a provider did for a patient on a date of service, coded and priced, and
where it stands on its way to a claim.

An encounter is `held` while any error, or any review flag a coder has not accepted, stands against it; it is
`captured` once clean, and that capture is published. A correction of a captured encounter is validated again
and, when clean, published as a correction with the next version; one that is not clean goes back to the
coding review queue, and the claim side is told to hold the version it has. A void ends the encounter.
Warnings are told, never held for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from rcm_charge.domain import events

Status = Literal["held", "captured", "voided"]
Severity = Literal["error", "review", "warning"]
SourceKind = Literal["api", "837p"]
ReviewDecision = Literal["approved", "corrected", "voided"]
VoidReason = Literal["duplicate", "wrong_patient", "wrong_date", "entered_in_error", "not_performed", "other"]

MAX_DIAGNOSES = 12  # HI segments of an 837P hold twelve
MAX_MODIFIERS = 4  # SV101-3 to SV101-6
MAX_POINTERS = 4  # SV107-1 to SV107-4
MAX_LINES = 50  # 2400 loops of one 837P claim


class EncounterError(Exception):
    """A change the encounter refuses as it stands (voided, or errors a coder cannot wave through)."""

    def __init__(self, message: str, issues: tuple[Issue, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.issues = issues


@dataclass(frozen=True, slots=True)
class Issue:
    """A coded finding of validation. An `error` must be corrected; a `review` flag asks a coder's judgement
    and is released when a coder accepts it; a `warning` holds nothing. `codes` names codes to choose from
    (billable children)."""

    code: str
    message: str
    severity: Severity = "error"
    line: int | None = None
    codes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What a coder's acceptance of a review flag is remembered by: the whole flag, so another flag of the
        same code on the same line (a different modifier, say) is not taken for the one accepted."""
        return f"{self.code}:{self.line or 0}:{self.message}:{','.join(self.codes)}"


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """One billed service: a CPT or HCPCS code with up to four modifiers, units, pointers to the encounter's
    diagnoses (1-based), an NDC for drugs, and, once priced, its charge and the payer's expected allowed."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: Decimal = Decimal(1)
    diagnosis_pointers: tuple[int, ...] = ()
    ndc: str | None = None
    date_of_service: date | None = None  # when the line's date differs from the encounter's
    charge: Decimal | None = None
    expected_allowed: Decimal | None = None

    def service_date(self, encounter_date: date) -> date:
        return self.date_of_service or encounter_date


@dataclass(frozen=True, slots=True)
class ImportedPatient:
    """Who an imported claim was for, as the other system sent it, kept until a coder links a patient."""

    first_name: str = field(repr=False)
    last_name: str = field(repr=False)
    birth_date: date | None = field(default=None, repr=False)
    sex: Literal["F", "M", "U"] = "U"
    member_id: str = field(default="", repr=False)
    payer_id: str = ""


@dataclass(frozen=True, slots=True)
class EncounterDetails:
    """Everything a correction may change."""

    patient_id: UUID | None
    coverage_id: UUID | None
    date_of_service: date
    place_of_service: str
    billing_provider_npi: str
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    rendering_provider_npi: str | None = None
    referring_provider_npi: str | None = None
    location: str | None = None

    @property
    def total_charge(self) -> Decimal | None:
        return _total([line.charge for line in self.lines])

    @property
    def expected_reimbursement(self) -> Decimal | None:
        """What the payers' contracts allow for the whole encounter; None unless every line has a rate."""
        return _total([line.expected_allowed for line in self.lines])


def _total(amounts: list[Decimal | None]) -> Decimal | None:
    known = [amount for amount in amounts if amount is not None]
    return sum(known, Decimal("0.00")) if known and len(known) == len(amounts) else None


@dataclass(frozen=True, slots=True)
class Source:
    """Where the encounter came from: the API, or a line of an imported 837P (file, claim and its position)."""

    kind: SourceKind = "api"
    import_id: UUID | None = None
    claim_reference: str = field(default="", repr=False)  # CLM01, the other system's claim number
    imported_patient: ImportedPatient | None = None
    findings: tuple[str, ...] = ()  # what the import could not take as sent, until a coder corrects the encounter
    icd9_diagnoses: bool = False  # the sender's diagnoses are ICD-9-CM, until a coder recodes them
    natural_key: str = field(default="", repr=False)  # who billed what, when, under which claim number


@dataclass(slots=True)
class ReviewItem:
    """An encounter waiting for a coder, with the issues that stopped it; closed by the coder's decision or
    by a correction that cleared it."""

    id: UUID
    encounter_id: UUID
    issues: tuple[Issue, ...]
    opened_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    decision: ReviewDecision | None = None
    note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(slots=True)
class Encounter:
    id: UUID
    details: EncounterDetails
    status: Status
    issues: tuple[Issue, ...]
    created_at: datetime
    updated_at: datetime
    source: Source = field(default_factory=Source)
    version: int = 0  # of the last publication; 0 until first captured
    revision: int = 0  # of the stored row, one more at each save: a stale copy is never saved over a newer one
    accepted_reviews: frozenset[str] = frozenset()
    void_reason: VoidReason | None = None
    void_note: str | None = None
    reviews: list[ReviewItem] = field(default_factory=list)
    events: list[events.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def open(
        cls,
        *,
        encounter_id: UUID,
        details: EncounterDetails,
        issues: Iterable[Issue],
        now: datetime,
        review_id: UUID,
        payer_id: str | None,
        source: Source | None = None,
    ) -> Encounter:
        encounter = cls(
            id=encounter_id,
            details=details,
            status="held",
            issues=(),
            created_at=now,
            updated_at=now,
            source=source or Source(),
        )
        encounter._settle(tuple(issues), now, review_id, payer_id=payer_id)
        return encounter

    @property
    def open_review(self) -> ReviewItem | None:
        return next((item for item in self.reviews if item.is_open), None)

    @property
    def blocking_issues(self) -> tuple[Issue, ...]:
        return tuple(
            issue
            for issue in self.issues
            if issue.severity == "error" or (issue.severity == "review" and issue.key not in self.accepted_reviews)
        )

    def correct(
        self,
        details: EncounterDetails,
        issues: Iterable[Issue],
        now: datetime,
        review_id: UUID,
        *,
        payer_id: str | None,
    ) -> bool:
        """Take corrected details, validated again; False when nothing changed. A coder's earlier acceptance
        of review flags does not carry over to changed coding."""
        self._refuse_if_voided()
        if details == self.details:
            return False
        self.details = details
        self.accepted_reviews = frozenset()
        self._settle(tuple(issues), now, review_id, payer_id=payer_id, decision="corrected")
        return True

    def revalidate(self, issues: Iterable[Issue], now: datetime, review_id: UUID, *, payer_id: str | None) -> bool:
        """Validate a held encounter again after what it was waiting for arrived (its patient, say); False
        when that changed nothing, so nothing need be saved."""
        found = tuple(issues)
        if self.status != "held" or found == self.issues:
            return False
        self._settle(found, now, review_id, payer_id=payer_id, decision="corrected")
        return True

    def approve(
        self,
        details: EncounterDetails,
        issues: Iterable[Issue],
        *,
        by: str,
        note: str | None,
        now: datetime,
        review_id: UUID,
        payer_id: str | None,
    ) -> None:
        """A coder accepts the review flags the open review item showed them, on the details as coded (with the
        correction given with the approval, if any); errors cannot be accepted and must be corrected first. A
        flag the coder has not seen (one that correction raised) is not accepted: the encounter stays held, its
        review item naming it. Nothing changes when the approval is refused."""
        self._refuse_if_voided()
        current = tuple(issues)
        errors = tuple(issue for issue in current if issue.severity == "error")
        if errors:
            raise EncounterError("the encounter has errors a coder cannot accept; correct them first", errors)
        if details != self.details:  # the coding changed: what was accepted of the old is not
            self.details = details
            self.accepted_reviews = frozenset()
        review = self.open_review
        seen = {issue.key for issue in review.issues} if review is not None else set()
        self.accepted_reviews = self.accepted_reviews | frozenset(
            issue.key for issue in current if issue.severity == "review" and issue.key in seen
        )
        self._settle(current, now, review_id, payer_id=payer_id, decision="approved", by=by, note=note)

    def void(self, reason: VoidReason, note: str | None, *, by: str, now: datetime) -> None:
        self._refuse_if_voided()
        published = self.version > 0
        self.status = "voided"
        self.void_reason = reason
        self.void_note = note
        self.updated_at = now
        self._close_review(now, "voided", by=by, note=note)
        if published:
            self.version += 1
            self.events.append(events.EncounterVoided(self.version))

    def _refuse_if_voided(self) -> None:
        if self.status == "voided":
            raise EncounterError("the encounter is voided")

    def _settle(
        self,
        issues: tuple[Issue, ...],
        now: datetime,
        review_id: UUID,
        *,
        payer_id: str | None,
        decision: ReviewDecision = "corrected",
        by: str | None = None,
        note: str | None = None,
    ) -> None:
        """Hold the encounter for review while anything blocks it; otherwise capture it for `payer_id`."""
        self.issues = issues
        self.updated_at = now
        blocking = self.blocking_issues
        if blocking:
            if self.status == "captured":  # the claim side has this version: it must hold it
                self.events.append(events.EncounterHeld(self.version))
            self.status = "held"
            review = self.open_review
            if review is None:
                self.reviews.append(ReviewItem(review_id, self.id, blocking, now))
            else:
                review.issues = blocking
            return
        self.status = "captured"
        self._close_review(now, decision, by=by, note=note)
        self.version += 1
        if self.version == 1:
            self.events.append(events.EncounterCaptured(self.version, payer_id))
        else:
            self.events.append(events.EncounterCorrected(self.version, payer_id))

    def _close_review(self, now: datetime, decision: ReviewDecision, *, by: str | None, note: str | None) -> None:
        review = self.open_review
        if review is not None:
            review.resolved_at = now
            review.resolved_by = by
            review.decision = decision
            review.note = note
