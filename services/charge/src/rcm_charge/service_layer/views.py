"""What charge answers with: encounters as a coder reads them, the review queue, and import reports.
An imported claim's patient (names, member id, birth date) is never part of a view."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from rcm_charge.domain.model import (
    Encounter,
    Issue,
    ReviewDecision,
    ReviewItem,
    Severity,
    SourceKind,
    Status,
    VoidReason,
)
from rcm_common.types import Money, Quantity


class IssuePublic(BaseModel):
    """`codes`: the codes to choose from, where the issue names some (a header's billable children)."""

    code: str
    message: str
    severity: Severity
    line: int | None
    codes: tuple[str, ...]

    @classmethod
    def of(cls, issue: Issue) -> IssuePublic:
        return cls(code=issue.code, message=issue.message, severity=issue.severity, line=issue.line, codes=issue.codes)


class LinePublic(BaseModel):
    line_number: int
    code: str
    modifiers: tuple[str, ...]
    units: Quantity
    diagnosis_pointers: tuple[int, ...]
    ndc: str | None
    date_of_service: date
    charge: Money | None
    expected_allowed: Money | None


class SourcePublic(BaseModel):
    kind: SourceKind
    import_id: UUID | None
    claim_reference: str | None


class ReviewSummary(BaseModel):
    id: UUID
    opened_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    decision: ReviewDecision | None

    @classmethod
    def of(cls, review: ReviewItem) -> ReviewSummary:
        return cls(
            id=review.id,
            opened_at=review.opened_at,
            resolved_at=review.resolved_at,
            resolved_by=review.resolved_by,
            decision=review.decision,
        )


class EncounterPublic(BaseModel):
    """`version` counts what was published: 1 once captured, one more for each correction and the void.
    `review` is the open review item while the encounter waits for a coder. `revision` counts the stored
    changes: a coder's decision names the revision it was made on."""

    id: UUID
    status: Status
    version: int
    patient_id: UUID | None
    coverage_id: UUID | None
    date_of_service: date
    place_of_service: str
    billing_provider_npi: str
    rendering_provider_npi: str | None
    referring_provider_npi: str | None
    location: str | None
    diagnoses: tuple[str, ...]
    lines: list[LinePublic]
    total_charge: Money | None
    expected_reimbursement: Money | None
    issues: list[IssuePublic]
    review: ReviewSummary | None
    source: SourcePublic
    void_reason: VoidReason | None
    revision: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, encounter: Encounter) -> EncounterPublic:
        details = encounter.details
        review = encounter.open_review
        return cls(
            id=encounter.id,
            status=encounter.status,
            version=encounter.version,
            patient_id=details.patient_id,
            coverage_id=details.coverage_id,
            date_of_service=details.date_of_service,
            place_of_service=details.place_of_service,
            billing_provider_npi=details.billing_provider_npi,
            rendering_provider_npi=details.rendering_provider_npi,
            referring_provider_npi=details.referring_provider_npi,
            location=details.location,
            diagnoses=details.diagnoses,
            lines=[
                LinePublic(
                    line_number=number,
                    code=line.code,
                    modifiers=line.modifiers,
                    units=line.units,
                    diagnosis_pointers=line.diagnosis_pointers,
                    ndc=line.ndc,
                    date_of_service=line.service_date(details.date_of_service),
                    charge=line.charge,
                    expected_allowed=line.expected_allowed,
                )
                for number, line in enumerate(details.lines, start=1)
            ],
            total_charge=details.total_charge,
            expected_reimbursement=details.expected_reimbursement,
            issues=[IssuePublic.of(issue) for issue in encounter.issues],
            review=ReviewSummary.of(review) if review else None,
            source=SourcePublic(
                kind=encounter.source.kind,
                import_id=encounter.source.import_id,
                claim_reference=encounter.source.claim_reference or None,
            ),
            void_reason=encounter.void_reason,
            revision=encounter.revision,
            created_at=encounter.created_at,
            updated_at=encounter.updated_at,
        )


class ReviewPublic(BaseModel):
    """One encounter waiting for a coder, with what stopped it."""

    id: UUID
    encounter_id: UUID
    opened_at: datetime
    issues: list[IssuePublic]
    encounter: EncounterPublic

    @classmethod
    def of(cls, encounter: Encounter) -> ReviewPublic:
        review = encounter.open_review
        assert review is not None, "a review queue entry is an encounter with an open review"
        return cls(
            id=review.id,
            encounter_id=encounter.id,
            opened_at=review.opened_at,
            issues=[IssuePublic.of(issue) for issue in review.issues],
            encounter=EncounterPublic.of(encounter),
        )


class PriceFileSummary(BaseModel):
    stored: int
    payers: list[str] = []


class ImportedClaimResult(BaseModel):
    """One claim of the file, by its place in the file (its 837 from 1, its place in that 837 from 1, the
    position of its CLM segment): what became of it. The other system's claim number is PHI (a patient
    account number): it is on the encounter, not in the report."""

    batch: int
    claim: int
    segment: int
    encounter_id: UUID | None  # for a duplicate, the encounter the claim was taken into before
    status: Status | Literal["skipped", "duplicate"]
    lines: int
    issue_codes: list[str]
    findings: list[str]


class ImportReport(BaseModel):
    """What an 837P import did: every claim of the file, captured, held (and why), skipped (and why) or a
    duplicate of one taken before; `lines` counts the lines taken into encounters."""

    id: UUID
    imported_at: datetime
    replayed: bool
    claims: int
    lines: int
    captured: int
    held: int
    skipped: int
    duplicates: int
    lines_captured: int
    lines_held: int
    held_by_issue: dict[str, int]
    skipped_by_reason: dict[str, int]
    findings: list[str]
    results: list[ImportedClaimResult]
