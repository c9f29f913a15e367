"""What claim takes and answers with over HTTP: the directories as documents (the same shape in and out),
and claims as a biller reads them. A claim's view carries its codes, amounts, findings and timeline; the
patient's names, member id and diagnoses' meaning stay in the copies and never appear here."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from rcm_claim.domain.adjudication import Denial
from rcm_claim.domain.batches import Batch, BatchState
from rcm_claim.domain.denial_work import Appeal, AppealOutcome, ResolutionKind
from rcm_claim.domain.directories import Address, BillingProvider, Facility, PayerProfile, Provider, ProviderDirectory
from rcm_claim.domain.findings import ScrubRecord, Severity
from rcm_claim.domain.model import Claim, ClaimLine, ClaimState, Frequency, Rejection, Responsibility
from rcm_common.types import Money, Quantity

_Text = Annotated[str, Field(max_length=200)]


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AddressDocument(_Document):
    line1: Annotated[str, Field(max_length=55)]
    line2: Annotated[str, Field(max_length=55)] = ""
    city: Annotated[str, Field(max_length=30)]
    state: Annotated[str, Field(max_length=2)]
    postal_code: Annotated[str, Field(max_length=9)]

    def domain(self) -> Address:
        return Address(self.line1, self.city, self.state, self.postal_code, self.line2)

    @classmethod
    def of(cls, address: Address) -> AddressDocument:
        return cls(line1=address.line1, line2=address.line2, city=address.city, state=address.state,
                   postal_code=address.postal_code)  # fmt: skip


class BillingProviderDocument(_Document):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    npi: Annotated[str, Field(max_length=10)]
    tax_id: Annotated[str, Field(max_length=9)]
    taxonomy: Annotated[str, Field(max_length=10)]
    address: AddressDocument
    pay_to: AddressDocument | None = None
    phone: Annotated[str, Field(max_length=10)] = ""


class ProviderDocument(_Document):
    last_name: Annotated[str, Field(max_length=60)]
    first_name: Annotated[str, Field(max_length=35)] = ""
    npi: Annotated[str, Field(max_length=10)]
    taxonomy: Annotated[str, Field(max_length=10)] = ""


class FacilityDocument(_Document):
    location: Annotated[str, Field(max_length=20)]
    name: Annotated[str, Field(min_length=1, max_length=60)]
    address: AddressDocument
    npi: Annotated[str, Field(max_length=10)] = ""

    def domain(self) -> Facility:
        return Facility(self.location, self.name, self.address.domain(), self.npi)

    @classmethod
    def of(cls, facility: Facility) -> FacilityDocument:
        return cls(location=facility.location, name=facility.name, address=AddressDocument.of(facility.address),
                   npi=facility.npi)  # fmt: skip


class ProviderDirectoryDocument(_Document):
    """The practice's billing provider (2010AA), its rendering and referring providers, and the service
    facilities (2310C) of its locations away from the billing provider's address."""

    billing: BillingProviderDocument
    providers: Annotated[list[ProviderDocument], Field(max_length=5000)] = []
    facilities: Annotated[list[FacilityDocument], Field(max_length=500)] = []

    def domain(self) -> ProviderDirectory:
        billing = self.billing
        return ProviderDirectory(
            billing=BillingProvider(
                billing.name, billing.npi, billing.tax_id, billing.taxonomy, billing.address.domain(),
                billing.pay_to.domain() if billing.pay_to is not None else None, billing.phone,
            ),
            providers=tuple(Provider(p.last_name, p.first_name, p.npi, p.taxonomy) for p in self.providers),
            facilities=tuple(facility.domain() for facility in self.facilities),
        )  # fmt: skip

    @classmethod
    def of(cls, directory: ProviderDirectory) -> ProviderDirectoryDocument:
        billing = directory.billing
        return cls(
            billing=BillingProviderDocument(
                name=billing.name, npi=billing.npi, tax_id=billing.tax_id, taxonomy=billing.taxonomy,
                address=AddressDocument.of(billing.address),
                pay_to=AddressDocument.of(billing.pay_to) if billing.pay_to is not None else None,
                phone=billing.phone,
            ),
            providers=[
                ProviderDocument(last_name=p.last_name, first_name=p.first_name, npi=p.npi, taxonomy=p.taxonomy)
                for p in directory.providers
            ],
            facilities=[FacilityDocument.of(facility) for facility in directory.facilities],
        )  # fmt: skip


