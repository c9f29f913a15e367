"""From the domain to what the X12 writers take: the 271's benefits, the 277CA's claims, the 277's statuses
and the 835's claims and payment. Only the writers' models are built here; the service layer writes them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from rcm_clearinghouse_sim.domain.adjudication import ClaimResult, LineResult
from rcm_clearinghouse_sim.domain.coverage import Standing
from rcm_clearinghouse_sim.domain.edits import Rejection
from rcm_clearinghouse_sim.domain.eligibility import EligibilityAnswer
from rcm_clearinghouse_sim.domain.plans import ZERO, Plan
from rcm_clearinghouse_sim.domain.remittance import ProviderAdjustment
from rcm_x12.claim_acknowledgment_writer import AcknowledgedClaim, ClaimRejection, StatusCode
from rcm_x12.claim_status_writer import ClaimStatusReport
from rcm_x12.eligibility_request_writer import EligibilityInquiry
from rcm_x12.eligibility_response_writer import BenefitInfo, CoverageAnswer, RequestRejection
from rcm_x12.professional_claim_reader import ClaimLine, ClaimProvider, ClaimSubscriber, ReceivedClaim
from rcm_x12.remittance_reader import Adjustment, Amount, Contact
from rcm_x12.remittance_writer import PaidClaim, PaidLine, PaymentInfo, RemittanceAdvice
from rcm_x12.remittance_writer import ProviderAdjustment as PaymentAdjustment
from rcm_x12.status_request_writer import StatusInquiry
from rcm_x12.writer import Address, Member, Payer, Provider

INVALID_MEMBER = RequestRejection("72", "C")
"""AAA*N**72*C: invalid or missing subscriber/insured id, correct and resubmit."""
UNABLE_TO_RESPOND = RequestRejection("42", "R", valid_request=True)
"""AAA*Y**42*R at 2100A: the payer cannot answer now, resubmission allowed."""
UNKNOWN_PAYER = RequestRejection("79", "C")
"""AAA*N**79*C at 2100A: invalid participant identification (the payer id is not one this clearinghouse
routes to), correct and resubmit."""


@dataclass(frozen=True, slots=True)
class Payment:
    """The claim's last remittance: the 835's trace (check or EFT number) and date; `revised` when that 835
    reversed an earlier payment of it (and paid it again, unless it was voided)."""

    trace_number: str
    paid_on: date
    revised: bool = False


@dataclass(slots=True)
class ClaimRecord:
    """One claim the clearinghouse received, as read and as decided: rejected on the 277CA, or accepted
    with its payer claim number and adjudication (the one last paid, once reprocessed), and paid once a
    payment run took it. An accepted void has no adjudication: it bills nothing, so it is never paid; its
    `payment` is the 835 that reversed the claim it voided, when that one had been paid. `recouped` is what
    overpayment recoveries have asked back of the claim's payment."""

    source: ReceivedClaim
    subscriber: ClaimSubscriber
    provider: ClaimProvider
    batch_id: str
    sender: tuple[str, str]  # ISA05 and ISA06 of the batch: whom its 835s go to
    received: datetime
    rejection: Rejection | None = None
    payer_claim_number: str = ""
    result: ClaimResult | None = None
    payment: Payment | None = None
    recouped: Decimal = ZERO

    @property
    def claim_id(self) -> str:
        return self.source.claim_id

    @property
    def payer_id(self) -> str:
        return self.subscriber.payer.payer_id

    @property
    def service_date(self) -> date:
        return self.source.first_service_date or self.received.date()

    @property
    def service_end(self) -> date | None:
        end = self.source.last_service_date
        return end if end != self.service_date else None

    @property
    def patient(self) -> Member:
        """The patient as the 277CA and 835 name them (NM1*QC): the dependant, or the subscriber."""
        return self.subscriber.patient or self.subscriber.subscriber


