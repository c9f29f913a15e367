"""The typed 277 readers: the claim status response (005010X212, the answer to a 276) and the claim
acknowledgment (005010X214, the 277CA a clearinghouse or payer returns for an 837).

Both are HL hierarchies: payer (20), information receiver (21), provider (19), then the claims under the
subscriber (22), dependant (23) or, in the 277CA, the patient (PT). Each claim (TRN*2) is returned flat with
the parties above it, because the claim service looks claims up by the patient control number it sent.
Statuses of the receiver and provider levels (a whole batch accepted, a provider not enrolled) are kept
apart in `entity_statuses`. Amounts and dates follow the 271 reader's rules (`rcm_x12.eligibility_response_reader`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from rcm_x12.codes.claim_status import ACCEPTED_CATEGORIES, CATEGORIES, REJECTED_CATEGORIES, STATUS_CODES
from rcm_x12.elements import (
    Header,
    Level,
    Party,
    Period,
    Procedure,
    Reference,
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

EntityLevel = Literal["payer", "receiver", "provider"]
_CLAIM_LEVELS = frozenset({"22", "23", "PT"})
_ENTITY_LEVELS: dict[str, EntityLevel] = {"20": "payer", "21": "receiver", "19": "provider"}


@dataclass(frozen=True, slots=True)
class StatusCode:
    """One C043 composite (STC01, STC10, STC11): category, status, the entity it concerns, and the code list
    the status comes from when it is not the X12 one (RX: NCPDP reject codes)."""

    category: str
    status: str
    entity: str
    code_list: str

    @property
    def category_meaning(self) -> str | None:
        return CATEGORIES.get(self.category)

    @property
    def status_meaning(self) -> str | None:
        return None if self.code_list else STATUS_CODES.get(self.status)


@dataclass(frozen=True, slots=True)
class Status:
    """An STC segment."""

    codes: tuple[StatusCode, ...]  # STC01, then STC10 and STC11 when sent
    effective_date: date | None  # STC02, when the status took effect
    action: str  # STC03: in a 277CA, WQ accepted and U rejected
    charge: Decimal | None  # STC04, the total claim (or line) charge
    paid: Decimal | None  # STC05
    adjudication_date: date | None  # STC06
    payment_method: str  # STC07: ACH, BOP, CHK, FWT, NON
    payment_date: date | None  # STC08, check issue or EFT date
    check_number: str  # STC09
    message: str  # STC12, free text


@dataclass(slots=True)
class LineStatus:
    """Loop 2220: an SVC and its statuses."""

    procedure: Procedure | None  # SVC01
    charge: Decimal | None  # SVC02
    paid: Decimal | None  # SVC03
    revenue_code: str  # SVC04
    units: Decimal | None  # SVC07
    statuses: list[Status] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)  # REF*FJ, the line item control number
    service_period: Period | None = None  # DTP*472


@dataclass(slots=True)
class ClaimStatus:
    """Loop 2200D/E: one claim, the parties above it, its statuses and lines."""

    patient_control_number: str  # TRN02: the claim id the submitter sent in CLM01
    payer: Party | None
    receiver: Party | None
    provider: Party | None
    subscriber: Party | None  # the 22 level's NM1*IL; None in a 277CA
    patient: Party | None  # the NM1 of the claim's own level (IL, QC)
    statuses: list[Status] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    service_period: Period | None = None  # DTP*472, or DTP*232/233 statement dates
    lines: list[LineStatus] = field(default_factory=list)

    @property
    def payer_claim_number(self) -> str | None:
        return reference(self.references, "1K")

    @property
    def clearinghouse_trace(self) -> str | None:
        return reference(self.references, "D9")

    @property
    def member_id(self) -> str | None:
        holder = self.subscriber or self.patient
        return holder.identifier if holder else None

    @property
    def accepted(self) -> bool | None:
        """The acknowledgment's verdict: False when any status of the claim or of its lines is a rejection
        (category A3, A6, A7, A8, or action U), True when one is an acceptance (A1, A2, or action WQ), None
        when neither is said (a pending or final status)."""
        statuses = [*self.statuses, *(status for line in self.lines for status in line.statuses)]
        categories = {code.category for status in statuses for code in status.codes}
        actions = {status.action for status in statuses}
        if categories & REJECTED_CATEGORIES or "U" in actions:
            return False
        if categories & ACCEPTED_CATEGORIES or "WQ" in actions:
            return True
        return None


@dataclass(slots=True)
class EntityStatus:
    """The payer, receiver or provider level and the statuses it carries for everything under it."""

    level: EntityLevel
    party: Party | None
    trace_number: str  # TRN02
    statuses: list[Status] = field(default_factory=list)


@dataclass(slots=True)
class ClaimStatusResponse:
    """One 277 transaction set; kind is 277CA for an 005010X214 claim acknowledgment."""

    kind: Literal["277", "277CA"]
    control_number: str
    implementation: str
    position: int
    header: Header
    claims: list[ClaimStatus] = field(default_factory=list)
    entity_statuses: list[EntityStatus] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def read_claim_statuses(data: bytes | str) -> list[ClaimStatusResponse]:
    """Every 277 transaction set in the data (277 and 277CA), in order."""
    return [
        claim_status_of(transaction, interchange) for transaction, interchange in transaction_sets(read(data), "277")
    ]


def claim_status_of(transaction: Transaction, interchange: Interchange) -> ClaimStatusResponse:
    """One 277 transaction set as typed objects; raises X12Error on a malformed amount or HL level."""
    if transaction.set_id != "277":
        raise X12Error("the transaction set is not a 277", segment="ST", position=transaction.position)
    findings: list[str] = []
    response = ClaimStatusResponse(
        kind="277CA" if "X214" in _implementation(transaction, interchange) else "277",
        control_number=transaction.control_number,
        implementation=transaction.implementation,
        position=transaction.position,
        header=header_of(transaction, findings),
        findings=findings,
    )
    component = interchange.delimiters.component
    parties: dict[str, tuple[Level, Party | None]] = {}
    for level in levels(transaction):
        nm1 = next((segment for _position, segment in level.segments if segment[0] == "NM1"), None)
        party = party_of(nm1) if nm1 else None
        parties[level.id] = (level, party)
        if level.code in _CLAIM_LEVELS:
            above = _ancestors(level, parties)
            response.claims.extend(_claims(level, above, component, findings))
        elif level.code in _ENTITY_LEVELS:
            response.entity_statuses.append(_entity_status(level, party, component, findings))
        else:
            raise X12Error("HL03 is not a 277 level (20, 21, 19, 22, 23 or PT)", segment="HL", position=level.position)
    return response


def _implementation(transaction: Transaction, interchange: Interchange) -> str:
    """ST03, or the GS08 of the group holding the transaction when a sender left ST03 out."""
    if transaction.implementation:
        return transaction.implementation
    return next((g.version for g in interchange.groups if any(t is transaction for t in g.transactions)), "")


def _ancestors(level: Level, parties: dict[str, tuple[Level, Party | None]]) -> dict[str, Party | None]:
    """The parties of the levels above, by level code, following HL02 as far as it leads."""
    found: dict[str, Party | None] = {level.code: parties[level.id][1]}
    parent = parties.get(level.parent)
    while parent is not None and parent[0].code not in found:
        found[parent[0].code] = parent[1]
        parent = parties.get(parent[0].parent)
    return found


def _claims(level: Level, above: dict[str, Party | None], component: str, findings: list[str]) -> list[ClaimStatus]:
    """Each TRN opens a claim (2200), each SVC in it a line (2220); the segments before the first TRN name
    the patient (2100)."""
    claims: list[ClaimStatus] = []
    claim: ClaimStatus | None = None
    line: LineStatus | None = None
    for position, segment in level.segments:
        segment_id = segment[0]
        if segment_id == "TRN":
            claim = ClaimStatus(
                patient_control_number=element(segment, 2),
                payer=above.get("20"),
                receiver=above.get("21"),
                provider=above.get("19"),
                subscriber=above.get("22"),
                patient=above[level.code],
            )
            claims.append(claim)
            line = None
        elif claim is None:
            continue
        elif segment_id == "SVC":
            line = _line(segment, position, component)
            claim.lines.append(line)
        elif segment_id == "STC":
            (line or claim).statuses.append(_status(segment, position, component, findings))
        elif segment_id == "REF":
            (line or claim).references.append(reference_of(segment))
        elif segment_id == "DTP":
            _service_dates(line or claim, segment, position, findings)
    return claims


def _service_dates(target: ClaimStatus | LineStatus, dtp: Segment, position: int, findings: list[str]) -> None:
    """DTP*472 is the service date or range; DTP*232 a statement period, whose end a DTP*233 may give."""
    qualifier = element(dtp, 1)
    if qualifier not in ("472", "232", "233") or (period := period_of(dtp, position, findings)) is None:
        return
    if qualifier != "233":
        target.service_period = period
    elif target.service_period:
        target.service_period = Period(target.service_period.start, period.start)


def _entity_status(level: Level, party: Party | None, component: str, findings: list[str]) -> EntityStatus:
    entity = EntityStatus(level=_ENTITY_LEVELS[level.code], party=party, trace_number="")
    for position, segment in level.segments:
        if segment[0] == "TRN":
            entity.trace_number = element(segment, 2)
        elif segment[0] == "STC":
            entity.statuses.append(_status(segment, position, component, findings))
    return entity


def _status(stc: Segment, position: int, component: str, findings: list[str]) -> Status:
    composites = (element(stc, index) for index in (1, 10, 11))
    return Status(
        codes=tuple(_status_code(composite, component) for composite in composites if composite),
        effective_date=date_of(stc, 2, position, findings),
        action=element(stc, 3),
        charge=amount(stc, 4, position),
        paid=amount(stc, 5, position),
        adjudication_date=date_of(stc, 6, position, findings),
        payment_method=element(stc, 7),
        payment_date=date_of(stc, 8, position, findings),
        check_number=element(stc, 9),
        message=element(stc, 12),
    )


def _status_code(composite: str, component: str) -> StatusCode:
    parts = [part.strip() for part in composite.split(component)]
    parts += [""] * (4 - len(parts))
    return StatusCode(category=parts[0], status=parts[1], entity=parts[2], code_list=parts[3])


def _line(svc: Segment, position: int, component: str) -> LineStatus:
    return LineStatus(
        procedure=procedure_of(element(svc, 1), component),
        charge=amount(svc, 2, position),
        paid=amount(svc, 3, position),
        revenue_code=element(svc, 4),
        units=number(svc, 7, position),
    )


def summary(transaction: Transaction, interchange: Interchange) -> dict[str, Any]:
    """The 277 or 277CA as JSON-able data for the CLI: amounts as decimal strings, dates ISO, no names."""
    response = claim_status_of(transaction, interchange)
    return {
        "kind": response.kind,
        "reference": response.header.reference,
        "entity_statuses": [
            {"level": entity.level, "statuses": [_status_json(status) for status in entity.statuses]}
            for entity in response.entity_statuses
            if entity.statuses
        ],
        "claims": [
            {
                "patient_control_number": claim.patient_control_number,
                "payer_claim_number": claim.payer_claim_number,
                "clearinghouse_trace": claim.clearinghouse_trace,
                "accepted": claim.accepted,
                "service_from": iso(claim.service_period.start) if claim.service_period else None,
                "service_to": iso(claim.service_period.end) if claim.service_period else None,
                "statuses": [_status_json(status) for status in claim.statuses],
                "lines": [
                    {
                        "procedure": line.procedure.code if line.procedure else None,
                        "charge": decimal_text(line.charge),
                        "paid": decimal_text(line.paid),
                        "statuses": [_status_json(status) for status in line.statuses],
                    }
                    for line in claim.lines
                ],
            }
            for claim in response.claims
        ],
        "findings": response.findings,
    }


def _status_json(status: Status) -> dict[str, Any]:
    return {
        "codes": [
            {
                "category": code.category,
                "category_meaning": code.category_meaning,
                "status": code.status,
                "status_meaning": code.status_meaning,
                "entity": code.entity,
            }
            for code in status.codes
        ],
        "date": iso(status.effective_date),
        "action": status.action,
        "charge": decimal_text(status.charge),
        "paid": decimal_text(status.paid),
        "message": status.message,
    }
