"""Integration events published by the claim service on `rcm.claim.events`, keyed by claim.

A claim's life as others need it: built (ClaimCreated), held by the scrubber (ClaimScrubFailed), sent
(ClaimSubmitted, which carries everything the remittance service needs to match an 835 without asking:
CLM01, the frequency, the total and each line's control number, code, modifiers, units, date, charge and
expected allowed), answered (ClaimAccepted with the payer's claim number, or ClaimRejected with the
problems in words), followed up (ClaimStatusUpdated from a 277), adjudicated as the payer's 835 posted it
(ClaimPaid, ClaimPartiallyPaid, ClaimDenied), closed once no insurance balance is left (ClaimClosed) or
reopened when the payer takes its payment back (ClaimReopened), replaced by a correction (ClaimReplaced) or
withdrawn (ClaimVoided); a denial appealed (ClaimAppealed), moved to the patient
(PatientResponsibilityTransferred) or written off (ClaimWriteOffRequested), the last two for collections, which
DenialResolutionWithdrawn undoes when the payer changes the denial. No
names, member ids or diagnoses travel here; scrub findings and rejection problems name fields and codes only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from rcm_common.events.base import IntegrationEvent, OpenEnum
from rcm_common.types import Money, Quantity

Frequency = Annotated[Literal["1", "7", "8"], OpenEnum(unknown_reads_as=None)]  # CLM05-3
Responsibility = Annotated[Literal["P", "S", "T"], OpenEnum(unknown_reads_as=None)]  # SBR01
RejectionStage = Annotated[Literal["999", "277CA"], OpenEnum(unknown_reads_as=None)]
Severity = Annotated[Literal["blocking", "warning"], OpenEnum(unknown_reads_as="blocking")]
ClosedReason = Annotated[
    Literal[
        "paid_in_full",
        "moved_to_patient",
        "next_payer_billed",
        "written_off",
        "denial_accepted",
        "underpayment_accepted",
    ],
    OpenEnum(unknown_reads_as=None),
]
TransferBasis = Annotated[Literal["not_contractual", "waiver_on_file"], OpenEnum(unknown_reads_as=None)]
VoidReason = Annotated[
    Literal["encounter_voided", "encounter_corrected", "withdrawn", "other"], OpenEnum(unknown_reads_as="other")
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ScrubFinding(_Part):
    rule: str
    version: int
    severity: Severity
    message: str
    line: int | None = None


class SubmittedLine(_Part):
    line_control_number: str  # REF*6R: the 835 echoes it
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    units: Annotated[Quantity, Field(gt=0)]
    date_of_service: date
    charge: Money
    expected_allowed: Money | None = None


class Problem(_Part):
    """One reason a claim was rejected, in codes and words: the 999's IK3/IK4 or the 277CA's STC."""

    code: str  # "IK4:7" or an STC category and status pair, "A7:562"
    meaning: str
    suggested_fix: str | None = None


class PayerStatus(_Part):
    category: str  # STC01-1
    status: str  # STC01-2
    meaning: str


class _ClaimEvent(IntegrationEvent):
    subject_field: ClassVar[str] = "claim_id"

    claim_id: UUID
    patient_id: UUID
    payer_id: str


class ClaimCreated(_ClaimEvent):
    event_type: ClassVar[str] = "rcm.claim.claim_created"

    encounter_id: UUID
    encounter_version: int
    coverage_id: UUID
    responsibility: Responsibility
    patient_control_number: str
    frequency: Frequency
    date_of_service: date
    total_charge: Money


class ClaimScrubFailed(_ClaimEvent):
    """Blocking rules hold the claim in the scrub work queue until their causes are fixed or overridden."""

    event_type: ClassVar[str] = "rcm.claim.claim_scrub_failed"

    blocking_rules: tuple[str, ...]
    findings: tuple[ScrubFinding, ...]


class ClaimSubmitted(_ClaimEvent):
    event_type: ClassVar[str] = "rcm.claim.claim_submitted"

    encounter_id: UUID
    encounter_version: int
    coverage_id: UUID
    patient_control_number: str
    frequency: Frequency
    replaces_payer_claim_number: str | None = None  # REF*F8 of a replacement or void
    batch_id: UUID
    interchange_control_number: str
    total_charge: Money
    lines: tuple[SubmittedLine, ...]


class ClaimAccepted(_ClaimEvent):
    event_type: ClassVar[str] = "rcm.claim.claim_accepted"

    patient_control_number: str
    payer_claim_number: str  # REF*1K of the 277CA


class ClaimRejected(_ClaimEvent):
    """The claim waits in the rejection work queue until a correction or a biller's fix resubmits it."""

    event_type: ClassVar[str] = "rcm.claim.claim_rejected"

    patient_control_number: str
    stage: RejectionStage
    problems: tuple[Problem, ...]


class ClaimStatusUpdated(_ClaimEvent):
    """A 277's answer to the claim's follow-up inquiry (276)."""

    event_type: ClassVar[str] = "rcm.claim.claim_status_updated"

    payer_claim_number: str | None = None
    statuses: tuple[PayerStatus, ...]
    as_of: date


