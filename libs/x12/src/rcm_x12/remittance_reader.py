"""The typed 835 (005010X221A1) reader: payment, payer, payee, claims, service lines, adjustments.

One pass over each transaction's segments, each loop (header, claim, service line) reading its own by
segment id, because remittance files run to megabytes and posting waits for them. Amounts are Decimals
with two places, read from the text exactly; a number that is not one raises X12Error naming the element
and its segment's position, never the value. A remittance that does not add up is still read:
`Remittance.balance_problems()` reports it, since the money was paid whatever the arithmetic says and
posting must see it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from rcm_x12.codes.remittance import CLAIM_STATUS
from rcm_x12.elements import Party, Procedure, date_of, frozen_factory, money, number, party_of, procedure_of
from rcm_x12.errors import X12Error
from rcm_x12.reader import (
    BARE_SET_FINDING,
    Interchange,
    Segment,
    Transaction,
    collector_paused,
    read,
    transaction_sets,
)

_ZERO = Decimal("0.00")
_ONE = Decimal("1")


@dataclass(frozen=True, slots=True)
class Contact:
    """A PER segment: function (CX claims, BL technical, IC web site), name, and (qualifier, number) pairs."""

    function: str
    name: str
    numbers: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Payer:
    """N1*PR: identifier is N104 (CMS plan id) or else REF*2U, the payer identification number."""

    name: str
    identifier: str
    contacts: tuple[Contact, ...]


@dataclass(frozen=True, slots=True)
class Payee:
    """N1*PE: the NPI (N103 XX), and the TIN from N103 FI or REF*TJ."""

    name: str
    npi: str
    tin: str


@dataclass(frozen=True, slots=True)
class Payment:
    """BPR. Account numbers are cut to their last four digits: enough to reconcile, useless to a thief."""

    handling_code: str  # BPR01: C payment and remittance, H notification only, I remittance only, ...
    total_paid: Decimal
    credit_debit: str  # C or D
    method: str  # ACH, BOP, CHK, FWT, NON
    format: str  # CCP, CTX
    sender_routing: str
    sender_account_last4: str
    originating_company: str  # BPR10
    receiver_routing: str
    receiver_account_last4: str
    payment_date: date | None  # BPR16


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS triplet: group (CO, PR, OA, PI, CR), CARC reason, amount, quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Remark:
    """An LQ segment: qualifier HE (RARC) or RX (NCPDP reject code), and the code."""

    qualifier: str
    code: str


@dataclass(frozen=True, slots=True)
class Amount:
    qualifier: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Quantity:
    qualifier: str
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """Loop 2110: an SVC and what follows it. units_billed is SVC07, or units_paid when SVC07 is absent
    (the TR3 sends it only when the two differ)."""

    procedure: Procedure
    charge: Decimal
    paid: Decimal
    revenue_code: str
    units_paid: Decimal
    original_procedure: Procedure | None
    units_billed: Decimal
    service_date: date | None  # DTM*472
    service_start: date | None  # DTM*150
    service_end: date | None  # DTM*151
    control_number: str  # REF*6R, the line item control number the claim sent
    allowed: Decimal | None  # AMT*B6
    adjustments: tuple[Adjustment, ...]
    remarks: tuple[Remark, ...]


@dataclass(frozen=True, slots=True)
class Claim:
    """Loop 2100: a CLP and its lines. claim_id (CLP01) is the patient control number the provider sent."""

    claim_id: str = field(repr=False)
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str  # CLP06
    payer_claim_number: str = field(repr=False)  # CLP07
    facility_code: str
    frequency: str
    patient: Party | None  # NM1*QC
    subscriber: Party | None  # NM1*IL
    rendering_provider: Party | None  # NM1*82
    statement_start: date | None  # DTM*232
    statement_end: date | None  # DTM*233
    received: date | None  # DTM*050
    amounts: tuple[Amount, ...]
    quantities: tuple[Quantity, ...]
    remark_codes: tuple[str, ...]  # MOA03-07, MIA05, MIA20-23
    adjustments: tuple[Adjustment, ...]  # claim level only; each line has its own
    lines: tuple[ServiceLine, ...]

    @property
    def status_meaning(self) -> str:
        return CLAIM_STATUS.get(self.status, "unknown claim status code")

    @property
    def is_reversal(self) -> bool:
        return self.status == "22"


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One reason/amount pair of a PLB. A positive amount reduces the payment (the provider owes it)."""

    provider_id: str
    fiscal_period_date: date | None
    reason: str  # PLB03-1, e.g. WO overpayment recovery, L6 interest, FB forwarding balance
    reference: str  # PLB03-2
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction set. payer, trace_number and interchange_control_number identify it; a bare set
    (exported with no ISA) has no interchange control number and says so in its findings."""

    interchange_control_number: str
    control_number: str  # ST02
    position: int  # of the ST segment
    payment: Payment
    trace_number: str  # TRN02: the check or EFT trace number
    originating_company: str  # TRN03
    production_date: date | None  # DTM*405
    payer: Payer
    payee: Payee
    claims: tuple[Claim, ...]
    provider_adjustments: tuple[ProviderAdjustment, ...]
    findings: tuple[str, ...]
    """What the reader tolerated (impossible dates, read as none), naming elements and positions."""

    def balance_problems(self) -> list[str]:
        """Where the figures do not add up, one line each. Claim ids appear (a billing report needs them)
        but nothing else about the patient: the lines may be shown to a biller, not logged."""
        problems = []
        claims_paid = sum((c.paid for c in self.claims), _ZERO)
        provider = sum((a.amount for a in self.provider_adjustments), _ZERO)
        if self.payment.total_paid != claims_paid - provider:
            problems.append(
                f"BPR02 {self.payment.total_paid} is not the claims' payments {claims_paid} "
                f"less the provider adjustments {provider}"
            )
        for claim in self.claims:
            adjusted = sum((a.amount for a in claim.adjustments), _ZERO)
            for line_number, line in enumerate(claim.lines, 1):
                line_adjusted = sum((a.amount for a in line.adjustments), _ZERO)
                adjusted += line_adjusted
                if line.charge - line.paid != line_adjusted:
                    problems.append(
                        f"claim {claim.claim_id} line {line_number}: charge {line.charge} less paid {line.paid} "
                        f"is not the line's adjustments {line_adjusted}"
                    )
            if claim.charge - claim.paid != adjusted:
                problems.append(
                    f"claim {claim.claim_id}: charge {claim.charge} less paid {claim.paid} "
                    f"is not the claim's and its lines' adjustments {adjusted}"
                )
        return problems


# The constructors the hot loops use: the same frozen objects, built without the frozen __init__'s cost.
_adjustment = frozen_factory(Adjustment)
_remark = frozen_factory(Remark)
_amount = frozen_factory(Amount)
_service_line = frozen_factory(ServiceLine)
_claim = frozen_factory(Claim)


def read_remittances(data: bytes | str) -> list[Remittance]:
    """Every 835 transaction set in the data, in order; other transaction sets are passed over."""
    with collector_paused():
        return [
            remittance_of(transaction, interchange) for transaction, interchange in transaction_sets(read(data), "835")
        ]


def remittance_of(transaction: Transaction, interchange: Interchange) -> Remittance:
    """The typed form of one 835 transaction set that `read` found in `interchange`."""
    if transaction.set_id != "835":
        raise X12Error("the transaction set is not an 835", segment="ST", position=transaction.position)
    if not transaction.complete:
        # Claims or adjustments after the cut would be missing from what is posted.
        raise X12Error(
            "the 835 ends before its SE: it is cut short and cannot be posted",
            segment="ST",
            position=transaction.position,
        )
    return _Reading(transaction, interchange).remittance()


# Element readers: each takes the segment and the element's index, so an error can name the element.


def _number(segment: Segment, index: int, position: int) -> Decimal:
    """A quantity that must be there: an X12 R element as it stands."""
    value = number(segment, index, position)
    if value is None:
        raise X12Error(f"{segment[0]}{index:02d} is missing", segment=segment[0], position=position)
    return value


def _pad(segment: Segment, length: int) -> Segment:
    """The segment with at least `length` elements (counting the id): senders leave off trailing empty
    elements. A copy when one is needed: the transaction's segments are not ours to change."""
    return segment if len(segment) >= length else segment + [""] * (length - len(segment))


