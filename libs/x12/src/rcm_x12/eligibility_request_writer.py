"""The 270 eligibility inquiry (005010X279A1): one payer asked, by one provider, about any number of
members, and `write_270` to write it.

Each inquiry asks about a subscriber (2000C), or about a dependant the payer knows only through the
subscriber (2000D): the date of service (DTP*291) and the service types (EQ, 30 "health benefit plan
coverage" unless told) then sit at the patient's level, as the guide wants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from rcm_x12.writer import (
    Composite,
    Elements,
    Envelope,
    Member,
    Payer,
    Provider,
    SegmentWriter,
    add_member_levels,
    date_text,
)

IMPLEMENTATION = "005010X279A1"
_MAX_SERVICE_TYPES = 99


@dataclass(frozen=True, slots=True)
class EligibilityInquiry:
    """One member asked about. `trace` (TRN02) comes back in the 271 to match the answer to the question."""

    subscriber: Member
    service_date: date | None = None
    service_types: tuple[str, ...] = ("30",)
    dependent: Member | None = None
    trace: str = ""

    def __post_init__(self) -> None:
        if not 1 <= len(self.service_types) <= _MAX_SERVICE_TYPES:
            raise ValueError("an inquiry asks about one to 99 service types")


@dataclass(frozen=True, slots=True)
class EligibilityRequest:
    """One 270 transaction: the payer (2100A), the provider asking (2100B), the inquiries. `reference` is
    BHT03; `trace_originator` (TRN03, "1" and the EIN, or "9" and an assigned id) is required when an
    inquiry has a trace number."""

    reference: str
    payer: Payer
    provider: Provider
    inquiries: tuple[EligibilityInquiry, ...]
    trace_originator: str = ""

    def __post_init__(self) -> None:
        if not self.inquiries:
            raise ValueError("a 270 asks about at least one member")
        if not self.trace_originator and any(inquiry.trace for inquiry in self.inquiries):
            raise ValueError("a trace number needs the trace originator (TRN03)")


def write_270(request: EligibilityRequest, envelope: Envelope) -> str:
    """The request as one X12 interchange holding one 270 transaction set."""
    writer = SegmentWriter(envelope, "HS", "270", IMPLEMENTATION)
    request = writer.prepare(request)
    writer.add(partial(_header, request, writer.date, writer.time), "the header")
    add_member_levels(
        writer,
        request.inquiries,
        after_level=2,
        build=partial(_inquiry, originator=request.trace_originator),
        what="inquiry",
    )
    return writer.text()


def _header(request: EligibilityRequest, created_date: str, created_time: str, composite: Composite) -> list[Elements]:
    return [
        ("BHT", "0022", "13", request.reference, created_date, created_time),
        ("HL", "1", "", "20", "1"),
        request.payer.nm1(),
        ("HL", "2", "1", "21", "1"),
        request.provider.nm1("1P"),
    ]


def _inquiry(inquiry: EligibilityInquiry, hl: int, composite: Composite, *, originator: str) -> list[Elements]:
    subscriber, dependent = inquiry.subscriber, inquiry.dependent
    if dependent is None:
        return [
            ("HL", str(hl), "2", "22", "0"),
            *_trace(inquiry, originator),
            *_named(subscriber, subscriber.nm1("IL")),
            *_asked(inquiry),
        ]
    return [
        ("HL", str(hl), "2", "22", "1"),
        *_named(subscriber, subscriber.nm1("IL")),
        ("HL", str(hl + 1), str(hl), "23", "0"),
        *_trace(inquiry, originator),
        *_named(dependent, dependent.nm1("03", with_id=False)),
        *_asked(inquiry),
    ]


def _trace(inquiry: EligibilityInquiry, originator: str) -> list[Elements]:
    return [("TRN", "1", inquiry.trace, originator)] if inquiry.trace else []


def _named(member: Member, name: Elements) -> list[Elements]:
    """2100C or 2100D: the name, the address and the demographics."""
    address = member.address.segments() if member.address is not None else ()
    return [name, *address, *member.demographics(unknown_gender=False)]


def _asked(inquiry: EligibilityInquiry) -> list[Elements]:
    """The patient's date of service (DTP*291) and one 2110 loop (EQ) per service type."""
    date_of_service = (
        [("DTP", "291", "D8", date_text(inquiry.service_date))] if inquiry.service_date is not None else []
    )
    return [*date_of_service, *(("EQ", code) for code in inquiry.service_types)]
