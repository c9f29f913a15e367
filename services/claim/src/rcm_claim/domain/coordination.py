"""Coordination of benefits: after the primary payer pays, what it left goes to the secondary, then the tertiary.

A claim to the next payer (SBR01 S, or T) carries every earlier payer's adjudication, as the 837P's 2320 and
2330 loops and each line's 2430 report it: who that payer is and whom it covers (the member, the subscriber,
the relationship), its claim number, what it paid (AMT*D), its claim-level adjustments (CAS) and date (DTP*573),
and per line what it paid and adjusted (SVD, CAS). The next payer pays from those (the earlier payer's part is
OA-23 on its 835), so a claim to it without them is one it cannot adjudicate: the scrubber holds it
(`rules.prior_payers_reported`).

The next payer is the patient's coverage of the next order (secondary after primary, tertiary after
secondary) that covers the date of service. What the last payer leaves is the patient's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Final
from uuid import UUID

from rcm_claim.domain.adjudication import Adjudication, LinePayment, PriorLine, PriorPayer
from rcm_claim.domain.copies import CoverageCopy, Person
from rcm_claim.domain.model import ORDER_RESPONSIBILITY, Claim, ClaimError

NEXT_ORDER: Final = {"P": "secondary", "S": "tertiary"}
EARLIER: Final = {"P": (), "S": ("P",), "T": ("P", "S")}  # the payers that adjudicate before each


def next_coverage(claim: Claim, coverages: Iterable[CoverageCopy]) -> CoverageCopy | None:
    """The patient's coverage that pays after the claim's payer: the next order, covering the date of service."""
    order = NEXT_ORDER.get(claim.responsibility)
    day = claim.date_of_service
    return next(
        (
            coverage
            for coverage in sorted(coverages, key=lambda c: (c.effective_date, str(c.coverage_id)))
            if coverage.order == order
            and coverage.coverage_id != claim.coverage_id
            and coverage.effective_date <= day
            and (coverage.termination_date is None or day <= coverage.termination_date)
        ),
        None,
    )


def prior_payer(
    claim: Claim,
    paying: Sequence[Adjudication],
    coverage: CoverageCopy,
    person: Person,
    payer_name: str,
    filing: str,
) -> PriorPayer:
    """The claim's payer as the next payer is told of it, from its standing payments that paid the claim, in the
    order they were posted (a claim the payer split, or reconsidered, is paid by several): what they paid
    together (AMT*D), their claim-level adjustments, and each line as the latest of them to answer it (SVD and
    its CAS). When a line was answered without its control number, every adjustment of them all is reported at
    the claim level, so AMT*D and the CAS still add up to the charge of a claim split into parts."""
    latest = paying[-1]
    answered = {line.control_number: line for payment in paying for line in payment.line_payments}
    if all(line.control_number in answered for line in claim.lines):
        paid = sum((payment.paid for payment in paying), Decimal("0.00"))
        adjustments = tuple(adjustment for payment in paying for adjustment in payment.claim_adjustments)
        lines = tuple(_prior_line(line.number, answered[line.control_number]) for line in claim.lines)
    else:
        paid, lines = sum((payment.paid for payment in paying), Decimal("0.00")), ()
        adjustments = tuple(
            adjustment
            for payment in paying
            for adjustment in (
                *payment.claim_adjustments,
                *(a for line in payment.line_payments for a in line.adjustments),
            )
        )
    subscriber = coverage.subscriber if coverage.relationship != "self" and coverage.subscriber else person
    return PriorPayer(
        payer_id=claim.payer_id, payer_name=payer_name, filing_indicator=filing, responsibility=claim.responsibility,
        relationship=coverage.relationship, member_id=coverage.member_id, subscriber=subscriber,
        payer_claim_number=latest.payer_claim_number, payment_id=latest.payment_id, paid=paid,
        paid_on=latest.paid_on or latest.posted_at.date(), adjustments=adjustments, lines=lines,
    )  # fmt: skip


def _prior_line(number: int, paid: LinePayment) -> PriorLine:
    return PriorLine(number, paid.procedure_code, paid.modifiers, paid.units, paid.paid, paid.adjustments)


def next_payer_claim(
    claim: Claim, coverage: CoverageCopy, prior: PriorPayer, new_id: Callable[[], UUID], now: datetime, cause: str
) -> Claim:
    """The claim to the next payer: the same services at the next coverage, with every earlier payer's
    adjudication (this claim's and those it carried)."""
    if coverage.order not in ORDER_RESPONSIBILITY or coverage.order == "primary":
        raise ClaimError(f"a claim after the {claim.responsibility} payer goes to a secondary or tertiary coverage")
    billed = claim.billed_encounter()
    unpriced = tuple(
        dataclasses.replace(line, expected_allowed=None) for line in billed.lines
    )  # the primary's contract
    encounter = dataclasses.replace(
        billed, coverage_id=coverage.coverage_id, payer_id=coverage.payer_id, lines=unpriced
    )
    following = Claim.build(claim_id=new_id(), encounter=encounter, coverage_order=coverage.order, now=now, cause=cause)
    following.prior_payers = (*claim.prior_payers, prior)
    following.timeline[-1] = dataclasses.replace(
        following.timeline[-1], note=f"after {claim.payer_id} paid {prior.paid} on claim {claim.patient_control_number}"
    )
    return following


def missing_prior_payers(claim: Claim) -> tuple[str, ...]:
    """The earlier payers (P, S) a claim to a secondary or tertiary payer does not report."""
    reported = {prior.responsibility for prior in claim.prior_payers}
    return tuple(order for order in EARLIER[claim.responsibility] if order not in reported)


def unbalanced_prior_payers(claim: Claim) -> list[str]:
    """The earlier payers whose reported amounts do not add up as the next payer checks them: the claim's charge
    is what each paid and adjusted (CLM02 = AMT*D + the 2320 CAS + the 2430 CAS), and each line's charge what it
    paid and adjusted on the line (SV102 = SVD02 + the 2430 CAS). A claim the payer has not answered whole (a part
    of a split claim still to come) does not add up yet."""
    problems = []
    charges = {line.number: line.charge for line in claim.lines}
    for prior in claim.prior_payers:
        on_lines = sum((a.amount for line in prior.lines for a in line.adjustments), Decimal("0.00"))
        claim_level = sum((a.amount for a in prior.adjustments), Decimal("0.00"))
        if prior.paid + claim_level + on_lines != claim.total_charge:
            problems.append(
                f"{prior.payer_id}'s adjudication adds up to {prior.paid + claim_level + on_lines}, not the claim's "
                f"{claim.total_charge} (AMT*D + CAS): bill again once that payer has answered every line"
            )
        for line in prior.lines:
            adjusted = line.paid + sum((a.amount for a in line.adjustments), Decimal("0.00"))
            if adjusted != charges.get(line.line_number):
                problems.append(f"{prior.payer_id}'s payment of line {line.line_number} adds up to {adjusted}, not "
                                "its charge (SVD02 + CAS)")  # fmt: skip
    return problems
