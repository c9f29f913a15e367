"""The 270 eligibility inquiry and the 276 claim status request, read into the writers' own dataclasses
(`EligibilityRequest`, `StatusRequest`), so that a payer (or the clearinghouse simulator) answers what a
provider asked, and what `write_270` and `write_276` wrote reads back equal.

The hierarchy is followed through the HL levels: information source (20, the payer), receiver (21),
provider (19, 276 only), subscriber (22) and dependant (23). An inquiry without EQ asks about service type
30 (health benefit plan coverage), as payers read it. What the writers' types cannot hold without it (a
276 inquiry without its trace, charge or date of service, a 270 trace without its originator) is refused
with an X12Error naming the segment, never a value.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rcm_x12.elements import Level, element, header_of, levels, money, period_of
from rcm_x12.eligibility_request_writer import EligibilityInquiry, EligibilityRequest
from rcm_x12.errors import X12Error
from rcm_x12.party_reader import member_of, payer_of, provider_of, trading_partner_of
from rcm_x12.reader import Interchange, Segment, Transaction, read, transaction_sets
from rcm_x12.status_request_writer import StatusInquiry, StatusRequest
from rcm_x12.writer import Member, Payer, Provider, TradingPartner

__all__ = [
    "eligibility_request_of",
    "read_eligibility_requests",
    "read_status_requests",
    "status_request_of",
]


def read_eligibility_requests(data: bytes | str) -> list[EligibilityRequest]:
    """Every 270 transaction set in the data, in order."""
    return [eligibility_request_of(t, i) for t, i in transaction_sets(read(data), "270")]


def read_status_requests(data: bytes | str) -> list[StatusRequest]:
    """Every 276 transaction set in the data, in order."""
    return [status_request_of(t, i) for t, i in transaction_sets(read(data), "276")]


def eligibility_request_of(transaction: Transaction, interchange: Interchange) -> EligibilityRequest:
    """One 270 as the writer's `EligibilityRequest`: the first TRN03 is the request's trace originator."""
    findings: list[str] = []
    header = header_of(transaction, findings)
    tree = _Tree(transaction, "270", findings)
    inquiries: list[EligibilityInquiry] = []
    originator = ""
    for subscriber, patient, level in tree.members():
        segments = level.segments
        trace = _first(segments, "TRN")
        originator = originator or (element(trace, 3) if trace is not None else "")
        dtp = next((s for p, s in segments if s[0] == "DTP" and element(s, 1) == "291"), None)
        service_date = None
        if dtp is not None and (period := period_of(dtp, level.position, findings)) is not None:
            service_date = period.start
        service_types = tuple(element(s, 1) for _p, s in segments if s[0] == "EQ" and element(s, 1))
        inquiries.append(
            EligibilityInquiry(
                subscriber=subscriber,
                service_date=service_date,
                service_types=service_types or ("30",),
                dependent=patient,
                trace=element(trace, 2) if trace is not None else "",
            )
        )
    try:
        return EligibilityRequest(header.reference, tree.payer(), tree.provider(), tuple(inquiries), originator)
    except ValueError as exc:
        raise X12Error(
            f"the 270 cannot be read as an inquiry: {exc}", segment="ST", position=transaction.position
        ) from exc


def status_request_of(transaction: Transaction, interchange: Interchange) -> StatusRequest:
    """One 276 as the writer's `StatusRequest`."""
    findings: list[str] = []
    header = header_of(transaction, findings)
    tree = _Tree(transaction, "276", findings)
    inquiries: list[StatusInquiry] = []
    for subscriber, patient, level in tree.members():
        segments = level.segments
        trace, charge, dates = _first(segments, "TRN"), _first(segments, "AMT"), _first(segments, "DTP")
        if trace is None or charge is None or dates is None:
            raise X12Error(
                "a 276 claim inquiry needs its trace (TRN), charge (AMT*T3) and dates of service (DTP*472)",
                segment="HL",
                position=level.position,
            )
        period = period_of(dates, level.position, findings)
        if period is None:
            raise X12Error("DTP*472 is not a date of service", segment="DTP", position=level.position)
        references = {element(s, 1): element(s, 2) for _p, s in segments if s[0] == "REF"}
        inquiries.append(
            StatusInquiry(
                subscriber=subscriber,
                trace=element(trace, 2),
                claim_charge=_charge(charge, level.position),
                service_date=period.start,
                service_end=_end(period.start, period.end),
                payer_claim_number=references.get("1K", ""),
                patient_control_number=references.get("EJ", ""),
                dependent=patient,
            )
        )
    receiver = tree.receiver()
    try:
        return StatusRequest(header.reference, tree.payer(), receiver, tree.provider(), tuple(inquiries))
    except ValueError as exc:
        raise X12Error(
            f"the 276 cannot be read as a request: {exc}", segment="ST", position=transaction.position
        ) from exc


