"""Integration events published by the remittance service on `rcm.remittance.events`.

What the payers' 835s said, as posted: a file received (RemittanceReceived, held when it does not balance),
each claim payment posted to its claim (PaymentPosted, with the patient's share split as the 835 gives it),
denied (ClaimDenied, with the denial's category and what a biller does next), taken back (ClaimPaymentReversed),
allowed below the contract (UnderpaymentDetected), the payer's provider-level adjustments (ProviderAdjustmentPosted)
and claim payments that match no claim (RemittanceUnmatched). Claim-level events are keyed by the claim; file-level
ones by the remittance (one 835 transaction set). No names or member ids travel here: claims are named by their
ids and control numbers, amounts by codes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from rcm_common.events.base import IntegrationEvent, OpenEnum
from rcm_common.types import Money, Quantity

Group = Annotated[Literal["CO", "PR", "OA", "PI", "CR"], OpenEnum(unknown_reads_as=None)]  # CAS01
DenialCategoryName = Literal[
    "eligibility",
    "authorisation",
    "coding",
    "medical_necessity",
    "timely_filing",
    "duplicate",
    "coordination_of_benefits",
    "bundling",
    "missing_information",
    "contractual",
    "patient_responsibility",
    "other",
]
DenialCategory = Annotated[DenialCategoryName, OpenEnum(unknown_reads_as="other")]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class AdjustmentPosted(_Part):
    """One CAS adjustment: its group, its reason (CARC) in words, and its amount (negative in a reversal)."""

    group: Group
    reason: str
    description: str
    category: DenialCategory
    amount: Money


class PatientShare(_Part):
    """The patient's responsibility (group PR) by kind: deductible (PR-1), coinsurance (PR-2), copay (PR-3) and
    any other PR reason."""

    deductible: Money
    coinsurance: Money
    copay: Money
    other: Money


class LinePosted(_Part):
    """A service line's payment, matched to the claim's line by its control number (None when the claim's lines
    could not be told apart: the payment is then posted at the claim level only)."""

    line_control_number: str | None
    procedure_code: str
    modifiers: tuple[str, ...] = ()
    billed_procedure_code: str | None = None  # SVC06, when the payer paid a code other than the one billed
    units_paid: Quantity
    date_of_service: date | None
    charge: Money
    paid: Money
    allowed: Money
    adjustments: tuple[AdjustmentPosted, ...]
    remark_codes: tuple[str, ...] = ()
    patient_share: PatientShare


class _ClaimPaymentEvent(IntegrationEvent):
    subject_field: ClassVar[str] = "claim_id"

    claim_id: UUID
    patient_id: UUID
    payer_id: str
    payment_id: UUID
    remittance_id: UUID
    trace_number: str  # TRN02: the check or EFT trace


class PaymentPosted(_ClaimPaymentEvent):
    """A claim payment posted: CLP02 the payer's status (1, 2, 3 processed as primary, secondary, tertiary; 4
    denied; 19 to 21 processed and forwarded; 22 is a reversal and comes as ClaimPaymentReversed; 23 not our
    claim; 25 predetermination). Paid plus every adjustment equals the charge, to the cent."""

    event_type: ClassVar[str] = "rcm.remittance.payment_posted"

    payment_date: date | None
    claim_status: str
    claim_status_meaning: str
    payer_claim_number: str
    charge: Money
    paid: Money
    allowed: Money
    patient_responsibility: Money  # CLP05
    patient_share: PatientShare
    adjustments_by_group: dict[str, Money]
    adjustments: tuple[AdjustmentPosted, ...]  # the claim's own and its lines', in order
    remark_codes: tuple[str, ...] = ()
    lines: tuple[LinePosted, ...] = ()
    denied_lines: tuple[str, ...] = ()  # lines paid nothing for a denial (a ClaimDenied follows), by control number
    underpaid_by: Money | None = None  # allowed below the contract by more than the tolerance (as UnderpaymentDetected)


class Remark(_Part):
    """A remittance advice remark code (RARC) in words."""

    code: str
    description: str


class Denial(_Part):
    """One denied amount: the line it denies (None for the claim as a whole), its CARC and RARCs in words."""

    line_control_number: str | None
    procedure_code: str | None
    group: Group
    reason: str
    description: str
    remark_codes: tuple[str, ...] = ()
    remarks: tuple[Remark, ...] = ()  # the remark codes in words
    category: DenialCategory
    amount: Money


class ClaimDenied(_ClaimPaymentEvent):
    """The payer denied the claim (CLP02 4) or some of its lines (paid nothing, for a reason that is neither the
    contract nor the patient's share). `category` and `suggested_action` are the largest denial's."""

    event_type: ClassVar[str] = "rcm.remittance.claim_denied"

    whole_claim: bool
    category: DenialCategory
    suggested_action: str
    amount_denied: Money
    denials: tuple[Denial, ...]


class ClaimPaymentReversed(_ClaimPaymentEvent):
    """The payer took back an earlier payment (CLP02 22): `reversed_payment_id` is undone whole, and the amounts
    here are the reversal's, negative. The corrected payment usually follows as a PaymentPosted. The id is None
    only when a poster posted the reversal of a payment made before this service kept them."""

    event_type: ClassVar[str] = "rcm.remittance.claim_payment_reversed"

    reversed_payment_id: UUID | None
    payer_claim_number: str
    charge: Money
    paid: Money
    patient_responsibility: Money
    patient_share: PatientShare
    adjustments_by_group: dict[str, Money]


class UnderpaidLine(_Part):
    line_control_number: str
    procedure_code: str
    expected_allowed: Money
    allowed: Money
    shortfall: Money


class UnderpaymentDetected(_ClaimPaymentEvent):
    """The payer allowed less than the contract's expected allowed, by more than the configured tolerance."""

    event_type: ClassVar[str] = "rcm.remittance.underpayment_detected"

    expected_allowed: Money
    allowed: Money
    shortfall: Money
    lines: tuple[UnderpaidLine, ...]


class _RemittanceEvent(IntegrationEvent):
    subject_field: ClassVar[str] = "remittance_id"

    remittance_id: UUID
    payer_id: str
    trace_number: str


class RemittanceReceived(_RemittanceEvent):
    """An 835 transaction set taken in. A set that does not balance is `held` for review, with each difference
    named, and nothing of it is posted until a poster releases it. A set whose payer and trace came before
    under another interchange (a payer sending a file again) names the first as `repeats_remittance_id`: what
    it repeats is not posted again, and its total is not money of its own."""

    event_type: ClassVar[str] = "rcm.remittance.remittance_received"

    payer_name: str
    payment_method: str  # BPR04: ACH, CHK, BOP, FWT, NON
    payment_date: date | None
    total_paid: Money  # BPR02
    credit_debit: str  # BPR03
    claim_count: int
    provider_adjustment_total: Money
    held: bool
    balance_problems: tuple[str, ...] = ()
    repeats_remittance_id: UUID | None = None


class ProviderAdjustmentPosted(_RemittanceEvent):
    """A PLB adjustment: interest (L6), a recoupment (WO) or forward balance (FB) of a claim it names (`claim_id`
    when the claim is known), or any other reason. A positive amount reduces the payment, a negative one adds."""

    event_type: ClassVar[str] = "rcm.remittance.provider_adjustment_posted"

    reason: str  # PLB03-1
    reason_meaning: str
    reference: str  # PLB03-2
    amount: Money
    fiscal_period_date: date | None
    claim_id: UUID | None = None


class RemittanceUnmatched(_RemittanceEvent):
    """A claim payment that matches no claim waits in the unmatched queue for a poster."""

    event_type: ClassVar[str] = "rcm.remittance.remittance_unmatched"

    payment_id: UUID
    patient_control_number: str  # CLP01: the claim's own control number as the payer echoed it
    payer_claim_number: str
    claim_status: str
    paid: Money
    reason: str
    candidate_claim_ids: tuple[UUID, ...] = ()
