"""The 271 eligibility response (005010X279A1), a payer's answer to a 270, and `write_271` to write it.

It mirrors the inquiry `rcm_x12.eligibility_request_writer` writes: the payer (2000A, information source), the
provider who asked (2000B, information receiver), and per inquiry the subscriber (2000C) and, when the
inquiry was for one, the dependant (2000D). Everything said about the patient sits at the patient's level
(the dependant's when there is one): the 270's trace echoed (TRN*2), the group number (REF*6P), request
errors (AAA), the plan's dates (DTP*346 and 347, or DTP*291) and the benefits (EB, with MSG); the subscriber
of a dependant's inquiry is named only (NM1, N3/N4, DMG).

Errors go where the guide puts them: `source_errors` in 2100A (AAA*Y**42*R, unable to respond now),
`receiver_errors` in 2100B (AAA*N**50*N, provider ineligible for inquiries), and nothing is written below a
level that could not be answered; a member's errors (AAA*N**72*C, invalid member id) in the member's
2100 loop. When the subscriber cannot be found for a dependant's inquiry, answer without the dependant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Literal

from rcm_x12.writer import (
    Composite,
    Elements,
    Envelope,
    Member,
    Payer,
    Provider,
    SegmentWriter,
    add_member_levels,
    check_money,
    date_text,
    decimal_text,
    period,
)

__all__ = [
    "IMPLEMENTATION",
    "BenefitInfo",
    "CoverageAnswer",
    "EligibilityReply",
    "RequestRejection",
    "write_271",
]

IMPLEMENTATION = "005010X279A1"
_MAX_SERVICE_TYPES = 99
_AUTHORIZATION = {True: "Y", False: "N", None: ""}


@dataclass(frozen=True, slots=True)
class RequestRejection:
    """AAA: why (part of) the request could not be answered. `code` is AAA03 (42 unable to respond now, 50
    provider ineligible, 72 invalid member id, 75 subscriber not found, 58 invalid birth date...),
    `follow_up` AAA04 (C correct and resubmit, N do not resubmit, R resubmit, Y do not resubmit, we will
    answer later...), `valid_request` AAA01: False when the request itself was wrong."""

    code: str
    follow_up: str
    valid_request: bool = False

    def segment(self) -> Elements:
        return ("AAA", "Y" if self.valid_request else "N", "", self.code, self.follow_up)


@dataclass(frozen=True, slots=True)
class BenefitInfo:
    """One EB segment and its messages (MSG). `code` is EB01 (1 active coverage, 6 inactive, A co-insurance,
    B co-payment, C deductible, G out of pocket...), `coverage_level` EB02 (IND, FAM...), `service_types`
    EB03 (repeated), `insurance_type` EB04, `plan_description` EB05, `time_period` EB06 (23 calendar year,
    29 remaining...), `amount` EB07, `percent` EB08 (a fraction: 0.2 is 20%), `quantity_qualifier` and
    `quantity` EB09-10, `authorization_required` EB11, `in_plan_network` EB12 (Y, N, or W not applicable).
    For another payer (EB01 R), `coordination_begin` (and `coordination_end`, for a range) is its DTP*290
    (coordination of benefits) and
    `other_payer` its name and payer id, written in loop 2120 as NM1*PRP (primary payer)."""

    code: str
    coverage_level: str = ""
    service_types: tuple[str, ...] = ()
    insurance_type: str = ""
    plan_description: str = ""
    time_period: str = ""
    amount: Decimal | None = None
    percent: Decimal | None = None
    quantity_qualifier: str = ""
    quantity: Decimal | None = None
    authorization_required: bool | None = None
    in_plan_network: Literal["Y", "N", "W", ""] = ""
    messages: tuple[str, ...] = ()
    coordination_begin: date | None = None
    coordination_end: date | None = None
    other_payer: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        check_money(self.amount, what="a benefit")
        if len(self.service_types) > _MAX_SERVICE_TYPES:
            raise ValueError("a benefit names at most 99 service types")
        if self.percent is not None and not (self.percent.is_finite() and 0 <= self.percent <= 1):
            raise ValueError("a benefit's percent (EB08) is a fraction from 0 to 1")
        if (self.quantity is None) != (not self.quantity_qualifier):
            raise ValueError("a benefit's quantity (EB10) and its qualifier (EB09) come together")
        if self.in_plan_network not in ("Y", "N", "W", ""):
            raise ValueError("in plan network (EB12) is Y, N or W")

    def segments(self, composite: Composite) -> list[Elements]:
        eb: Elements = (
            "EB", self.code, self.coverage_level, composite.repeated(*self.service_types) if self.service_types else "",
            self.insurance_type, self.plan_description, self.time_period,
            "" if self.amount is None else decimal_text(self.amount),
            "" if self.percent is None else decimal_text(self.percent), self.quantity_qualifier,
            "" if self.quantity is None else decimal_text(self.quantity),
            _AUTHORIZATION[self.authorization_required], self.in_plan_network,
        )  # fmt: skip
        dates: list[Elements] = []
        if self.coordination_begin is not None and self.coordination_end is not None:
            period = f"{self.coordination_begin:%Y%m%d}-{self.coordination_end:%Y%m%d}"
            dates.append(("DTP", "290", "RD8", period))
        elif self.coordination_begin is not None:
            dates.append(("DTP", "290", "D8", self.coordination_begin.strftime("%Y%m%d")))
        related: list[Elements] = []
        if self.other_payer is not None:
            name, payer_id = self.other_payer
            related = [("LS", "2120"), ("NM1", "PRP", "2", name, "", "", "", "", "PI", payer_id), ("LE", "2120")]
        return [eb, *dates, *(("MSG", message) for message in self.messages), *related]


@dataclass(frozen=True, slots=True)
class CoverageAnswer:
    """The answer to one 270 inquiry, about the subscriber or, when `dependent` is given, the dependant.
    `trace` and `trace_originator` are the inquiry's TRN02 and TRN03, echoed. The plan's dates are written
    as DTP*346 (begin) and DTP*347 (end), or with `plan_dates="291"` as one DTP*291 (a range RD8 when both
    are known). `relationship` is the dependant's INS02 (01 spouse, 19 child...)."""

    subscriber: Member
    dependent: Member | None = None
    trace: str = ""
    trace_originator: str = ""
    group_number: str = ""
    plan_begin: date | None = None
    plan_end: date | None = None
    plan_dates: Literal["346", "291"] = "346"
    relationship: str = ""
    errors: tuple[RequestRejection, ...] = ()
    benefits: tuple[BenefitInfo, ...] = ()

    def __post_init__(self) -> None:
        if self.trace and not self.trace_originator:
            raise ValueError("an echoed trace number needs its originator (TRN03)")
        if self.plan_dates not in ("346", "291"):
            raise ValueError('the plan dates are written as "346" (and 347) or as "291"')
        if self.plan_dates == "291" and self.plan_end is not None and self.plan_begin is None:
            raise ValueError("a DTP*291 plan period needs its begin date")
        if self.relationship and self.dependent is None:
            raise ValueError("the relationship (INS02) is the dependant's")
        if not self.errors and not self.benefits:
            raise ValueError("an answer has benefits (EB) or says why not (AAA)")


