"""The 835 writer: an 835 reads back through the remittance reader to the remittance written, pyx12 accepts
the 835s, an 835 that does not balance is refused naming the claim by position, any balanced remittance round
trips, reversals (every amount negated) and provider adjustments of either sign among them, and a delimiter in
a value is refused naming the place, never the value, or replaced when the envelope asks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcm_x12 import X12Error, read
from rcm_x12.elements import Procedure
from rcm_x12.remittance_reader import read_remittances
from rcm_x12.remittance_writer import (
    Adjustment,
    Amount,
    PaidClaim,
    PaidLine,
    PaymentInfo,
    ProviderAdjustment,
    RemittanceAdvice,
    write_835,
)
from rcm_x12.remittance_writer import Contact as PayerContact
from rcm_x12.testing import (
    DELIMITER_MARKS,
    ENVELOPE,
    JANE,
    PAYER,
    PROVIDER,
    SAM,
    SECRET,
    D,
    assert_accepted_by_pyx12,
    assert_refused_naming_the_place_not_the_value,
    find,
    pyx12_verdict,
    segments_of,
)
from rcm_x12.writer import Member


def paid_line(procedure: str = "99214", charge: str = "150.00", paid: str = "100.00", **changes: Any) -> PaidLine:
    return PaidLine(procedure, D(charge), D(paid), service_date=date(2026, 2, 27), **changes)


LINES = (
    paid_line(
        modifiers=("25", "59"),
        control_number="LINE-1",
        allowed=D("120.00"),
        adjustments=(Adjustment("CO", "45", D("30.00"), None), Adjustment("PR", "2", D("20.00"), None)),
        remarks=("N130", "M15"),
    ),
    paid_line(
        "J3420",
        "35.50",
        "0.00",
        units=D("2.5"),
        units_billed=D("3"),
        service_end=date(2026, 3, 1),
        adjustments=(Adjustment("CO", "97", D("35.50"), D("1")),),
    ),
)
PAID_CLAIM = PaidClaim(
    "PCN-1",
    "1",
    D("185.50"),
    D("90.00"),
    "ICN-1",
    JANE,
    "12",
    patient_responsibility=D("20.00"),
    place_of_service="11",
    frequency="1",
    subscriber=Member("DOE", "JOHN", "W000000000"),
    statement_start=date(2026, 2, 27),
    statement_end=date(2026, 3, 1),
    received=date(2026, 3, 5),
    adjustments=(Adjustment("OA", "23", D("10.00"), None),),
    amounts=(Amount("AU", D("155.50")),),
    lines=LINES,
)
DENIED = PaidClaim(
    "PCN-2", "4", D("50.00"), D("0.00"), "ICN-2", replace(JANE, first_name="JUNE"), "HM",
    adjustments=(Adjustment("CO", "29", D("50.00"), None),),
)  # fmt: skip
REVERSAL = PaidClaim(
    "PCN-0", "22", D("-80.00"), D("-60.00"), "ICN-0", JANE, "12",
    adjustments=(Adjustment("CO", "45", D("-20.00"), None),),
)  # fmt: skip
RECOUPMENT = ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "ICN-9", D("15.00"))
INTEREST = ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", "", D("-5.00"))
ACH = PaymentInfo(
    D("20.00"), "ACH", date(2026, 3, 23), "EFT0001", "1123456789", "011000015", "123456789012", "021000021", "98765"
)
CONTACTS = (
    PayerContact("BL", "EDI SUPPORT", (("TE", "8005550100"), ("EM", "edi@bighealth.example"))),
    PayerContact("CX", "PROVIDER SERVICES", (("TE", "8005550111"), ("EX", "12"))),
)


def remittance(*claims: PaidClaim, payment: PaymentInfo | None = None, **changes: Any) -> RemittanceAdvice:
    """The claims paid by check, for what balances them, unless the payment is given."""
    if payment is None:
        paid = sum((claim.paid for claim in claims), D(0))
        paid -= sum((adjustment.amount for adjustment in changes.get("provider_adjustments", ())), D(0))
        payment = PaymentInfo(paid, "CHK" if paid else "NON", date(2026, 3, 23), "CHECK1", "1123456789")
    return RemittanceAdvice(payment, PAYER, CONTACTS, PROVIDER, claims, **changes)


FULL = remittance(
    PAID_CLAIM,
    DENIED,
    REVERSAL,
    payment=ACH,
    payee_tax_id="371234567",
    provider_adjustments=(RECOUPMENT, INTEREST),
    production_date=date(2026, 3, 21),
)


def test_an_835_reads_back_to_the_remittance_written() -> None:
    text = write_835(FULL, ENVELOPE)
    segments = segments_of(text)
    [read_back] = read_remittances(text)
    [interchange] = read(text)

    assert (interchange.groups[0].functional_id, interchange.groups[0].version) == ("HP", "005010X221A1")
    assert "~ST*835*0001~" in text  # the 835 guide does not use ST03
    assert (read_back.balance_problems(), read_back.findings) == ([], ())
    payment = read_back.payment
    assert (payment.handling_code, payment.total_paid, payment.credit_debit, payment.method, payment.format) == (
        "C",
        D("20.00"),
        "C",
        "ACH",
        "CCP",
    )
    assert (payment.sender_routing, payment.sender_account_last4, payment.originating_company) == (
        "011000015",
        "9012",
        "1123456789",
    )
    assert (payment.receiver_routing, payment.receiver_account_last4, payment.payment_date) == (
        "021000021",
        "8765",
        date(2026, 3, 23),
    )
    assert (read_back.trace_number, read_back.originating_company, read_back.production_date) == (
        "EFT0001",
        "1123456789",
        date(2026, 3, 21),
    )
    assert (read_back.payer.name, read_back.payer.identifier) == ("BIG HEALTH PLAN", "BHP01")
    assert read_back.payer.contacts == (CONTACTS[1], CONTACTS[0])  # PER*CX comes before PER*BL
    assert (read_back.payee.name, read_back.payee.npi, read_back.payee.tin) == (
        "ACME MEDICAL GROUP",
        "1234567893",
        "371234567",
    )
    assert find(segments, "N3") == [["N3", "PO BOX 9"]]
    assert read_back.provider_adjustments == (RECOUPMENT, INTEREST)
    assert find(segments, "PLB") == [["PLB", "1234567893", "20261231", "WO:ICN-9", "15", "L6", "-5"]]

    for claim, written in zip(read_back.claims, FULL.claims, strict=True):
        assert (claim.claim_id, claim.status, claim.charge, claim.paid, claim.patient_responsibility) == (
            written.claim_id,
            written.status,
            written.charge,
            written.paid,
            written.patient_responsibility,
        )
        assert (claim.filing_indicator, claim.payer_claim_number, claim.facility_code, claim.frequency) == (
            written.filing_indicator,
            written.payer_claim_number,
            written.place_of_service,
            written.frequency,
        )
        assert claim.patient
        assert (claim.patient.name, claim.patient.first_name, claim.patient.identifier) == (
            written.patient.last_name,
            written.patient.first_name,
            written.patient.member_id,
        )
        assert (claim.subscriber and claim.subscriber.identifier) == (
            written.subscriber and written.subscriber.member_id
        )
        assert (claim.statement_start, claim.statement_end, claim.received) == (
            written.statement_start,
            written.statement_end,
            written.received,
        )
        assert (claim.adjustments, claim.amounts) == (written.adjustments, written.amounts)
        for line, expected in zip(claim.lines, written.lines, strict=True):
            assert line.procedure == Procedure(expected.qualifier, expected.procedure, expected.modifiers)
            assert (line.charge, line.paid, line.units_paid, line.control_number, line.allowed) == (
                expected.charge,
                expected.paid,
                expected.units,
                expected.control_number,
                expected.allowed,
            )
            assert line.units_billed == (expected.units_billed or expected.units)
            assert (line.adjustments, tuple(r.code for r in line.remarks)) == (expected.adjustments, expected.remarks)
            assert {r.qualifier for r in line.remarks} <= {"HE"}
    first, second = read_back.claims[0].lines
    assert (first.service_date, first.service_start, first.service_end) == (date(2026, 2, 27), None, None)
    assert (second.service_date, second.service_start, second.service_end) == (
        None,
        date(2026, 2, 27),
        date(2026, 3, 1),
    )
    assert find(segments, "SVC") == [
        ["SVC", "HC:99214:25:59", "150", "100", "", "1"],
        ["SVC", "HC:J3420", "35.5", "0", "", "2.5", "", "3"],
    ]
    assert [c.is_reversal for c in read_back.claims] == [False, False, True]


def test_an_835_passes_pyx12() -> None:
    acknowledgment = assert_accepted_by_pyx12(write_835(FULL, ENVELOPE))

    # pyx12 4.0 cannot write its 999 about an 835 without ST03 (it needs ST03 for the AK2), while its map
    # rightly says the 835 does not use ST03: its 999 stops after AK1. When it writes one, it must accept.
    if "AK2" in acknowledgment:
        assert "AK9*A*1*1*1~" in acknowledgment
    assert "IK3" not in acknowledgment


def many_claims(count: int) -> tuple[PaidClaim, ...]:
    """`count` balanced claims: paid with contractual and patient adjustments, denied, or reversed."""
    claims = []
    for n in range(count):
        if n % 5 == 4:
            claims.append(replace(DENIED, claim_id=f"D{n:05d}"))
            continue
        lines = tuple(
            paid_line(
                charge="100.00",
                paid="70.00",
                control_number=f"L{n}-{k}",
                adjustments=(
                    Adjustment("CO", "45", D("20.00"), None),
                    *(Adjustment("PR", str(reason), D("1.00"), None) for reason in range(1, 11)),
                ),
            )
            for k in range(1 + n % 3)
        )
        claims.append(
            replace(PAID_CLAIM, claim_id=f"P{n:05d}", charge=D(100 * len(lines)), paid=D(70 * len(lines)),
                    patient_responsibility=D(10 * len(lines)), adjustments=(), lines=lines)
        )  # fmt: skip
    return tuple(claims)


def test_checks_zero_payments_and_a_thousand_claims_pass_pyx12() -> None:
    claims = many_claims(1000)
    paid = sum((claim.paid for claim in claims), D(0))
    big = write_835(remittance(*claims), ENVELOPE)
    nothing = write_835(remittance(DENIED), ENVELOPE)
    only_adjustments = write_835(
        remittance(provider_adjustments=(INTEREST, RECOUPMENT, replace(INTEREST, amount=D("-11")))), ENVELOPE
    )

    for text in (big, nothing, only_adjustments):
        assert "IK3" not in assert_accepted_by_pyx12(text)
        assert read_remittances(text)[0].balance_problems() == []
    [bpr] = find(segments_of(big), "BPR")
    assert (bpr[:2], D(bpr[2]), bpr[3:5]) == (["BPR", "I"], paid, ["C", "CHK"])
    assert len(read_remittances(big)[0].claims) == 1000
    assert len(find(segments_of(big), "CAS", "PR")) == 2 * sum(len(c.lines) for c in claims if c.status == "1")
    assert find(segments_of(nothing), "BPR") == [["BPR", "H", "0", "C", "NON", *[""] * 11, "20260323"]]
    assert find(segments_of(only_adjustments), "BPR")[0][1:3] == ["I", "1"]
    assert find(segments_of(only_adjustments), "LX") == []


def test_more_than_six_provider_adjustments_take_more_plb_segments() -> None:
    """Seven pairs and a second provider make three PLB segments, which read back whole. pyx12 4.0 takes each
    PLB after the first for a second footer loop (its map opens the loop with PLB, whose repeat it then
    ignores): that is the only error it reports. When it counts them right, this fails, and the test
    becomes an acceptance test."""
    other = replace(RECOUPMENT, provider_id="1098765432", amount=D("1.00"))
    pairs = (INTEREST, *(replace(RECOUPMENT, reference=f"ICN-{n}", amount=D("0.50")) for n in range(6)), other)
    text = write_835(remittance(PAID_CLAIM, provider_adjustments=pairs), ENVELOPE)

    assert [len(plb) for plb in find(segments_of(text), "PLB")] == [3 + 2 * 6, 3 + 2, 3 + 2]
    [read_back] = read_remittances(text)
    assert (read_back.provider_adjustments, read_back.balance_problems()) == (pairs, [])
    valid, errors, _ = pyx12_verdict(text)
    assert not valid
    assert errors == [f"Loop FOOTER exceeded max count.  Found {n}, should have 1" for n in (2, 3)]


def test_pyx12_reports_what_is_wrong_in_an_835() -> None:
    text = write_835(FULL, ENVELOPE)
    broken = text.replace("CLP*PCN-2*4*50*0**HM*", "CLP*PCN-2*4*50*0**CI*").replace("N3*PO BOX 9~", "")

    valid, errors, _ = pyx12_verdict(broken)

    assert not valid
    assert any("CLP06" in error for error in errors)
    assert len(errors) >= 2


@pytest.mark.parametrize(
    ("advice", "message"),
    [
        (replace(FULL, payment=replace(ACH, amount=D("20.01"))), r"the payment \(BPR02\) 20\.01 is not the claims'"),
        (
            replace(FULL, claims=(PAID_CLAIM, replace(DENIED, paid=D("0.00"), charge=D("55.00")), REVERSAL)),
            r"claim 2: charge 55\.00 less paid 0\.00 is not the claim's and its lines' adjustments 50\.00",
        ),
        (
            replace(FULL, claims=(PAID_CLAIM, DENIED, replace(REVERSAL, adjustments=()))),
            r"claim 3: charge -80\.00 less paid -60\.00",
        ),
        (
            remittance(replace(PAID_CLAIM, lines=(replace(LINES[0], paid=D("101.00")), LINES[1]), paid=D("91.00"))),
            r"claim 1 line 1: charge 150\.00 less paid 101\.00 is not the line's adjustments 50\.00",
        ),
    ],
    ids=["payment", "claim", "reversal", "line"],
)
def test_an_unbalanced_835_is_refused_naming_the_claim_by_position(advice: RemittanceAdvice, message: str) -> None:
    secret = replace(advice, claims=tuple(replace(c, claim_id=f"{SECRET}{n}") for n, c in enumerate(advice.claims)))
    with pytest.raises(ValueError, match=message) as refused:
        write_835(secret, ENVELOPE)
    assert SECRET not in str(refused.value)
    assert not isinstance(refused.value, X12Error)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: replace(ACH, amount=20.0), "Decimal"),  # type: ignore[arg-type]
        (lambda: replace(ACH, amount=D("20.001")), "two decimal places"),
        (lambda: replace(ACH, amount=D("-1")), "never negative"),
        (lambda: replace(ACH, method="NON"), "NON exactly"),
        (lambda: replace(ACH, amount=D("0")), "NON exactly"),
        (lambda: replace(ACH, receiver_account=""), "routing numbers and accounts"),
        (lambda: replace(PAID_CLAIM, status="5"), "CLP02"),
        (lambda: replace(PAID_CLAIM, filing_indicator="CI"), "CLP06"),
        (lambda: replace(PAID_CLAIM, subscriber=SAM), "member id"),
        (lambda: replace(PAID_CLAIM, adjustments=(Adjustment("CR", "45", D("1"), None),)), "CAS01"),
        (lambda: replace(PAID_CLAIM, statement_start=None), "start date"),
        (lambda: replace(LINES[0], modifiers=("1", "2", "3", "4", "5")), "four procedure modifiers"),
        (lambda: replace(LINES[0], charge=D("NaN")), "finite"),
        (lambda: replace(FULL, payer=replace(PAYER, address=None)), "address"),
        (lambda: replace(FULL, payer_contacts=CONTACTS[1:]), "PER\\*BL"),
        (lambda: replace(FULL, provider_adjustments=(replace(RECOUPMENT, fiscal_period_date=None),)), "PLB02"),
        (lambda: replace(FULL, provider_adjustments=(replace(RECOUPMENT, amount=D("0.00")),)), "PLB04.* zero"),
        (lambda: remittance(), "claims or provider adjustments"),
    ],
    ids=[
        "float", "cents", "negative", "non with money", "money without non", "ach bank", "status", "filing",
        "subscriber id", "group", "statement", "modifiers", "nan", "payer address", "technical contact", "plb date",
        "zero plb", "empty",
    ],
)  # fmt: skip
def test_what_an_835_cannot_hold_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


CENTS = st.integers(min_value=0, max_value=100_000).map(lambda cents: D(cents) / 100)


@st.composite
def balanced_claims(draw: st.DrawFn) -> tuple[PaidClaim, ...]:
    """Claims whose lines' payments and adjustments are drawn and whose charges are what balances them."""
    claims = []
    for n in range(draw(st.integers(1, 4))):
        lines = []
        for _ in range(draw(st.integers(0, 3))):
            amounts = draw(st.lists(CENTS, max_size=8))
            adjustments = tuple(
                Adjustment(("CO", "PR", "OA", "PI")[i % 4], "45", a, None) for i, a in enumerate(amounts)
            )
            paid = draw(CENTS)
            lines.append(paid_line(charge=str(paid + sum(amounts, D(0))), paid=str(paid), adjustments=adjustments))
        claim_level = tuple(Adjustment("CO", "253", a, None) for a in draw(st.lists(CENTS, max_size=3)))
        paid = sum((line.paid for line in lines), D(0)) if lines else draw(CENTS)
        adjusted = sum((a.amount for line in lines for a in line.adjustments), D(0)) + sum(
            (a.amount for a in claim_level), D(0)
        )
        claims.append(
            replace(PAID_CLAIM, claim_id=f"C{n}", charge=paid + adjusted, paid=paid, adjustments=claim_level,
                    lines=tuple(lines))
        )  # fmt: skip
    return tuple(claims)


