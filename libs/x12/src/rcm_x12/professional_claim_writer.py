"""The 837P professional claim (005010X222A1): a typed batch, and `write_837p` to write it.

The model follows the implementation guide's hierarchy, so that writing is a walk with no grouping: billing
providers (2000A) hold subscribers (2000B), each with the claims (2300) of one patient, the subscriber or a
dependant (2000C). Only what the platform sends is modelled; the rest of the guide is not written.

Speed comes from building each record as tuples of strings and checking it in one pass (see `writer`); the
rules a claim must keep to be a valid 837P are checked once, when the claim is made, not when it is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import chain
from typing import Literal

from rcm_x12.remittance_reader import Adjustment
from rcm_x12.writer import (
    Address,
    Composite,
    Elements,
    Envelope,
    Member,
    Payer,
    Provider,
    SegmentWriter,
    TradingPartner,
    cas_segments,
    check_money,
    date_text,
    decimal_text,
    name_elements,
    period,
)

IMPLEMENTATION = "005010X222A1"
_MAX_LINES = 50
_NDC_UNITS = frozenset({"F2", "GR", "ME", "ML", "UN"})
_MAX_DIAGNOSES = 12
_MAX_NOTE = 80
DELAY_REASONS = frozenset({"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "15"})
"""CLM20, the delay reason code: 1 proof of eligibility unknown, 2 litigation, 3 authorisation delays, 4 delay in
certifying the provider, 5 delay in supplying billing forms, 6 delay in delivery of custom-made appliances, 7
third-party processing delay, 8 delay in eligibility determination, 9 original claim rejected or denied for a
reason unrelated to the billing limitation rules, 10 administration delay in the prior approval process, 11
other, 15 natural disaster."""
_MAX_CLAIMS_PER_SUBSCRIBER = 100


@dataclass(frozen=True, slots=True)
class Contact:
    """PER: whom to call about the data, and at least one way to reach them."""

    name: str
    phone: str = ""
    email: str = ""
    fax: str = ""

    def __post_init__(self) -> None:
        if not (self.phone or self.email or self.fax):
            raise ValueError("a contact needs a phone number, an email address or a fax number")

    def per(self) -> Elements:
        numbers = ((q, n) for q, n in (("TE", self.phone), ("EM", self.email), ("FX", self.fax)) if n)
        return ("PER", "IC", self.name, *chain.from_iterable(numbers))


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """2000A/2010AA, with the pay-to address (2010AB) when payments go elsewhere. A person when
    `first_name` is given, else an organisation."""

    name: str
    npi: str
    tax_id: str
    address: Address
    first_name: str = ""
    middle_name: str = ""
    suffix: str = ""
    tax_id_qualifier: Literal["EI", "SY"] = "EI"
    taxonomy: str = ""
    contact: Contact | None = None
    pay_to: Address | None = None

    def __post_init__(self) -> None:
        if not (len(self.address.postal_code) == 9 and self.address.postal_code.isdigit()):
            raise ValueError("the billing provider's ZIP code is the nine-digit ZIP+4 (2010AA N403)")


@dataclass(frozen=True, slots=True)
class ServiceFacility:
    """2310C: where the service was given, when not at the billing provider's address (a hospital, say:
    places of service 21, 22, 23 and 31 need it)."""

    name: str
    address: Address
    npi: str = ""


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """2430: how another payer paid one line (SVD), its adjustments (CAS) and when (DTP*573)."""

    payer_id: str
    """SVD01: the other payer's id, as in its 2330B NM109."""
    paid: Decimal
    procedure: str
    units: Decimal
    adjudication_date: date
    modifiers: tuple[str, ...] = ()
    adjustments: tuple[Adjustment, ...] = ()

    def __post_init__(self) -> None:
        check_money(self.paid, *(a.amount for a in self.adjustments), what="a line adjudication")


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """2400: one service. `pointers` are positions (from 1) in the claim's diagnoses; `place_of_service`
    only when it differs from the claim's."""

    procedure: str
    charge: Decimal
    units: Decimal
    service_date: date
    pointers: tuple[int, ...] = (1,)
    modifiers: tuple[str, ...] = ()
    service_end: date | None = None
    place_of_service: str = ""
    control_number: str = ""
    """REF*6R: the line item control number the 835 returns."""
    adjudications: tuple[LineAdjudication, ...] = ()
    ndc: str = ""
    """2410 LIN*N4: the drug's 11-digit NDC (5-4-2), with `ndc_quantity` of `ndc_unit` (CTP04-05: F2
    international unit, GR gram, ME milligram, ML millilitre, UN unit)."""
    ndc_quantity: Decimal | None = None
    ndc_unit: str = "UN"
    rendering: Provider | None = None
    """2420A: written only when the line's rendering provider differs from the claim's."""

    def __post_init__(self) -> None:
        check_money(self.charge, what="a service line")
        if self.ndc and not (len(self.ndc) == 11 and self.ndc.isdigit()):
            raise ValueError("a drug line's NDC is eleven digits (5-4-2), as 2410 LIN03 carries it")
        if self.ndc and (self.ndc_quantity is None or self.ndc_quantity <= 0):
            raise ValueError("a drug line's NDC comes with its quantity (2410 CTP04)")
        if self.ndc_unit not in _NDC_UNITS:
            raise ValueError("a drug quantity's unit (CTP05) is F2, GR, ME, ML or UN")
        for adjudication in self.adjudications:
            if self.charge != adjudication.paid + sum((a.amount for a in adjudication.adjustments), Decimal(0)):
                raise ValueError(
                    "a line's charge is what the other payer paid and adjusted on it (SV102 = SVD02 + the 2430 CAS)"
                )
        if not 1 <= len(self.pointers) <= 4 or not all(1 <= p <= _MAX_DIAGNOSES for p in self.pointers):
            raise ValueError("a service line points at one to four diagnoses, each numbered 1 to 12")
        if len(self.modifiers) > 4:
            raise ValueError("a service line takes at most four procedure modifiers")


