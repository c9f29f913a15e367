"""From what the X12 readers found to the domain: an 837P claim becomes the claim the payers adjudicate,
and a subscriber and dependant the patient whose accumulators count."""

from __future__ import annotations

from decimal import Decimal

from rcm_clearinghouse_sim.domain.claims import Claim, Line, Patient, PriorShare
from rcm_x12.professional_claim_reader import ClaimLine, ClaimProvider, ClaimSubscriber, OtherPayer, ReceivedClaim
from rcm_x12.remittance_reader import Adjustment
from rcm_x12.writer import Member

_ONE = Decimal(1)
_ZERO = Decimal("0.00")


def claim_of(claim: ReceivedClaim, subscriber: ClaimSubscriber, provider: ClaimProvider) -> Claim:
    """The domain's claim; lines without a date of service are left out (the 277CA rejects a claim left
    with none). The prior payer is the last other payer that adjudicated the claim (2320 AMT*D): a tertiary
    claim lists the primary, then the secondary, and pays after the secondary."""
    prior = next((other for other in reversed(claim.other_payers) if other.paid is not None), None)
    return Claim(
        claim_id=claim.claim_id,
        payer_id=subscriber.payer.payer_id,
        member_id=subscriber.subscriber.member_id,
        billing_npi=provider.provider.npi,
        rendering_npi=claim.rendering.npi if claim.rendering is not None else "",
        charge=claim.charge,
        diagnoses=tuple(claim.diagnoses),
        lines=tuple(_line(line, prior) for line in claim.lines if line.service_date is not None),
        prior_authorization=claim.prior_authorization,
        responsibility=subscriber.responsibility,
        prior=_prior(claim, prior) if prior is not None else None,
        frequency=claim.frequency,
        corrects=claim.payer_claim_number,
        dependant=patient_of(subscriber.subscriber, subscriber.patient).dependant,
    )


def patient_of(subscriber: Member, dependant: Member | None) -> Patient:
    """The subscriber, or the dependant under the subscriber's member id (names compared case-blind)."""
    if dependant is None:
        return Patient(subscriber.member_id)
    return Patient(
        subscriber.member_id, (dependant.last_name.upper(), dependant.first_name.upper(), dependant.birth_date)
    )


def _patient_share(adjustments: list[Adjustment]) -> Decimal:
    return sum((a.amount for a in adjustments if a.group == "PR"), _ZERO)


def _prior(claim: ReceivedClaim, prior: OtherPayer) -> PriorShare:
    """The prior payer's payment (AMT*D) and what it left the patient: its PR adjustments at the claim's
    level and its lines'."""
    payer_id = prior.payer.payer_id if prior.payer is not None else ""
    lines = [other for line in claim.lines for other in line.other_payers if other.payer_id == payer_id]
    patient = _patient_share(prior.adjustments) + sum((_patient_share(o.adjustments) for o in lines), _ZERO)
    return PriorShare(prior.paid or _ZERO, patient)


def _line(line: ClaimLine, prior: OtherPayer | None) -> Line:
    assert line.service_date is not None  # lines without a date are left out by the caller
    payer_id = prior.payer.payer_id if prior is not None and prior.payer is not None else None
    own = next((other for other in line.other_payers if other.payer_id == payer_id), None)
    return Line(
        number=line.number,
        procedure=line.procedure,
        modifiers=line.modifiers,
        charge=line.charge,
        units=line.units if line.units is not None else _ONE,
        service_date=line.service_date,
        pointers=line.pointers,
        prior_authorization=line.prior_authorization,
        prior=PriorShare(own.paid, _patient_share(own.adjustments)) if own is not None else None,
    )
