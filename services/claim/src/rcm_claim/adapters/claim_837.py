"""Claims as the 837P carries them: one batch per payer from the claims, the copies of their patients and
coverages, and the practice's provider directory (`rcm_x12`'s writer checks what the guide requires).

The subscriber loop (2000B/2010BA) names the coverage's subscriber: the patient when the relationship is
self, else the subscriber registration recorded, with the patient in 2000C (PAT01 01 spouse, 19 child, G8
other). A claim's prior authorisation (REF*G1) is the one its scrub found, and a replacement or void names
the payer's claim number (REF*F8). A drug line's NDC quantity is its units (CTP04, unit UN): the charge
service records no separate drug quantity yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rcm_claim.domain.copies import CoverageCopy, PatientCopy, Person
from rcm_claim.domain.directories import Address, PayerProfile, ProviderDirectory
from rcm_claim.domain.model import Claim
from rcm_x12 import professional_claim_writer as x837
from rcm_x12 import writer as x12

PATIENT_RELATIONSHIP = {"spouse": "01", "child": "19", "other": "G8"}  # PAT01 of a dependant patient
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
    coverage, patient = first.coverage, first.patient
    patient_member = _member(patient.person, patient.address)
    if coverage.relationship == "self" or coverage.subscriber is None:
        subscriber = _member(patient.person, patient.address, member_id=coverage.member_id)
        dependent = None
    else:
        subscriber = _member(coverage.subscriber, None, member_id=coverage.member_id)
        relationship = PATIENT_RELATIONSHIP.get(coverage.relationship, "G8")
        dependent = x837.Dependent(patient_member, relationship)
    return x837.SubscriberClaims(
        subscriber=subscriber,
        payer=x12.Payer(payer.name.upper(), payer.payer_id),
        claims=tuple(_claim(billable.claim, providers) for billable in group),
        responsibility=first.claim.responsibility,
        filing_indicator=payer.filing_indicator,
        dependent=dependent,
    )


def _claim(claim: Claim, providers: ProviderDirectory) -> x837.Claim:
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
            )
            for line in claim.lines
        ),
        frequency=claim.frequency,
        payer_claim_number=claim.replaces_payer_claim_number or "",
        prior_authorization=(claim.scrub.authorization_number or "") if claim.scrub is not None else "",
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
