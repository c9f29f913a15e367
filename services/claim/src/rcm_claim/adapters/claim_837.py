"""Claims as the 837P carries them: one batch per payer from the claims, the copies of their patients and
coverages, and the practice's provider directory (`rcm_x12`'s writer checks what the guide requires).

The subscriber loop (2000B/2010BA) names the coverage's subscriber: the patient when the relationship is
self, else the subscriber registration recorded, with the patient in 2000C (PAT01 01 spouse, 19 child, G8
other). A claim's prior authorisation (REF*G1) is the biller's, else the one its scrub found; a replacement or
void names the payer's claim number (REF*F8); a service given at one of the practice's facilities away from
the billing provider's address names it (2310C). A drug line's NDC quantity is its units (CTP04, unit UN): the charge
service records no separate drug quantity yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from rcm_claim.domain.adjudication import Adjustment, PriorLine, PriorPayer
from rcm_claim.domain.batches import TRANSACTION_SET_CONTROL_NUMBER
from rcm_claim.domain.copies import CoverageCopy, PatientCopy, Person
from rcm_claim.domain.directories import Address, PayerProfile, ProviderDirectory
from rcm_claim.domain.model import Claim
from rcm_x12 import professional_claim_writer as x837
from rcm_x12 import read
from rcm_x12 import writer as x12
from rcm_x12.remittance_reader import Adjustment as CasAdjustment
from rcm_x12.structure import validate

PATIENT_RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8"}  # PAT01 of a dependant patient
SUBSCRIBER_RELATIONSHIP = {"self": "18", **PATIENT_RELATIONSHIP}  # SBR02 of an earlier payer's coverage (2320)
MAX_CLAIMS_PER_SUBSCRIBER = 100


@dataclass(frozen=True, slots=True)
class BillableClaim:
    """A claim with the patient and coverage it names, as the service holds them when the batch is built."""

    claim: Claim
    patient: PatientCopy
    coverage: CoverageCopy


@dataclass(frozen=True, slots=True)
class Parties:
    """Who sends the batch and to whom: the practice as submitter (1000A, with whom to call) and the
    clearinghouse as receiver (1000B)."""

    submitter: x12.TradingPartner
    contact: x837.Contact
    receiver: x12.TradingPartner


@dataclass(frozen=True, slots=True)
class Sender:
    """Who the platform is on its 837Ps: the submitter (ISA06, 1000A with whom to call) and the clearinghouse
    receiving them (ISA08, 1000B), and whether the interchange is production or test (ISA15)."""

    submitter_id: str
    submitter_name: str
    contact: str
    phone: str
    receiver_id: str
    receiver_name: str
    usage: Literal["P", "T"] = "P"

    def envelope(self, interchange_control_number: int, now: datetime) -> x12.Envelope:
        """The envelope of one interchange holding one group (GS06 = ISA13) and one transaction set."""
        return x12.Envelope(
            self.submitter_id,
            self.receiver_id,
            interchange_control_number,
            interchange_control_number,
            TRANSACTION_SET_CONTROL_NUMBER,
            now,
            usage=self.usage,
        )

    @property
    def parties(self) -> Parties:
        return Parties(
            submitter=x12.TradingPartner(self.submitter_name, self.submitter_id),
            contact=x837.Contact(self.contact, phone=self.phone),
            receiver=x12.TradingPartner(self.receiver_name, self.receiver_id),
        )


class UnwritableBatch(ValueError):
    """The writer or the structural validator refused the batch; the message names segments and elements
    only, never values."""


def write_batch(
    claims: Sequence[BillableClaim],
    *,
    reference: str,
    interchange_control_number: int,
    payer: PayerProfile,
    providers: ProviderDirectory,
    sender: Sender,
    now: datetime,
) -> str:
    """The claims as one 837P interchange to the clearinghouse, checked against the guide's structure by
    `rcm_x12`'s validator before anything is stored or sent."""
    envelope = sender.envelope(interchange_control_number, now)
    try:
        text = x837.write_837p(
            claim_batch(claims, reference=reference, payer=payer, providers=providers, parties=sender.parties),
            envelope,
        )
    except ValueError as exc:  # X12Error and the writer's own checks: their messages name rules, not values
        raise UnwritableBatch(str(exc)) from None
    checked = validate(read(text))
    if not checked.ok:
        raise UnwritableBatch("; ".join(checked.problems[:5]))
    return text


