"""Sample events of a visit's money as the upstream services publish them (a patient registered, charges captured,
a claim created, paid, denied, reversed, closed, reopened and voided), with a clock a test moves: shared by the
tests, contract examples and benchmarks of the services that read them (collections, reporting)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from rcm_common.events import charge, claim, collections, registration, remittance
from rcm_common.testing import sample_patient_registered

DATE_OF_SERVICE: Final = date(2026, 11, 2)
PAYER: Final = "ACME01"
ZERO: Final = Decimal("0.00")


@dataclass
class MovableClock:
    """A clock a test sets and moves forward (days pass between statements)."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 20, 15, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


@dataclass
class Visit:
    """One visit's ids as the upstream services name them."""

    patient_id: uuid.UUID
    encounter_id: uuid.UUID = field(default_factory=uuid.uuid4)
    claim_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def control(self, line: int) -> str:
        return f"C{self.claim_id.hex[:16].upper()}-{line}"


def registered(patient_id: uuid.UUID | None = None, **changes: Any) -> registration.PatientRegistered:
    return sample_patient_registered(patient_id, **changes)


def captured(
    visit: Visit, charges: Sequence[str] = ("150.00",), *, self_pay: bool = False, version: int = 1
) -> charge.ChargesCaptured | charge.ChargesCorrected:
    lines = tuple(
        charge.ChargeLine(
            line_number=n,
            procedure_code="99213" if n == 1 else "36415",
            units=Decimal(1),
            diagnosis_pointers=(1,),
            date_of_service=DATE_OF_SERVICE,
            charge=Decimal(amount),
        )
        for n, amount in enumerate(charges, 1)
    )
    fields: dict[str, Any] = {
        "encounter_id": visit.encounter_id,
        "version": version,
        "patient_id": visit.patient_id,
        "coverage_id": None if self_pay else uuid.uuid4(),
        "payer_id": None if self_pay else PAYER,
        "date_of_service": DATE_OF_SERVICE,
        "place_of_service": "11",
        "billing_provider_npi": "1234567893",
        "rendering_provider_npi": "1245319599",
        "diagnoses": (charge.Diagnosis(pointer=1, code="J06.9", description="Acute upper respiratory infection"),),
        "lines": lines,
        "total_charge": sum((line.charge for line in lines), ZERO),
        "icd10cm_edition": "2026",
    }
    if version > 1:
        return charge.ChargesCorrected(**fields, replaces_version=version - 1)
    return charge.ChargesCaptured(**fields)


def claim_created(
    visit: Visit,
    *,
    responsibility: str = "P",
    claim_id: uuid.UUID | None = None,
    version: int = 1,
    frequency: str = "1",
) -> claim.ClaimCreated:
    return claim.ClaimCreated(
        claim_id=claim_id or visit.claim_id,
        patient_id=visit.patient_id,
        payer_id=PAYER,
        encounter_id=visit.encounter_id,
        encounter_version=version,
        coverage_id=uuid.uuid4(),
        responsibility=responsibility,
        patient_control_number=visit.control(0)[:17],
        frequency=frequency,
        date_of_service=DATE_OF_SERVICE,
        total_charge=Decimal("150.00"),
    )


def _adjustment(group: str, reason: str, amount: Decimal, category: str | None = None) -> remittance.AdjustmentPosted:
    return remittance.AdjustmentPosted(
        group=group,
        reason=reason,
        description=f"CARC {reason}",
        category=category or ("patient_responsibility" if group == "PR" else "contractual"),
        amount=amount,
    )