def _qualifier(segment: Segment) -> str:
    return segment[1] if len(segment) > 1 else ""


def cas_adjustments(segment: Segment, position: int, into: list[Adjustment]) -> None:
    """A CAS segment's triplets (reason, amount, quantity) at CAS02-04, 05-07, ... 17-19; the 837P reader
    reads the other payers' adjustments (2320, 2430) with it too."""
    length = len(segment)
    group = segment[1] if length > 1 else ""
    if not group:
        raise X12Error("CAS01 (the group code) is missing", segment="CAS", position=position)
    for index in range(2, length, 3):
        reason = segment[index]
        if reason:
            if length == index + 1:
                raise X12Error(f"CAS{index + 1:02d} is missing", segment="CAS", position=position)
            amount = money(segment, index + 1, position)
            quantity = _number(segment, index + 2, position) if length > index + 2 and segment[index + 2] else None
            into.append(_adjustment(group, reason, amount, quantity))
        elif length > index + 1 and segment[index + 1]:
            raise X12Error(f"CAS{index + 1:02d} is an amount without a reason", segment="CAS", position=position)


def _payment(segment: Segment, position: int, findings: list[str]) -> Payment:
    bpr = _pad(segment, 17)
    if bpr[3] != "C":
        # A debit takes money back from the provider: posting it as a payment would be wrong.
        findings.append(f"BPR03 at position {position} is not C (credit): the total is not a payment to post as is")
    return Payment(
        handling_code=bpr[1],
        total_paid=money(bpr, 2, position),
        credit_debit=bpr[3],
        method=bpr[4],
        format=bpr[5],
        sender_routing=bpr[7],
        sender_account_last4=bpr[9][-4:],
        originating_company=bpr[10],
        receiver_routing=bpr[13],
        receiver_account_last4=bpr[15][-4:],
        payment_date=date_of(bpr, 16, position, findings),
    )


