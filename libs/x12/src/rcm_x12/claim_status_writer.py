"""The 277 claim status response (005010X212), a payer's answer to a 276, and `write_277` to write it.

It mirrors the request `rcm_x12.status_request_writer` writes: one payer (2000A), the receiver of the answer
(2000B), the provider (2000C), then per claim asked about the subscriber (2000D), or the subscriber and
the dependant (2000E) when the patient is not the subscriber, each with the claim's status (2200D/E): the
276's trace number echoed (TRN*2), one STC with up to three category:status:entity composites (the
reader's `StatusCode`), the payer's and the provider's claim numbers and the dates of service.

`stc` and `status_composite` are shared with the 277CA writer (`rcm_x12.claim_acknowledgment_writer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

from rcm_x12.claim_status_reader import StatusCode
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
    date_text,
    decimal_text,
    period,
)

__all__ = [
    "IMPLEMENTATION",
    "ClaimStatusReport",
    "StatusCode",
    "StatusReply",
    "check_status_codes",
    "status_composite",
    "stc",
    "write_277",
]

IMPLEMENTATION = "005010X212"
_MAX_CODES = 3  # STC01, STC10, STC11


@dataclass(frozen=True, slots=True)
class ClaimStatusReport:
    """One claim's status, answering one 276 inquiry: its fields follow `StatusInquiry`'s. `codes` are
    STC01, STC10 and STC11 (e.g. F1:65 finalized/paid, P1:20 pending/in process, A4:35 not found, F2:88
    denied); `status_date` is STC02; `charge`, `paid`, `adjudication_date`, `payment_date` and
    `check_number` are STC04, STC05, STC06, STC08 and STC09. The claim numbers are REF*1K (the payer's)
    and REF*EJ (the provider's patient control number); the dates of service DTP*472."""

    subscriber: Member
    trace: str
    codes: tuple[StatusCode, ...]
    status_date: date
    charge: Decimal | None = None
    paid: Decimal | None = None
    adjudication_date: date | None = None
    payment_date: date | None = None
    check_number: str = ""
    payer_claim_number: str = ""
    patient_control_number: str = ""
    service_date: date | None = None
    service_end: date | None = None
    dependent: Member | None = None

    def __post_init__(self) -> None:
        check_status_codes(self.codes)
        check_money(self.charge, self.paid, what="a claim status")
        if not self.subscriber.member_id:
            raise ValueError("the subscriber of a 277 (NM1*IL) needs a member id")
        if self.service_end is not None and self.service_date is None:
            raise ValueError("a service end date needs its start date")


@dataclass(frozen=True, slots=True)
class StatusReply:
    """One 277 transaction: the payer (2100A), the receiver the 276 named (2100B, by ETIN), the provider
    (2100C, by NPI) and the claims' statuses. `reference` is BHT03, the payer's id for this answer."""

    reference: str
    payer: Payer
    receiver: TradingPartner
    provider: Provider
    claims: tuple[ClaimStatusReport, ...]

    def __post_init__(self) -> None:
        if not self.claims:
            raise ValueError("a 277 answers for at least one claim")


def check_status_codes(codes: Sequence[StatusCode]) -> None:
    """One to three composites, each with its category and status code."""
    if not 1 <= len(codes) <= _MAX_CODES:
        raise ValueError("a status (STC) carries one to three category:status codes")
    if not all(code.category and code.status for code in codes):
        raise ValueError("each status composite needs its category and status codes")


def status_composite(code: StatusCode, composite: Composite) -> str:
    """C043: category, status, entity and code list, without the empty components at its end."""
    parts = [code.category, code.status, code.entity, code.code_list]
    while not parts[-1]:
        parts.pop()
    return composite(*parts)


def stc(
    codes: Sequence[StatusCode],
    effective: date | None,
    composite: Composite,
    *,
    action: str = "",
    charge: Decimal | None = None,
    paid: Decimal | None = None,
    adjudication_date: date | None = None,
    payment_date: date | None = None,
    check_number: str = "",
    message: str = "",
) -> Elements:
    """An STC segment: the first composite at STC01, the others at STC10 and STC11; `effective` is STC02,
    which the 277CA's provider level does not use."""
    first, *others = (status_composite(code, composite) for code in codes)
    others += [""] * (2 - len(others))
    amounts = ("" if amount is None else decimal_text(amount) for amount in (charge, paid))
    dates = ("" if day is None else date_text(day) for day in (effective, adjudication_date, payment_date))
    effective_text, adjudicated, payment_text = dates
    return (
        "STC",
        first,
        effective_text,
        action,
        *amounts,
        adjudicated,
        "",
        payment_text,
        check_number,
        *others,
        message,
    )


def write_277(reply: StatusReply, envelope: Envelope) -> str:
    """The answer as one X12 interchange holding one 277 transaction set."""
    writer = SegmentWriter(envelope, "HN", "277", IMPLEMENTATION)
    reply = writer.prepare(reply)
    writer.add(partial(_header, reply, writer.date, writer.time), "the header")
    add_member_levels(writer, reply.claims, after_level=3, build=_claim, what="claim")
    return writer.text()


def _header(reply: StatusReply, created_date: str, created_time: str, composite: Composite) -> list[Elements]:
    return [
        ("BHT", "0010", "08", reply.reference, created_date, created_time, "DG"),
        ("HL", "1", "", "20", "1"),
        reply.payer.nm1(),
        ("HL", "2", "1", "21", "1"),
        reply.receiver.nm1("41"),
        ("HL", "3", "2", "19", "1"),
        reply.provider.nm1("1P"),
    ]


def _claim(claim: ClaimStatusReport, hl: int, composite: Composite) -> list[Elements]:
    subscriber, dependent = claim.subscriber, claim.dependent
    if dependent is None:
        levels: list[Elements] = [("HL", str(hl), "3", "22", "0"), subscriber.nm1("IL")]
    else:
        levels = [
            ("HL", str(hl), "3", "22", "1"),
            subscriber.nm1("IL"),
            ("HL", str(hl + 1), str(hl), "23"),
            dependent.nm1("QC", with_id=False),
        ]
    segments: list[Elements] = [
        *levels,
        ("TRN", "2", claim.trace),
        stc(
            claim.codes,
            claim.status_date,
            composite,
            charge=claim.charge,
            paid=claim.paid,
            adjudication_date=claim.adjudication_date,
            payment_date=claim.payment_date,
            check_number=claim.check_number,
        ),
    ]
    if claim.payer_claim_number:
        segments.append(("REF", "1K", claim.payer_claim_number))
    if claim.patient_control_number:
        segments.append(("REF", "EJ", claim.patient_control_number))
    if claim.service_date is not None:
        segments.append(("DTP", "472", *period(claim.service_date, claim.service_end)))
    return segments