def payment_posted(
    visit: Visit,
    *,
    charge_amount: str = "150.00",
    paid: str = "90.00",
    contractual: str = "30.00",
    deductible: str = "0.00",
    coinsurance: str = "0.00",
    copay: str = "0.00",
    prior_payer: str = "0.00",
    denied: str = "0.00",
    claim_id: uuid.UUID | None = None,
    payment_id: uuid.UUID | None = None,
    status: str = "1",
    line_detail: bool = True,
) -> remittance.PaymentPosted:
    """A claim payment of one line: paid, CO-45 for the contract, PR-1, PR-2 and PR-3 for the patient, for a
    secondary OA-23 for what the prior payer settled, and CO-197 for a denied amount; they add up to the charge."""
    shares = {"1": Decimal(deductible), "2": Decimal(coinsurance), "3": Decimal(copay)}
    adjustments = [_adjustment("CO", "45", Decimal(contractual))] if Decimal(contractual) else []
    adjustments += [_adjustment("OA", "23", Decimal(prior_payer))] if Decimal(prior_payer) else []
    adjustments += [_adjustment("CO", "197", Decimal(denied), "authorisation")] if Decimal(denied) else []
    adjustments += [_adjustment("PR", reason, amount) for reason, amount in shares.items() if amount]
    total = sum((a.amount for a in adjustments), Decimal(paid))
    assert total == Decimal(charge_amount), "paid and adjustments add up to the charge"
    share = remittance.PatientShare(deductible=shares["1"], coinsurance=shares["2"], copay=shares["3"], other=ZERO)
    return remittance.PaymentPosted(
        claim_id=claim_id or visit.claim_id,
        patient_id=visit.patient_id,
        payer_id=PAYER,
        payment_id=payment_id or uuid.uuid4(),
        remittance_id=uuid.uuid4(),
        trace_number="EFT1001",
        payment_date=DATE_OF_SERVICE + timedelta(days=18),
        claim_status=status,
        claim_status_meaning="Processed as primary",
        payer_claim_number="P" + visit.claim_id.hex[:12],
        charge=Decimal(charge_amount),
        paid=Decimal(paid),
        allowed=Decimal(paid) + share.deductible + share.coinsurance + share.copay,
        patient_responsibility=share.deductible + share.coinsurance + share.copay,
        patient_share=share,
        adjustments_by_group={},
        adjustments=tuple(adjustments),
        lines=()
        if not line_detail
        else (
            remittance.LinePosted(
                line_control_number=visit.control(1),
                procedure_code="99213",
                units_paid=Decimal(1),
                date_of_service=DATE_OF_SERVICE,
                charge=Decimal(charge_amount),
                paid=Decimal(paid),
                allowed=Decimal(paid) + share.deductible + share.coinsurance + share.copay,
                adjustments=tuple(adjustments),
                patient_share=share,
            ),
        ),
    )


def payment_reversed(posted: remittance.PaymentPosted) -> remittance.ClaimPaymentReversed:
    return remittance.ClaimPaymentReversed(
        claim_id=posted.claim_id,
        patient_id=posted.patient_id,
        payer_id=posted.payer_id,
        payment_id=uuid.uuid4(),
        remittance_id=uuid.uuid4(),
        trace_number="EFT2002",
        reversed_payment_id=posted.payment_id,
        payer_claim_number=posted.payer_claim_number,
        charge=-posted.charge,
        paid=-posted.paid,
        patient_responsibility=-posted.patient_responsibility,
        patient_share=remittance.PatientShare(deductible=ZERO, coinsurance=ZERO, copay=ZERO, other=ZERO),
        adjustments_by_group={},
    )


def claim_closed(
    visit: Visit, payment_id: uuid.UUID, reason: str = "moved_to_patient", *, claim_id: uuid.UUID | None = None
) -> claim.ClaimClosed:
    return claim.ClaimClosed(
        claim_id=claim_id or visit.claim_id,
        patient_id=visit.patient_id,
        payer_id=PAYER,
        payment_id=payment_id,
        reason=reason,
        patient_responsibility=ZERO,
    )


def claim_reopened(visit: Visit) -> claim.ClaimReopened:
    return claim.ClaimReopened(
        claim_id=visit.claim_id, patient_id=visit.patient_id, payer_id=PAYER, note="the payer took its payment back"
    )


def denied_by_payer(
    posted: remittance.PaymentPosted, amount: str, *, line: str | None = None
) -> remittance.ClaimDenied:
    """Remittance's word on the payment's denial: CO-197 for `amount`, on a line or (None) the claim as a whole."""
    denial = remittance.Denial(
        line_control_number=line,
        procedure_code=None if line is None else "99213",
        group="CO",
        reason="197",
        description="Precertification/authorization absent.",
        category="authorisation",
        amount=Decimal(amount),
    )
    return remittance.ClaimDenied(
        claim_id=posted.claim_id,
        patient_id=posted.patient_id,
        payer_id=posted.payer_id,
        payment_id=posted.payment_id,
        remittance_id=posted.remittance_id,
        trace_number=posted.trace_number,
        whole_claim=line is None,
        category="authorisation",
        suggested_action="Get the authorisation and send a corrected claim",
        amount_denied=Decimal(amount),
        denials=(denial,),
    )


