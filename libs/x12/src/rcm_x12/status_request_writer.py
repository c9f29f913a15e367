"""The 276 claim status request (005010X212): one payer asked, by one receiver about one provider's claims,
and `write_276` to write it.

Each inquiry names a claim by what the payer and the provider both know of it: the tracking number the 277
echoes (TRN), the payer's claim number when known (REF*1K), the provider's patient control number, CLM01
of the 837 (REF*EJ), the charge (AMT*T3) and the dates of service (DTP*472). It sits under the subscriber
(2000D), or under the dependant (2000E) when the patient is not the subscriber.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from rcm_x12.writer import (
    Composite,
    Elements,
    Envelope,
    Member,
    Payer,
    Provider,
    SegmentWriter,
    TradingPartner,
    add_member_levels,
    check_money,
    decimal_text,
    period,
)

IMPLEMENTATION = "005010X212"


@dataclass(frozen=True, slots=True)
class StatusInquiry:
    """One claim asked about. The guide requires the dependant's birth date."""

    subscriber: Member
    trace: str
    claim_charge: Decimal
    service_date: date
    service_end: date | None = None
    payer_claim_number: str = ""
    patient_control_number: str = ""
    dependent: Member | None = None

    def __post_init__(self) -> None:
        check_money(self.claim_charge, what="an inquiry")
        if self.dependent is not None and self.dependent.birth_date is None:
            raise ValueError("a dependant in a 276 needs a birth date")


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """One 276 transaction: the payer (2100A), the receiver of the answer (2100B, by ETIN), the provider
    whose claims these are (2100C, by NPI), and the inquiries. `reference` is BHT03."""

    reference: str
    payer: Payer
    receiver: TradingPartner
    provider: Provider
    inquiries: tuple[StatusInquiry, ...]

    def __post_init__(self) -> None:
        if not self.inquiries:
            raise ValueError("a 276 asks about at least one claim")


def write_276(request: StatusRequest, envelope: Envelope) -> str:
    """The request as one X12 interchange holding one 276 transaction set."""
    writer = SegmentWriter(envelope, "HR", "276", IMPLEMENTATION)
    request = writer.prepare(request)
    writer.add(partial(_header, request, writer.date, writer.time), "the header")
    add_member_levels(writer, request.inquiries, after_level=3, build=_inquiry, what="inquiry")
    return writer.text()


def _header(request: StatusRequest, created_date: str, created_time: str, composite: Composite) -> list[Elements]:
    return [
        ("BHT", "0010", "13", request.reference, created_date, created_time),
        ("HL", "1", "", "20", "1"),
        request.payer.nm1(),
        ("HL", "2", "1", "21", "1"),
        request.receiver.nm1("41"),
        ("HL", "3", "2", "19", "1"),
        request.provider.nm1("1P"),
    ]


def _inquiry(inquiry: StatusInquiry, hl: int, composite: Composite) -> list[Elements]:
    subscriber, dependent = inquiry.subscriber, inquiry.dependent
    if dependent is None:
        return [
            ("HL", str(hl), "3", "22", "0"),
            *subscriber.demographics(unknown_gender=False),
            subscriber.nm1("IL"),
            *_claim(inquiry),
        ]
    return [
        ("HL", str(hl), "3", "22", "1"),
        subscriber.nm1("IL"),
        ("HL", str(hl + 1), str(hl), "23"),
        *dependent.demographics(unknown_gender=False),
        dependent.nm1("QC", with_id=False),
        *_claim(inquiry),
    ]


def _claim(inquiry: StatusInquiry) -> list[Elements]:
    """2200D or 2200E: the claim, as the payer and the provider both know it."""
    segments: list[Elements] = [("TRN", "1", inquiry.trace)]
    if inquiry.payer_claim_number:
        segments.append(("REF", "1K", inquiry.payer_claim_number))
    if inquiry.patient_control_number:
        segments.append(("REF", "EJ", inquiry.patient_control_number))
    segments.append(("AMT", "T3", decimal_text(inquiry.claim_charge)))
    segments.append(("DTP", "472", *period(inquiry.service_date, inquiry.service_end)))
    return segments
