"""What a simulated payer's plan says: its cost sharing, fee schedule, coverage rules, filing limit and how
it pays. Plain data, made from the configuration once; every rule reads it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    """Money to the cent, half up, as payers round a percentage of an amount."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Denial:
    """A denial's claim adjustment reason (CARC, group CO) and remark (RARC, may be empty)."""

    reason: str
    remark: str = ""


@dataclass(frozen=True, slots=True)
class Remitter:
    """How the payer pays and names itself on its 835s: method, EIN (TRN03 is "1" and it), address and
    technical contact, and for ACH both banks' routing numbers and accounts. And what it does after paying:
    interest at `interest_rate` a year on a payment made more than `interest_after_days` after the claim
    was received (prompt-pay rules: Medicare's is 30 days), and a `reprocess_share` of the claims it pays
    taken back and paid again with each allowed amount changed by `reprocess_allowed_change` (a fraction:
    a corrected fee schedule)."""

    method: Literal["ACH", "CHK"]
    tax_id: str
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    sender_routing: str = ""
    sender_account: str = ""
    receiver_routing: str = ""
    receiver_account: str = ""
    interest_after_days: int = 30
    interest_rate: Decimal = Decimal("0")
    reprocess_share: float = 0.0
    reprocess_allowed_change: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class Plan:
    """One payer's plan. `coinsurance` is the member's share as a fraction; `copay` applies per line to
    `copay_codes` (office visits) and is told for `copay_service_types` in a 271; prior authorisation is
    required for `auth_codes` on claims and told (EB11) for `auth_service_types`. A code missing from
    `fees` is allowed `unlisted_share` of its charge; `no_cost_sharing` codes (preventive services) owe the
    member nothing."""

    payer_id: str
    name: str
    plan_description: str
    insurance_type: str  # EB04: MB Medicare Part B, MC Medicaid, PR PPO, HM HMO
    claim_filing: str  # CLP06 of the 835
    deductible: Decimal
    coinsurance: Decimal
    copay: Decimal
    copay_codes: frozenset[str]
    copay_service_types: tuple[str, ...]
    out_of_pocket_max: Decimal | None
    auth_codes: frozenset[str]
    auth_service_types: tuple[str, ...]
    fees: Mapping[str, Decimal]
    unlisted_share: Decimal
    not_covered: frozenset[str]
    no_cost_sharing: frozenset[str]
    timely_filing_days: int
    random_denial_rate: float
    random_denials: tuple[Denial, ...]
    remitter: Remitter

    def allowed(self, code: str, charge: Decimal, units: Decimal) -> Decimal:
        """The fee schedule's amount for the units billed, never more than the charge."""
        fee = self.fees.get(code)
        priced = cents(fee * units) if fee is not None else cents(charge * self.unlisted_share)
        return min(priced, charge)
