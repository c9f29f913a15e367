"""The front-end edits a clearinghouse runs before a claim reaches the payer's adjudication: what fails
them is rejected on the 277CA (STC category A3, A6 or A7), never paid or denied on an 835."""

from __future__ import annotations

from dataclasses import dataclass

from rcm_clearinghouse_sim.domain.claims import Claim
from rcm_clearinghouse_sim.domain.coverage import Standing, coverage_of


@dataclass(frozen=True, slots=True)
class Rejection:
    """STC01-1 to 3 (category, status, entity) and STC12's free text."""

    category: str
    status: str
    entity: str
    message: str


def npi_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit over 80840 and the first nine (CMS's rule)."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    total = 0
    for index, digit in enumerate(reversed("80840" + npi)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def front_end_rejection(claim: Claim, *, payer_known: bool) -> Rejection | None:
    """The first edit the claim fails, or None when it goes on to adjudication."""
    if not payer_known:
        return Rejection("A3", "116", "PR", "claim submitted to a payer this clearinghouse does not know")
    if not claim.lines:
        return Rejection("A6", "187", "", "the claim has no service line with a date of service")
    if coverage_of(claim.member_id, claim.service_date).standing is Standing.NOT_FOUND:
        return Rejection("A3", "33", "IL", "subscriber and subscriber id not found")
    if not npi_valid(claim.billing_npi):
        return Rejection("A7", "562", "85", "the billing provider's NPI is invalid")
    if claim.rendering_npi and not npi_valid(claim.rendering_npi):
        return Rejection("A7", "562", "82", "the rendering provider's NPI is invalid")
    if not claim.diagnoses:
        return Rejection("A6", "254", "", "the claim has no principal diagnosis")
    if claim.charge != claim.line_charges:
        return Rejection("A7", "178", "", "the total charge is not the sum of the lines' charges")
    return None
