"""The X12 side of a check: the 270 asked for it, and the 271 read back into the domain's benefits.

The 271 names benefits per service type, coverage level and network; what the platform keeps is the
in-network, individual level a front desk quotes to the patient: out-of-network (EB12 N) and family-level
amounts are left aside, as is anything the domain does not use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final

from rcm_eligibility.domain.benefits import (
    ANNIVERSARY_YEAR,
    CALENDAR_YEAR,
    GENERAL_SERVICE_TYPE,
    INDIVIDUAL,
    Benefits,
    OtherPayer,
    PayerAnswer,
    PayerError,
    PlanAccumulator,
    ServiceCoinsurance,
    ServiceCopay,
    applying,
)
from rcm_eligibility.domain.model import CoverageCopy, EligibilityCheck, PatientCopy, Person
from rcm_x12.codes.eligibility import ACTIVE_CODES
from rcm_x12.eligibility_request_writer import EligibilityInquiry, EligibilityRequest, write_270
from rcm_x12.eligibility_response_reader import Benefit, EligibilityResponse, Member, RequestError, read_eligibility
from rcm_x12.errors import X12Error
from rcm_x12.writer import Envelope, Payer, Provider
from rcm_x12.writer import Member as X12Member

_ACCUMULATOR_KINDS: Final = {"C": "deductible", "G": "out_of_pocket"}
_ANNIVERSARY_PERIODS: Final = frozenset({"22", "25"})  # EB06 service year, contract
_OTHER_PAYER: Final = "R"
_PAYER_ENTITIES: Final = frozenset({"PRP", "SEP", "TTP", "PR"})
_PLAN_YEAR_PERIODS: Final = frozenset({"", "22", "23", "25"})
_REMAINING: Final = "29"
_YEAR_TO_DATE: Final = "24"


@dataclass(frozen=True, slots=True)
class Asker:
    """Who sends the 270: the interchange ids and the provider (2100B) asking."""

    sender_id: str
    receiver_id: str
    provider_name: str
    provider_npi: str
    trace_originator: str  # TRN03: "1" and the practice's EIN, or "9" and an assigned id
    usage: str = "P"


def build_270(
    check: EligibilityCheck,
    patient: PatientCopy,
    coverage: CoverageCopy,
    asker: Asker,
    *,
    control_number: int,
    now: datetime,
) -> str:
    """One 270 asking about one patient: as the subscriber, or as a dependant of the subscriber."""
    patient_member = _member(patient.person)
    if coverage.subscriber is None:
        subscriber = _member(patient.person, coverage.member_id)
        dependent = None
    else:
        subscriber = _member(coverage.subscriber, coverage.member_id)
        dependent = patient_member
    request = EligibilityRequest(
        reference=check.trace_number[:30],
        payer=Payer(name=coverage.payer_name, payer_id=coverage.payer_id),
        provider=Provider(name=asker.provider_name, npi=asker.provider_npi),
        inquiries=(
            EligibilityInquiry(
                subscriber=subscriber,
                dependent=dependent,
                service_date=check.date_of_service,
                service_types=(check.service_type,),
                trace=check.trace_number,
            ),
        ),
        trace_originator=asker.trace_originator,
    )
    envelope = Envelope(
        sender_id=asker.sender_id,
        receiver_id=asker.receiver_id,
        interchange_control_number=control_number,
        group_control_number=control_number,
        transaction_control_number=1,
        created=now,
        usage="T" if asker.usage == "T" else "P",
    )
    return write_270(request, envelope)


def _member(person: Person, member_id: str = "") -> X12Member:
    return X12Member(
        last_name=person.last_name,
        first_name=person.first_name,
        member_id=member_id,
        birth_date=person.birth_date,
        gender=person.sex,
    )


def read_271(data: bytes | str, trace: str, *, member_id: str, for_dependant: bool) -> PayerAnswer:
    """The answer to the inquiry traced `trace`, about the member with `member_id` (or that member's
    dependant): its benefits and every AAA on the way to it. Raises X12Error when the data is not a
    readable 271 or states impossible benefits."""
    responses = read_eligibility(data)
    errors = [error for response in responses for error in response.errors]
    member = _answered_member(responses, trace, member_id, for_dependant)
    if member is not None:
        errors += member.errors
    return PayerAnswer(
        benefits=benefits_of(member) if member is not None and member.benefits else None,
        errors=tuple(_payer_error(error) for error in errors),
    )


def _answered_member(
    responses: list[EligibilityResponse], trace: str, member_id: str, for_dependant: bool
) -> Member | None:
    """The member whose TRN echoes the trace. For payers that drop the TRN, the subscriber with the member
    id asked about (or their dependant, for a dependant's inquiry); an answer about anyone else is none."""
    for member in _members(responses):
        if any(number == trace for number, _ in member.trace_numbers):
            return member
    wanted = _folded(member_id)
    for response in responses:
        for subscriber in response.subscribers:
            if _folded(subscriber.member_id) != wanted:
                continue
            if not for_dependant:
                return subscriber
            return subscriber.dependants[0] if len(subscriber.dependants) == 1 else None
    return None


def _folded(member_id: str) -> str:
    return "".join(member_id.split()).replace("-", "").upper()


def _members(responses: Iterable[EligibilityResponse]) -> Iterator[Member]:
    for response in responses:
        for subscriber in response.subscribers:
            yield subscriber
            yield from subscriber.dependants


def _payer_error(error: RequestError) -> PayerError:
    return PayerError(
        level=error.level,
        code=error.code,
        meaning=error.meaning,
        follow_up=error.follow_up,
        follow_up_meaning=error.follow_up_meaning,
    )


def benefits_of(member: Member) -> Benefits:
    """The in-network, individual benefits a 271 states for one member. Raises X12Error for an amount or a
    share no plan can have (a negative EB07, an EB08 outside 0 to 1), rather than guess what was meant."""
    for benefit in member.benefits:
        _check_values(benefit)
    in_network = [b for b in member.benefits if b.in_plan_network != "N"]
    active = next((b for b in in_network if b.code in ACTIVE_CODES), None)
    copays: dict[str, Decimal] = {}
    coinsurance: dict[str, Decimal] = {}
    prior_authorization: dict[str, None] = {}
    accumulators = _plan_accumulators(member)
    for benefit in in_network:
        kinds = benefit.service_types or (GENERAL_SERVICE_TYPE,)
        if benefit.code == "B" and benefit.amount is not None:
            for kind in kinds:
                copays.setdefault(kind, benefit.amount)
        elif benefit.code == "A" and benefit.percent is not None:
            for kind in kinds:
                coinsurance.setdefault(kind, benefit.percent)
        if benefit.authorization_required:
            prior_authorization.update(dict.fromkeys(kinds))
    return Benefits(
        active=member.active is True,
        plan_begin=member.plan_begin,
        plan_end=member.plan_end,
        plan_description=(active.plan_description or None) if active else None,
        insurance_type=(active.insurance_type or None) if active else None,
        group_number=member.group_number,
        copays=tuple(ServiceCopay(kind, amount) for kind, amount in copays.items()),
        coinsurance=tuple(ServiceCoinsurance(kind, percent) for kind, percent in coinsurance.items()),
        deductible=applying(accumulators, "deductible", GENERAL_SERVICE_TYPE),
        out_of_pocket=applying(accumulators, "out_of_pocket", GENERAL_SERVICE_TYPE),
        prior_authorization_service_types=tuple(prior_authorization),
        accumulators=accumulators,
        other_payers=tuple(_other_payer(benefit) for benefit in member.benefits if benefit.code == _OTHER_PAYER),
    )


def _other_payer(benefit: Benefit) -> OtherPayer:
    """EB01 R: another or additional payer, named by its loop 2120 NM1 (PRP primary, SEP secondary, TTP
    tertiary, PR payer), with its coordination of benefits date (DTP*290)."""
    party = next((p for p in benefit.related_entities if p.entity in _PAYER_ENTITIES), None)
    coordination = benefit.dates.get("290")
    return OtherPayer(
        name=(party.name or None) if party else None,
        payer_id=(party.identifier or None) if party and party.id_qualifier in ("PI", "XV") else None,
        insurance_type=benefit.insurance_type or None,
        service_types=benefit.service_types,
        coordination_begin=coordination.start if coordination else None,
        coordination_end=coordination.end if coordination else None,
    )


def _check_values(benefit: Benefit) -> None:
    if benefit.amount is not None and benefit.amount < 0:
        raise X12Error("EB07 (benefit amount) is negative", segment="EB")
    if benefit.percent is not None and not 0 <= benefit.percent <= 1:
        raise X12Error("EB08 (benefit percent) is not a fraction from 0 to 1", segment="EB")


def _plan_accumulators(member: Member) -> tuple[PlanAccumulator, ...]:
    """Every deductible (C) and out-of-pocket maximum (G) stated in network, by insurance type (EB04) and
    coverage level (EB02, an unsaid level taken as individual): its plan-year total and what remains,
    the general figures (service type 30 or none) first."""
    stated = [
        benefit
        for benefit in member.benefits
        if benefit.code in _ACCUMULATOR_KINDS and benefit.amount is not None and benefit.in_plan_network != "N"
    ]
    # A payer that names one insurance type on some amounts and none on others means the one plan: the
    # untyped amounts are that type's (Medicare's two parts are never merged so).
    named = {benefit.insurance_type for benefit in stated if benefit.insurance_type}
    only = next(iter(named)) if len(named) == 1 and not named & {"MA", "MB"} else None
    groups: dict[tuple[str, str | None, str], list[Benefit]] = {}
    for benefit in stated:
        level = benefit.coverage_level or INDIVIDUAL
        groups.setdefault((benefit.code, benefit.insurance_type or only, level), []).append(benefit)
    accumulators = []
    for (code, insurance_type, level), stated in groups.items():
        total, remaining = _plan_year_amounts(stated)
        anniversary = any(benefit.time_period in _ANNIVERSARY_PERIODS for benefit in stated)
        plan_year = ANNIVERSARY_YEAR if anniversary else CALENDAR_YEAR
        kind = _ACCUMULATOR_KINDS[code]
        accumulators.append(PlanAccumulator(kind, insurance_type, level, total, remaining, plan_year))
    return tuple(accumulators)


def _plan_year_amounts(stated: list[Benefit]) -> tuple[Decimal | None, Decimal | None]:
    total = remaining = met = None
    stated = sorted(stated, key=lambda b: not (not b.service_types or GENERAL_SERVICE_TYPE in b.service_types))
    for benefit in stated:
        if benefit.time_period == _REMAINING:
            remaining = remaining if remaining is not None else benefit.amount
        elif benefit.time_period == _YEAR_TO_DATE:
            met = met if met is not None else benefit.amount
        elif benefit.time_period in _PLAN_YEAR_PERIODS:
            total = total if total is not None else benefit.amount
    if remaining is None and total is not None and met is not None:
        remaining = max(total - met, Decimal("0.00"))
    return total, remaining