def benefits(answer: EligibilityAnswer) -> tuple[BenefitInfo, ...]:
    return tuple(
        BenefitInfo(
            code=b.code,
            coverage_level="IND",
            service_types=b.service_types,
            insurance_type=b.insurance_type,
            plan_description=b.plan_description,
            time_period=b.time_period,
            amount=b.amount,
            percent=b.percent,
            authorization_required=b.authorization_required,
            messages=("PRIOR AUTHORIZATION REQUIRED",) if b.authorization_required else (),
        )
        for b in answer.benefits
    )


def coverage_answer(inquiry: EligibilityInquiry, originator: str, answer: EligibilityAnswer) -> CoverageAnswer:
    """The 271 answer for one inquiry: an invalid member id (AAA 72), or the plan's dates and benefits."""
    echoed = CoverageAnswer(
        inquiry.subscriber,
        inquiry.dependent,
        trace=inquiry.trace,
        trace_originator=originator if inquiry.trace else "",
        errors=(INVALID_MEMBER,),
    )
    if answer.coverage.standing is Standing.NOT_FOUND:
        return echoed
    return replace(
        echoed,
        errors=(),
        group_number=answer.group_number,
        plan_begin=answer.coverage.begin,
        plan_end=answer.coverage.end,
        relationship="19" if inquiry.dependent is not None else "",
        benefits=benefits(answer),
    )


def acknowledged(record: ClaimRecord, trace: str) -> AcknowledgedClaim:
    """A claim's line in the 277CA: accepted with the payer claim number, or rejected with why."""
    patient = record.patient
    named = Member(patient.last_name, patient.first_name, record.subscriber.subscriber.member_id)
    rejection = record.rejection
    return AcknowledgedClaim(
        claim_id=record.claim_id,
        patient=named,
        charge=record.source.charge,
        service_date=record.service_date,
        service_end=record.service_end,
        payer_claim_number=record.payer_claim_number,
        clearinghouse_trace=trace,
        rejection=ClaimRejection(_status_codes(rejection), rejection.message) if rejection is not None else None,
    )


def _status_codes(rejection: Rejection) -> tuple[StatusCode, ...]:
    """The rejection's STC codes, as the 277CA wrote them and the 277 repeats them."""
    return tuple(StatusCode(code.category, code.status, code.entity, "") for code in rejection.codes)


def payer_of(plan: Plan) -> Payer:
    r = plan.remitter
    return Payer(plan.name, plan.payer_id, Address(r.address_line, r.city, r.state, r.postal_code))


def _final_status(result: ClaimResult) -> StatusCode:
    if result.status == "4":
        status = {"27": "88", "197": "84", "18": "54"}.get(result.denial, "1")
        return StatusCode("F2", status, "", "")
    if result.paid:
        return StatusCode("F1", "65", "", "")
    return StatusCode("F4", "104", "", "")


def status_report(inquiry: StatusInquiry, record: ClaimRecord | None, today: date) -> ClaimStatusReport:
    """A claim's status for the 277: not found (A4:35), rejected (the 277CA's codes), in adjudication
    (P1:20; an accepted void stays so, unless it voided a paid claim and that claim's reversal is on an
    835), finalized (F1:65 paid, F2 denied, F4:104 adjudicated with nothing to pay) with amounts, or
    finalized and revised (F3:101, processed as an adjustment to a previous claim) once an 835 reversed its
    payment: with what it pays now (nothing, for a void)."""
    not_found = ClaimStatusReport(
        subscriber=inquiry.subscriber,
        trace=inquiry.trace,
        codes=(StatusCode("A4", "35", "", ""),),
        status_date=today,
        charge=inquiry.claim_charge,
        service_date=inquiry.service_date,
        service_end=inquiry.service_end,
        patient_control_number=inquiry.patient_control_number,
        dependent=inquiry.dependent,
    )
    if record is None:
        return not_found
    found = replace(not_found, charge=record.source.charge, status_date=record.received.date())
    if record.rejection is not None:
        return replace(found, codes=_status_codes(record.rejection))
    found = replace(found, payer_claim_number=record.payer_claim_number)
    payment = record.payment
    if payment is None or (record.result is None and not payment.revised):
        return replace(found, codes=(StatusCode("P1", "20", "", ""),))
    if record.result is None or payment.revised:
        codes = (StatusCode("F3", "101", "", ""),)
    else:
        codes = (_final_status(record.result),)
    return replace(
        found,
        codes=codes,
        status_date=payment.paid_on,
        paid=record.result.paid if record.result else ZERO,
        adjudication_date=record.received.date(),
        payment_date=payment.paid_on,
        check_number=payment.trace_number,
    )