@dataclass(frozen=True, slots=True)
class OtherCoverage:
    """2320-2330B: another payer covering the patient. On a secondary claim, the primary, with what it
    paid (AMT*D), its claim-level adjustments (CAS) and when it paid (2330B DTP*573)."""

    subscriber: Member
    payer: Payer
    responsibility: str
    """SBR01 of that payer: P, S, T..."""
    relationship: str = "18"
    """SBR02: the patient's relationship to that payer's subscriber (18: self)."""
    filing_indicator: str = "CI"
    group_number: str = ""
    group_name: str = ""
    insurance_type: str = ""
    paid: Decimal | None = None
    adjustments: tuple[Adjustment, ...] = ()
    adjudication_date: date | None = None

    def __post_init__(self) -> None:
        check_money(self.paid, *(a.amount for a in self.adjustments), what="another payer's adjudication")


@dataclass(frozen=True, slots=True)
class Claim:
    """2300 and its lines. The total charge is the sum of the lines', as the guide requires. Frequency 7
    (replacement) and 8 (void) name the payer's claim being corrected (REF*F8)."""

    claim_id: str
    place_of_service: str
    diagnoses: tuple[str, ...] = field(repr=False)  # PHI: a patient's conditions
    """ICD-10-CM codes without the dot, the principal first (HI ABK, then ABF)."""
    lines: tuple[ServiceLine, ...]
    frequency: str = "1"
    payer_claim_number: str = ""
    prior_authorization: str = ""
    onset_date: date | None = None
    initial_treatment_date: date | None = None
    referring: Provider | None = None
    rendering: Provider | None = None
    """Written (2310B) only when its NPI differs from the billing provider's."""
    other_coverage: tuple[OtherCoverage, ...] = ()
    service_facility: ServiceFacility | None = None
    delay_reason: str = ""
    """CLM20: why the claim is filed late (1 to 11, 15), when it is."""
    note: str = field(default="", repr=False)  # may describe the patient's care
    """NTE*ADD: a note to the payer."""

    def __post_init__(self) -> None:
        if not 1 <= len(self.lines) <= _MAX_LINES:
            raise ValueError("a claim has one to 50 service lines")
        if self.delay_reason and self.delay_reason not in DELAY_REASONS:
            raise ValueError("a delay reason (CLM20) is one of 1 to 11 or 15")
        if len(self.note) > _MAX_NOTE:
            raise ValueError("a claim note (NTE02) has at most 80 characters")
        if not 1 <= len(self.diagnoses) <= _MAX_DIAGNOSES:
            raise ValueError("a claim has one to 12 diagnosis codes")
        if any(p > len(self.diagnoses) for line in self.lines for p in line.pointers):
            raise ValueError("a service line points at a diagnosis the claim does not have")
        if self.frequency in ("7", "8") and not self.payer_claim_number:
            raise ValueError("a replacement or void (frequency 7 or 8) names the payer's claim number")
        if len(self.other_coverage) > 10:
            raise ValueError("a claim names at most ten other payers")
        for coverage in self.other_coverage:
            if coverage.paid is None:
                continue
            on_lines = sum(
                (
                    a.amount
                    for line in self.lines
                    for adjudication in line.adjudications
                    if adjudication.payer_id == coverage.payer.payer_id
                    for a in adjudication.adjustments
                ),
                Decimal(0),
            )
            if self.total_charge != coverage.paid + sum((a.amount for a in coverage.adjustments), on_lines):
                raise ValueError(
                    "a claim's total is what the other payer paid and adjusted (CLM02 = AMT*D + the 2320 CAS + "
                    "the 2430 CAS)"
                )

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal(0))


