"""Matching and posting as plain Python: which claim and which line a payment pays, what it posts (paid,
allowed, the patient's share by kind), which of it is a denial and in what category, and when an allowed
amount is an underpayment."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from rcm_remittance.domain.advice import Adjustment, ClaimPaymentAdvice, LineAdvice
from rcm_remittance.domain.codes import CURATED
from rcm_remittance.domain.copies import ClaimCopy, LineCopy
from rcm_remittance.domain.matching import ClaimMatch, CopyIndex, NoMatch, candidates, find_claim, match_lines
from rcm_remittance.domain.posting import Tolerance, denials_of, posting_of, underpayment_of

DAY = date(2026, 11, 2)
D = Decimal


def copy_line(control: str, code: str, *, modifiers: tuple[str, ...] = (), units: str = "1",
              charge: str = "100.00", expected: str | None = "80.00") -> LineCopy:  # fmt: skip
    return LineCopy(control, code, modifiers, D(units), DAY, D(charge), D(expected) if expected else None)


def line(
    code: str,
    *,
    control: str = "",
    modifiers: tuple[str, ...] = (),
    billed: str | None = None,
    billed_modifiers: tuple[str, ...] = (),
    units: str = "1",
    charge: str = "100.00",
    paid: str = "64.00",
    allowed: str | None = "80.00",
    adjustments: tuple[Adjustment, ...] = (),
    day: date | None = DAY,
) -> LineAdvice:
    """A paid line; without adjustments, the charge above the allowed is CO-45 and the allowed above the paid
    is the patient's coinsurance."""
    if not adjustments:
        adjustments = (
            Adjustment("CO", "45", D(charge) - D(allowed or charge)),
            Adjustment("PR", "2", D(allowed or charge) - D(paid)),
        )
    return LineAdvice(code, modifiers, billed, billed_modifiers, D(units), D(units), day, D(charge), D(paid),
                      D(allowed) if allowed else None, control, adjustments, ())  # fmt: skip


def claim_copy(*lines: LineCopy, number: str | None = "PAYER1", payer: str = "ACME01") -> ClaimCopy:
    return ClaimCopy(uuid.uuid4(), uuid.uuid4(), payer, uuid.uuid4(), "C" + uuid.uuid4().hex[:16].upper(), "1",
                     sum((item.charge for item in lines), D(0)), lines, "accepted", number)  # fmt: skip


def payment(*lines: LineAdvice, control: str = "CX", number: str = "PAYER1", status: str = "1",
            adjustments: tuple[Adjustment, ...] = ()) -> ClaimPaymentAdvice:  # fmt: skip
    charge = sum((item.charge for item in lines), D(0))
    paid = sum((item.paid for item in lines), D(0))
    patient = sum((a.amount for item in lines for a in item.adjustments if a.group == "PR"), D(0))
    return ClaimPaymentAdvice(control, status, charge, paid, patient, number, "1", DAY, DAY, adjustments, (), lines)


def test_a_claim_is_found_by_its_control_number_else_by_the_payers_claim_number() -> None:
    claim = claim_copy(copy_line("L1", "99213"))
    index = CopyIndex([claim])
    by_control = find_claim(
        payment(line("99213"), control=claim.patient_control_number, number="OTHER"), "ACME01", index
    )
    by_number = find_claim(payment(line("99213"), control="UNKNOWN", number="PAYER1"), "ACME01", index)
    assert isinstance(by_control, ClaimMatch)
    assert by_control.matched_by == "patient_control_number"
    assert isinstance(by_number, ClaimMatch)
    assert by_number.matched_by == "payer_claim_number"
    assert by_number.claim is claim


def test_a_payer_claim_number_stands_for_a_claim_of_this_payer_and_charge_only() -> None:
    ours, theirs = claim_copy(copy_line("L1", "99213")), claim_copy(copy_line("L1", "99213"), payer="SUMMT1")
    found = find_claim(payment(line("99213"), control="UNKNOWN"), "SUMMT1", CopyIndex([ours, theirs]))
    assert isinstance(found, ClaimMatch)
    assert found.claim is theirs
    nothing = find_claim(payment(line("99213"), control="UNKNOWN", number="NONE"), "ACME01", CopyIndex([ours]))
    assert isinstance(nothing, NoMatch)
    assert candidates(payment(line("99213"), control="X"), "ACME01", [ours, theirs]) == (ours.claim_id,)
    another_payer = find_claim(payment(line("99213"), control="UNKNOWN"), "BETA02", CopyIndex([ours]))
    another_charge = find_claim(payment(line("99213", charge="900.00"), control="UNKNOWN"), "ACME01", CopyIndex([ours]))
    assert isinstance(another_payer, NoMatch)
    assert isinstance(another_charge, NoMatch)
    assert another_charge.candidates == (ours.claim_id,)


def test_lines_match_by_control_number_then_by_code_date_modifiers_and_units() -> None:
    claim_lines = [copy_line("L1", "20610", modifiers=("RT",)), copy_line("L2", "20610", modifiers=("LT",)),
                   copy_line("L3", "36415"), copy_line("L4", "97110", units="3")]  # fmt: skip
    paid = [
        line("36415", control="L3"),
        line("20610", modifiers=("LT",)),  # no REF*6R: the modifier tells the knees apart
        line("20610"),  # the payer dropped the modifier: the knee left over
        line("97112", billed="97110", units="3"),  # re-bundled: SVC06 names the code as billed
        line("99999"),  # nothing billed like it
    ]
    assert match_lines(paid, claim_lines) == ("L3", "L2", "L1", "L4", None)


