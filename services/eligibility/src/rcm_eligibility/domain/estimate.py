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

from collections.abc import Sequence
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


@dataclass(frozen=True, slots=True)
class PlannedService:
    """One service of a planned visit: its code, service type and the payer's allowed amount for it."""

    procedure_code: str
    service_type: str
    allowed_amount: Decimal


@dataclass(frozen=True, slots=True)
class VisitEstimate:
    """Each service's estimate, the deductible and out-of-pocket maximum consumed in the order given."""

    services: tuple[tuple[PlannedService, Estimate], ...]

    def total(self, field: str) -> Decimal:
        return sum((getattr(estimate, field) for _, estimate in self.services), _ZERO)


def estimate_visit(benefits: Benefits, services: Sequence[PlannedService]) -> VisitEstimate:
    """The estimate of several services of one visit: what one service takes of the deductible and of the
    out-of-pocket maximum is no longer there for the next (per insurance type, as Medicare's parts keep
    their own)."""
    used_deductible: dict[str | None, Decimal] = {}
    used_out_of_pocket: dict[str | None, Decimal] = {}
    estimated = []
    for service in services:
        part = benefits.insurance_type_for(service.service_type)
        deductible_left = _less(benefits.deductible_for(service.service_type).remaining, used_deductible.get(part))
        ceiling = _less(benefits.out_of_pocket_for(service.service_type).remaining, used_out_of_pocket.get(part))
        one = _estimate(benefits, service.service_type, service.allowed_amount, deductible_left, ceiling)
        used_deductible[part] = used_deductible.get(part, _ZERO) + one.deductible
        used_out_of_pocket[part] = used_out_of_pocket.get(part, _ZERO) + one.patient_responsibility
        estimated.append((service, one))
    return VisitEstimate(tuple(estimated))


def _less(remaining: Decimal | None, used: Decimal | None) -> Decimal | None:
    if remaining is None:
        return None
    return max(remaining - (used or _ZERO), _ZERO)


def estimate(benefits: Benefits, service_type: str, allowed_amount: Decimal) -> Estimate:
    """The estimate of one service, from what the payer said remains."""
    return _estimate(
        benefits,
        service_type,
        allowed_amount,
        benefits.deductible_for(service_type).remaining,
        benefits.out_of_pocket_for(service_type).remaining,
    )


def _estimate(
    benefits: Benefits,
    service_type: str,
    allowed_amount: Decimal,
    deductible_left: Decimal | None,
    ceiling: Decimal | None,
) -> Estimate:
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
        remaining = deductible_left
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