@settings(max_examples=60, deadline=None)
@given(claims=balanced_claims(), recouped=CENTS)
def test_any_balanced_remittance_round_trips(claims: tuple[PaidClaim, ...], recouped: Decimal) -> None:
    paid = sum((claim.paid for claim in claims), D(0))
    recouped = min(recouped, paid)
    payment = PaymentInfo(paid - recouped, "CHK" if paid > recouped else "NON", date(2026, 3, 23), "T", "1123456789")
    adjustments = (replace(RECOUPMENT, amount=recouped),) if recouped else ()
    [read_back] = read_remittances(
        write_835(remittance(*claims, payment=payment, provider_adjustments=adjustments), ENVELOPE)
    )

    assert read_back.balance_problems() == []
    assert read_back.payment.total_paid == payment.amount
    # CAS groups a claim's or a line's adjustments by group code: their order within a group is kept.
    assert [(c.charge, c.paid, by_group(c.adjustments)) for c in read_back.claims] == [
        (c.charge, c.paid, by_group(c.adjustments)) for c in claims
    ]
    assert [[(line.charge, line.paid, by_group(line.adjustments)) for line in c.lines] for c in read_back.claims] == [
        [(line.charge, line.paid, by_group(line.adjustments)) for line in c.lines] for c in claims
    ]


