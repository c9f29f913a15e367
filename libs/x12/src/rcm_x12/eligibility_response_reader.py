"""The typed 271 (005010X279A1) reader: who answered (information source), for whom (receiver), and per
subscriber and dependant the coverage: demographics, plan dates, request errors (AAA) and benefits (EB).

The hierarchy is rebuilt from the HL segments' parent ids, since a 271 may answer for several payers,
providers and members at once. Money is a Decimal with two places and a malformed amount or percent
raises X12Error naming the element and its segment's position, never the value; an impossible date is
read as None and noted in `findings`, because a typo in a date must not hide a payer's answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import takewhile
from typing import Any, Literal, TypeVar

from rcm_x12.codes.eligibility import (
    ACTIVE_CODES,
    BENEFIT_CODES,
    COVERAGE_LEVELS,
    FOLLOW_UPS,
    INACTIVE_CODES,
    REJECT_REASONS,
    TIME_PERIODS,
)
from rcm_x12.elements import (
    Address,
    Header,
    Level,
    Party,
    Period,
    Procedure,
    Reference,
    address_of,
    amount,
    date_of,
    decimal_text,
    element,
    header_of,
    iso,
    levels,
    number,
    party_of,
    period_of,
    procedure_of,
    reference,
    reference_of,
)
from rcm_x12.errors import X12Error
from rcm_x12.reader import Interchange, Segment, Transaction, read, transaction_sets

MemberLevel = Literal["subscriber", "dependant"]
ErrorLevel = Literal["source", "receiver", "subscriber", "dependant"]


@dataclass(frozen=True, slots=True)
class RequestError:
    """An AAA segment: the payer could not answer (part of) the request, and says why and what to do."""

    level: ErrorLevel
    valid_request: bool  # AAA01: N when the request itself was invalid
    code: str  # AAA03, the reject reason
    follow_up: str  # AAA04

    @property
    def meaning(self) -> str | None:
        return REJECT_REASONS.get(self.code)

    @property
    def follow_up_meaning(self) -> str | None:
        return FOLLOW_UPS.get(self.follow_up)


@dataclass(slots=True)
class Benefit:
    """Loop 2110C/D: one EB segment and the REF, DTP, AAA, MSG, III and 2120 NM1 segments that qualify it."""

    code: str  # EB01
    coverage_level: str  # EB02
    service_types: tuple[str, ...]  # EB03, repeated
    insurance_type: str  # EB04
    plan_description: str  # EB05
    time_period: str  # EB06
    amount: Decimal | None  # EB07
    percent: Decimal | None  # EB08, a fraction as sent: 0.2 is 20%
    quantity_qualifier: str  # EB09
    quantity: Decimal | None  # EB10
    authorization_required: bool | None  # EB11: Y, N; None for U (unknown) or absent
    in_plan_network: str  # EB12: Y in network, N out of network, W either (not applicable), "" not said
    procedure: Procedure | None  # EB13
    references: list[Reference] = field(default_factory=list)
    dates: dict[str, Period] = field(default_factory=dict)  # by DTP01 qualifier
    errors: list[RequestError] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)  # MSG01
    additional_info: list[tuple[str, str]] = field(default_factory=list)  # III01 qualifier, III02 code
    related_entities: list[Party] = field(default_factory=list)  # 2120 NM1

    @property
    def meaning(self) -> str | None:
        return BENEFIT_CODES.get(self.code)

    @property
    def coverage_level_meaning(self) -> str | None:
        return COVERAGE_LEVELS.get(self.coverage_level)

    @property
    def time_period_meaning(self) -> str | None:
        return TIME_PERIODS.get(self.time_period)


@dataclass(slots=True)
class Member:
    """A subscriber (2000C/2100C) or dependant (2000D/2100D) and what the payer says about their coverage."""

    level: MemberLevel
    name: Party
    trace_numbers: list[tuple[str, str]] = field(default_factory=list)  # TRN02 and TRN03 (who assigned it)
    references: list[Reference] = field(default_factory=list)
    address: Address | None = None
    birth_date: date | None = field(default=None, repr=False)
    gender: str = ""  # DMG03
    relationship: str = ""  # INS02: 18 self, 01 spouse, 19 child...
    dates: dict[str, Period] = field(default_factory=dict)  # by DTP01 qualifier
    errors: list[RequestError] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)
    dependants: list[Member] = field(default_factory=list)

    @property
    def member_id(self) -> str:
        return self.name.identifier

    @property
    def group_number(self) -> str | None:
        return reference(self.references, "6P")

    @property
    def plan_number(self) -> str | None:
        return reference(self.references, "18")

    @property
    def plan_begin(self) -> date | None:
        """DTP*346, else the start of DTP*291 (the plan's dates, one day or a range)."""
        begin = self.dates.get("346") or self.dates.get("291")
        return begin.start if begin else None

    @property
    def plan_end(self) -> date | None:
        """DTP*347, else the end of a DTP*291 range."""
        if end := self.dates.get("347"):
            return end.start
        plan = self.dates.get("291")
        return plan.end if plan else None

    @property
    def active(self) -> bool | None:
        """True when an EB01 is one of the active codes (1-5), whatever else is said; False when an EB01 is
        inactive (6-8), or when the payer answered with AAA errors only; None when the response says
        nothing about this member's coverage (the subscriber of a dependant's inquiry, say)."""
        codes = {benefit.code for benefit in self.benefits}
        if codes & ACTIVE_CODES:
            return True
        if codes & INACTIVE_CODES or self.errors:
            return False
        return None


@dataclass(slots=True)
class InformationReceiver:
    """2000B/2100B: the provider who asked, and any AAA errors about them (e.g. 50, not eligible for inquiries)."""

    provider: Party | None
    errors: list[RequestError] = field(default_factory=list)
    subscribers: list[Member] = field(default_factory=list)


@dataclass(slots=True)
class InformationSource:
    """2000A/2100A: the payer that answers, and any AAA errors at its level (e.g. 42, unable to respond now)."""

    payer: Party | None
    errors: list[RequestError] = field(default_factory=list)
    receivers: list[InformationReceiver] = field(default_factory=list)


@dataclass(slots=True)
class EligibilityResponse:
    """One 271 transaction set."""

    control_number: str  # ST02
    implementation: str  # ST03
    position: int  # of the ST segment in the interchange
    header: Header
    sources: list[InformationSource] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)  # what was read leniently (impossible dates)

    @property
    def subscribers(self) -> list[Member]:
        return [member for source in self.sources for receiver in source.receivers for member in receiver.subscribers]

    @property
    def errors(self) -> list[RequestError]:
        """The AAA errors above the members: the payer or the provider could not be answered for."""
        return [
            *(error for source in self.sources for error in source.errors),
            *(error for source in self.sources for receiver in source.receivers for error in receiver.errors),
        ]