def claim_batch(
    claims: Sequence[BillableClaim],
    *,
    reference: str,
    payer: PayerProfile,
    providers: ProviderDirectory,
    parties: Parties,
) -> x837.ProfessionalClaimBatch:
    """One 837P transaction of the claims to one payer, a subscriber loop per coverage and patient."""
    if any(billable.claim.payer_id != payer.payer_id for billable in claims):
        raise ValueError("a batch goes to one payer: every claim in it is for that payer")
    groups: dict[tuple[object, object], list[BillableClaim]] = {}
    for billable in claims:
        groups.setdefault((billable.coverage.coverage_id, billable.patient.patient_id), []).append(billable)
    subscribers = tuple(
        _subscriber_claims(chunk, payer, providers)
        for group in groups.values()
        for chunk in (group[i : i + MAX_CLAIMS_PER_SUBSCRIBER] for i in range(0, len(group), MAX_CLAIMS_PER_SUBSCRIBER))
    )
    return x837.ProfessionalClaimBatch(
        reference=reference,
        submitter=parties.submitter,
        contact=parties.contact,
        receiver=parties.receiver,
        providers=(x837.ProviderClaims(_billing_provider(providers, parties.contact), subscribers),),
    )


def _subscriber_claims(
    group: Sequence[BillableClaim], payer: PayerProfile, providers: ProviderDirectory
) -> x837.SubscriberClaims:
    first = group[0]
    subscriber, dependent = subscriber_and_dependent(first.patient, first.coverage)
    return x837.SubscriberClaims(
        subscriber=subscriber,
        payer=x12.Payer(payer.name.upper(), payer.payer_id),
        claims=tuple(_claim(billable.claim, providers) for billable in group),
        responsibility=first.claim.responsibility,
        filing_indicator=payer.filing_indicator,
        dependent=dependent,
    )


def subscriber_and_dependent(patient: PatientCopy, coverage: CoverageCopy) -> tuple[x12.Member, x837.Dependent | None]:
    """The subscriber (2010BA, with the member id) and, when the patient is not the subscriber, the patient
    as a dependant (2000C, with the relationship: 01 spouse, 19 child, G8 other)."""
    if coverage.relationship == "self" or coverage.subscriber is None:
        return _member(patient.person, patient.address, member_id=coverage.member_id), None
    subscriber = _member(coverage.subscriber, None, member_id=coverage.member_id)
    relationship = PATIENT_RELATIONSHIP.get(coverage.relationship, "G8")
    return subscriber, x837.Dependent(_member(patient.person, patient.address), relationship)


def _claim(claim: Claim, providers: ProviderDirectory) -> x837.Claim:
    facility = _service_facility(claim, providers)
    prior_lines = {(prior.payer_id, line.line_number): line for prior in claim.prior_payers for line in prior.lines}
    rendering = providers.provider(claim.rendering_provider_npi) if claim.rendering_provider_npi else None
    referring = providers.provider(claim.referring_provider_npi) if claim.referring_provider_npi else None
    return x837.Claim(
        claim_id=claim.patient_control_number,
        place_of_service=claim.place_of_service,
        diagnoses=tuple(code.replace(".", "") for code in claim.diagnoses),
        lines=tuple(
            x837.ServiceLine(
                procedure=line.procedure_code,
                charge=line.charge,
                units=line.units,
                service_date=line.date_of_service,
                pointers=line.diagnosis_pointers,
                modifiers=line.modifiers,
                control_number=line.control_number,
                ndc=line.ndc or "",
                ndc_quantity=line.units if line.ndc else None,
                adjudications=tuple(
                    _line_adjudication(prior, paid)
                    for prior in claim.prior_payers
                    if (paid := prior_lines.get((prior.payer_id, line.number))) is not None
                ),
            )
            for line in claim.lines
        ),
        other_coverage=tuple(_other_coverage(prior) for prior in claim.prior_payers),
        frequency=claim.frequency,
        payer_claim_number=claim.replaces_payer_claim_number or "",
        prior_authorization=claim.authorization_number or "",
        delay_reason=claim.billing_notes.delay_reason_code or "",
        service_facility=facility,
        note=claim.billing_notes.note or "",
        rendering=(
            x12.Provider(
                rendering.last_name, rendering.npi, first_name=rendering.first_name, taxonomy=rendering.taxonomy
            )
            if rendering is not None
            else None
        ),
        referring=(
            x12.Provider(referring.last_name, referring.npi, first_name=referring.first_name)
            if referring is not None
            else None
        ),
    )


def _other_coverage(prior: PriorPayer) -> x837.OtherCoverage:
    """2320-2330B: an earlier payer of the claim, whom it covers, and what it paid and adjusted, and when."""
    return x837.OtherCoverage(
        subscriber=_member(prior.subscriber, None, member_id=prior.member_id),
        payer=x12.Payer(prior.payer_name.upper(), prior.payer_id),
        responsibility=prior.responsibility,
        relationship=SUBSCRIBER_RELATIONSHIP.get(prior.relationship, "G8"),
        filing_indicator=prior.filing_indicator,
        paid=prior.paid,
        adjustments=_cas(prior.adjustments),
        adjudication_date=prior.paid_on,
    )


