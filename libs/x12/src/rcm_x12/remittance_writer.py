"""The 835 health care claim payment/advice (005010X221A1), as a payer sends it: `write_835` writes one
payment (BPR, TRN), the payer and the payee, the claims paid or denied (CLP) with their service lines (SVC),
and the provider-level adjustments (PLB).

The inputs reuse what `rcm_x12.remittance_reader` reads wherever its types fit: an `Adjustment` is one CAS triplet,
a `Contact` one PER, an `Amount` one AMT, a `ProviderAdjustment` one PLB pair (positive amounts reduce the
payment), so an 835 read can be written again. The figures must balance before anything is written, as
the guide requires and as posting assumes: BPR02 is the claims' payments less the provider adjustments,
each claim's charge less its payment is its adjustments and its lines', and each line's charge less its
payment is its own adjustments. An unbalanced remittance is refused with a ValueError naming the claim and
line by position, never by an id.

Amounts may be negative wherever the guide has them so: a reversal (CLP02 22, section 1.10.2.8) negates the
original's charge, payment and patient responsibility (CLP03-05), every adjustment (CAS, with the original
group codes: CR is gone since 5010), the lines' charges and payments (SVC02-03) and their allowed amounts
(AMT*B6); a provider adjustment (PLB04...) is negative when it adds to the payment (L6 interest, a forward
balance FB put off). Only the payment itself is never negative: BPR02 is zero or more, and a remittance that
pays nothing is BPR01 H with method NON. A provider adjustment of zero is refused, as the guide allows none.

"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from itertools import chain
from typing import Literal, TypeVar

from rcm_x12.errors import X12Error
from rcm_x12.remittance_reader import Adjustment, Amount, Contact, ProviderAdjustment
from rcm_x12.writer import (
    Composite,
    Elements,
    Envelope,
    Member,
    Payer,
    Provider,
    SegmentWriter,
    cas_segments,
    check_money,
    date_text,
    decimal_text,
)

__all__ = [
    "IMPLEMENTATION",
    "Adjustment",
    "Amount",
    "Contact",
    "PaidClaim",
    "PaidLine",
    "PaymentInfo",
    "ProviderAdjustment",
    "RemittanceAdvice",
    "write_835",
]

IMPLEMENTATION = "005010X221A1"
CLAIM_STATUSES = frozenset({"1", "2", "3", "4", "19", "20", "21", "22", "23", "25"})
"""CLP02 codes the guide allows (see `rcm_x12.codes.remittance.CLAIM_STATUS` for their meanings)."""
FILING_INDICATORS = frozenset(
    {"12", "13", "14", "15", "16", "17", "AM", "CH", "DS", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"}
)
"""CLP06 codes of the 835: 12 PPO, 13 POS, 14 EPO, 15 indemnity, 16 HMO Medicare risk, 17 DMO, AM auto
medical, CH TRICARE, DS disability, HM HMO, LM liability medical, MA and MB Medicare parts A and B, MC
Medicaid, OF other federal, TV title V, VA veterans, WC workers' compensation, ZZ mutually defined. The
837's CI (commercial) is not among them: a commercial payer says which kind of plan paid."""
ADJUSTMENT_GROUPS = frozenset({"CO", "OA", "PI", "PR"})
"""CAS01 group codes of 005010 (CR, correction and reversal, was dropped after 004010)."""

_ZERO = Decimal("0.00")
_T = TypeVar("_T")
_PAIRS_PER_PLB = 6
_CONTACT_ORDER = {"CX": 0, "BL": 1, "IC": 2}