def _paid_line(result: LineResult, source: ClaimLine) -> PaidLine:
    line = result.line
    return PaidLine(
        procedure=line.procedure,
        charge=line.charge,
        paid=result.paid,
        units=line.units,
        modifiers=line.modifiers,
        service_date=line.service_date,
        service_end=source.service_end,
        control_number=source.control_number,
        allowed=result.allowed,
        adjustments=tuple(Adjustment(a.group, a.reason, a.amount) for a in result.adjustments),
        remarks=result.remarks,
    )


def paid_claim(
    record: ClaimRecord, plan: Plan, result: ClaimResult | None = None, interest: Decimal = ZERO
) -> PaidClaim:
    """The claim as the 835 reports it: with its adjudication, or `result` (its reversal, or its
    adjudication once reprocessed), and the interest paid on it (AMT*I) when late."""
    result = result if result is not None else record.result
    assert result is not None  # only adjudicated claims are paid
    sources = {line.number: line for line in record.source.lines}
    lines = tuple(_paid_line(line, sources[line.line.number]) for line in result.lines)
    subscriber = record.subscriber
    return PaidClaim(
        claim_id=record.claim_id,
        status=result.status,
        charge=sum((line.charge for line in lines), ZERO),
        paid=result.paid,
        payer_claim_number=record.payer_claim_number,
        patient=record.patient,
        filing_indicator=plan.claim_filing,
        patient_responsibility=result.patient,
        place_of_service=record.source.place_of_service,
        frequency=record.source.frequency,
        subscriber=subscriber.subscriber if subscriber.patient is not None else None,
        statement_start=record.service_date,
        statement_end=record.service_end,
        received=record.received.date(),
        amounts=(Amount("I", interest),) if interest else (),
        lines=lines,
    )


def remittance(
    plan: Plan,
    payee: Provider,
    claims: tuple[PaidClaim, ...],
    trace: str,
    paid_on: date,
    adjustments: tuple[ProviderAdjustment, ...] = (),
) -> RemittanceAdvice:
    """One 835: the claims of one payee paid by one payer in one run, by the payer's method, less the
    provider adjustments (PLB, by the payee's NPI; the fiscal period is 31 December of the year of payment,
    which the guide asks for when the payer does not know the provider's fiscal year). The adjustments must
    leave the payment at zero or more; nothing paid is BPR*H ... NON."""
    r = plan.remitter
    total = sum((claim.paid for claim in claims), ZERO) - sum((a.amount for a in adjustments), ZERO)
    fiscal_year_end = date(paid_on.year, 12, 31)
    payment = PaymentInfo(
        total,
        r.method if total else "NON",
        paid_on,
        trace,
        "1" + r.tax_id,
        sender_routing=r.sender_routing,
        sender_account=r.sender_account,
        receiver_routing=r.receiver_routing,
        receiver_account=r.receiver_account,
    )
    return RemittanceAdvice(
        payment=payment,
        payer=payer_of(plan),
        payer_contacts=(Contact("BL", "EDI SUPPORT", (("TE", r.phone),)),),
        payee=payee,
        claims=claims,
        provider_adjustments=tuple(
            PaymentAdjustment(payee.npi, fiscal_year_end, a.reason, a.reference, a.amount) for a in adjustments
        ),
        production_date=paid_on,
    )