@dataclass(frozen=True, slots=True)
class Dependent:
    """2000C: a patient who is not the subscriber. PAT01 `relationship`: 01 spouse, 19 child, 20 employee,
    21 unknown, 39 organ donor, 40 cadaver donor, 53 life partner, G8 other. The guide requires the
    patient's address and birth date."""

    patient: Member
    relationship: str

    def __post_init__(self) -> None:
        if self.patient.address is None or self.patient.birth_date is None:
            raise ValueError("a dependant patient needs an address and a birth date")


@dataclass(frozen=True, slots=True)
class SubscriberClaims:
    """2000B: a subscriber, the payer the claims go to, and the claims of one patient: the subscriber, or
    `dependent`. `responsibility` is SBR01 (P primary, S secondary, T tertiary...); `filing_indicator`
    SBR09 (CI commercial, MB Medicare Part B, MC Medicaid, BL Blue Cross, HM HMO, 12 Medicare secondary
    working aged...)."""

    subscriber: Member
    payer: Payer
    claims: tuple[Claim, ...]
    responsibility: str = "P"
    filing_indicator: str = "CI"
    group_number: str = ""
    group_name: str = ""
    insurance_type: str = ""
    """SBR05, which Medicare requires when it is not the primary payer."""
    dependent: Dependent | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.claims) <= _MAX_CLAIMS_PER_SUBSCRIBER:
            raise ValueError("a subscriber loop holds one to 100 claims")


@dataclass(frozen=True, slots=True)
class ProviderClaims:
    """2000A: a billing provider and its subscribers' claims."""

    provider: BillingProvider
    subscribers: tuple[SubscriberClaims, ...]


@dataclass(frozen=True, slots=True)
class ProfessionalClaimBatch:
    """One 837P transaction: the submitter (1000A) and whom to call (PER), the receiver (1000B), and the
    claims. `reference` is BHT03, the submitter's id for the batch; `transaction_type` BHT06 (CH claims,
    RP encounters)."""

    reference: str
    submitter: TradingPartner
    contact: Contact
    receiver: TradingPartner
    providers: tuple[ProviderClaims, ...]
    transaction_type: Literal["CH", "RP"] = "CH"