class PayerDocument(_Document):
    """How a payer is billed: SBR09, its windows, its batches, the codes it requires authorised, and how long
    after a denial it takes an appeal, and where."""

    payer_id: Annotated[str, Field(max_length=80)]
    name: _Text
    filing_indicator: Annotated[str, Field(max_length=2)]
    timely_filing_days: int
    follow_up_days: int
    batch_size: int
    batch_interval_seconds: int
    eligibility_max_age_days: int = 30
    prior_authorization_codes: Annotated[list[Annotated[str, Field(max_length=5)]], Field(max_length=2000)] = []
    appeal_days: int | None = None
    appeals_address: AddressDocument | None = None

    def domain(self) -> PayerProfile:
        return PayerProfile(
            payer_id=self.payer_id,
            name=self.name,
            filing_indicator=self.filing_indicator,
            timely_filing_days=self.timely_filing_days,
            follow_up_days=self.follow_up_days,
            batch_size=self.batch_size,
            batch_interval_seconds=self.batch_interval_seconds,
            prior_authorization_codes=frozenset(self.prior_authorization_codes),
            eligibility_max_age_days=self.eligibility_max_age_days,
            appeal_days=self.appeal_days,
            appeals_address=self.appeals_address.domain() if self.appeals_address is not None else None,
        )

    @classmethod
    def of(cls, payer: PayerProfile) -> PayerDocument:
        return cls(
            payer_id=payer.payer_id,
            name=payer.name,
            filing_indicator=payer.filing_indicator,
            timely_filing_days=payer.timely_filing_days,
            follow_up_days=payer.follow_up_days,
            batch_size=payer.batch_size,
            batch_interval_seconds=payer.batch_interval_seconds,
            eligibility_max_age_days=payer.eligibility_max_age_days,
            prior_authorization_codes=sorted(payer.prior_authorization_codes),
            appeal_days=payer.appeal_days,
            appeals_address=AddressDocument.of(payer.appeals_address) if payer.appeals_address is not None else None,
        )


class DirectorySummary(BaseModel):
    stored: int


class LinePublic(BaseModel):
    number: int
    control_number: str
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Quantity
    date_of_service: date
    charge: Money
    diagnosis_pointers: tuple[int, ...]
    expected_allowed: Money | None
    ndc: str | None

    @classmethod
    def of(cls, line: ClaimLine) -> LinePublic:
        return cls.model_validate(line, from_attributes=True)


class FindingPublic(BaseModel):
    rule: str
    version: int
    severity: Severity
    message: str
    line: int | None
    overridden: bool
    evidence_claim_ids: list[UUID] = []  # the claims it rests on (DENIAL_RISK: the payer's denied claims)


class OverridePublic(BaseModel):
    rule: str
    reason: str
    by: str
    at: datetime


class ScrubPublic(BaseModel):
    """The latest scrub: which rules ran at which version (provenance) and what they found."""

    rules_ran: list[str]  # "CODE@version"
    findings: list[FindingPublic]
    overrides: list[OverridePublic]
    blocking_rules: tuple[str, ...]
    authorization_number: str | None

    @classmethod
    def of(cls, record: ScrubRecord) -> ScrubPublic:
        overridden = {override.rule for override in record.overrides}
        return cls(
            rules_ran=[f"{run.rule}@{run.version}" for run in record.ran],
            findings=[
                FindingPublic(
                    rule=f.rule,
                    version=f.version,
                    severity=f.severity,
                    message=f.message,
                    line=f.line,
                    overridden=f.rule in overridden,
                    evidence_claim_ids=list(f.evidence),
                )
                for f in record.findings
            ],
            overrides=[OverridePublic(rule=o.rule, reason=o.reason, by=o.by, at=o.at) for o in record.overrides],
            blocking_rules=record.blocking_rules,
            authorization_number=record.authorization_number,
        )