class ClaimReplaced(_ClaimEvent):
    """A correction after acceptance: `replacement_claim_id` goes out as frequency 7 naming this claim's
    payer claim number."""

    event_type: ClassVar[str] = "rcm.claim.claim_replaced"

    replacement_claim_id: UUID
    encounter_version: int


class ClaimVoided(_ClaimEvent):
    """The claim is withdrawn: before submission it is simply never sent; after acceptance a frequency-8
    void claim is sent (`void_sent`)."""

    event_type: ClassVar[str] = "rcm.claim.claim_voided"

    encounter_id: UUID
    reason: VoidReason
    void_sent: bool = False


class _Adjudicated(_ClaimEvent):
    payment_id: UUID  # remittance's claim payment
    payer_claim_number: str
    claim_status: str  # CLP02
    paid: Money
    allowed: Money
    patient_responsibility: Money


class ClaimPaid(_Adjudicated):
    """The payer paid the claim as billed: no line denied, nothing allowed below the contract."""

    event_type: ClassVar[str] = "rcm.claim.claim_paid"


class ClaimPartiallyPaid(_Adjudicated):
    """The payer paid the claim in part: some lines denied, or allowed below the contract's expected allowed.
    The claim stays open, a work item, until the rest is recovered or let go."""

    event_type: ClassVar[str] = "rcm.claim.claim_partially_paid"

    reasons: tuple[str, ...]


class ClaimDenied(_ClaimEvent):
    """The payer denied the claim, or some of its lines: the denial in the denial work queue, with its category
    (the largest denial's), what a biller does next, the amount at stake, and each reason as GROUP-CARC."""

    event_type: ClassVar[str] = "rcm.claim.claim_denied"

    payment_id: UUID
    whole_claim: bool
    category: str
    suggested_action: str
    amount_denied: Money
    reasons: tuple[str, ...]


class ClaimClosed(_ClaimEvent):
    """No insurance balance is left on the claim: paid in full, the rest moved to the patient, the rest billed to
    the patient's next payer (`next_payer_billed`: a secondary or tertiary claim follows, and what this payer's
    835 called the patient's is not the patient's until the last payer has answered), a denial written off or
    accepted as the payer's last word, or an underpayment accepted. `patient_responsibility` is what this payer
    left: the patient's share of the claim (the 835's, and any denied amount moved to the patient), or the next
    payer's to answer; collections bills from PaymentPosted and PatientResponsibilityTransferred, not from here.
    Closed again after a reversal and a corrected payment, the later ClaimClosed (its own `payment_id`) stands in
    place of the earlier."""

    event_type: ClassVar[str] = "rcm.claim.claim_closed"

    payment_id: UUID
    reason: ClosedReason
    patient_responsibility: Money


class ClaimReopened(_ClaimEvent):
    """The payer took back the payment that closed or decided the claim, or a later one left it open again: the
    payer's answer is awaited. It moves no money itself: the payer's reversal (remittance's ClaimPaymentReversed)
    and DenialResolutionWithdrawn say what is undone."""

    event_type: ClassVar[str] = "rcm.claim.claim_reopened"

    note: str


class ClaimAppealed(_ClaimEvent):
    """A biller appealed the denial the payment `payment_id` carried; the payer's next 835 for the claim decides
    it. The argument and the letter stay with the claim service (they may describe the patient's care)."""

    event_type: ClassVar[str] = "rcm.claim.claim_appealed"

    payment_id: UUID
    appeal_number: int
    level: Annotated[int, Field(ge=1, le=3)]
    category: str
    reasons: tuple[str, ...]  # GROUP-CARC
    amount_at_stake: Money
    deadline: date | None  # the payer's appeal window, when known


class PatientResponsibilityTransferred(_ClaimEvent):
    """A biller moved a denied amount to the patient, for collections to bill: on what basis (the payer's group
    was not the provider's liability, or a waiver such as an ABN was signed before the service), the denial by its
    payment and reasons."""

    event_type: ClassVar[str] = "rcm.claim.patient_responsibility_transferred"

    payment_id: UUID
    amount: Money
    basis: TransferBasis
    category: str
    reasons: tuple[str, ...]


class ClaimWriteOffRequested(_ClaimEvent):
    """A biller wrote off a denied amount: collections posts it as an adjustment, by the denial's category."""

    event_type: ClassVar[str] = "rcm.claim.claim_write_off_requested"

    payment_id: UUID
    amount: Money
    category: str
    reasons: tuple[str, ...]


class DenialResolutionWithdrawn(_ClaimEvent):
    """A transfer to the patient or a write-off no longer stands: the payer took back the payment whose denial it
    resolved, or paid lines of it since. Collections undoes `amount` (the transfer billed to the patient, or the
    write-off); what is still denied comes back to the denial queue."""

    event_type: ClassVar[str] = "rcm.claim.denial_resolution_withdrawn"

    payment_id: UUID
    kind: Annotated[Literal["transferred_to_patient", "written_off"], OpenEnum(unknown_reads_as=None)]
    amount: Money
    category: str
    reasons: tuple[str, ...]
