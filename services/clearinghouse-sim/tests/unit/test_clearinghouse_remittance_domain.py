"""What the payers do after paying, as plain rules: a reversal negates every amount and still balances, a
reprocessing moves the allowed amount and the payment together (never past the charge, never below zero),
prompt-pay interest counts the days past the limit, the share of claims reprocessed follows the seed, and a
payment that would go below zero carries a forward balance."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rcm_clearinghouse_sim.config import ClearinghouseSettings, load_config
from rcm_clearinghouse_sim.domain.accumulators import Met
from rcm_clearinghouse_sim.domain.adjudication import ClaimResult, LineResult, adjudicate
from rcm_clearinghouse_sim.domain.claims import Claim, Line, PriorShare
from rcm_clearinghouse_sim.domain.coverage import coverage_of
from rcm_clearinghouse_sim.domain.remittance import (
    ProviderAdjustment,
    forward_balance,
    late_payment_interest,
    readjudicated,
    reprocess_drawn,
    reversal,
)

D = Decimal
PLANS = {payer_id: replace(plan, random_denial_rate=0.0) for payer_id, plan in load_config(
    ClearinghouseSettings(environment="test")
).plans().items()}  # fmt: skip
ACME, MEDICARE = PLANS["ACME01"], PLANS["MCARE1"]
DOS = date(2026, 3, 2)


def line(procedure: str, charge: str, number: int = 1, pointers: tuple[int, ...] = (1,)) -> Line:
    return Line(number, procedure, (), D(charge), D(1), DOS, pointers)


def adjudicated(*lines: Line, plan_id: str = "ACME01", met: Met | None = None, **changes: object) -> ClaimResult:
    total = sum((item.charge for item in lines), D("0.00"))
    made = Claim("PCN1", plan_id, "W1", "1234567893", "", total, ("J069",), lines, **changes)  # type: ignore[arg-type]
    coverage = coverage_of(made.member_id, made.service_date)
    result, _ = adjudicate(
        made, PLANS[plan_id], coverage, met or Met(), received=date(2026, 3, 10), seen=frozenset(), seed=1
    )
    return result


# ACME01: 99213 (150.00) allowed 121.61, copay 25.00, paid 96.61; 20610 (150.00) allowed 82.22, all to the
# deductible; the second line's pointer names no diagnosis, so it is denied CO-16.
MIXED = adjudicated(line("99213", "150.00"), line("20610", "150.00", 2), line("93000", "60.00", 3, pointers=(2,)))


def triples(result: LineResult) -> list[tuple[str, str, Decimal]]:
    return [(a.group, a.reason, a.amount) for a in result.adjustments]


def balances(result: ClaimResult) -> bool:
    return all(
        item.line.charge - item.paid == sum((a.amount for a in item.adjustments), D("0.00")) for item in result.lines
    )


def test_a_reversal_negates_every_amount_and_keeps_the_group_codes() -> None:
    taken = reversal(MIXED)

    assert taken.status == "22"
    assert (taken.paid, taken.patient) == (-MIXED.paid, -MIXED.patient)
    for original, negated in zip(MIXED.lines, taken.lines, strict=True):
        assert (negated.line.charge, negated.paid) == (-original.line.charge, -original.paid)
        assert negated.allowed == (None if original.allowed is None else -original.allowed)
        assert triples(negated) == [(g, r, -a) for g, r, a in triples(original)]
        assert (negated.line.units, negated.line.procedure, negated.remarks) == (
            original.line.units, original.line.procedure, original.remarks
        )  # fmt: skip
    assert balances(taken)
    assert triples(taken.lines[0]) == [("CO", "45", D("-28.39")), ("PR", "3", D("-25.00"))]


def test_a_reversal_of_nothing_paid_writes_zero_not_minus_zero() -> None:
    deductible = reversal(adjudicated(line("20610", "150.00"))).lines[0]

    assert str(deductible.paid) == "0.00"


@pytest.mark.parametrize(
    ("change", "allowed", "paid", "write_off"),
    [
        ("0.1", "133.77", "108.77", "16.23"),  # 12.16 more allowed, all paid by the plan
        ("-0.1", "109.45", "84.45", "40.55"),
        ("0.5", "150.00", "125.00", None),  # never more than the charge
        ("-1", "25.00", "0.00", "125.00"),  # the copay stays: the payment stops at zero
        ("0", "121.61", "96.61", "28.39"),
    ],
)
def test_reprocessing_moves_the_allowed_amount_and_the_payment_together(
    change: str, allowed: str, paid: str, write_off: str | None
) -> None:
    [visit] = readjudicated(adjudicated(line("99213", "150.00")), D(change)).lines

    assert (visit.allowed, visit.paid) == (D(allowed), D(paid))
    assert triples(visit) == [
        *([("CO", "45", D(write_off))] if write_off else []),
        ("PR", "3", D("25.00")),
    ]


def test_reprocessing_leaves_denials_and_the_patient_share_alone_and_balances() -> None:
    again = readjudicated(MIXED, D("0.05"))

    assert again.status == MIXED.status
    assert again.lines[2] == MIXED.lines[2]  # denied, denied again
    assert [item.patient for item in again.lines] == [item.patient for item in MIXED.lines]
    assert again.paid == MIXED.paid + D("6.08") + D("4.11")  # 5% of 121.61 and of 82.22
    assert balances(again)


def test_reprocessing_a_secondary_claim_takes_from_its_write_off_only() -> None:
    secondary = adjudicated(
        line("99213", "150.00"), plan_id="MCARE1", met=Met(D("283.00")), responsibility="S",
        prior=PriorShare(D("80.00"), D("40.00")),
    )  # fmt: skip

    assert readjudicated(secondary, D("0.1")) == secondary  # no CO-45 left to pay from
    less = readjudicated(secondary, D("-0.1"))
    assert (less.paid, triples(less.lines[0])[0]) == (D("30.99"), ("CO", "45", D("9.01")))  # 10% of 90.08
    assert balances(less)


@pytest.mark.parametrize(
    ("received", "paid_on", "interest"),
    [
        (date(2026, 3, 10), date(2026, 4, 9), "0.00"),  # the 30th day: on time
        (date(2026, 3, 10), date(2026, 4, 10), "0.03"),  # one day late: 96.61 x 12% / 365 = 0.032
        (date(2026, 3, 10), date(2026, 4, 24), "0.48"),  # fifteen days: 0.476
        (date(2026, 3, 10), date(2027, 4, 9), "11.59"),  # a year late: 12% of it
    ],
)
def test_interest_counts_the_days_past_the_prompt_pay_limit(received: date, paid_on: date, interest: str) -> None:
    owed = late_payment_interest(D("96.61"), received, paid_on, after_days=30, annual_rate=D("0.12"))

    assert owed == D(interest)


def test_no_interest_without_a_payment_or_a_rate() -> None:
    late = (date(2026, 1, 1), date(2026, 6, 1))

    assert late_payment_interest(D("0.00"), *late, after_days=30, annual_rate=D("0.12")) == D("0.00")
    assert late_payment_interest(D("-96.61"), *late, after_days=30, annual_rate=D("0.12")) == D("0.00")
    assert late_payment_interest(D("96.61"), *late, after_days=30, annual_rate=D("0")) == D("0.00")
    assert late_payment_interest(D("96.61"), *late, after_days=0, annual_rate=D("0.1")) == D("4.00")  # 151 days


def test_the_share_reprocessed_follows_the_seed() -> None:
    numbers = [f"ACME01{n:010d}" for n in range(1, 201)]

    def drawn(seed: int, share: float) -> list[bool]:
        return [reprocess_drawn(seed, number, share) for number in numbers]

    assert drawn(7, 0.25) == drawn(7, 0.25)
    assert drawn(7, 0.25) != drawn(8, 0.25)
    assert 25 < sum(drawn(7, 0.25)) < 75
    assert not any(drawn(7, 0.0))
    assert all(drawn(7, 1.0))


def test_a_payment_below_zero_is_carried_forward() -> None:
    recovered = ProviderAdjustment("WO", "ACME010000000001", D("90.00"))
    interest = ProviderAdjustment("L6", "ACME010000000002", D("-0.50"))

    assert forward_balance(D("100.00"), [recovered, interest], "T1") is None
    assert forward_balance(D("89.50"), [recovered, interest], "T1") is None  # exactly nothing paid
    assert forward_balance(D("10.00"), [recovered, interest], "T1") == ProviderAdjustment("FB", "T1", D("-79.50"))
    assert forward_balance(D("-96.61"), [], "T2") == ProviderAdjustment("FB", "T2", D("-96.61"))
