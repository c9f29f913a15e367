"""The synthetic practice's visits code cleanly against the shipped code sets and its own price lists, so the
demo's every visit becomes a ChargesCaptured."""

from __future__ import annotations

from decimal import Decimal

from rcm_charge.adapters.price_csv import parse_chargemaster, parse_contract_rates
from rcm_tools import practice
from rcm_tools.benchmarks.charge_capture import validation_rate


def test_every_visit_validates_cleanly() -> None:
    assert validation_rate(8) > 0  # raises when any visit has an issue


def test_every_payer_has_a_rate_below_the_charge_for_every_code() -> None:
    charges = {entry.code: entry.charge for entry in parse_chargemaster(practice.CHARGEMASTER_CSV)}
    rates = parse_contract_rates(practice.contract_rates_csv())
    assert {(rate.payer_id, rate.code) for rate in rates} == {
        (payer, code) for payer in ("ACME01", "SUMMT1", "MCARE1", "MCAID1") for code in charges
    }
    assert all(Decimal(0) < rate.allowed < charges[rate.code] for rate in rates)