def by_group(adjustments: tuple[Adjustment, ...]) -> list[Adjustment]:
    return sorted(adjustments, key=lambda adjustment: adjustment.group)


def negated(adjustments: tuple[Adjustment, ...]) -> tuple[Adjustment, ...]:
    return tuple(replace(adjustment, amount=-adjustment.amount) for adjustment in adjustments)


def reversal_of(claim: PaidClaim) -> PaidClaim:
    """The claim's payment taken back as the guide says (1.10.2.8): CLP02 22, the same CLP01 and CLP07, the
    charge, payment, patient responsibility, every adjustment (original group codes) and the lines' charges,
    payments and allowed amounts negated; units and codes as they were."""
    return replace(
        claim,
        status="22",
        charge=-claim.charge,
        paid=-claim.paid,
        patient_responsibility=-claim.patient_responsibility,
        adjustments=negated(claim.adjustments),
        amounts=(),
        lines=tuple(
            replace(
                line,
                charge=-line.charge,
                paid=-line.paid,
                allowed=None if line.allowed is None else -line.allowed,
                adjustments=negated(line.adjustments),
            )
            for line in claim.lines
        ),
    )


CORRECTED = replace(
    PAID_CLAIM,
    paid=D("100.00"),
    amounts=(Amount("I", D("1.25")),),
    lines=(
        replace(LINES[0], paid=D("110.00"), allowed=D("130.00"), adjustments=(
            Adjustment("CO", "45", D("20.00"), None), Adjustment("PR", "2", D("20.00"), None),
        )),
        LINES[1],
    ),
)  # fmt: skip
"""PAID_CLAIM paid again after its reversal: 10.00 more allowed on its first line, and 1.25 interest."""