class StepPublic(BaseModel):
    at: datetime
    from_state: ClaimState | None
    to_state: ClaimState
    cause: str
    note: str


class BillingNotesPublic(BaseModel):
    prior_authorization_number: str | None
    delay_reason_code: str | None
    note: str | None


class ProblemPublic(BaseModel):
    code: str
    meaning: str
    suggested_fix: str | None


class RejectionPublic(BaseModel):
    stage: Literal["999", "277CA"]
    problems: list[ProblemPublic]
    at: datetime

    @classmethod
    def of(cls, rejection: Rejection) -> RejectionPublic:
        return cls(
            stage=rejection.stage,
            problems=[ProblemPublic(code=p.code, meaning=p.meaning, suggested_fix=p.suggested_fix)
                      for p in rejection.problems],
            at=rejection.at,
        )  # fmt: skip


class ClaimSummary(BaseModel):
    id: UUID
    state: ClaimState
    payer_id: str
    patient_id: UUID
    encounter_id: UUID
    encounter_version: int
    patient_control_number: str
    frequency: Frequency
    date_of_service: date
    total_charge: Money
    held: str | None
    waits_for: UUID | None  # the claim whose answer from the payer this one waits for
    blocking_rules: tuple[str, ...]
    rejection: RejectionPublic | None
    since: datetime  # when the claim entered its state

    @classmethod
    def of(cls, claim: Claim) -> ClaimSummary:
        return cls(
            id=claim.id,
            state=claim.state,
            payer_id=claim.payer_id,
            patient_id=claim.patient_id,
            encounter_id=claim.encounter_id,
            encounter_version=claim.encounter_version,
            patient_control_number=claim.patient_control_number,
            frequency=claim.frequency,
            date_of_service=claim.date_of_service,
            total_charge=claim.total_charge,
            held=claim.held,
            waits_for=claim.waits_for,
            blocking_rules=claim.scrub.blocking_rules if claim.scrub is not None else (),
            rejection=RejectionPublic.of(claim.rejection) if claim.rejection is not None else None,
            since=claim.in_state_since,
        )


class AdjudicationPublic(BaseModel):
    """A payment the payer's 835 posted to the claim (remittance's claim payment), reversed or standing."""

    payment_id: UUID
    trace_number: str
    claim_status: str
    charge: Money
    paid: Money
    allowed: Money
    patient_responsibility: Money
    paid_lines: list[str]
    denied_lines: list[str]
    underpaid_by: Money | None
    posted_at: datetime
    reversed: bool


class DenialPublic(BaseModel):
    payment_id: UUID
    whole_claim: bool
    category: str
    suggested_action: str
    amount: Money
    reasons: list[str]  # GROUP-CARC
    in_words: list[str]  # each CARC and RARC with its meaning
    resolved: bool  # a biller has resolved it (an appeal awaits the payer, or it was corrected, moved or let go)

    @classmethod
    def of(cls, denial: Denial, *, resolved: bool) -> DenialPublic:
        return cls(
            payment_id=denial.payment_id, whole_claim=denial.whole_claim, category=denial.category,
            suggested_action=denial.suggested_action, amount=denial.amount, reasons=list(denial.reasons),
            in_words=list(denial.words), resolved=resolved,
        )  # fmt: skip


class ResolutionPublic(BaseModel):
    """What a biller did with a denial: corrected (a replacement), appealed, transferred to the patient, written
    off, or accepted; why, by whom, when."""

    payment_id: UUID
    kind: ResolutionKind
    reason: str
    amount: Money
    by: str
    at: datetime
    replacement_id: UUID | None
    appeal_number: int | None


class AppealPublic(BaseModel):
    """An appeal to the payer and, once its next 835 for the claim came, the payer's decision."""

    number: int
    level: int
    payment_id: UUID
    category: str
    reasons: list[str]
    reason: str
    argument: str
    attachments: list[str]
    amount_at_stake: Money
    by: str
    at: datetime
    deadline: date | None
    outcome: AppealOutcome
    decided_by_payment_id: UUID | None
    decided_at: datetime | None
    recovered: Money | None

    @classmethod
    def of(cls, appeal: Appeal) -> AppealPublic:
        return cls(
            number=appeal.number, level=appeal.level, payment_id=appeal.payment_id, category=appeal.category,
            reasons=list(appeal.reasons), reason=appeal.reason, argument=appeal.argument,
            attachments=list(appeal.attachments), amount_at_stake=appeal.amount_at_stake, by=appeal.by, at=appeal.at,
            deadline=appeal.deadline, outcome=appeal.outcome, decided_by_payment_id=appeal.decided_by,
            decided_at=appeal.decided_at, recovered=appeal.recovered,
        )  # fmt: skip


