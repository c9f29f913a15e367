"""The simulated payers' rules: pricing and the patient's share across claims (accumulators), each denial,
coordination of benefits, the eligibility conventions, front-end edits and determinism from the seed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from rcm_clearinghouse_sim.config import ClearinghouseSettings, load_config
from rcm_clearinghouse_sim.domain.accumulators import Met
from rcm_clearinghouse_sim.domain.adjudication import (
    ClaimResult,
    DuplicateKey,
    adjudicate,
    allowed_keys,
    duplicate_key,
)
from rcm_clearinghouse_sim.domain.claims import Claim, Line, PriorShare
from rcm_clearinghouse_sim.domain.coverage import Standing, coverage_of
from rcm_clearinghouse_sim.domain.edits import Status, front_end_rejection
from rcm_clearinghouse_sim.domain.eligibility import answer
from rcm_clearinghouse_sim.domain.plans import Denial, Plan

CONFIG = load_config(ClearinghouseSettings(environment="test"))
PLANS = {payer_id: replace(plan, random_denial_rate=0.0) for payer_id, plan in CONFIG.plans().items()}
ACME, MEDICARE, MEDICAID = PLANS["ACME01"], PLANS["MCARE1"], PLANS["MCAID1"]
DOS = date(2026, 3, 2)
RECEIVED = date(2026, 3, 10)


def line(
    procedure: str = "99213",
    charge: str = "150.00",
    number: int = 1,
    modifiers: tuple[str, ...] = (),
    **changes: object,
) -> Line:
    fields: dict[str, object] = {"units": Decimal(1), "service_date": DOS, "pointers": (1,)} | changes
    return Line(number, procedure, modifiers, Decimal(charge), **fields)  # type: ignore[arg-type]


def claim(*lines: Line, payer: str = "ACME01", member: str = "W1", **changes: object) -> Claim:
    lines = lines or (line(),)
    total = sum((item.charge for item in lines), Decimal("0.00"))
    fields: dict[str, object] = {"diagnoses": ("J069",), "rendering_npi": ""} | changes
    return Claim("PCN1", payer, member, "1234567893", charge=total, lines=lines, **fields)  # type: ignore[arg-type]


def run(
    made: Claim,
    plan: Plan = ACME,
    met: Met | None = None,
    *,
    received: date = RECEIVED,
    seen: frozenset[DuplicateKey] = frozenset(),
    seed: int = 1,
) -> tuple[ClaimResult, Met]:
    coverage = coverage_of(made.member_id, made.service_date)
    return adjudicate(made, plan, coverage, met or Met(), received=received, seen=seen, seed=seed)


def codes(result: ClaimResult) -> list[tuple[str, str, Decimal]]:
    return [(a.group, a.reason, a.amount) for item in result.lines for a in item.adjustments]


def test_the_deductible_is_met_across_two_claims_then_coinsurance_applies() -> None:
    # ACME: 20610 allowed 82.22 (1.35 x 60.90), no copay; deductible 1500; 20%.
    first, met = run(claim(line("20610", "200.00")), met=Met(Decimal("1450.00")))
    assert codes(first) == [("CO", "45", Decimal("117.78")), ("PR", "1", Decimal("50.00")),
                            ("PR", "2", Decimal("6.44"))]  # fmt: skip
    assert (first.lines[0].paid, first.status) == (Decimal("25.78"), "1")
    assert met == Met(Decimal("1500.00"), Decimal("56.44"))

    second, met = run(claim(line("20610", "200.00")), met=met)
    assert codes(second) == [("CO", "45", Decimal("117.78")), ("PR", "2", Decimal("16.44"))]
    assert second.paid == Decimal("65.78")
    assert met.out_of_pocket == Decimal("72.88")


def test_a_copay_line_owes_the_copay_instead_of_the_deductible_and_coinsurance() -> None:
    # ACME: 99213 allowed 121.61 (1.35 x 90.08), a 25.00 office-visit copay, the deductible untouched.
    result, met = run(claim(line("99213", "150.00")))

    assert codes(result) == [("CO", "45", Decimal("28.39")), ("PR", "3", Decimal("25.00"))]
    assert result.paid == Decimal("96.61")
    assert met == Met(Decimal("0.00"), Decimal("25.00"))


def test_the_out_of_pocket_maximum_stops_the_patient_share() -> None:
    result, met = run(claim(line("99214", "200.00")), met=Met(Decimal("1500.00"), Decimal("5990.00")))

    assert result.patient == Decimal("10.00")
    assert met.out_of_pocket == Decimal("6000.00")
    assert result.paid == Decimal("162.17")


def test_medicare_has_no_copay_and_twenty_percent_after_its_deductible() -> None:
    result, _ = run(claim(line("99213", "120.00"), payer="MCARE1"), MEDICARE, Met(Decimal("283.00")))

    assert codes(result) == [("CO", "45", Decimal("29.92")), ("PR", "2", Decimal("18.02"))]
    assert result.paid == Decimal("72.06")


def test_medicaid_pays_the_allowed_amount_less_a_small_copay() -> None:
    result, _ = run(claim(line("99213", "120.00"), payer="MCAID1"), MEDICAID)

    assert codes(result) == [("CO", "45", Decimal("55.14")), ("PR", "3", Decimal("3.00"))]


def test_an_unlisted_code_is_allowed_a_share_of_its_charge() -> None:
    result, _ = run(claim(line("99999", "100.00")), met=Met(Decimal("1500.00")))

    assert result.lines[0].allowed == Decimal("60.00")


@pytest.mark.parametrize(
    ("made", "received", "denial"),
    [
        (claim(member="TERM1"), RECEIVED, Denial("27")),
        (claim(), date(2026, 6, 1), Denial("29")),
        (claim(diagnoses=("4779",)), RECEIVED, Denial("16", "M76")),
        (claim(line(pointers=(2,))), RECEIVED, Denial("16", "M76")),
        (claim(line("G0439")), RECEIVED, Denial("96", "N130")),
        (claim(line("70551", "900.00")), RECEIVED, Denial("197")),
    ],
    ids=["not-covered-on-the-date", "filed-late", "malformed-icd10", "pointer-to-nothing", "not-covered", "no-auth"],
)
def test_each_denial_rule(made: Claim, received: date, denial: Denial) -> None:
    result, met = run(made, received=received)

    [denied] = result.lines
    assert (denied.paid, denied.allowed, result.status) == (Decimal("0.00"), None, "4")
    assert codes(result) == [("CO", denial.reason, denied.line.charge)]
    assert denied.remarks == ((denial.remark,) if denial.remark else ())
    assert met == Met()


def test_a_prior_authorisation_lets_the_imaging_through() -> None:
    result, _ = run(claim(line("70551", "900.00"), prior_authorization="AUTH1"))

    assert not result.lines[0].denied


def test_a_line_seen_in_an_earlier_batch_is_a_duplicate() -> None:
    made = claim()

    result, _ = run(made, seen=frozenset({duplicate_key(made, made.lines[0])}))

    assert codes(result) == [("CO", "18", Decimal("150.00"))]


def test_only_allowed_lines_make_later_lines_duplicates() -> None:
    made = claim(line(), line("99214", "200.00", number=2, pointers=(2,)))

    result, _ = run(made)

    assert [item.denied for item in result.lines] == [False, True]  # the second points at no diagnosis
    assert allowed_keys(made, result) == {duplicate_key(made, made.lines[0])}


def test_a_dependant_is_not_a_duplicate_of_the_subscriber() -> None:
    subscriber = claim()
    child = replace(subscriber, dependant=("DOE", "JIM", date(2012, 4, 1)))

    assert duplicate_key(subscriber, subscriber.lines[0]) != duplicate_key(child, child.lines[0])


def test_random_denials_follow_the_seed() -> None:
    noisy = replace(ACME, random_denial_rate=0.5, random_denials=(Denial("50", "N386"),))
    many = [claim(line(number=n), member=f"W{n}") for n in range(1, 41)]

    def denied(seed: int) -> list[bool]:
        return [run(made, noisy, seed=seed)[0].lines[0].denied for made in many]

    assert denied(7) == denied(7)
    assert denied(7) != denied(8)
    assert 5 < sum(denied(7)) < 35


def test_a_secondary_pays_the_lesser_of_what_is_left_and_its_own_payment() -> None:
    # Medicare secondary after a primary that paid 80 and left 40 to the patient on a 150.00 charge.
    made = claim(
        line("99213", "150.00"),
        payer="MCARE1",
        responsibility="S",
        prior=PriorShare(Decimal("80.00"), Decimal("40.00")),
    )

    result, met = run(made, MEDICARE, Met(Decimal("283.00")))

    assert result.status == "2"
    assert codes(result) == [("OA", "23", Decimal("110.00"))]
    assert result.paid == Decimal("40.00")
    assert result.patient == Decimal("0.00")
    assert met == Met(Decimal("283.00"), Decimal("0.00"))


def test_a_secondary_leaves_the_patient_its_own_deductible_and_credits_what_it_would_have_applied() -> None:
    """NAIC coordination of benefits model regulation, section 7: the secondary plan credits to its deductible
    what it would have credited as primary (the whole $90.08 allowed for 99213), though the member paid it
    only the $40.00 the primary left."""
    made = claim(
        line("99213", "150.00"),
        payer="MCARE1",
        responsibility="S",
        prior=PriorShare(Decimal("80.00"), Decimal("40.00")),
    )

    result, met = run(made, MEDICARE)

    assert codes(result) == [("OA", "23", Decimal("110.00")), ("PR", "1", Decimal("40.00"))]
    assert result.paid == Decimal("0.00")
    assert met.deductible == Decimal("90.08")
    assert met.out_of_pocket == Decimal("40.00")  # what the member owes, not the deductible credited


def test_every_line_balances() -> None:
    lines = (line("99214", "200.00"), line("70551", "900.00", number=2), line("36415", "2.00", number=3))
    result, _ = run(claim(*lines), met=Met(Decimal("1000.00")))

    for item in result.lines:
        assert item.line.charge == item.paid + sum((a.amount for a in item.adjustments), Decimal("0.00"))


@pytest.mark.parametrize(
    ("member_id", "standing", "end"),
    [
        ("W1", Standing.ACTIVE, None),
        ("NOTFOUND1", Standing.NOT_FOUND, None),
        ("TERM1", Standing.TERMINATED, date(2026, 1, 31)),
        ("DOWN1", Standing.UNAVAILABLE, None),
    ],
)
def test_the_member_id_conventions(member_id: str, standing: Standing, end: date | None) -> None:
    coverage = coverage_of(member_id, DOS)

    assert (coverage.standing, coverage.end) == (standing, end)
    if standing is not Standing.NOT_FOUND:
        assert coverage.begin == date(2025, 1, 1)


def test_an_eligibility_answer_tells_what_remains() -> None:
    found = answer(ACME, "W1", DOS, ("30",), Met(Decimal("300.00"), Decimal("450.00")), seed=1)

    by_code = {(b.code, b.time_period): b for b in found.benefits}
    assert by_code[("C", "29")].amount == Decimal("1200.00")
    assert by_code[("G", "29")].amount == Decimal("5550.00")
    assert by_code[("B", "27")].amount == Decimal("25.00")
    assert by_code[("A", "")].percent == Decimal("0.2")
    assert [b.service_types for b in found.benefits if b.authorization_required] == [("2", "4", "62")]
    assert found.group_number == answer(ACME, "W1", DOS, ("30",), Met(), seed=1).group_number
    assert found.group_number != answer(ACME, "W1", DOS, ("30",), Met(), seed=2).group_number


def test_a_terminated_member_is_told_inactive() -> None:
    found = answer(ACME, "TERM9", DOS, ("30",), Met(), seed=1)

    assert [b.code for b in found.benefits] == ["6"]


@pytest.mark.parametrize(
    ("made", "known", "statuses"),
    [
        (claim(), False, ["116"]),
        (claim(member="NOTFOUND7"), True, ["33"]),
        (replace(claim(), billing_npi="1234567890"), True, ["562"]),
        (claim(rendering_npi="1111111111"), True, ["562"]),
        (claim(diagnoses=()), True, ["254"]),
        (replace(claim(), charge=Decimal("1.00")), True, ["400", "178"]),  # out of balance: STC A7:400
        (claim(line(charge="-150.00")), True, ["402", "178"]),
        (claim(line(charge="0.00")), True, ["402", "178"]),
        (claim(line(charge="200.00"), line(charge="-50.00", number=2)), True, ["402", "583"]),
        (claim(line(units=Decimal(-1))), True, ["476"]),
        (claim(line(units=Decimal(0))), True, ["476"]),
        (claim(frequency="8", corrects="ACME010000000001"), True, ["464"]),
        (claim(frequency="7", corrects="ACME010000000001"), True, ["464"]),
    ],
    ids=[
        "unknown-payer",
        "unknown-member",
        "billing-npi",
        "rendering-npi",
        "no-diagnosis",
        "charge-mismatch",
        "negative-total",
        "zero-total",
        "negative-line",
        "negative-units",
        "zero-units",
        "void-of-nothing-open",
        "replacement-of-nothing-open",
    ],
)
def test_front_end_edits_reject(made: Claim, known: bool, statuses: list[str]) -> None:
    rejection = front_end_rejection(made, payer_known=known)

    assert rejection is not None
    assert [code.status for code in rejection.codes] == statuses


def test_an_amount_not_above_zero_is_named_on_the_rejection() -> None:
    rejection = front_end_rejection(claim(line(charge="-150.00")), payer_known=True)

    assert rejection is not None
    assert rejection.codes == (Status("A7", "402"), Status("A7", "178"))


def test_a_clean_claim_passes_the_edits() -> None:
    assert front_end_rejection(claim(), payer_known=True) is None
    assert front_end_rejection(claim(frequency="7", corrects="ACME01X"), payer_known=True, original_open=True) is None
    assert front_end_rejection(claim(frequency="8", corrects="ACME01X"), payer_known=True, original_open=True) is None


def test_a_void_of_nothing_open_says_so() -> None:
    rejection = front_end_rejection(claim(frequency="8", corrects="ACME01X"), payer_known=True)

    assert rejection is not None
    assert rejection.codes == (Status("A7", "464"),)
    assert rejection.message.endswith("open to voiding")


def test_the_annual_wellness_visit_is_paid_in_full() -> None:
    """MCPM chapter 18, §140: neither the Part B deductible nor coinsurance applies to the annual wellness
    visit (G0438, G0439). The reviewed case: G0439 paid in full by the Medicare-like payer, with the
    deductible untouched; the office visit beside it bears the deductible."""
    made = claim(line("G0439", "200.00"), line("99213", "150.00", number=2), payer="MCARE1")

    result, met = run(made, MEDICARE)

    wellness, visit = result.lines
    assert (wellness.allowed, wellness.paid, wellness.patient) == (
        Decimal("125.38"),
        Decimal("125.38"),
        Decimal("0.00"),
    )
    assert visit.patient == Decimal("90.08")  # the visit goes to the deductible
    assert met.deductible == Decimal("90.08")


def test_icd10cm_special_purpose_u_codes_are_valid_diagnoses() -> None:
    """ICD-10-CM chapter 22 (U00-U85): U07.1 COVID-19 and U09.9 post COVID-19 condition are billable codes."""
    made = claim(line("99213", "150.00"), diagnoses=("U071", "U099"))
    assert not run(made)[0].lines[0].denied


def test_the_same_code_on_the_other_side_is_not_a_duplicate() -> None:
    """20610-RT after 20610-LT is the other knee: duplicates are compared with their modifiers."""
    left = claim(line("20610", "160.00", modifiers=("LT",)))
    right = claim(line("20610", "160.00", modifiers=("RT",)))
    again = claim(line("20610", "160.00", modifiers=("LT",)))
    seen = frozenset(allowed_keys(left, run(left)[0]))

    assert not run(right, seen=seen)[0].lines[0].denied
    assert run(again, seen=seen)[0].lines[0].adjustments[0].reason == "18"