def read_eligibility(data: bytes | str) -> list[EligibilityResponse]:
    """Every 271 transaction set in the data, in order."""
    return [
        eligibility_of(transaction, interchange) for transaction, interchange in transaction_sets(read(data), "271")
    ]


def eligibility_of(transaction: Transaction, interchange: Interchange) -> EligibilityResponse:
    """One 271 transaction set as typed objects; raises X12Error when its hierarchy cannot be followed."""
    if transaction.set_id != "271":
        raise X12Error("the transaction set is not a 271", segment="ST", position=transaction.position)
    delimiters = interchange.delimiters
    # EB03 is a simple element, so a component separator in it can only be a repetition separator that
    # the ISA failed to declare (some senders put the same character in ISA11 and ISA16).
    context = _Context(delimiters.repetition or delimiters.component, delimiters.component)
    response = EligibilityResponse(
        control_number=transaction.control_number,
        implementation=transaction.implementation,
        position=transaction.position,
        header=header_of(transaction, context.findings),
        findings=context.findings,
    )
    nodes: dict[str, _Node] = {}
    for level in levels(transaction):
        node: _Node
        if level.code == "20":
            node = _source(level)
            response.sources.append(node)
        elif level.code == "21":
            node = _receiver(level)
            _parent(nodes, level, InformationSource, "information source").receivers.append(node)
        elif level.code == "22":
            node = _member(level, "subscriber", context)
            _parent(nodes, level, InformationReceiver, "information receiver").subscribers.append(node)
        elif level.code == "23":
            node = _member(level, "dependant", context)
            subscriber = _parent(nodes, level, Member, "subscriber")
            if subscriber.level != "subscriber":
                raise X12Error(
                    "a dependant level (HL03 23) sits under another dependant", segment="HL", position=level.position
                )
            subscriber.dependants.append(node)
        else:
            raise X12Error("HL03 is not a 271 level (20, 21, 22 or 23)", segment="HL", position=level.position)
        nodes[level.id] = node
    return response


