"""The typed 837P (005010X222A1) reader: the batches a clearinghouse receives and a practice imports, read
into the billing providers (2000A), subscribers (2000B) and patients (2000C), claims (2300) with their
other payers (2320-2330B) and service lines (2400) with the other payers' line adjudications (2430).

It reads what `professional_claim_writer.write_837p` writes back to the same values, and it reads real files
leniently: the hierarchy is followed through the HL parent ids, what the platform does not use (ambulance,
drug, repricing and attachment segments) is passed over, an element left off reads as empty (or None for
an amount, a date or a count), and what cannot be read as sent is noted in `findings` instead of refusing
the batch: a pointer that is not a number, an impossible date. A malformed amount raises X12Error naming
the element and its segment's position: money is never guessed. Parties use the writers' types, so a
claim read can be compared with the claim written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TypeVar

from rcm_x12.elements import Header, Level, amount, element, header_of, levels, money, number, period_of
from rcm_x12.errors import X12Error
from rcm_x12.party_reader import address_of, member_of, payer_of, provider_of, trading_partner_of
from rcm_x12.reader import Interchange, Segment, Transaction, read, transaction_sets
from rcm_x12.remittance_reader import Adjustment, cas_adjustments
from rcm_x12.structure import LIKELY_COMPONENT_SEPARATORS
from rcm_x12.writer import Address, Member, Payer, Provider, TradingPartner

__all__ = [
    "ClaimBatch",
    "ClaimLine",
    "ClaimProvider",
    "ClaimSubscriber",
    "OtherPayer",
    "OtherPayerLine",
    "ReceivedClaim",
    "professional_claims_of",
    "read_professional_claims",
]

_PRINCIPAL = frozenset({"ABK", "BK"})
_OTHER_DIAGNOSES = frozenset({"ABF", "BF"})
_ICD9 = frozenset({"BK", "BF"})


@dataclass(slots=True)
class OtherPayerLine:
    """2430: how another payer paid one line: SVD (its payer id, paid, procedure, units), CAS and DTP*573."""

    payer_id: str
    paid: Decimal
    procedure: str
    modifiers: tuple[str, ...]
    units: Decimal | None
    adjustments: list[Adjustment] = field(default_factory=list)
    adjudication_date: date | None = None


@dataclass(slots=True)
class ClaimLine:
    """2400: one service line. `pointers` are SV107's diagnosis positions (from 1); `units` SV104 and
    `unit_basis` SV103 (UN units, MJ minutes); `prior_authorization` a line-level REF*G1."""

    number: int  # LX01 as a count: the line's place in the claim
    qualifier: str  # SV101-1: HC (HCPCS/CPT), ER, IV, WK
    procedure: str
    modifiers: tuple[str, ...]
    charge: Decimal
    unit_basis: str
    units: Decimal | None
    place_of_service: str  # SV105, when it differs from the claim's
    pointers: tuple[int, ...]
    service_date: date | None = None  # DTP*472
    service_end: date | None = None  # the end of an RD8 range
    control_number: str = ""  # REF*6R
    prior_authorization: str = ""
    other_payers: list[OtherPayerLine] = field(default_factory=list)


@dataclass(slots=True)
class OtherPayer:
    """2320-2330B: another payer of the patient's, and on a secondary claim how it adjudicated the claim:
    what it paid (AMT*D), its claim-level adjustments (CAS) and when (2330B DTP*573)."""

    responsibility: str  # SBR01: P, S, T...
    relationship: str  # SBR02
    group_number: str
    group_name: str
    insurance_type: str  # SBR05
    filing_indicator: str  # SBR09
    adjustments: list[Adjustment] = field(default_factory=list)
    paid: Decimal | None = None
    subscriber: Member | None = None  # 2330A
    payer: Payer | None = None  # 2330B
    adjudication_date: date | None = None


@dataclass(slots=True)
class ReceivedClaim:
    """2300: one claim. `claim_id` is CLM01, the patient control number the 835 and 277 echo; `charge`
    CLM02 as sent (not recomputed from the lines); `diagnoses` the ICD-10-CM codes of HI, the principal
    (ABK) first; `prior_authorization` REF*G1 and `payer_claim_number` REF*F8 (a correction's original)."""

    claim_id: str = field(repr=False)
    charge: Decimal
    place_of_service: str  # CLM05-1
    frequency: str  # CLM05-3
    position: int  # of the CLM segment
    diagnoses: list[str] = field(default_factory=list, repr=False)  # PHI: a patient's conditions
    icd9_diagnoses: bool = False  # HI sent ICD-9-CM qualifiers (BK, BF), as files from before October 2015 do
    prior_authorization: str = field(default="", repr=False)
    payer_claim_number: str = field(default="", repr=False)
    onset_date: date | None = None  # DTP*431
    initial_treatment_date: date | None = None  # DTP*454
    referring: Provider | None = None  # 2310A
    rendering: Provider | None = None  # 2310B
    other_payers: list[OtherPayer] = field(default_factory=list)
    lines: list[ClaimLine] = field(default_factory=list)
    patient: Member | None = field(default=None, repr=False)  # 2010CA of the 2000C the claim stands in, if any
    patient_relationship: str = ""  # that level's PAT01

    @property
    def first_service_date(self) -> date | None:
        return min((line.service_date for line in self.lines if line.service_date), default=None)

    @property
    def last_service_date(self) -> date | None:
        ends = (line.service_end or line.service_date for line in self.lines)
        return max((day for day in ends if day), default=None)


@dataclass(slots=True)
class ClaimSubscriber:
    """2000B and, when the patient is not the subscriber, 2000C: the subscriber (2010BA), the payer the
    claims go to (2010BB), the policy (SBR) and the claims. `patient` is the dependant (2010CA) of the last
    2000C read and `patient_relationship` its PAT01, both empty when the subscriber is the patient; where one
    subscriber loop holds several patients' claims, each claim's own `patient` says whose it is."""

    responsibility: str  # SBR01
    relationship: str  # SBR02: 18 when the subscriber is the patient
    group_number: str
    group_name: str
    insurance_type: str
    filing_indicator: str  # SBR09
    subscriber: Member
    payer: Payer
    patient: Member | None = None
    patient_relationship: str = ""
    claims: list[ReceivedClaim] = field(default_factory=list)


@dataclass(slots=True)
class ClaimProvider:
    """2000A: the billing provider (2010AA, by NPI, with its taxonomy from PRV*BI), its tax id (REF EI or
    SY), its address and the pay-to address (2010AB)."""

    provider: Provider
    tax_id_qualifier: str = ""
    tax_id: str = field(default="", repr=False)
    address: Address | None = None
    pay_to: Address | None = None
    subscribers: list[ClaimSubscriber] = field(default_factory=list)


@dataclass(slots=True)
class ClaimBatch:
    """One 837 transaction set: the submitter (1000A) and receiver (1000B), and the claims by provider."""

    control_number: str  # ST02
    implementation: str  # ST03
    position: int  # of the ST segment
    header: Header
    submitter: TradingPartner | None = None
    receiver: TradingPartner | None = None
    providers: list[ClaimProvider] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    @property
    def subscribers(self) -> list[ClaimSubscriber]:
        return [subscriber for provider in self.providers for subscriber in provider.subscribers]

    @property
    def claims(self) -> list[ReceivedClaim]:
        return [claim for subscriber in self.subscribers for claim in subscriber.claims]


def read_professional_claims(data: bytes | str) -> list[ClaimBatch]:
    """Every 837 transaction set in the data, in order; other transaction sets are passed over."""
    return [
        professional_claims_of(transaction, interchange)
        for transaction, interchange in transaction_sets(read(data), "837")
    ]


def professional_claims_of(transaction: Transaction, interchange: Interchange) -> ClaimBatch:
    """One 837 transaction set as typed objects; raises X12Error when its hierarchy cannot be followed."""
    if transaction.set_id != "837":
        raise X12Error("the transaction set is not an 837", segment="ST", position=transaction.position)
    findings: list[str] = []
    batch = ClaimBatch(
        control_number=transaction.control_number,
        implementation=transaction.implementation,
        position=transaction.position,
        header=header_of(transaction, findings),
        findings=findings,
    )
    for segment in transaction.segments:
        if segment[0] == "HL":
            break
        if segment[0] == "NM1" and element(segment, 1) == "41":
            batch.submitter = trading_partner_of(segment)
        elif segment[0] == "NM1" and element(segment, 1) == "40":
            batch.receiver = trading_partner_of(segment)
    reading = _Reading(interchange, findings)
    providers: dict[str, ClaimProvider] = {}
    subscribers: dict[str, ClaimSubscriber] = {}
    for level in levels(transaction):
        if level.code == "20":
            provider = providers[level.id] = reading.provider(level)
            batch.providers.append(provider)
        elif level.code == "22":
            parent = _parent(providers, level, "billing provider", findings)
            subscriber = subscribers[level.id] = reading.subscriber(level)
            parent.subscribers.append(subscriber)
        elif level.code == "23":
            reading.patient(level, _parent(subscribers, level, "subscriber", findings))
        else:
            raise X12Error("HL03 is not an 837P level (20, 22 or 23)", segment="HL", position=level.position)
    return batch


_Parent = TypeVar("_Parent", ClaimProvider, ClaimSubscriber)


def _parent(known: dict[str, _Parent], level: Level, what: str, findings: list[str]) -> _Parent:
    """The level HL02 names; senders who number their levels wrongly mean the one just before, as the
    order of the levels shows, so that one is taken and the slip noted."""
    if (parent := known.get(level.parent)) is not None:
        return parent
    if not known:
        raise X12Error(f"the level stands under no {what}", segment="HL", position=level.position)
    findings.append(f"HL02 at position {level.position} names no {what}: read under the one before it")
    return list(known.values())[-1]


def _until_claims(level: Level) -> list[tuple[int, Segment]]:
    return level.segments[: _first_claim(level)]


def _first_claim(level: Level) -> int:
    return next(
        (index for index, (_p, segment) in enumerate(level.segments) if segment[0] == "CLM"), len(level.segments)
    )


def _after_nm1(segments: list[tuple[int, Segment]], entity: str) -> tuple[Segment | None, list[tuple[int, Segment]]]:
    """The NM1 of an entity and the segments of its loop: those after it, up to the next NM1."""
    for index, (_position, segment) in enumerate(segments):
        if segment[0] == "NM1" and element(segment, 1) == entity:
            rest = segments[index + 1 :]
            end = next((i for i, (_p, s) in enumerate(rest) if s[0] == "NM1"), len(rest))
            return segment, rest[:end]
    return None, []


def _first(segments: list[tuple[int, Segment]], segment_id: str) -> Segment | None:
    return next((segment for _position, segment in segments if segment[0] == segment_id), None)


class _Reading:
    """The levels and claims of one transaction set, with the component separator and the findings."""

    def __init__(self, interchange: Interchange, findings: list[str]) -> None:
        self.component = interchange.delimiters.component
        self.undeclared = set(LIKELY_COMPONENT_SEPARATORS) - interchange.delimiters.all()
        self.findings = findings

    def provider(self, level: Level) -> ClaimProvider:
        own = _until_claims(level)
        nm1, details = _after_nm1(own, "85")
        if nm1 is None:
            raise X12Error("the billing provider level has no NM1*85", segment="HL", position=level.position)
        prv = _first(own, "PRV")
        provider = ClaimProvider(provider_of(nm1, element(prv, 3) if prv is not None else ""))
        provider.address = address_of(_first(details, "N3"), _first(details, "N4"))
        for _position, segment in details:
            if segment[0] == "REF" and element(segment, 1) in ("EI", "SY"):
                provider.tax_id_qualifier, provider.tax_id = element(segment, 1), element(segment, 2)
        pay_to, pay_to_details = _after_nm1(own, "87")
        if pay_to is not None:
            provider.pay_to = address_of(_first(pay_to_details, "N3"), _first(pay_to_details, "N4"))
        if _first_claim(level) < len(level.segments):
            raise X12Error("a claim stands under the billing provider level", segment="CLM", position=level.position)
        return provider

    def subscriber(self, level: Level) -> ClaimSubscriber:
        own = _until_claims(level)
        sbr = _first(own, "SBR") or ["SBR"]
        nm1, details = _after_nm1(own, "IL")
        if nm1 is None:
            raise X12Error("the subscriber level has no NM1*IL", segment="HL", position=level.position)
        payer_nm1, payer_details = _after_nm1(own, "PR")
        if payer_nm1 is None:
            raise X12Error("the subscriber level has no payer (NM1*PR)", segment="HL", position=level.position)
        subscriber = ClaimSubscriber(
            responsibility=element(sbr, 1),
            relationship=element(sbr, 2),
            group_number=element(sbr, 3),
            group_name=element(sbr, 4),
            insurance_type=element(sbr, 5),
            filing_indicator=element(sbr, 9),
            subscriber=member_of(nm1, details, self.findings),
            payer=payer_of(payer_nm1, address_of(_first(payer_details, "N3"), _first(payer_details, "N4"))),
        )
        subscriber.claims = self.claims(level)
        return subscriber

    def patient(self, level: Level, holder: ClaimSubscriber) -> None:
        """2000C: the dependant patient, whose claims are the subscriber's claims about them."""
        own = _until_claims(level)
        nm1, details = _after_nm1(own, "QC")
        if nm1 is None:
            raise X12Error("the patient level has no NM1*QC", segment="HL", position=level.position)
        pat = _first(own, "PAT") or ["PAT"]
        holder.patient = member_of(nm1, details, self.findings)
        holder.patient_relationship = element(pat, 1)
        claims = self.claims(level)
        for claim in claims:
            claim.patient, claim.patient_relationship = holder.patient, holder.patient_relationship
        holder.claims += claims

    def claims(self, level: Level) -> list[ReceivedClaim]:
        """Every 2300 loop of the level: each CLM and the segments up to the next one."""
        claims: list[ReceivedClaim] = []
        loops: _ClaimLoops | None = None
        for position, segment in level.segments[_first_claim(level) :]:
            if segment[0] == "CLM":
                claim = self.claim(segment, position)
                claims.append(claim)
                loops = _ClaimLoops(claim, self)
            else:
                assert loops is not None  # the slice begins with a CLM
                loops.take(segment, position)
        return claims

    def claim(self, clm: Segment, position: int) -> ReceivedClaim:
        facility = [*self.composite(element(clm, 5)), "", "", ""]
        return ReceivedClaim(
            claim_id=element(clm, 1),
            charge=money(clm + [""] * (3 - len(clm)), 2, position),
            place_of_service=facility[0],
            frequency=facility[2],
            position=position,
        )

    def composite(self, value: str) -> list[str]:
        """A composite's components; split by another separator when the sender used one ISA16 does not
        declare (noted once), as `structure.validate` reads it too."""
        separator = self.component
        if separator not in value and len(used := [c for c in self.undeclared if c in value]) == 1:
            separator = used[0]
            note = "components are separated by a character ISA16 does not declare"
            if note not in self.findings:
                self.findings.append(note)
        return [part.strip() for part in value.split(separator)]


class _ClaimLoops:
    """Where a claim's segments go: the 2300 loop, a 2310 provider, a 2320/2330 other payer, a 2400 line
    or its 2430 line adjudication; one per claim, while its segments are read."""

    __slots__ = ("claim", "entity", "other_line", "other_payer", "reading", "state")

    def __init__(self, claim: ReceivedClaim, reading: _Reading) -> None:
        self.claim = claim
        self.reading = reading
        self.state = "claim"  # claim, provider, other, line, line-other, line-provider
        self.entity = ""
        self.other_payer: OtherPayer | None = None
        self.other_line: OtherPayerLine | None = None

    def take(self, segment: Segment, position: int) -> None:
        segment_id = segment[0]
        if segment_id == "LX":
            self.state = "line-start"
            return
        if segment_id == "SV1":
            self.claim.lines.append(self.line(segment, position))
            self.state = "line"
            return
        if segment_id == "SBR" and not self.state.startswith("line"):
            self.other_payer = _other_payer(segment)
            self.claim.other_payers.append(self.other_payer)
            self.state, self.entity = "other", ""
            return
        if self.state.startswith("line"):
            self.line_detail(segment, position)
        elif self.state == "other":
            self.other_detail(segment, position)
        else:
            self.claim_detail(segment, position)

    def claim_detail(self, segment: Segment, position: int) -> None:
        claim, segment_id, qualifier = self.claim, segment[0], element(segment, 1)
        findings = self.reading.findings
        if segment_id == "NM1":
            self.state, self.entity = "provider", qualifier
            if qualifier == "DN":
                claim.referring = provider_of(segment)
            elif qualifier == "82":
                claim.rendering = provider_of(segment)
        elif segment_id == "PRV" and self.entity == "82" and claim.rendering is not None:
            claim.rendering = replace(claim.rendering, taxonomy=element(segment, 3))
        elif self.state == "provider":
            return  # the 2310 provider's address and ids
        elif segment_id == "REF" and qualifier == "G1":
            claim.prior_authorization = element(segment, 2)
        elif segment_id == "REF" and qualifier == "F8":
            claim.payer_claim_number = element(segment, 2)
        elif segment_id == "DTP" and qualifier in ("431", "454"):
            period = period_of(segment, position, findings)
            day = period.start if period else None
            if qualifier == "431":
                claim.onset_date = day
            else:
                claim.initial_treatment_date = day
        elif segment_id == "HI":
            self.diagnoses(segment)

    def diagnoses(self, hi: Segment) -> None:
        for value in hi[1:]:
            qualifier, code, *_rest = [*self.reading.composite(value), ""]
            if qualifier in _PRINCIPAL and code:
                self.claim.diagnoses.insert(0, code)
            elif qualifier in _OTHER_DIAGNOSES and code:
                self.claim.diagnoses.append(code)
            if qualifier in _ICD9 and code:
                self.claim.icd9_diagnoses = True

    def other_detail(self, segment: Segment, position: int) -> None:
        other, segment_id, qualifier = self.other_payer, segment[0], element(segment, 1)
        assert other is not None  # the state is "other" only once an SBR opened one
        findings = self.reading.findings
        if segment_id == "NM1":
            self.entity = qualifier
            if qualifier == "IL":
                other.subscriber = member_of(segment, (), findings)
            elif qualifier == "PR":
                other.payer = payer_of(segment)
        elif segment_id == "CAS":
            cas_adjustments(segment, position, other.adjustments)
        elif segment_id == "AMT" and qualifier == "D":
            other.paid = amount(segment, 2, position)
        elif segment_id in ("N3", "N4") and self.entity in ("IL", "PR"):
            self.other_address(other, segment)
        elif segment_id == "DTP" and qualifier == "573" and self.entity == "PR":
            period = period_of(segment, position, findings)
            other.adjudication_date = period.start if period else None

    def other_address(self, other: OtherPayer, segment: Segment) -> None:
        """An N3 or N4 of the other subscriber (2330A) or payer (2330B), completing the address so far."""
        party: Member | Payer | None = other.subscriber if self.entity == "IL" else other.payer
        if party is None:
            return
        known = party.address
        n3: Segment = ["N3", known.line1, known.line2] if known else ["N3"]
        n4: Segment = ["N4", known.city, known.state, known.postal_code] if known else ["N4"]
        address = address_of(segment if segment[0] == "N3" else n3, segment if segment[0] == "N4" else n4)
        if isinstance(party, Member):
            other.subscriber = replace(party, address=address)
        else:
            other.payer = replace(party, address=address)

    def line(self, sv1: Segment, position: int) -> ClaimLine:
        reading = self.reading
        qualifier, procedure, *modifiers = [*reading.composite(element(sv1, 1)), ""]
        pointers = []
        for part in reading.composite(element(sv1, 7)):
            if part.isdigit():
                pointers.append(int(part))
            elif part:
                reading.findings.append(f"SV107 at position {position} holds a pointer that is not a number")
        return ClaimLine(
            number=len(self.claim.lines) + 1,
            qualifier=qualifier,
            procedure=procedure,
            modifiers=tuple(modifier for modifier in modifiers[:4] if modifier),
            charge=money(sv1 + [""] * (3 - len(sv1)), 2, position),
            unit_basis=element(sv1, 3),
            units=number(sv1, 4, position),
            place_of_service=element(sv1, 5),
            pointers=tuple(pointers),
        )

    def line_detail(self, segment: Segment, position: int) -> None:
        if not self.claim.lines:
            return  # an LX without its SV1 yet: nothing to attach to
        line, segment_id, qualifier = self.claim.lines[-1], segment[0], element(segment, 1)
        if segment_id == "SVD":
            self.other_line = self.line_adjudication(segment, position)
            line.other_payers.append(self.other_line)
            self.state = "line-other"
        elif segment_id == "NM1":
            self.state = "line-provider"  # 2420: the line's own providers, not used
        elif self.state == "line-other":
            self.line_adjudication_detail(segment, position)
        elif segment_id == "DTP" and qualifier == "472":
            if period := period_of(segment, position, self.reading.findings):
                line.service_date, line.service_end = period.start, period.end
        elif segment_id == "REF" and qualifier == "6R":
            line.control_number = element(segment, 2)
        elif segment_id == "REF" and qualifier == "G1":
            line.prior_authorization = element(segment, 2)

    def line_adjudication(self, svd: Segment, position: int) -> OtherPayerLine:
        _qualifier, procedure, *modifiers = [*self.reading.composite(element(svd, 3)), ""]
        return OtherPayerLine(
            payer_id=element(svd, 1),
            paid=money(svd + [""] * (3 - len(svd)), 2, position),
            procedure=procedure,
            modifiers=tuple(modifier for modifier in modifiers[:4] if modifier),
            units=number(svd, 5, position),
        )

    def line_adjudication_detail(self, segment: Segment, position: int) -> None:
        other = self.other_line
        assert other is not None  # the state is "line-other" only once an SVD opened one
        if segment[0] == "CAS":
            cas_adjustments(segment, position, other.adjustments)
        elif segment[0] == "DTP" and element(segment, 1) == "573":
            period = period_of(segment, position, self.reading.findings)
            other.adjudication_date = period.start if period else None


def _other_payer(sbr: Segment) -> OtherPayer:
    return OtherPayer(
        responsibility=element(sbr, 1),
        relationship=element(sbr, 2),
        group_number=element(sbr, 3),
        group_name=element(sbr, 4),
        insurance_type=element(sbr, 5),
        filing_indicator=element(sbr, 9),
    )
