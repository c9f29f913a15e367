"""The front-end edits a clearinghouse runs before a claim reaches the payer's adjudication: what fails
them is rejected on the 277CA (STC category A3, A6 or A7), never paid or denied on an 835."""

from __future__ import annotations

from dataclasses import dataclass

from rcm_clearinghouse_sim.domain.claims import Claim
from rcm_clearinghouse_sim.domain.coverage import Standing, coverage_of
from rcm_clearinghouse_sim.domain.plans import ZERO
from rcm_common.identifiers import npi_valid

CORRECTIONS = {"7": "replacement", "8": "voiding"}
"""The CLM05-3 frequencies that correct an earlier claim (named by REF*F8), and what they do to it."""


@dataclass(frozen=True, slots=True)
class Status:
    """One category:status:entity code of an STC (STC01, STC10 or STC11)."""

    category: str
    status: str
    entity: str = ""


@dataclass(frozen=True, slots=True)
class Rejection:
    """The STC codes (a second one where the first needs it, as 402 "amount must be greater than zero"
    needs one naming the amount) and STC12's free text."""

    codes: tuple[Status, ...]
    message: str


def _rejection(message: str, category: str, status: str, entity: str = "", *, naming: str = "") -> Rejection:
    """A rejection with one code, or two when `naming` is the status code telling which element is wrong."""
    also = (Status(category, naming),) if naming else ()
    return Rejection((Status(category, status, entity), *also), message)


def front_end_rejection(claim: Claim, *, payer_known: bool, original_open: bool = False) -> Rejection | None:
    """The first edit the claim fails, or None when it goes on to adjudication. `original_open` tells
    whether the claim a replacement or a void names (REF*F8) is one this payer can still replace or void."""
    if not payer_known:
        return _rejection("claim submitted to a payer this clearinghouse does not know", "A3", "116", "PR")
    if not claim.lines:
        return _rejection("the claim has no service line with a date of service", "A6", "187")
    if coverage_of(claim.member_id, claim.service_date).standing is Standing.NOT_FOUND:
        return _rejection("subscriber and subscriber id not found", "A3", "33", "IL")
    if not npi_valid(claim.billing_npi):
        return _rejection("the billing provider's NPI is invalid", "A7", "562", "85")
    if claim.rendering_npi and not npi_valid(claim.rendering_npi):
        return _rejection("the rendering provider's NPI is invalid", "A7", "562", "82")
    if not claim.diagnoses:
        return _rejection("the claim has no principal diagnosis", "A6", "254")
    return _amount_rejection(claim) or _correction_rejection(claim, original_open)


def _amount_rejection(claim: Claim) -> Rejection | None:
    """Charges and units must be positive: a negative one would be paid back as a negative share."""
    if claim.charge <= ZERO:
        return _rejection("the total charge is not greater than zero", "A7", "402", naming="178")
    if any(line.charge <= ZERO for line in claim.lines):
        return _rejection("a line's charge is not greater than zero", "A7", "402", naming="583")
    if any(line.units <= 0 for line in claim.lines):
        return _rejection("a line's units are not greater than zero", "A7", "476")
    if claim.charge != claim.line_charges:
        return _rejection(
            "the claim is out of balance: its total is not the sum of its lines", "A7", "400", naming="178"
        )
    return None


def _correction_rejection(claim: Claim, original_open: bool) -> Rejection | None:
    """A replacement or a void must name a claim this payer and billing provider can still replace or void:
    one adjudicated, and not replaced or voided already. A claim already paid can be: its payment is then
    reversed on the payer's next 835 (CLP02 22)."""
    correction = CORRECTIONS.get(claim.frequency)
    if correction is not None and not original_open:
        message = f"the payer claim number (REF*F8) names no claim of this payer and provider open to {correction}"
        return _rejection(message, "A7", "464")
    return None