def test_a_reversal_and_its_correction_read_back_with_every_amount_negated() -> None:
    """The payment taken back (-90.00) and made again (100.00), interest (PLB L6 -1.25), a recovery (WO
    15.00) and the 3.75 the payment cannot cover carried forward (FB -3.75): nothing paid, BPR*H."""
    reversal = reversal_of(PAID_CLAIM)
    interest = replace(INTEREST, reference="ICN-1", amount=D("-1.25"))
    forward = ProviderAdjustment("1234567893", date(2026, 12, 31), "FB", "EFT0002", D("-3.75"))

    text = write_835(remittance(reversal, CORRECTED, provider_adjustments=(interest, RECOUPMENT, forward)), ENVELOPE)

    assert "IK3" not in assert_accepted_by_pyx12(text)
    [read_back] = read_remittances(text)
    assert read_back.balance_problems() == []
    assert (read_back.payment.total_paid, read_back.payment.handling_code, read_back.payment.method) == (
        D("0.00"), "H", "NON"
    )  # fmt: skip
    taken, again = read_back.claims
    assert (taken.is_reversal, again.is_reversal) == (True, False)
    assert (taken.claim_id, taken.payer_claim_number) == (again.claim_id, again.payer_claim_number)
    assert (taken.charge, taken.paid, taken.patient_responsibility) == (D("-185.50"), D("-90.00"), D("-20.00"))
    assert taken.adjustments == (Adjustment("OA", "23", D("-10.00"), None),)
    assert [(line.charge, line.paid, line.allowed, line.units_paid) for line in taken.lines] == [
        (D("-150.00"), D("-100.00"), D("-120.00"), D(1)),
        (D("-35.50"), D("0.00"), None, D("2.5")),
    ]
    assert [line.adjustments for line in taken.lines] == [negated(line.adjustments) for line in LINES]
    assert [(a.qualifier, a.amount) for a in again.amounts] == [("I", D("1.25"))]
    assert (again.paid, again.lines[0].allowed) == (D("100.00"), D("130.00"))
    assert read_back.provider_adjustments == (interest, RECOUPMENT, forward)
    segments = segments_of(text)
    assert find(segments, "CLP")[0][:8] == ["CLP", "PCN-1", "22", "-185.5", "-90", "-20", "12", "ICN-1"]
    assert find(segments, "SVC")[0] == ["SVC", "HC:99214:25:59", "-150", "-100", "", "1"]
    assert ["AMT", "B6", "-120"] in segments
    assert find(segments, "PLB") == [
        ["PLB", "1234567893", "20261231", "L6:ICN-1", "-1.25", "WO:ICN-9", "15", "FB:EFT0002", "-3.75"]
    ]


