"""The 276 asking a payer about its accepted, unpaid claims: each claim named as both sides know it (the
payer's claim number, CLM01, the total and the dates of service), under its subscriber and, for a dependant
patient, the patient. The subscriber loops are built as the 837P's are (`adapters.claim_837`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rcm_claim.adapters.claim_837 import BillableClaim, Sender, subscriber_and_dependent
from rcm_claim.domain.directories import PayerProfile, ProviderDirectory
from rcm_x12 import writer as x12
from rcm_x12.status_request_writer import StatusInquiry, StatusRequest, write_276


def write_status_request(
    claims: Sequence[BillableClaim],
    *,
    reference: str,
    interchange_control_number: int,
    payer: PayerProfile,
    providers: ProviderDirectory,
    sender: Sender,
    now: datetime,
) -> str:
    billing = providers.billing
    request = StatusRequest(
        reference=reference,
        payer=x12.Payer(payer.name.upper(), payer.payer_id),
        receiver=x12.TradingPartner(sender.submitter_name, sender.submitter_id),
        provider=x12.Provider(billing.name.upper(), billing.npi),
        inquiries=tuple(_inquiry(billable) for billable in claims),
    )
    return write_276(request, sender.envelope(interchange_control_number, now))


def _inquiry(billable: BillableClaim) -> StatusInquiry:
    claim = billable.claim
    subscriber, dependent = subscriber_and_dependent(billable.patient, billable.coverage)
    last_day = max(line.date_of_service for line in claim.lines)
    return StatusInquiry(
        subscriber=subscriber,
        trace=claim.patient_control_number,
        claim_charge=claim.total_charge,
        service_date=claim.date_of_service,
        service_end=last_day if last_day != claim.date_of_service else None,
        payer_claim_number=claim.payer_claim_number or "",
        patient_control_number=claim.patient_control_number,
        dependent=dependent.patient if dependent is not None else None,
    )