def _contact(segment: Segment) -> Contact:
    per = _pad(segment, 9)
    numbers = tuple((per[i], per[i + 1]) for i in (3, 5, 7) if per[i] or per[i + 1])
    return Contact(function=per[1], name=per[2], numbers=numbers)


def _payer(n1: Segment, details: list[Segment]) -> Payer:
    identifier = n1[4]
    contacts = []
    for segment in details:
        if segment[0] == "PER":
            contacts.append(_contact(segment))
        elif not identifier and _qualifier(segment) == "2U":
            identifier = _pad(segment, 3)[2]
    return Payer(name=n1[2], identifier=identifier, contacts=tuple(contacts))


def _payee(n1: Segment, details: list[Segment]) -> Payee:
    npi = n1[4] if n1[3] == "XX" else ""
    tin = n1[4] if n1[3] == "FI" else ""
    for segment in details:
        if not tin and segment[0] == "REF" and _qualifier(segment) == "TJ":
            tin = _pad(segment, 3)[2]
    return Payee(name=n1[2], npi=npi, tin=tin)


_CLAIM_END = frozenset({"CLP", "LX", "TS3", "TS2", "PLB"})  # what closes loop 2100
_LINE_END = _CLAIM_END | {"SVC"}  # and loop 2110


class _Reading:
    """One pass over an 835's segments. Each loop (header, claim, line) reads its own segments into
    local variables until the segment that closes it: no per-segment dispatch table, no draft objects.

    What a remittance repeats line after line (service dates, procedure codes, remark codes) is read once a
    file and the same frozen object shared: fewer objects to build, and to hold."""

    __slots__ = (
        "base",
        "component",
        "dates",
        "findings",
        "interchange",
        "procedures",
        "remarks",
        "segments",
        "transaction",
    )

    def __init__(self, transaction: Transaction, interchange: Interchange) -> None:
        self.transaction = transaction
        self.interchange = interchange
        self.segments = transaction.segments
        self.base = transaction.position + 1  # the position of segments[0]
        self.component = interchange.delimiters.component
        # A bare set (no ISA) has no interchange control number: it is known by its payer and TRN02 alone.
        self.findings: list[str] = [BARE_SET_FINDING] if BARE_SET_FINDING in interchange.findings else []
        self.dates: dict[str, date] = {}  # DTM02's text -> its date, for the dates read well
        self.procedures: dict[str, Procedure] = {}  # SVC01's or SVC06's text -> its procedure, if it has a code
        self.remarks: dict[tuple[str, str], Remark] = {}  # (LQ01, LQ02) -> the remark

    def remittance(self) -> Remittance:
        segments, base, findings = self.segments, self.base, self.findings
        payment: Payment | None = None
        trace: Segment | None = None
        production_date: date | None = None
        parties: dict[str, tuple[Segment, list[Segment]]] = {}  # N101 -> the N1, its REF and PER segments
        party: list[Segment] = []  # the open N1 loop's REF and PER segments
        claims: list[Claim] = []
        provider_adjustments: list[ProviderAdjustment] = []
        index, count = 0, len(segments)
        while index < count:
            segment = segments[index]
            segment_id = segment[0]
            if segment_id == "CLP":
                claim, index = self.claim(index)
                claims.append(claim)
                continue
            if segment_id == "PLB":
                self.plb(segment, base + index, provider_adjustments)
            elif segment_id in ("REF", "PER"):
                party.append(segment)
            elif segment_id == "N1":
                party = []
                parties.setdefault(_qualifier(segment), (_pad(segment, 5), party))
            elif segment_id == "LX":
                party = []
            elif segment_id == "BPR":
                payment = _payment(segment, base + index, findings)
            elif segment_id == "TRN":
                trace = trace or _pad(segment, 4)
            elif segment_id == "DTM" and _qualifier(segment) == "405":
                production_date = date_of(segment, 2, base + index, findings)
            elif segment_id in ("SVC", "CAS"):
                raise X12Error(f"{segment_id} comes before any CLP", segment=segment_id, position=base + index)
            index += 1
        payer, payee = parties.get("PR"), parties.get("PE")
        if payment is None or trace is None or payer is None or payee is None:
            wanted = (("BPR", payment), ("TRN", trace), ("N1*PR", payer), ("N1*PE", payee))
            missing = " or ".join(name for name, got in wanted if got is None)
            raise X12Error(f"the 835 has no {missing} segment", segment="ST", position=base - 1)
        return Remittance(
            interchange_control_number=self.interchange.control_number,
            control_number=self.transaction.control_number,
            position=base - 1,
            payment=payment,
            trace_number=trace[2],
            originating_company=trace[3],
            production_date=production_date,
            payer=_payer(*payer),
            payee=_payee(*payee),
            claims=tuple(claims),
            provider_adjustments=tuple(provider_adjustments),
            findings=tuple(findings),
        )

    def claim(self, start: int) -> tuple[Claim, int]:
        """Loop 2100 from its CLP: the claim, and the index of the segment after it."""
        segments, base = self.segments, self.base
        patient = subscriber = rendering_provider = None
        statement_start = statement_end = received = None
        amounts: list[Amount] = []
        quantities: list[Quantity] = []
        remark_codes: list[str] = []
        adjustments: list[Adjustment] = []
        lines: list[ServiceLine] = []
        index, count = start + 1, len(segments)
        while index < count:
            segment = segments[index]
            segment_id = segment[0]
            if segment_id == "SVC":
                line, index = self.line(index)
                lines.append(line)
                continue
            if segment_id == "NM1":
                entity = segment[1] if len(segment) > 1 else ""
                if entity == "QC":
                    patient = party_of(segment)
                elif entity == "IL":
                    subscriber = party_of(segment)
                elif entity == "82":
                    rendering_provider = party_of(segment)
            elif segment_id == "DTM":
                qualifier = segment[1] if len(segment) > 1 else ""
                if qualifier == "232":
                    statement_start = self.date(segment, base + index)
                elif qualifier == "233":
                    statement_end = self.date(segment, base + index)
                elif qualifier == "050":
                    received = self.date(segment, base + index)
            elif segment_id in _CLAIM_END:
                break
            elif segment_id == "CAS":
                cas_adjustments(segment, base + index, adjustments)
            elif segment_id == "AMT":
                amounts.append(_amount(_qualifier(segment), money(_pad(segment, 3), 2, base + index)))
            elif segment_id == "QTY":
                quantities.append(Quantity(_qualifier(segment), _number(_pad(segment, 3), 2, base + index)))
            elif segment_id in ("MOA", "MIA"):
                remarks = range(3, 8) if segment_id == "MOA" else (5, 20, 21, 22, 23)
                remark_codes.extend(segment[i] for i in remarks if i < len(segment) and segment[i])
            index += 1
        clp, position = _pad(segments[start], 10), base + start
        claim = _claim(
            clp[1],  # claim_id
            clp[2],  # status
            money(clp, 3, position),  # charge
            money(clp, 4, position),  # paid
            money(clp, 5, position) if clp[5] else _ZERO,  # patient_responsibility
            clp[6],  # filing_indicator
            clp[7],  # payer_claim_number
            clp[8],  # facility_code
            clp[9],  # frequency
            patient,
            subscriber,
            rendering_provider,
            statement_start,
            statement_end,
            received,
            tuple(amounts),
            tuple(quantities),
            tuple(remark_codes),
            tuple(adjustments),
            tuple(lines),
        )
        return claim, index

    def date(self, dtm: Segment, position: int) -> date | None:
        """DTM02 as `date_of` reads it, each date's text parsed once a file."""
        text = dtm[2] if len(dtm) > 2 else ""
        day = self.dates.get(text)
        if day is None:
            day = date_of(dtm, 2, position, self.findings)
            if day is not None:
                self.dates[text] = day
        return day

    def procedure(self, svc: Segment, component: str, position: int) -> Procedure:
        """SVC01, which every service line must have: without it nothing says what was paid for. A composite
        without its code (split by a wrong separator, as some senders do) is read and noted for a person."""
        procedure = self.procedures.get(svc[1])
        if procedure is None:
            procedure = procedure_of(svc[1], component)
            if procedure is None:
                raise X12Error("SVC01 is missing", segment="SVC", position=position)
            if not procedure.code:
                self.findings.append(f"SVC01 at position {position} has no procedure code: match the line by hand")
            else:
                self.procedures[svc[1]] = procedure
        return procedure

    def original_procedure(self, composite: str, component: str) -> Procedure | None:
        """SVC06, the procedure billed when the payer paid another; mostly absent."""
        if not composite:
            return None
        procedure = self.procedures.get(composite)
        if procedure is None:
            procedure = procedure_of(composite, component)
            if procedure is not None and procedure.code:
                self.procedures[composite] = procedure
        return procedure

    def remark(self, lq: Segment) -> Remark:
        """An LQ's remark: the same few codes recur all through a remittance."""
        if len(lq) < 3:
            lq = _pad(lq, 3)
        key = (lq[1], lq[2])
        remark = self.remarks.get(key)
        if remark is None:
            remark = self.remarks[key] = _remark(lq[1], lq[2])
        return remark

    def line(self, start: int) -> tuple[ServiceLine, int]:
        """Loop 2110 from its SVC: the service line, and the index of the segment after it."""
        segments, base = self.segments, self.base
        service_date = service_start = service_end = allowed = None
        control_number = ""
        adjustments: list[Adjustment] = []
        remarks: list[Remark] = []
        index, count = start + 1, len(segments)
        while index < count:
            segment = segments[index]
            segment_id = segment[0]
            if segment_id == "DTM":
                qualifier = segment[1] if len(segment) > 1 else ""
                if qualifier == "472":
                    service_date = self.date(segment, base + index)
                elif qualifier == "150":
                    service_start = self.date(segment, base + index)
                elif qualifier == "151":
                    service_end = self.date(segment, base + index)
            elif segment_id == "CAS":
                cas_adjustments(segment, base + index, adjustments)
            elif segment_id == "LQ":
                remarks.append(self.remark(segment))
            elif segment_id == "REF":
                if _qualifier(segment) == "6R":
                    control_number = _pad(segment, 3)[2]
            elif segment_id == "AMT":
                if _qualifier(segment) == "B6":
                    allowed = money(_pad(segment, 3), 2, base + index)
            elif segment_id in _LINE_END:
                break
            index += 1
        svc, position, component = _pad(segments[start], 8), base + start, self.component
        units_paid = _number(svc, 5, position) if svc[5] else _ONE
        service_line = _service_line(
            self.procedure(svc, component, position),
            money(svc, 2, position),  # charge
            money(svc, 3, position),  # paid
            svc[4],  # revenue_code
            units_paid,
            self.original_procedure(svc[6], component),
            _number(svc, 7, position) if svc[7] else units_paid,  # units_billed
            service_date,
            service_start,
            service_end,
            control_number,
            allowed,
            tuple(adjustments),
            tuple(remarks),
        )
        return service_line, index

    def plb(self, segment: Segment, position: int, into: list[ProviderAdjustment]) -> None:
        """A PLB's reason/amount pairs (PLB03-04 ... PLB13-14), each with the provider and fiscal period."""
        plb = _pad(segment, 3)
        fiscal_period = date_of(plb, 2, position, self.findings)
        for index in range(3, len(plb), 2):
            if plb[index]:
                reason, _, reference = plb[index].partition(self.component)
                amount = money(_pad(plb, index + 2), index + 1, position)
                into.append(ProviderAdjustment(plb[1], fiscal_period, reason, reference, amount))