def test_a_reversal_alone_is_paid_nothing() -> None:
    """A claim taken back with nothing else to pay: BPR02 0 with BPR01 H and NON, the balance carried forward
    (PLB FB negative), as a payment is never negative."""
    reversal = reversal_of(PAID_CLAIM)
    forward = ProviderAdjustment("1234567893", date(2026, 12, 31), "FB", "CHECK3", reversal.paid)

    text = write_835(remittance(reversal, provider_adjustments=(forward,)), ENVELOPE)

    assert "IK3" not in assert_accepted_by_pyx12(text)
    assert find(segments_of(text), "BPR") == [["BPR", "H", "0", "C", "NON", *[""] * 11, "20260323"]]
    assert read_remittances(text)[0].balance_problems() == []
    with pytest.raises(ValueError, match="never negative"):
        write_835(remittance(reversal), ENVELOPE)


@settings(max_examples=40, deadline=None)
@given(claims=balanced_claims())
def test_any_balanced_remittance_and_its_reversal_round_trip(claims: tuple[PaidClaim, ...]) -> None:
    """Claims paid and the same claims taken back in one 835 balance to nothing paid, and read back with
    every amount negated."""
    reversals = tuple(reversal_of(claim) for claim in claims)
    payment = PaymentInfo(D("0.00"), "NON", date(2026, 3, 23), "T", "1123456789")

    [read_back] = read_remittances(write_835(remittance(*claims, *reversals, payment=payment), ENVELOPE))

    assert read_back.balance_problems() == []
    taken = read_back.claims[len(claims) :]
    assert [(c.status, c.charge, c.paid, c.patient_responsibility, by_group(c.adjustments)) for c in taken] == [
        ("22", -c.charge, -c.paid, -c.patient_responsibility, by_group(negated(c.adjustments))) for c in claims
    ]
    assert [[(line.charge, line.paid, by_group(line.adjustments)) for line in c.lines] for c in taken] == [
        [(-line.charge, -line.paid, by_group(negated(line.adjustments))) for line in c.lines] for c in claims
    ]