def _line_adjudication(prior: PriorPayer, line: PriorLine) -> x837.LineAdjudication:
    """2430: how an earlier payer paid one line (SVD), adjusted it (CAS), and when (DTP*573)."""
    return x837.LineAdjudication(
        payer_id=prior.payer_id, paid=line.paid, procedure=line.procedure_code, units=line.units,
        adjudication_date=prior.paid_on, modifiers=line.modifiers, adjustments=_cas(line.adjustments),
    )  # fmt: skip


def _cas(adjustments: tuple[Adjustment, ...]) -> tuple[CasAdjustment, ...]:
    return tuple(CasAdjustment(a.group, a.reason, a.amount) for a in adjustments)


def _service_facility(claim: Claim, providers: ProviderDirectory) -> x837.ServiceFacility | None:
    """2310C: the facility of the claim's location, when it is not the billing provider's own address (the
    guide leaves 2310C out then)."""
    facility = providers.facility(claim.location)
    if facility is None or facility.address == providers.billing.address:
        return None
    return x837.ServiceFacility(facility.name.upper(), _address(facility.address), facility.npi)


def _billing_provider(providers: ProviderDirectory, contact: x837.Contact) -> x837.BillingProvider:
    billing = providers.billing
    return x837.BillingProvider(
        billing.name.upper(),
        billing.npi,
        billing.tax_id,
        _address(billing.address),
        taxonomy=billing.taxonomy,
        contact=contact,
        pay_to=_address(billing.pay_to) if billing.pay_to is not None else None,
    )


def _member(person: Person, address: Address | None, *, member_id: str = "") -> x12.Member:
    return x12.Member(
        person.last_name.upper(),
        person.first_name.upper(),
        member_id,
        birth_date=person.birth_date,
        gender="F" if person.sex == "F" else "M" if person.sex == "M" else "U",
        address=_address(address) if address is not None else None,
    )


def _address(address: Address) -> x12.Address:
    return x12.Address(address.line1.upper(), address.city.upper(), address.state, address.postal_code,
                       line2=address.line2.upper())  # fmt: skip


def claim_as_sent(batch_x12: str, patient_control_number: str) -> str:
    """One claim as it went in its batch: the batch's envelopes, header and billing provider (2000A), and only
    this claim's subscriber loop (2000B, with 2000C for a dependant) and its 2300 claim, the other patients'
    claims left out as the minimum a disclosure needs. The subscriber level is renumbered HL 2 (and the
    patient HL 3) and SE01 recounted; every segment kept is byte for byte as sent."""
    element, terminator = batch_x12[3], batch_x12[105]
    segments = [segment.strip("\r\n") for segment in batch_x12.split(terminator) if segment.strip("\r\n")]
    st = next(i for i, segment in enumerate(segments) if segment.startswith(f"ST{element}"))
    se = next(i for i, segment in enumerate(segments) if segment.startswith(f"SE{element}"))
    body = segments[st + 1 : se]
    levels = [i for i, segment in enumerate(body) if _hl_level(segment, element) == "22"]
    head = body[: levels[0]]
    for start, end in zip(levels, [*levels[1:], len(body)], strict=True):
        kept = _claim_in_loop(body[start:end], patient_control_number, element)
        if kept is not None:
            transaction = [segments[st], *head, *kept]
            trailer = element.join(("SE", str(len(transaction) + 1), segments[se].split(element)[2]))
            kept_segments = [*segments[:st], *transaction, trailer, *segments[se + 1 :]]
            return terminator.join(kept_segments) + terminator
    raise KeyError("the batch holds no claim with this patient control number")


def _hl_level(segment: str, element: str) -> str | None:
    parts = segment.split(element)
    return parts[3] if parts[0] == "HL" and len(parts) > 3 else None


def _claim_in_loop(loop: list[str], patient_control_number: str, element: str) -> list[str] | None:
    """The subscriber loop with only the named claim, its levels renumbered; None when it is not here."""
    claims = [i for i, segment in enumerate(loop) if segment.startswith(f"CLM{element}")]
    for start, end in zip(claims, [*claims[1:], len(loop)], strict=True):
        if loop[start].split(element)[1] == patient_control_number:
            return [_renumbered(segment, element) for segment in loop[: claims[0]]] + loop[start:end]
    return None


def _renumbered(segment: str, element: str) -> str:
    parts = segment.split(element)
    if parts[0] != "HL":
        return segment
    if parts[3] == "22":
        parts[1:3] = ["2", "1"]
    elif parts[3] == "23":
        parts[1:3] = ["3", "2"]
    return element.join(parts)