@dataclass(frozen=True, slots=True)
class PaymentInfo:
    """BPR and TRN: how much is paid, how and when, and the trace number (TRN02: the check number or the
    EFT trace) that reassociates the money with this remittance.

    `originating_company` is "1" followed by the payer's EIN; it is TRN03 and, for ACH, BPR10. `method` is
    ACH (the four bank fields required), CHK (a check mailed apart), or NON when nothing is paid. BPR01 is
    C (payment with the advice) for ACH, I (advice only) for a check, H (notification) when nothing is paid.
    """

    amount: Decimal
    method: Literal["ACH", "CHK", "NON"]
    payment_date: date
    trace_number: str
    originating_company: str
    sender_routing: str = ""
    sender_account: str = ""
    receiver_routing: str = ""
    receiver_account: str = ""
    ach_format: Literal["CCP", "CTX"] = "CCP"

    def __post_init__(self) -> None:
        check_money(self.amount, what="the payment")
        if self.amount < 0:
            raise ValueError("the payment (BPR02) is never negative")
        if self.method not in ("ACH", "CHK", "NON"):
            raise ValueError("the payment method (BPR04) is ACH, CHK or NON")
        if (self.method == "NON") != (self.amount == 0):
            raise ValueError("the payment method is NON exactly when nothing is paid")
        banking = (self.sender_routing, self.sender_account, self.receiver_routing, self.receiver_account)
        if self.method == "ACH" and not all(banking):
            raise ValueError("an ACH payment needs both banks' routing numbers and accounts")

    def bpr(self) -> Elements:
        amount = decimal_text(self.amount)
        if self.method != "ACH":
            handling = "H" if self.method == "NON" else "I"
            return ("BPR", handling, amount, "C", self.method, *[""] * 11, date_text(self.payment_date))
        return (
            "BPR", "C", amount, "C", "ACH", self.ach_format, "01", self.sender_routing, "DA", self.sender_account,
            self.originating_company, "", "01", self.receiver_routing, "DA", self.receiver_account,
            date_text(self.payment_date),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PaidLine:
    """Loop 2110: one service line as adjudicated. `units` is SVC05 (units paid); `units_billed` SVC07,
    written only when it differs. One service date is DTM*472; a range DTM*150 and DTM*151. `remarks` are
    RARC codes (LQ*HE); `control_number` is the REF*6R the claim's line sent."""

    procedure: str
    charge: Decimal
    paid: Decimal
    units: Decimal = Decimal(1)
    modifiers: tuple[str, ...] = ()
    qualifier: str = "HC"
    units_billed: Decimal | None = None
    service_date: date | None = None
    service_end: date | None = None
    control_number: str = ""
    allowed: Decimal | None = None
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_money(self.charge, self.paid, self.allowed, *(a.amount for a in self.adjustments), what="a line")
        if len(self.modifiers) > 4:
            raise ValueError("a service line takes at most four procedure modifiers")
        if self.service_end is not None and self.service_date is None:
            raise ValueError("a service line's end date needs its start date")
        _check_groups(self.adjustments)


@dataclass(frozen=True, slots=True)
class PaidClaim:
    """Loop 2100: one claim as adjudicated. `claim_id` is the patient control number the provider sent
    (CLM01); `status` CLP02 (1, 2, 3 processed as primary, secondary, tertiary; 4 denied; 19-21 processed
    and forwarded; 22 reversal); `place_of_service` CLP08; `frequency` CLP09. The patient is NM1*QC, the
    subscriber (NM1*IL, with a member id) only when someone else. `adjustments` are the claim-level CAS;
    `amounts` claim-level AMT (AU coverage amount, I interest...); statement dates DTM*232/233, the date
    the payer received the claim DTM*050."""

    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    payer_claim_number: str
    patient: Member
    filing_indicator: str
    patient_responsibility: Decimal = _ZERO
    place_of_service: str = ""
    frequency: str = ""
    subscriber: Member | None = None
    statement_start: date | None = None
    statement_end: date | None = None
    received: date | None = None
    adjustments: tuple[Adjustment, ...] = ()
    amounts: tuple[Amount, ...] = ()
    lines: tuple[PaidLine, ...] = ()

    def __post_init__(self) -> None:
        amounts = (self.charge, self.paid, self.patient_responsibility, *(a.amount for a in self.amounts))
        check_money(*amounts, *(a.amount for a in self.adjustments), what="a claim")
        if self.status not in CLAIM_STATUSES:
            raise ValueError("the claim status (CLP02) is not one the 835 guide allows")
        if self.filing_indicator not in FILING_INDICATORS:
            raise ValueError("the claim filing indicator (CLP06) is not one the 835 guide allows")
        if self.subscriber is not None and not self.subscriber.member_id:
            raise ValueError("the subscriber (NM1*IL) of an 835 claim needs a member id")
        _check_groups(self.adjustments)
        if self.statement_end is not None and self.statement_start is None:
            raise ValueError("a statement end date needs its start date")


@dataclass(frozen=True, slots=True)
class RemittanceAdvice:
    """One 835 transaction: the payment, the payer (1000A: name, address, REF*2U payer id from
    `payer.payer_id`, and its contacts, of which the guide requires a technical one, PER*BL), the payee
    (1000B, by NPI, with REF*TJ when `payee_tax_id` is given), the claims (all under LX*1) and the
    provider-level adjustments (PLB; `fiscal_period_date` is required). `production_date` is DTM*405."""

    payment: PaymentInfo
    payer: Payer
    payer_contacts: tuple[Contact, ...]
    payee: Provider
    claims: tuple[PaidClaim, ...]
    payee_tax_id: str = ""
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    production_date: date | None = None

    def __post_init__(self) -> None:
        if self.payer.address is None:
            raise ValueError("the payer of an 835 needs an address (N3/N4)")
        if not any(contact.function == "BL" for contact in self.payer_contacts):
            raise ValueError("the payer of an 835 needs a technical contact (PER*BL)")
        if any(contact.function not in _CONTACT_ORDER for contact in self.payer_contacts):
            raise ValueError("a payer contact's function (PER01) is CX, BL or IC")
        if any(len(contact.numbers) > 3 for contact in self.payer_contacts):
            raise ValueError("a contact (PER) holds at most three numbers")
        if any(adjustment.fiscal_period_date is None for adjustment in self.provider_adjustments):
            raise ValueError("a provider adjustment (PLB02) needs its fiscal period date")
        check_money(*(a.amount for a in self.provider_adjustments), what="a provider adjustment")
        if any(not adjustment.amount for adjustment in self.provider_adjustments):
            raise ValueError("a provider adjustment (PLB04) of zero is not allowed")
        if not self.claims and not self.provider_adjustments:
            raise ValueError("an 835 pays or adjusts something: it has claims or provider adjustments")

    def balance_problems(self) -> list[str]:
        """Where the figures do not add up, one line each, naming claims and lines by position (from 1)."""
        problems = []
        paid = sum((claim.paid for claim in self.claims), _ZERO)
        provider = sum((adjustment.amount for adjustment in self.provider_adjustments), _ZERO)
        if self.payment.amount != paid - provider:
            problems.append(
                f"the payment (BPR02) {self.payment.amount} is not the claims' payments {paid} less the "
                f"provider adjustments {provider}"
            )
        for number, claim in enumerate(self.claims, 1):
            adjusted = _total(claim.adjustments)
            for line_number, line in enumerate(claim.lines, 1):
                line_adjusted = _total(line.adjustments)
                adjusted += line_adjusted
                if line.charge - line.paid != line_adjusted:
                    problems.append(
                        f"claim {number} line {line_number}: charge {line.charge} less paid {line.paid} is not "
                        f"the line's adjustments {line_adjusted}"
                    )
            if claim.charge - claim.paid != adjusted:
                problems.append(
                    f"claim {number}: charge {claim.charge} less paid {claim.paid} is not the claim's and its "
                    f"lines' adjustments {adjusted}"
                )
        return problems


def write_835(advice: RemittanceAdvice, envelope: Envelope) -> str:
    """The remittance as one X12 interchange holding one 835 transaction set; a ValueError when it does not
    balance, an X12Error when a value holds a delimiter or a character X12 cannot carry."""
    if problems := advice.balance_problems():
        raise ValueError("the remittance does not balance: " + "; ".join(problems))
    writer = SegmentWriter(envelope, "HP", "835", IMPLEMENTATION, implementation_in_st=False)
    # The 835 guide, alone among the 005010 ones, does not use ST03: the ST names the set and its number.
    _add(writer, _header, advice, "the header")
    for number, claim in enumerate(advice.claims, 1):
        _add(writer, _claim, claim, f"claim {number}")
    if advice.provider_adjustments:
        _add(writer, _provider_adjustments, advice.provider_adjustments, "the provider adjustments")
    return writer.text()


def _add(writer: SegmentWriter, build: Callable[[_T, Composite], list[Elements]], model: _T, what: str) -> None:
    """Writes the record built from the model as it stands; when that holds a delimiter and the envelope
    asks for delimiters to be replaced, from the model with them replaced. Replacing first, in every field
    of every claim, for a delimiter almost never there, took longer than writing a 10,000-claim 835."""
    try:
        writer.add(partial(build, model), what)
    except X12Error:
        if writer.envelope.on_delimiter != "replace":
            raise
        writer.add(partial(build, writer.prepare(model)), what)


def _check_groups(adjustments: Iterable[Adjustment]) -> None:
    if any(adjustment.group not in ADJUSTMENT_GROUPS for adjustment in adjustments):
        raise ValueError("an adjustment's group (CAS01) is CO, OA, PI or PR")


def _total(adjustments: Iterable[Adjustment]) -> Decimal:
    return sum((adjustment.amount for adjustment in adjustments), _ZERO)


def _header(advice: RemittanceAdvice, composite: Composite) -> list[Elements]:
    payment, payer, payee = advice.payment, advice.payer, advice.payee
    assert payer.address is not None  # checked when the advice was made
    segments: list[Elements] = [
        payment.bpr(),
        ("TRN", "1", payment.trace_number, payment.originating_company),
    ]
    if advice.production_date is not None:
        segments.append(("DTM", "405", date_text(advice.production_date)))
    segments += [("N1", "PR", payer.name), *payer.address.segments(), ("REF", "2U", payer.payer_id)]
    for contact in sorted(advice.payer_contacts, key=lambda contact: _CONTACT_ORDER[contact.function]):
        segments.append(("PER", contact.function, contact.name, *chain.from_iterable(contact.numbers)))
    names = (payee.first_name, payee.middle_name, payee.name, payee.suffix) if payee.first_name else (payee.name,)
    segments.append(("N1", "PE", " ".join(name for name in names if name), "XX", payee.npi))
    if advice.payee_tax_id:
        segments.append(("REF", "TJ", advice.payee_tax_id))
    if advice.claims:
        segments.append(("LX", "1"))
    return segments


def _claim(claim: PaidClaim, composite: Composite) -> list[Elements]:
    responsibility = decimal_text(claim.patient_responsibility) if claim.patient_responsibility else ""
    segments: list[Elements] = [
        (
            "CLP", claim.claim_id, claim.status, decimal_text(claim.charge), decimal_text(claim.paid), responsibility,
            claim.filing_indicator, claim.payer_claim_number, claim.place_of_service, claim.frequency,
        ),
        *cas_segments(claim.adjustments),
        claim.patient.nm1("QC"),
    ]  # fmt: skip
    if claim.subscriber is not None:
        segments.append(claim.subscriber.nm1("IL"))
    if claim.statement_start is not None:
        segments.append(("DTM", "232", date_text(claim.statement_start)))
    if claim.statement_end is not None:
        segments.append(("DTM", "233", date_text(claim.statement_end)))
    if claim.received is not None:
        segments.append(("DTM", "050", date_text(claim.received)))
    segments += [("AMT", amount.qualifier, decimal_text(amount.amount)) for amount in claim.amounts]
    for line in claim.lines:
        segments += _line(line, composite)
    return segments


def _line(line: PaidLine, composite: Composite) -> list[Elements]:
    billed = "" if line.units_billed is None or line.units_billed == line.units else decimal_text(line.units_billed)
    segments: list[Elements] = [
        (
            "SVC", composite(line.qualifier, line.procedure, *line.modifiers), decimal_text(line.charge),
            decimal_text(line.paid), "", decimal_text(line.units), "", billed,
        ),
    ]  # fmt: skip
    if line.service_date is not None:
        if line.service_end is None or line.service_end == line.service_date:
            segments.append(("DTM", "472", date_text(line.service_date)))
        else:
            segments.append(("DTM", "150", date_text(line.service_date)))
            segments.append(("DTM", "151", date_text(line.service_end)))
    segments += cas_segments(line.adjustments)
    if line.control_number:
        segments.append(("REF", "6R", line.control_number))
    if line.allowed is not None:
        segments.append(("AMT", "B6", decimal_text(line.allowed)))
    segments += [("LQ", "HE", code) for code in line.remarks]
    return segments


def _provider_adjustments(adjustments: Sequence[ProviderAdjustment], composite: Composite) -> list[Elements]:
    """PLB segments: one per provider and fiscal period, six reason/amount pairs at most each."""
    by_period: dict[tuple[str, date | None], list[str]] = {}
    for adjustment in adjustments:
        reason = composite(adjustment.reason, adjustment.reference) if adjustment.reference else adjustment.reason
        pairs = by_period.setdefault((adjustment.provider_id, adjustment.fiscal_period_date), [])
        pairs += (reason, decimal_text(adjustment.amount))
    step = 2 * _PAIRS_PER_PLB
    return [
        ("PLB", provider, date_text(fiscal) if fiscal else "", *pairs[start : start + step])
        for (provider, fiscal), pairs in by_period.items()
        for start in range(0, len(pairs), step)
    ]