def test_a_delimiter_is_replaced_when_the_envelope_asks_for_it() -> None:
    replacing = replace(ENVELOPE, on_delimiter="replace", replacement="-")
    advice = replace(
        FULL,
        payer=replace(PAYER, payer_id="BHP*01"),
        claims=(PAID_CLAIM, replace(DENIED, claim_id="PCN:2~X"), REVERSAL),
        provider_adjustments=(replace(RECOUPMENT, reference="ICN^9"), INTEREST),
    )

    segments = segments_of(write_835(advice, replacing))

    assert find(segments, "REF", "2U") == [["REF", "2U", "BHP-01"]]
    assert [clp[1] for clp in find(segments, "CLP")] == ["PCN-1", "PCN-2-X", "PCN-0"]
    assert find(segments, "PLB")[0][3] == "WO:ICN-9"
    with pytest.raises(X12Error, match="REF02 of the header holds"):
        write_835(advice, ENVELOPE)


@pytest.mark.parametrize("mark", DELIMITER_MARKS)
@pytest.mark.parametrize(
    ("write", "element", "record"),
    [
        (lambda v: write_835(remittance(replace(DENIED, claim_id=v)), ENVELOPE), "CLP01", "claim 1"),
        (lambda v: write_835(remittance(replace(DENIED, patient=replace(JANE, last_name=v))), ENVELOPE),
         "NM103", "claim 1"),
        (lambda v: write_835(remittance(replace(PAID_CLAIM, lines=(replace(LINES[0], modifiers=(v,)), LINES[1]))),
                             ENVELOPE), "SVC01", "claim 1"),
        (lambda v: write_835(remittance(replace(PAID_CLAIM, lines=(replace(LINES[0], remarks=(v,)), LINES[1]))),
                             ENVELOPE), "LQ02", "claim 1"),
        (lambda v: write_835(replace(FULL, payer=replace(PAYER, payer_id=v)), ENVELOPE), "REF02", "the header"),
        (lambda v: write_835(replace(FULL, provider_adjustments=(replace(RECOUPMENT, reference=v), INTEREST)),
                             ENVELOPE), "PLB03", "the provider adjustments"),
    ],
    ids=["835 claim id", "835 patient", "835 modifier", "835 remark", "835 payer id", "835 plb reference"],
)  # fmt: skip
def test_a_delimiter_in_a_value_is_refused_naming_the_place_not_the_value(
    mark: str, write: Any, element: str, record: str
) -> None:
    assert_refused_naming_the_place_not_the_value(write, mark, element, record)
