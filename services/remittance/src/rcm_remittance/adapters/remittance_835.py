"""Reading 835 files: the X12 codec's typed 835 mapped onto the service's advice types.

A file the codec cannot read whole (cut short, broken envelope, an element that is not a number) is refused
with the codec's message, which names segments and positions, never values. Names and member ids (NM1*QC,
NM1*IL) are not carried over: matching uses the claim's own numbers, and the raw file is kept encrypted.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from decimal import Decimal
from typing import Final

from rcm_common.offload import off_the_loop
from rcm_remittance.domain.advice import (
    Adjustment,
    ClaimPaymentAdvice,
    LineAdvice,
    ProviderAdjustmentAdvice,
    RemittanceAdvice,
    UnreadableFile,
)
from rcm_x12 import remittance_reader as x12
from rcm_x12.errors import X12Error

_LONGEST_AMOUNT = Decimal("9999999999.99")  # NUMERIC(12,2): what a column of money holds
# The longest each kept element may be, as the 835 guide allows it (and the columns hold).
_LONGEST: Final = {
    "ISA13": 9, "TRN02": 50, "BPR01": 2, "BPR03": 1, "BPR04": 3, "payer id (N104 or REF*2U)": 80,
}  # fmt: skip
_GROUPS: Final = frozenset({"CO", "CR", "OA", "PI", "PR"})  # CAS01
_LONGEST_CLAIM: Final = {"CLP01": 38, "CLP02": 2, "CLP07": 50}
_LONGEST_PLB: Final = {"PLB03-1": 2, "PLB03-2": 50}


def read_835(data: bytes) -> list[RemittanceAdvice]:
    """Every 835 transaction set of the file, in order; a value longer or larger than the guide allows is
    refused naming the element and where it is, as an unreadable file is."""
    try:
        remittances = x12.read_remittances(data)
    except X12Error as error:
        raise UnreadableFile(str(error)) from None
    except UnicodeDecodeError:
        raise UnreadableFile("the file is not text: an 835 is ASCII X12") from None
    advices = [advice_of(position, remittance) for position, remittance in enumerate(remittances)]
    for advice in advices:
        refuse_oversized(advice)
    return advices


def refuse_oversized(advice: RemittanceAdvice) -> None:
    where = f"transaction set {advice.position + 1}"
    _check(
        {"ISA13": advice.interchange_control_number, "TRN02": advice.trace_number, "BPR01": advice.handling_code,
         "BPR03": advice.credit_debit, "BPR04": advice.payment_method, "payer id (N104 or REF*2U)": advice.payer_id},
        _LONGEST, where,
    )  # fmt: skip
    if not advice.trace_number:
        raise UnreadableFile(f"TRN02 of {where} is empty: the trace is what the payment is known by")
    amounts = [("BPR02", advice.total_paid)]
    for number, claim in enumerate(advice.claims, 1):
        at = f"{where}, claim payment {number}"
        _check({"CLP01": claim.patient_control_number, "CLP02": claim.status,
                "CLP07": claim.payer_claim_number}, _LONGEST_CLAIM, at)  # fmt: skip
        amounts += [(f"CLP03 of {at}", claim.charge), (f"CLP04 of {at}", claim.paid),
                    (f"CLP05 of {at}", claim.patient_responsibility)]  # fmt: skip
        if any(a.group not in _GROUPS for a in claim.all_adjustments):
            raise UnreadableFile(f"a CAS01 of {at} is not a claim adjustment group code (CO, CR, OA, PI, PR)")
    for number, adjustment in enumerate(advice.provider_adjustments, 1):
        at = f"{where}, provider adjustment {number}"
        _check({"PLB03-1": adjustment.reason, "PLB03-2": adjustment.reference}, _LONGEST_PLB, at)
        amounts.append((f"PLB04 of {at}", adjustment.amount))
    for name, amount in amounts:
        if abs(amount) > _LONGEST_AMOUNT:
            raise UnreadableFile(f"{name} is larger than an amount can be ({_LONGEST_AMOUNT})")


def _check(values: dict[str, str], longest: dict[str, int], where: str) -> None:
    for name, value in values.items():
        if len(value) > longest[name]:
            raise UnreadableFile(f"{name} of {where} is longer than {longest[name]} characters")


def advice_of(position: int, remittance: x12.Remittance) -> RemittanceAdvice:
    payment = remittance.payment
    return RemittanceAdvice(
        position=position,
        payer_id=remittance.payer.identifier or remittance.originating_company or remittance.payer.name,
        payer_name=remittance.payer.name[:60],  # N102 allows 60
        trace_number=remittance.trace_number,
        interchange_control_number=remittance.interchange_control_number,
        handling_code=payment.handling_code,
        total_paid=payment.total_paid,
        credit_debit=payment.credit_debit,
        payment_method=payment.method,
        payment_date=payment.payment_date or remittance.production_date,
        claims=tuple(_claim(claim) for claim in remittance.claims),
        provider_adjustments=tuple(
            ProviderAdjustmentAdvice(a.reason, a.reference, a.amount, a.fiscal_period_date)
            for a in remittance.provider_adjustments
        ),
        findings=remittance.findings,
        balance_problems=tuple(remittance.balance_problems()),
    )


def _adjustments(adjustments: tuple[x12.Adjustment, ...]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a.group, a.reason, a.amount) for a in adjustments)


def _claim(claim: x12.Claim) -> ClaimPaymentAdvice:
    return ClaimPaymentAdvice(
        patient_control_number=claim.claim_id,
        status=claim.status,
        charge=claim.charge,
        paid=claim.paid,
        patient_responsibility=claim.patient_responsibility,
        payer_claim_number=claim.payer_claim_number,
        frequency=claim.frequency,
        statement_start=claim.statement_start,
        statement_end=claim.statement_end,
        adjustments=_adjustments(claim.adjustments),
        remark_codes=claim.remark_codes,
        lines=tuple(_line(line) for line in claim.lines),
    )


def _line(line: x12.ServiceLine) -> LineAdvice:
    billed = line.original_procedure
    return LineAdvice(
        procedure_code=line.procedure.code,
        modifiers=line.procedure.modifiers,
        billed_code=billed.code if billed is not None else None,
        billed_modifiers=billed.modifiers if billed is not None else (),
        units_paid=line.units_paid,
        units_billed=line.units_billed,
        service_date=line.service_date or line.service_start,
        charge=line.charge,
        paid=line.paid,
        allowed_amount=line.allowed,
        control_number=line.control_number,
        adjustments=_adjustments(line.adjustments),
        remark_codes=tuple(remark.code for remark in line.remarks),
    )


class RecentReads:
    """`read_835` remembering its last few files by their digest: the poster reads again the file the intake
    read a moment before, and a 10,000-claim 835 takes as long to read as to post. What is read is frozen, so
    it is shared safely; only `keep` files are held, so memory stays bounded.

    A large file is read in a thread (`rcm_common.offload`), so the loop goes on meanwhile; the memory of
    files read is looked up and changed on the loop alone, before and after the read, so it needs no lock.
    Two reads of the same file at once both read it, and the memory keeps one."""

    def __init__(self, keep: int = 2) -> None:
        self._keep = keep
        self._recent: OrderedDict[bytes, list[RemittanceAdvice]] = OrderedDict()

    async def __call__(self, data: bytes) -> list[RemittanceAdvice]:
        digest = hashlib.sha256(data).digest()
        found = self._recent.get(digest)
        if found is None:
            found = await off_the_loop(read_835, data, size=len(data))
            self._recent[digest] = found
            while len(self._recent) > self._keep:
                self._recent.popitem(last=False)
        self._recent.move_to_end(digest)
        return list(found)
