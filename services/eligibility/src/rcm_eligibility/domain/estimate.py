"""The good-faith estimate of what a patient will owe for a planned service, from the payer's allowed
amount and the benefits the latest 271 stated.

The order is the one most plans apply: a copay where the plan sets one for the service type (the
deductible then does not apply); otherwise the deductible still remaining, then coinsurance on the rest;
the total is capped at what is left of the out-of-pocket maximum. The deductible and maximum are those of
the insurance type that pays the service: Medicare's Part B for a physician's service, never Part A's.
Every assumption made for a benefit the payer did not state is listed, so the front desk can say how firm
the figure is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from rcm_eligibility.domain.benefits import Benefits

_CENT: Final = Decimal("0.01")
_ZERO: Final = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Estimate:
    allowed_amount: Decimal
    copay: Decimal
    deductible: Decimal
    coinsurance: Decimal
    patient_responsibility: Decimal
    plan_payment: Decimal
    prior_authorization_required: bool
    assumptions: tuple[str, ...]


def estimate(benefits: Benefits, service_type: str, allowed_amount: Decimal) -> Estimate:
    if allowed_amount < 0:
        raise ValueError("an allowed amount is never negative")
    assumptions: list[str] = []
    copay = benefits.copay_for(service_type)
    deductible = coinsurance = _ZERO
    if copay is not None:
        copay = min(copay, allowed_amount)
        assumptions.append("the copay applies instead of the deductible and coinsurance")
    else:
        copay = _ZERO
        remaining = benefits.deductible_for(service_type).remaining
        if remaining is None:
            remaining = _ZERO
            assumptions.append("the payer stated no deductible remaining: none is assumed")
        deductible = min(remaining, allowed_amount)
        share = benefits.coinsurance_for(service_type)
        if share is None:
            share = Decimal(0)
            assumptions.append("the payer stated no coinsurance: none is assumed")
        coinsurance = ((allowed_amount - deductible) * share).quantize(_CENT, rounding=ROUND_HALF_UP)
    owed = copay + deductible + coinsurance
    ceiling = benefits.out_of_pocket_for(service_type).remaining
    if ceiling is None:
        assumptions.append("the payer stated no out-of-pocket maximum: the total is not capped")
    elif owed > ceiling:
        owed = ceiling
        assumptions.append("capped at the out-of-pocket maximum still remaining")
    owed = owed.quantize(_CENT)
    return Estimate(
        allowed_amount=allowed_amount.quantize(_CENT),
        copay=copay.quantize(_CENT),
        deductible=deductible.quantize(_CENT),
        coinsurance=coinsurance,
        patient_responsibility=owed,
        plan_payment=(allowed_amount - owed).quantize(_CENT),
        prior_authorization_required=benefits.needs_prior_authorization(service_type),
        assumptions=tuple(assumptions),
    )