class ClaimPublic(ClaimSummary):
    coverage_id: UUID
    responsibility: Responsibility
    place_of_service: str
    billing_provider_npi: str
    rendering_provider_npi: str | None
    referring_provider_npi: str | None
    payer_claim_number: str | None
    replaces_payer_claim_number: str | None
    batch_id: UUID | None
    status_checked_at: datetime | None
    billing_notes: BillingNotesPublic
    lines: list[LinePublic]
    scrub: ScrubPublic | None
    adjudications: list[AdjudicationPublic]
    denial: DenialPublic | None
    resolutions: list[ResolutionPublic]
    appeals: list[AppealPublic]
    underpaid_by: Money | None
    timeline: list[StepPublic]
    revision: int

    @classmethod
    def of(cls, claim: Claim) -> ClaimPublic:
        record = claim.scrub
        return cls(
            **ClaimSummary.of(claim).model_dump(),
            coverage_id=claim.coverage_id,
            responsibility=claim.responsibility,
            place_of_service=claim.place_of_service,
            billing_provider_npi=claim.billing_provider_npi,
            rendering_provider_npi=claim.rendering_provider_npi,
            referring_provider_npi=claim.referring_provider_npi,
            payer_claim_number=claim.payer_claim_number,
            replaces_payer_claim_number=claim.replaces_payer_claim_number,
            batch_id=claim.batch_id,
            status_checked_at=claim.status_checked_at,
            billing_notes=BillingNotesPublic.model_validate(dataclasses.asdict(claim.billing_notes)),
            lines=[LinePublic.of(line) for line in claim.lines],
            scrub=ScrubPublic.of(record) if record is not None else None,
            adjudications=[
                AdjudicationPublic.model_validate(
                    dataclasses.asdict(a) | {"paid_lines": list(a.paid_lines), "denied_lines": list(a.denied_lines)}
                )
                for a in claim.adjudications
            ],
            denial=(
                DenialPublic.of(claim.denial, resolved=claim.open_denial is None) if claim.denial is not None else None
            ),
            resolutions=[ResolutionPublic.model_validate(dataclasses.asdict(r)) for r in claim.resolutions],
            appeals=[AppealPublic.of(appeal) for appeal in claim.appeals],
            underpaid_by=claim.underpaid_by,
            timeline=[
                StepPublic(at=s.at, from_state=s.from_state, to_state=s.to_state, cause=s.cause, note=s.note)
                for s in claim.timeline
            ],
            revision=claim.revision,
        )


class BatchSummary(BaseModel):
    id: UUID
    payer_id: str
    interchange_control_number: str  # ISA13
    state: BatchState
    claims: int
    built_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    attempts: int

    @classmethod
    def of(cls, batch: Batch) -> BatchSummary:
        return cls(
            id=batch.id,
            payer_id=batch.payer_id,
            interchange_control_number=f"{batch.interchange_control_number:09d}",
            state=batch.state,
            claims=len(batch.claim_ids),
            built_at=batch.built_at,
            sent_at=batch.sent_at,
            answered_at=batch.answered_at,
            attempts=batch.attempts,
        )


class BatchClaim(BaseModel):
    id: UUID
    patient_control_number: str
    state: ClaimState


class BatchPublic(BatchSummary):
    claim_states: list[BatchClaim]

    @classmethod
    def with_claims(cls, batch: Batch, claims: list[Claim]) -> BatchPublic:
        return cls(
            **BatchSummary.of(batch).model_dump(),
            claim_states=[
                BatchClaim(id=c.id, patient_control_number=c.patient_control_number, state=c.state) for c in claims
            ],
        )