def _charge(amt: Segment, position: int) -> Decimal:
    return money(amt + [""] * (3 - len(amt)), 2, position)


def _end(start: date, end: date | None) -> date | None:
    return end if end != start else None


def _first(segments: list[tuple[int, Segment]], segment_id: str) -> Segment | None:
    return next((segment for _position, segment in segments if segment[0] == segment_id), None)


def _nm1(level: Level, what: str) -> Segment:
    """The level's NM1: the party it is about."""
    for _position, segment in level.segments:
        if segment[0] == "NM1":
            return segment
    raise X12Error(f"the {what} level has no NM1 segment", segment="HL", position=level.position)


class _Tree:
    """The HL levels of one 270 or 276 by code, and the members asked about, each with the level that
    holds the question (the dependant's when there is one)."""

    def __init__(self, transaction: Transaction, kind: str, findings: list[str]) -> None:
        self.kind = kind
        self.position = transaction.position
        self.findings = findings
        self.levels = levels(transaction)
        self.by_id = {level.id: level for level in self.levels}

    def _level(self, code: str, what: str) -> Level:
        found = next((level for level in self.levels if level.code == code), None)
        if found is None:
            raise X12Error(f"the {self.kind} has no {what} level (HL03 {code})", segment="ST", position=self.position)
        return found

    def payer(self) -> Payer:
        return payer_of(_nm1(self._level("20", "information source"), "information source"))

    def receiver(self) -> TradingPartner:
        return trading_partner_of(_nm1(self._level("21", "information receiver"), "information receiver"))

    def provider(self) -> Provider:
        """The provider asking: the 270's information receiver (21), the 276's service provider (19)."""
        code = "21" if self.kind == "270" else "19"
        return provider_of(_nm1(self._level(code, "provider"), "provider"))

    def members(self) -> list[tuple[Member, Member | None, Level]]:
        """Per inquiry: the subscriber, the dependant (or None) and the level holding the question. A
        subscriber with dependant levels under it asks nothing itself."""
        asked: list[tuple[Member, Member | None, Level]] = []
        subscribers: dict[str, Member] = {}
        with_dependants = {level.parent for level in self.levels if level.code == "23"}
        for level in self.levels:
            if level.code == "22":
                nm1 = _nm1(level, "subscriber")
                subscriber = subscribers[level.id] = member_of(nm1, _own(level), self.findings)
                if level.id not in with_dependants:
                    asked.append((subscriber, None, level))
            elif level.code == "23":
                holder = subscribers.get(level.parent)
                if holder is None:
                    raise X12Error("HL02 does not name the subscriber", segment="HL", position=level.position)
                nm1 = _nm1(level, "dependant")
                asked.append((holder, member_of(nm1, _own(level), self.findings), level))
        return asked


def _own(level: Level) -> list[tuple[int, Segment]]:
    """A member's N3, N4 and DMG: the 276 puts the DMG before the NM1, the 270 after it."""
    return [item for item in level.segments if item[1][0] in ("N3", "N4", "DMG")]
