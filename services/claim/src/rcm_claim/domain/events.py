"""Domain events: what happened to a claim, recorded by it with the values the moment gave; the mapper
turns each into the contract's event when the claim is stored."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from uuid import UUID

from rcm_claim.domain.adjudication import Adjudication, Denial
from rcm_claim.domain.denial_work import Appeal, Resolution

VoidReason = Literal["encounter_voided", "encounter_corrected", "withdrawn"]
# Why a denied amount may be billed to the patient: the payer put it in the patient's or no one's group (PR, OA),
# or the patient signed a waiver (an ABN for Medicare) before the service; a CO denial is otherwise the provider's.
TransferBasis = Literal["not_contractual", "waiver_on_file"]
ClosedReason = Literal[
    "paid_in_full", "moved_to_patient", "next_payer_billed", "written_off", "denial_accepted", "underpayment_accepted"
]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why the payer or the clearinghouse rejected a claim: the code, its meaning and what usually fixes it."""

    code: str
    meaning: str
    suggested_fix: str | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One status a payer gave a claim on a 277 (STC01): the category and status codes, and their meaning."""

    category: str
    status: str
    meaning: str


@dataclass(frozen=True, slots=True)
class ClaimCreated:
    """A draft claim was built from an encounter version."""


@dataclass(frozen=True, slots=True)
class ClaimScrubFailed:
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClaimSubmitted:
    batch_id: UUID
    interchange_control_number: str


@dataclass(frozen=True, slots=True)
class ClaimAccepted:
    payer_claim_number: str


@dataclass(frozen=True, slots=True)
class ClaimRejected:
    stage: Literal["999", "277CA"]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class ClaimStatusUpdated:
    """The payer's 277 answer to a 276 about the claim."""

    statuses: tuple[StatusReport, ...]


@dataclass(frozen=True, slots=True)
class ClaimReplaced:
    replacement_id: UUID


@dataclass(frozen=True, slots=True)
class ClaimVoided:
    """The claim was withdrawn (before submission), or a void (frequency 8) was sent for it."""

    reason: VoidReason
    void_sent: bool = False


@dataclass(frozen=True, slots=True)
class ClaimPaid:
    adjudication: Adjudication


@dataclass(frozen=True, slots=True)
class ClaimPartiallyPaid:
    adjudication: Adjudication
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClaimDenied:
    denial: Denial


@dataclass(frozen=True, slots=True)
class ClaimClosed:
    payment_id: UUID
    reason: ClosedReason
    patient_responsibility: Decimal


@dataclass(frozen=True, slots=True)
class ClaimAppealed:
    appeal: Appeal


@dataclass(frozen=True, slots=True)
class PatientResponsibilityTransferred:
    """A biller moved a denied amount to the patient (collections bills it): the denial, and on what basis."""

    denial: Denial
    amount: Decimal
    basis: TransferBasis


@dataclass(frozen=True, slots=True)
class ClaimWriteOffRequested:
    """A biller wrote off a denied amount: collections posts the adjustment."""

    denial: Denial
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ClaimReopened:
    note: str


@dataclass(frozen=True, slots=True)
class DenialResolutionWithdrawn:
    """A transfer to the patient or a write-off undone: the payer took back or paid the denial it resolved."""

    denial: Denial
    resolution: Resolution


DomainEvent = (
    ClaimCreated
    | ClaimScrubFailed
    | ClaimSubmitted
    | ClaimAccepted
    | ClaimRejected
    | ClaimStatusUpdated
    | ClaimReplaced
    | ClaimVoided
    | ClaimPaid
    | ClaimPartiallyPaid
    | ClaimDenied
    | ClaimClosed
    | ClaimReopened
    | ClaimAppealed
    | PatientResponsibilityTransferred
    | ClaimWriteOffRequested
    | DenialResolutionWithdrawn
)