def test_a_line_on_another_date_is_not_the_claims_line() -> None:
    assert match_lines([line("99213", day=date(2026, 11, 3))], [copy_line("L1", "99213")]) == (None,)


def test_posting_splits_the_patients_share_and_balances_to_the_charge() -> None:
    adjustments = (
        Adjustment("CO", "45", D("20.00")),
        Adjustment("PR", "1", D("30.00")),
        Adjustment("PR", "2", D("10.00")),
        Adjustment("PR", "3", D("5.00")),
        Adjustment("PR", "96", D("1.00")),
    )
    advice = payment(line("99214", charge="100.00", paid="34.00", allowed=None, adjustments=adjustments))
    posting = posting_of(advice, ("L1",), CURATED)
    share = posting.patient_share
    assert (share.deductible, share.coinsurance, share.copay, share.other) == (
        D("30.00"),
        D("10.00"),
        D("5.00"),
        D("1.00"),
    )
    assert posting.allowed == D("80.00")  # no AMT*B6: the charge less CO and OA
    assert posting.by_group == {"CO": D("20.00"), "PR": D("46.00")}
    assert posting.paid + sum(posting.by_group.values()) == posting.charge
    assert posting.adjustments[0].category == "contractual"
    assert posting.adjustments[1].category == "patient_responsibility"


def test_a_denied_claim_names_its_largest_denials_category_and_the_biller_step() -> None:
    denied = payment(
        line("72148", charge="900.00", paid="0.00", allowed=None, adjustments=(Adjustment("CO", "197", D("900.00")),)),
        line("99213", charge="100.00", paid="0.00", allowed=None, adjustments=(Adjustment("CO", "16", D("100.00")),)),
        status="4",
    )
    found = denials_of(denied, posting_of(denied, ("L1", "L2"), CURATED), CURATED)
    assert found is not None
    assert (found.whole_claim, found.category, found.amount) == (True, "authorisation", D("1000.00"))
    assert [d.category for d in found.denials] == ["authorisation", "missing_information"]


def test_a_line_paid_nothing_for_a_coding_reason_is_a_denial_but_the_patients_share_and_a_prior_payer_are_not() -> None:
    advice = payment(
        line("99213"),
        line("97110", paid="0.00", allowed=None, adjustments=(Adjustment("CO", "97", D("100.00")),)),
        line("36415", paid="0.00", allowed=None, adjustments=(Adjustment("PR", "1", D("100.00")),)),
        line("80053", paid="0.00", allowed=None, adjustments=(Adjustment("OA", "23", D("100.00")),)),
    )
    found = denials_of(advice, posting_of(advice, ("L1", "L2", "L3", "L4"), CURATED), CURATED)
    assert found is not None
    assert (found.whole_claim, found.category, [d.line_control_number for d in found.denials]) == (
        False,
        "bundling",
        ["L2"],
    )
    assert denials_of(payment(line("99213")), posting_of(payment(line("99213")), ("L1",), CURATED), CURATED) is None


def test_an_allowed_amount_below_the_contract_beyond_the_tolerance_is_an_underpayment() -> None:
    claim = claim_copy(copy_line("L1", "99213", expected="80.00"), copy_line("L2", "36415", expected="10.00"))
    advice = payment(
        line("99213", allowed="79.50", paid="63.60"), line("36415", allowed="9.00", charge="100.00", paid="7.20")
    )
    posting = posting_of(advice, ("L1", "L2"), CURATED)
    found = underpayment_of(advice, posting, claim, Tolerance(D("1.00"), D("0.05")))
    assert found is not None  # 0.50 short of 80.00 is within both; 1.00 short of 10.00 is 10%
    assert [(under.line_control_number, under.shortfall) for under in found.lines] == [("L2", D("1.00"))]
    assert underpayment_of(advice, posting, claim, Tolerance(D("5.00"), D("0.50"))) is None


def test_a_claim_denied_with_the_patient_liable_is_a_denial_and_a_predetermination_is_not() -> None:
    adjustments = (Adjustment("PR", "27", D("100.00")),)
    denied = payment(line("99213", paid="0.00", allowed=None, adjustments=adjustments), status="4")
    found = denials_of(denied, posting_of(denied, ("L1",), CURATED), CURATED)
    assert found is not None
    assert (found.category, found.denials[0].group) == ("eligibility", "PR")
    priced = payment(
        line("99213", paid="0.00", allowed=None, adjustments=(Adjustment("CO", "96", D("100.00")),)), status="25"
    )
    assert denials_of(priced, posting_of(priced, ("L1",), CURATED), CURATED) is None


def test_an_oa_duplicate_line_is_a_denial_and_a_secondary_is_never_an_underpayment() -> None:
    advice = payment(
        line("99213"), line("36415", paid="0.00", allowed=None, adjustments=(Adjustment("OA", "18", D("100.00")),))
    )
    found = denials_of(advice, posting_of(advice, ("L1", "L2"), CURATED), CURATED)
    assert found is not None
    assert found.category == "duplicate"
    claim = claim_copy(copy_line("L1", "99213", expected="80.00"))
    secondary = payment(line("99213", allowed="50.00", paid="40.00"), status="2")
    assert underpayment_of(secondary, posting_of(secondary, ("L1",), CURATED), claim, Tolerance(D("1"), D("0"))) is None