def claim_voided(visit: Visit, claim_id: uuid.UUID) -> claim.ClaimVoided:
    return claim.ClaimVoided(
        claim_id=claim_id, patient_id=visit.patient_id, payer_id=PAYER, encounter_id=visit.encounter_id,
        reason="encounter_corrected",
    )  # fmt: skip


def _claim_fields(visit: Visit) -> dict[str, Any]:
    return {"claim_id": visit.claim_id, "patient_id": visit.patient_id, "payer_id": PAYER}


def claim_scrub_failed(visit: Visit) -> claim.ClaimScrubFailed:
    return claim.ClaimScrubFailed(**_claim_fields(visit), blocking_rules=("missing_referring_npi",), findings=())


def claim_submitted(visit: Visit) -> claim.ClaimSubmitted:
    return claim.ClaimSubmitted(
        **_claim_fields(visit),
        encounter_id=visit.encounter_id,
        encounter_version=1,
        coverage_id=uuid.uuid4(),
        patient_control_number=visit.control(0)[:17],
        frequency="1",
        batch_id=uuid.uuid4(),
        interchange_control_number="000000101",
        total_charge=Decimal("150.00"),
        lines=(),
    )


def claim_accepted(visit: Visit) -> claim.ClaimAccepted:
    return claim.ClaimAccepted(
        **_claim_fields(visit),
        patient_control_number=visit.control(0)[:17],
        payer_claim_number="P" + visit.claim_id.hex[:12],
    )


def claim_rejected(visit: Visit) -> claim.ClaimRejected:
    problem = claim.Problem(code="A7:562", meaning="Entity's National Provider Identifier (NPI)")
    return claim.ClaimRejected(
        **_claim_fields(visit), patient_control_number=visit.control(0)[:17], stage="277CA", problems=(problem,)
    )


def claim_paid(posted: remittance.PaymentPosted) -> claim.ClaimPaid:
    """The claim service's word on a payment that paid the claim as billed."""
    return claim.ClaimPaid(
        claim_id=posted.claim_id, patient_id=posted.patient_id, payer_id=posted.payer_id, payment_id=posted.payment_id,
        payer_claim_number=posted.payer_claim_number, claim_status=posted.claim_status, paid=posted.paid,
        allowed=posted.allowed, patient_responsibility=posted.patient_responsibility,
    )  # fmt: skip


def claim_denied(denied: remittance.ClaimDenied) -> claim.ClaimDenied:
    """The claim service's word on remittance's denial: the claim in the denial work queue."""
    return claim.ClaimDenied(
        claim_id=denied.claim_id, patient_id=denied.patient_id, payer_id=denied.payer_id,
        payment_id=denied.payment_id, whole_claim=denied.whole_claim, category=denied.category,
        suggested_action=denied.suggested_action, amount_denied=denied.amount_denied,
        reasons=tuple(f"{d.group}-{d.reason}" for d in denied.denials),
    )  # fmt: skip


def write_off_requested(denied: remittance.ClaimDenied) -> claim.ClaimWriteOffRequested:
    """A biller writes the whole denial off."""
    return claim.ClaimWriteOffRequested(
        claim_id=denied.claim_id, patient_id=denied.patient_id, payer_id=denied.payer_id,
        payment_id=denied.payment_id, amount=denied.amount_denied, category=denied.category,
        reasons=tuple(f"{d.group}-{d.reason}" for d in denied.denials),
    )  # fmt: skip


def patient_paid(
    account_id: uuid.UUID, visit: Visit, amount: str, *, at_visit: bool = False, to_credit: str = "0.00"
) -> collections.PatientPaymentReceived:
    """Collections' word on a patient's payment, applied to the visit (and any rest to the account's credit)."""
    applied = Decimal(amount) - Decimal(to_credit)
    return collections.PatientPaymentReceived(
        account_id=account_id, payment_id=uuid.uuid4(), amount=Decimal(amount), method="card", source="patient",
        agency_fee=ZERO, applied=(collections.AppliedPayment(encounter_id=visit.encounter_id, amount=applied),),
        to_credit=Decimal(to_credit), at_visit=at_visit,
    )  # fmt: skip