def write_837p(batch: ProfessionalClaimBatch, envelope: Envelope) -> str:
    """The batch as one X12 interchange holding one 837P transaction set."""
    writer = SegmentWriter(envelope, "HC", "837", IMPLEMENTATION)
    batch = writer.prepare(batch)
    writer.add(partial(_header, batch, writer.date, writer.time), "the header")
    hl = 0
    subscribers = claims = 0
    for number, group in enumerate(batch.providers, 1):
        hl += 1
        provider_hl = hl
        writer.add(partial(_billing_provider, group.provider, hl), f"billing provider {number}")
        npi = group.provider.npi
        for subscriber in group.subscribers:
            hl += 1
            subscribers += 1
            subscriber_hl = hl
            writer.add(partial(_subscriber, subscriber, hl, provider_hl), f"subscriber {subscribers}")
            if subscriber.dependent is not None:
                hl += 1
                writer.add(partial(_dependent, subscriber.dependent, hl, subscriber_hl), f"patient {subscribers}")
            for claim in subscriber.claims:
                claims += 1
                writer.add(partial(_claim, claim, npi), f"claim {claims}")
    return writer.text()


def _header(
    batch: ProfessionalClaimBatch, created_date: str, created_time: str, composite: Composite
) -> list[Elements]:
    return [
        ("BHT", "0019", "00", batch.reference, created_date, created_time, batch.transaction_type),
        batch.submitter.nm1("41"),
        batch.contact.per(),
        batch.receiver.nm1("40"),
    ]


def _billing_provider(provider: BillingProvider, hl: int, composite: Composite) -> list[Elements]:
    names = name_elements(provider.name, provider.first_name, provider.middle_name, provider.suffix)
    segments: list[Elements] = [("HL", str(hl), "", "20", "1")]
    if provider.taxonomy:
        segments.append(("PRV", "BI", "PXC", provider.taxonomy))
    segments.append(("NM1", "85", *names, "XX", provider.npi))
    segments += provider.address.segments()
    segments.append(("REF", provider.tax_id_qualifier, provider.tax_id))
    if provider.contact is not None:
        segments.append(provider.contact.per())
    if provider.pay_to is not None:
        entity_type = names[0]  # 2010AB names no one: the entity type and the address
        segments.append(("NM1", "87", entity_type))
        segments += provider.pay_to.segments()
    return segments


def _subscriber(claims: SubscriberClaims, hl: int, parent: int, composite: Composite) -> list[Elements]:
    subscriber = claims.subscriber
    is_patient = claims.dependent is None
    segments: list[Elements] = [
        ("HL", str(hl), str(parent), "22", "0" if is_patient else "1"),
        (
            "SBR", claims.responsibility, "18" if is_patient else "", claims.group_number, claims.group_name,
            claims.insurance_type, "", "", "", claims.filing_indicator,
        ),
        subscriber.nm1("IL"),
    ]  # fmt: skip
    if subscriber.address is not None:
        segments += subscriber.address.segments()
    segments += subscriber.demographics()
    return segments + _payer(claims.payer)


def _dependent(dependent: Dependent, hl: int, parent: int, composite: Composite) -> list[Elements]:
    patient = dependent.patient
    segments: list[Elements] = [
        ("HL", str(hl), str(parent), "23", "0"),
        ("PAT", dependent.relationship),
        patient.nm1("QC", with_id=False),
    ]
    if patient.address is not None:
        segments += patient.address.segments()
    return segments + patient.demographics()


def _payer(payer: Payer) -> list[Elements]:
    if payer.address is None:
        return [payer.nm1()]
    return [payer.nm1(), *payer.address.segments()]