@dataclass(slots=True)
class _Context:
    repetition: str
    component: str
    findings: list[str] = field(default_factory=list)


_Node = InformationSource | InformationReceiver | Member
_Parent = TypeVar("_Parent", InformationSource, InformationReceiver, Member)


def _parent(nodes: dict[str, _Node], level: Level, kind: type[_Parent], what: str) -> _Parent:
    parent = nodes.get(level.parent)
    if not isinstance(parent, kind):
        raise X12Error(f"HL02 does not name the {what} this level belongs to", segment="HL", position=level.position)
    return parent


def _error(segment: Segment, level: ErrorLevel) -> RequestError:
    return RequestError(level, element(segment, 1) == "Y", element(segment, 3), element(segment, 4))


def _source(level: Level) -> InformationSource:
    source = InformationSource(payer=None)
    for _position, segment in level.segments:
        if segment[0] == "NM1" and source.payer is None:
            source.payer = party_of(segment)
        elif segment[0] == "AAA":
            source.errors.append(_error(segment, "source"))
    return source


def _receiver(level: Level) -> InformationReceiver:
    receiver = InformationReceiver(provider=None)
    for _position, segment in level.segments:
        if segment[0] == "NM1" and receiver.provider is None:
            receiver.provider = party_of(segment)
        elif segment[0] == "AAA":
            receiver.errors.append(_error(segment, "receiver"))
    return receiver


def _member(level: Level, kind: MemberLevel, context: _Context) -> Member:
    """The 2100 segments up to the first EB describe the member; each EB opens a 2110 benefit loop."""
    before_benefits = takewhile(lambda item: item[1][0] != "EB", level.segments)
    nm1 = next((segment for _position, segment in before_benefits if segment[0] == "NM1"), None)
    if nm1 is None:
        raise X12Error(f"the {kind} level has no NM1 segment", segment="HL", position=level.position)
    member = Member(level=kind, name=party_of(nm1))
    benefit: Benefit | None = None
    for position, segment in level.segments:
        if segment[0] == "EB":
            benefit = _benefit(segment, position, context)
            member.benefits.append(benefit)
        elif benefit is not None:
            _benefit_detail(benefit, kind, segment, position, context)
        else:
            _member_detail(member, segment, position, context)
    return member


def _member_detail(member: Member, segment: Segment, position: int, context: _Context) -> None:
    segment_id = segment[0]
    if segment_id == "TRN":
        member.trace_numbers.append((element(segment, 2), element(segment, 3)))
    elif segment_id == "REF":
        member.references.append(reference_of(segment))
    elif segment_id == "N3":
        member.address = Address(lines=tuple(line for line in (element(segment, 1), element(segment, 2)) if line))
    elif segment_id == "N4":
        member.address = address_of(segment, member.address)
    elif segment_id == "DMG":
        if element(segment, 1) == "D8":
            member.birth_date = date_of(segment, 2, position, context.findings)
        member.gender = element(segment, 3)
    elif segment_id == "INS":
        member.relationship = element(segment, 2)
    elif segment_id == "DTP":
        if period := period_of(segment, position, context.findings):
            member.dates[element(segment, 1)] = period
    elif segment_id == "AAA":
        member.errors.append(_error(segment, member.level))