@dataclass(frozen=True, slots=True)
class EligibilityReply:
    """One 271 transaction: the payer (2100A), the provider who asked (2100B, by NPI), and the answers.
    `reference` is BHT03, the 270's BHT03 echoed. With `source_errors` or `receiver_errors` there are no
    answers: the payer could not answer for anyone."""

    reference: str
    payer: Payer
    provider: Provider
    answers: tuple[CoverageAnswer, ...] = ()
    source_errors: tuple[RequestRejection, ...] = ()
    receiver_errors: tuple[RequestRejection, ...] = ()

    def __post_init__(self) -> None:
        if (self.source_errors or self.receiver_errors) and self.answers:
            raise ValueError("a 271 that could not answer for the payer or the provider answers no member")
        if not (self.answers or self.source_errors or self.receiver_errors):
            raise ValueError("a 271 answers at least one inquiry, or says why it cannot")


def write_271(reply: EligibilityReply, envelope: Envelope) -> str:
    """The reply as one X12 interchange holding one 271 transaction set."""
    writer = SegmentWriter(envelope, "HB", "271", IMPLEMENTATION)
    reply = writer.prepare(reply)
    writer.add(partial(_header, reply, writer.date, writer.time), "the header")
    add_member_levels(writer, reply.answers, after_level=2, build=_answer, what="answer")
    return writer.text()


def _header(reply: EligibilityReply, created_date: str, created_time: str, composite: Composite) -> list[Elements]:
    answered_source = not reply.source_errors
    segments: list[Elements] = [
        ("BHT", "0022", "11", reply.reference, created_date, created_time),
        ("HL", "1", "", "20", "1" if answered_source else "0"),
        reply.payer.nm1(),
        *(error.segment() for error in reply.source_errors),
    ]
    if answered_source:
        segments += [
            ("HL", "2", "1", "21", "0" if reply.receiver_errors else "1"),
            reply.provider.nm1("1P"),
            *(error.segment() for error in reply.receiver_errors),
        ]
    return segments


def _answer(answer: CoverageAnswer, hl: int, composite: Composite) -> list[Elements]:
    subscriber, dependent = answer.subscriber, answer.dependent
    if dependent is None:
        return [
            ("HL", str(hl), "2", "22", "0"),
            *_trace(answer),
            *_patient(answer, subscriber, subscriber.nm1("IL"), composite),
        ]
    return [
        ("HL", str(hl), "2", "22", "1"),
        subscriber.nm1("IL"),
        *_place(subscriber),
        *subscriber.demographics(unknown_gender=False),
        ("HL", str(hl + 1), str(hl), "23", "0"),
        *_trace(answer),
        *_patient(answer, dependent, dependent.nm1("03", with_id=False), composite),
    ]


def _trace(answer: CoverageAnswer) -> list[Elements]:
    return [("TRN", "2", answer.trace, answer.trace_originator)] if answer.trace else []


def _place(member: Member) -> tuple[Elements, ...]:
    return member.address.segments() if member.address is not None else ()


def _patient(answer: CoverageAnswer, patient: Member, name: Elements, composite: Composite) -> list[Elements]:
    """2100C or 2100D in the guide's order (NM1, REF, N3, N4, AAA, DMG, INS, DTP), then the 2110 loops."""
    segments: list[Elements] = [name]
    if answer.group_number:
        segments.append(("REF", "6P", answer.group_number))
    segments += _place(patient)
    segments += [error.segment() for error in answer.errors]
    segments += patient.demographics(unknown_gender=False)
    if answer.relationship:
        segments.append(("INS", "N", answer.relationship))
    segments += _plan_dates(answer)
    for benefit in answer.benefits:
        segments += benefit.segments(composite)
    return segments


def _plan_dates(answer: CoverageAnswer) -> list[Elements]:
    begin, end = answer.plan_begin, answer.plan_end
    if answer.plan_dates == "291":
        return [] if begin is None else [("DTP", "291", *period(begin, end))]
    dates = ((qualifier, day) for qualifier, day in (("346", begin), ("347", end)) if day is not None)
    return [("DTP", qualifier, "D8", date_text(day)) for qualifier, day in dates]