def _claim(claim: Claim, billing_npi: str, composite: Composite) -> list[Elements]:
    segments: list[Elements] = [
        (
            "CLM", claim.claim_id, decimal_text(claim.total_charge), "", "",
            composite(claim.place_of_service, "B", claim.frequency), "Y", "A", "Y", "Y",
            *(("",) * 10 + (claim.delay_reason,) if claim.delay_reason else ()),
        ),
    ]  # fmt: skip
    if claim.onset_date is not None:
        segments.append(("DTP", "431", "D8", date_text(claim.onset_date)))
    if claim.initial_treatment_date is not None:
        segments.append(("DTP", "454", "D8", date_text(claim.initial_treatment_date)))
    if claim.prior_authorization:
        segments.append(("REF", "G1", claim.prior_authorization))
    if claim.payer_claim_number:
        segments.append(("REF", "F8", claim.payer_claim_number))
    if claim.note:
        segments.append(("NTE", "ADD", claim.note))
    principal, *others = claim.diagnoses
    segments.append(("HI", composite("ABK", principal), *[composite("ABF", code) for code in others]))
    if claim.referring is not None:
        segments.append(claim.referring.nm1("DN"))
    rendering = claim.rendering
    if rendering is not None and rendering.npi != billing_npi:
        segments.append(rendering.nm1("82"))
        if rendering.taxonomy:
            segments.append(("PRV", "PE", "PXC", rendering.taxonomy))
    if claim.service_facility is not None:
        facility = claim.service_facility
        segments.append(("NM1", "77", "2", facility.name, "", "", "", "", "XX" if facility.npi else "", facility.npi))
        segments += facility.address.segments()
    for coverage in claim.other_coverage:
        segments += _other_coverage(coverage)
    claim_rendering = rendering.npi if rendering is not None else billing_npi
    for number, line in enumerate(claim.lines, 1):
        segments += _line(line, number, composite, claim_rendering)
    return segments


def _line(line: ServiceLine, number: int, composite: Composite, claim_rendering: str) -> list[Elements]:
    segments: list[Elements] = [
        ("LX", str(number)),
        (
            "SV1", composite("HC", line.procedure, *line.modifiers), decimal_text(line.charge), "UN",
            decimal_text(line.units), line.place_of_service, "", composite(*map(str, line.pointers)),
        ),
        ("DTP", "472", *period(line.service_date, line.service_end)),
    ]  # fmt: skip
    if line.control_number:
        segments.append(("REF", "6R", line.control_number))
    if line.ndc and line.ndc_quantity is not None:
        segments += [
            ("LIN", "", "N4", line.ndc),
            ("CTP", "", "", "", decimal_text(line.ndc_quantity), composite(line.ndc_unit)),
        ]
    if line.rendering is not None and line.rendering.npi != claim_rendering:
        segments.append(line.rendering.nm1("82"))
        if line.rendering.taxonomy:
            segments.append(("PRV", "PE", "PXC", line.rendering.taxonomy))
    for adjudication in line.adjudications:
        segments += _line_adjudication(adjudication, composite)
    return segments


def _other_coverage(coverage: OtherCoverage) -> list[Elements]:
    subscriber = coverage.subscriber
    segments: list[Elements] = [
        (
            "SBR", coverage.responsibility, coverage.relationship, coverage.group_number, coverage.group_name,
            coverage.insurance_type, "", "", "", coverage.filing_indicator,
        ),
        *cas_segments(coverage.adjustments),
    ]  # fmt: skip
    if coverage.paid is not None:
        segments.append(("AMT", "D", decimal_text(coverage.paid)))
    segments += [("OI", "", "", "Y", "", "", "Y"), subscriber.nm1("IL")]
    if subscriber.address is not None:
        segments += subscriber.address.segments()
    segments += _payer(coverage.payer)
    if coverage.adjudication_date is not None:
        segments.append(("DTP", "573", "D8", date_text(coverage.adjudication_date)))
    return segments


def _line_adjudication(adjudication: LineAdjudication, composite: Composite) -> list[Elements]:
    procedure = composite("HC", adjudication.procedure, *adjudication.modifiers)
    return [
        (
            "SVD",
            adjudication.payer_id,
            decimal_text(adjudication.paid),
            procedure,
            "",
            decimal_text(adjudication.units),
        ),
        *cas_segments(adjudication.adjustments),
        ("DTP", "573", "D8", date_text(adjudication.adjudication_date)),
    ]