def _benefit(eb: Segment, position: int, context: _Context) -> Benefit:
    authorization = element(eb, 11)
    return Benefit(
        code=element(eb, 1),
        coverage_level=element(eb, 2),
        service_types=tuple(code for code in element(eb, 3).split(context.repetition) if code),
        insurance_type=element(eb, 4),
        plan_description=element(eb, 5),
        time_period=element(eb, 6),
        amount=amount(eb, 7, position),
        percent=number(eb, 8, position),
        quantity_qualifier=element(eb, 9),
        quantity=number(eb, 10, position),
        authorization_required={"Y": True, "N": False}.get(authorization),
        in_plan_network=element(eb, 12),
        procedure=procedure_of(element(eb, 13), context.component),
    )


def _benefit_detail(benefit: Benefit, kind: MemberLevel, segment: Segment, position: int, context: _Context) -> None:
    """A segment of the 2110 loop; an NM1 there can only be a 2120 benefit related entity (inside LS/LE)."""
    segment_id = segment[0]
    if segment_id == "REF":
        benefit.references.append(reference_of(segment))
    elif segment_id == "DTP":
        if period := period_of(segment, position, context.findings):
            benefit.dates[element(segment, 1)] = period
    elif segment_id == "AAA":
        benefit.errors.append(_error(segment, kind))
    elif segment_id == "MSG":
        benefit.messages.append(element(segment, 1))
    elif segment_id == "III":
        benefit.additional_info.append((element(segment, 1), element(segment, 2)))
    elif segment_id == "NM1":
        benefit.related_entities.append(party_of(segment))


def summary(transaction: Transaction, interchange: Interchange) -> dict[str, Any]:
    """The 271 as JSON-able data for the CLI: amounts and percents as decimal strings, dates ISO.
    Names, addresses and birth dates are left out: the member id is enough to find the member."""
    response = eligibility_of(transaction, interchange)
    return {
        "reference": response.header.reference,
        "payers": [
            {"name": source.payer.name, "id": source.payer.identifier} for source in response.sources if source.payer
        ],
        "errors": [_error_json(error) for error in response.errors],
        "subscribers": [
            {**_member_json(member), "dependants": [_member_json(dependant) for dependant in member.dependants]}
            for member in response.subscribers
        ],
        "findings": response.findings,
    }


def _member_json(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.member_id,
        "active": member.active,
        "group_number": member.group_number,
        "plan_begin": iso(member.plan_begin),
        "plan_end": iso(member.plan_end),
        "errors": [_error_json(error) for error in member.errors],
        "benefits": [_benefit_json(benefit) for benefit in member.benefits],
    }


def _benefit_json(benefit: Benefit) -> dict[str, Any]:
    return {
        "code": benefit.code,
        "meaning": benefit.meaning,
        "coverage_level": benefit.coverage_level,
        "service_types": list(benefit.service_types),
        "insurance_type": benefit.insurance_type,
        "plan": benefit.plan_description,
        "time_period": benefit.time_period,
        "time_period_meaning": benefit.time_period_meaning,
        "amount": decimal_text(benefit.amount),
        "percent": decimal_text(benefit.percent),
        "quantity": decimal_text(benefit.quantity),
        "authorization_required": benefit.authorization_required,
        "in_plan_network": benefit.in_plan_network,
        "messages": benefit.messages,
        "errors": [_error_json(error) for error in benefit.errors],
    }


def _error_json(error: RequestError) -> dict[str, Any]:
    return {
        "level": error.level,
        "code": error.code,
        "meaning": error.meaning,
        "follow_up": error.follow_up,
        "follow_up_meaning": error.follow_up_meaning,
        "valid_request": error.valid_request,
    }
