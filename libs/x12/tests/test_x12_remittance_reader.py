"""The typed 835 reader: every 5010 835 of the shared corpus, a hand-written remittance read to exact
values, balancing reported rather than enforced, and clear refusals that never echo a value."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from rcm_x12 import X12Error, read
from rcm_x12.corpus import CorpusFile, default_root, manifest
from rcm_x12.elements import Procedure
from rcm_x12.remittance_reader import (
    Adjustment,
    Amount,
    Contact,
    Payee,
    ProviderAdjustment,
    Quantity,
    Remark,
    read_remittances,
    remittance_of,
)

CORPUS = default_root()
REMITTANCES = [f for f in manifest(CORPUS) if f.must_read and f.kind == "835"]

ISA = "ISA*00*          *00*          *ZZ*ACMEPAYER      *ZZ*RIVERSIDE      *260301*1200*^*00501*000000777*0*P*>~"
# Two claims, the second a reversal. Component separator ">" (not ":"), so composites must follow the ISA.
BALANCED = (
    ISA + "GS*HP*ACMEPAYER*RIVERSIDE*20260301*1200*77*X*005010X221A1~"
    "ST*835*0001*005010X221A1~"
    "BPR*I*455.25*C*ACH*CCP*01*011000015*DA*123456789012*1512345678**01*021000021*DA*987654321098*20260305~"
    "TRN*1*EFT0001*1512345678~"
    "REF*EV*RIVERSIDE~"
    "DTM*405*20260301~"
    "N1*PR*ACME HEALTH~"
    "N3*1 MAIN ST~"
    "N4*CHICAGO*IL*60601~"
    "REF*2U*ACME01~"
    "PER*CX*CLAIMS*TE*8005550100*EX*12~"
    "PER*BL*EDI DESK*EM*edi@acme.example~"
    "N1*PE*RIVERSIDE CLINIC*XX*1234567893~"
    "REF*TJ*361234567~"
    "LX*1~"
    "CLP*PCN-1*1*1200*850*130*12*ICN-1*11*1~"  # position 17
    "CAS*OA*23*30**94*20~"
    "NM1*QC*1*PATIENT*PAT*Q***MI*MEMBER1~"
    "NM1*IL*1*SUBSCRIBER*SUB****MI*MEMBER0~"
    "NM1*82*1*DOCTOR*DOC****XX*1987654321~"
    "MOA***MA01*MA15~"
    "DTM*232*20260210~"
    "DTM*233*20260211~"
    "DTM*050*20260215~"
    "AMT*AU*1000~"
    "QTY*CA*2~"
    "SVC*HC>99214>25>59*1000*800**1~"
    "DTM*472*20260210~"
    "CAS*CO*45*120**253*10~"
    "CAS*PR*1*50**2*20~"
    "REF*6R*LINE-1~"
    "AMT*B6*930~"
    "SVC*HC>J3420>RT>LT>KX>GA>VITAMIN B12*200*100**2*HC>J3410*3~"
    "DTM*150*20260210~"
    "DTM*151*20260211~"
    "CAS*PR*3*60*2~"
    "CAS*CO*45*40~"
    "REF*6R*LINE-2~"
    "LQ*HE*N130~"
    "LQ*RX*70~"
    "CLP*PCN-0*22*-500*-300**12*ICN-0*11*1~"
    "NM1*QC*1*PATIENT*PAT****MI*MEMBER1~"
    "SVC*HC>99213*-500*-300**-1~"
    "DTM*472*20260105~"
    "CAS*CO*45*-120*-1~"
    "CAS*PR*1*-80~"
    "PLB*1234567893*20261231*L6>INT01*-5.25*WO>RECOUP77*100~"
    "SE*47*0001~GE*1*77~IEA*1*000000777~"
)


@pytest.mark.parametrize("entry", REMITTANCES, ids=lambda f: f.path)
def test_every_5010_835_of_the_corpus_reads_into_typed_claims(entry: CorpusFile) -> None:
    remittances = read_remittances((CORPUS / entry.path).read_bytes())

    assert remittances
    assert sum(len(r.claims) for r in remittances) == entry.clp
    for remittance in remittances:
        assert remittance.trace_number
        figures = [remittance.payment.total_paid]
        for claim in remittance.claims:
            figures += [claim.charge, claim.paid, claim.patient_responsibility]
            figures += [a.amount for a in claim.adjustments]
            figures += [figure for line in claim.lines for figure in (line.charge, line.paid)]
        assert all(isinstance(f, Decimal) and f.as_tuple().exponent == -2 for f in figures)


def test_the_corpus_has_the_835s_the_manifest_promises() -> None:
    assert len(REMITTANCES) == 19


def test_the_header_payer_and_payee() -> None:
    [remittance] = read_remittances(BALANCED)

    assert (remittance.interchange_control_number, remittance.control_number, remittance.position) == (
        "000000777",
        "0001",
        3,
    )
    payment = remittance.payment
    assert (payment.handling_code, payment.total_paid, payment.credit_debit, payment.method, payment.format) == (
        "I",
        Decimal("455.25"),
        "C",
        "ACH",
        "CCP",
    )
    assert (payment.sender_routing, payment.sender_account_last4, payment.originating_company) == (
        "011000015",
        "9012",
        "1512345678",
    )
    assert (payment.receiver_routing, payment.receiver_account_last4, payment.payment_date) == (
        "021000021",
        "1098",
        date(2026, 3, 5),
    )
    assert (remittance.trace_number, remittance.originating_company) == ("EFT0001", "1512345678")
    assert remittance.production_date == date(2026, 3, 1)
    assert (remittance.payer.name, remittance.payer.identifier) == ("ACME HEALTH", "ACME01")
    assert remittance.payer.contacts == (
        Contact("CX", "CLAIMS", (("TE", "8005550100"), ("EX", "12"))),
        Contact("BL", "EDI DESK", (("EM", "edi@acme.example"),)),
    )
    assert remittance.payee == Payee(name="RIVERSIDE CLINIC", npi="1234567893", tin="361234567")
    assert remittance.findings == ()


def test_a_claim_its_people_dates_and_claim_level_adjustments() -> None:
    [remittance] = read_remittances(BALANCED)
    claim = remittance.claims[0]

    assert (claim.claim_id, claim.status, claim.status_meaning, claim.is_reversal) == (
        "PCN-1",
        "1",
        "processed as primary",
        False,
    )
    assert (claim.charge, claim.paid, claim.patient_responsibility) == (
        Decimal("1200.00"),
        Decimal("850.00"),
        Decimal("130.00"),
    )
    assert (claim.filing_indicator, claim.payer_claim_number, claim.facility_code, claim.frequency) == (
        "12",
        "ICN-1",
        "11",
        "1",
    )
    assert claim.patient is not None
    assert (claim.patient.name, claim.patient.first_name, claim.patient.middle_name) == ("PATIENT", "PAT", "Q")
    assert claim.subscriber is not None
    assert (claim.subscriber.name, claim.subscriber.id_qualifier, claim.subscriber.identifier) == (
        "SUBSCRIBER",
        "MI",
        "MEMBER0",
    )
    assert claim.rendering_provider is not None
    assert (claim.rendering_provider.id_qualifier, claim.rendering_provider.identifier) == ("XX", "1987654321")
    assert (claim.statement_start, claim.statement_end, claim.received) == (
        date(2026, 2, 10),
        date(2026, 2, 11),
        date(2026, 2, 15),
    )
    assert claim.amounts == (Amount("AU", Decimal("1000.00")),)
    assert claim.quantities == (Quantity("CA", Decimal("2")),)
    assert claim.remark_codes == ("MA01", "MA15")
    assert claim.adjustments == (
        Adjustment("OA", "23", Decimal("30.00"), None),
        Adjustment("OA", "94", Decimal("20.00"), None),
    )


def test_service_lines_with_modifiers_composites_and_every_cas_triplet() -> None:
    [remittance] = read_remittances(BALANCED)
    first, second = remittance.claims[0].lines

    assert first.procedure == Procedure("HC", "99214", ("25", "59"), "")
    assert (first.charge, first.paid, first.units_paid, first.units_billed) == (
        Decimal("1000.00"),
        Decimal("800.00"),
        Decimal("1"),
        Decimal("1"),
    )
    assert (first.service_date, first.control_number, first.allowed, first.original_procedure) == (
        date(2026, 2, 10),
        "LINE-1",
        Decimal("930.00"),
        None,
    )
    assert first.adjustments == (
        Adjustment("CO", "45", Decimal("120.00"), None),
        Adjustment("CO", "253", Decimal("10.00"), None),
        Adjustment("PR", "1", Decimal("50.00"), None),
        Adjustment("PR", "2", Decimal("20.00"), None),
    )
    assert second.procedure == Procedure("HC", "J3420", ("RT", "LT", "KX", "GA"), "VITAMIN B12")
    assert second.original_procedure == Procedure("HC", "J3410", (), "")
    assert (second.units_paid, second.units_billed, second.allowed) == (Decimal("2"), Decimal("3"), None)
    assert (second.service_date, second.service_start, second.service_end) == (
        None,
        date(2026, 2, 10),
        date(2026, 2, 11),
    )
    assert second.adjustments == (
        Adjustment("PR", "3", Decimal("60.00"), Decimal("2")),
        Adjustment("CO", "45", Decimal("40.00"), None),
    )
    assert second.remarks == (Remark("HE", "N130"), Remark("RX", "70"))


def test_a_reversal_carries_negative_amounts_and_an_empty_clp05_is_zero() -> None:
    [remittance] = read_remittances(BALANCED)
    reversal = remittance.claims[1]
    [line] = reversal.lines

    assert (reversal.status, reversal.status_meaning, reversal.is_reversal) == (
        "22",
        "reversal of previous payment",
        True,
    )
    assert (reversal.charge, reversal.paid, reversal.patient_responsibility) == (
        Decimal("-500.00"),
        Decimal("-300.00"),
        Decimal("0.00"),
    )
    assert (line.charge, line.paid, line.units_paid) == (Decimal("-500.00"), Decimal("-300.00"), Decimal("-1"))
    assert line.adjustments == (
        Adjustment("CO", "45", Decimal("-120.00"), Decimal("-1")),
        Adjustment("PR", "1", Decimal("-80.00"), None),
    )


def test_provider_level_adjustments_split_reason_and_reference() -> None:
    [remittance] = read_remittances(BALANCED)

    assert remittance.provider_adjustments == (
        ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", "INT01", Decimal("-5.25")),
        ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "RECOUP77", Decimal("100.00")),
    )


def test_the_hand_written_remittance_balances() -> None:
    [remittance] = read_remittances(BALANCED)

    assert remittance.balance_problems() == []


def test_the_oxedi_balanced_sample_balances() -> None:
    path = CORPUS / "oxedi/crates/oxedi_core/tests/fixtures/balanced_5010_sample.txt"
    [remittance] = read_remittances(path.read_bytes())

    assert remittance.payment.total_paid == Decimal("690.00")
    assert len(remittance.claims) == 4
    assert remittance.balance_problems() == []


def test_figures_that_do_not_add_up_are_read_and_reported() -> None:
    unbalanced = BALANCED.replace("BPR*I*455.25", "BPR*I*455.00").replace("CAS*PR*3*60*2", "CAS*PR*3*61*2")
    [remittance] = read_remittances(unbalanced)

    assert remittance.claims[0].lines[1].adjustments[0].amount == Decimal("61.00")
    assert remittance.balance_problems() == [
        "BPR02 455.00 is not the claims' payments 550.00 less the provider adjustments 94.75",
        "claim PCN-1 line 2: charge 200.00 less paid 100.00 is not the line's adjustments 101.00",
        "claim PCN-1: charge 1200.00 less paid 850.00 is not the claim's and its lines' adjustments 351.00",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1200", "1200.00"), ("1200.5", "1200.50"), ("1200.", "1200.00"), (".5", "0.50"), ("1200.500", "1200.50")],
)
def test_amounts_become_two_place_decimals_exactly(text: str, expected: str) -> None:
    [remittance] = read_remittances(BALANCED.replace("CLP*PCN-1*1*1200*", f"CLP*PCN-1*1*{text}*"))

    assert str(remittance.claims[0].charge) == expected


@pytest.mark.parametrize("bad", ["85O", "1E3", "NaN", "Infinity", "1,200", " 850", "8.5.0", "850.001", "--850", "-"])
def test_a_bad_amount_names_the_element_and_position_not_the_value(bad: str) -> None:
    with pytest.raises(X12Error, match=r"CLP04 is not an amount .*\(segment CLP at position 17\)") as caught:
        read_remittances(BALANCED.replace("CLP*PCN-1*1*1200*850*", f"CLP*PCN-1*1*1200*{bad}*"))

    assert bad.strip() not in str(caught.value).replace("CLP04", "")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("CLP*PCN-1*1*1200*850*", "CLP*PCN-1*1*1200**", r"CLP04 is missing \(segment CLP at position 17\)"),
        ("CAS*PR*3*60*2", "CAS*PR*3*60*X", r"CAS04 is not a number \(segment CAS at position 37\)"),
        ("CAS*PR*3*60*2", "CAS*PR**60", r"CAS03 is an amount without a reason \(segment CAS at position 37\)"),
        ("CAS*PR*3*60*2", "CAS**3*60", r"CAS01 \(the group code\) is missing"),
        ("WO>RECOUP77*100", "WO>RECOUP77*", r"PLB06 is missing \(segment PLB at position 48\)"),
        ("LX*1~CLP", "LX*1~CAS*CO*45*1~CLP", r"CAS comes before any CLP \(segment CAS at position 17\)"),
        ("TRN*1*EFT0001*1512345678~", "", r"the 835 has no TRN segment \(segment ST at position 3\)"),
        ("N1*PE*RIVERSIDE CLINIC*XX*1234567893~", "", r"no N1\*PE segment"),
    ],
)
def test_unreadable_figures_and_missing_segments_are_refused(old: str, new: str, message: str) -> None:
    assert old in BALANCED
    with pytest.raises(X12Error, match=message):
        read_remittances(BALANCED.replace(old, new))


def test_an_impossible_date_is_read_as_none_and_noted() -> None:
    [remittance] = read_remittances(
        BALANCED.replace("*20260305~", "*20261305~").replace("DTM*472*20260210", "DTM*472*2026021")
    )

    assert remittance.payment.payment_date is None
    assert remittance.claims[0].lines[0].service_date is None
    assert remittance.findings == (
        "BPR16 at position 4 is not a CCYYMMDD date: read as none",
        "DTM02 at position 29 is not a CCYYMMDD date: read as none",
    )


def test_names_member_ids_and_claim_ids_stay_out_of_repr() -> None:
    [remittance] = read_remittances(BALANCED)

    shown = repr(remittance)
    assert "Claim(" in shown
    assert "ServiceLine(" in shown
    for phi in ("PATIENT", "SUBSCRIBER", "MEMBER0", "MEMBER1", "PCN-1", "ICN-1"):
        assert phi not in shown


def test_every_835_of_a_file_is_read_and_other_sets_are_passed_over() -> None:
    second = BALANCED.split("ST*835")[1].split("GE*")[0].replace("*0001", "*0002").replace("EFT0001", "EFT0002")
    doubled = BALANCED.replace("GE*1*77", f"ST*835{second}GE*2*77")
    remittances = read_remittances(doubled)

    assert [(r.control_number, r.trace_number) for r in remittances] == [("0001", "EFT0001"), ("0002", "EFT0002")]
    [interchange] = read(doubled)
    st_837 = interchange.groups[0].transactions[0]
    st_837.set_id = "837"
    with pytest.raises(X12Error, match=r"not an 835 \(segment ST at position 3\)"):
        remittance_of(st_837, interchange)
    assert len(read_remittances(doubled.replace("ST*835*0001", "ST*837*0001"))) == 1


def test_a_cut_off_835_is_refused_rather_than_posted_short() -> None:
    cut = BALANCED[: BALANCED.index("SE*")]
    with pytest.raises(X12Error, match="cut short"):
        read_remittances(cut)


def test_a_debit_and_a_service_line_without_its_code_are_read_and_noted() -> None:
    text = BALANCED.replace("BPR*I*455.25*C*", "BPR*I*455.25*D*", 1)
    text = re.sub(r"SVC\*HC>[^*]+", "SVC*HC", text, count=1)
    [remittance] = read_remittances(text)

    assert any("BPR03" in finding for finding in remittance.findings)
    assert any("no procedure code" in finding for finding in remittance.findings)


def test_what_recurs_is_read_alike_and_each_occurrence_still_noted() -> None:
    text = BALANCED.replace("SVC*HC>99214>25>59*1000", "SVC*HC*1000").replace(
        "SVC*HC>J3420>RT>LT>KX>GA>VITAMIN B12", "SVC*HC"
    )
    text = text.replace("DTM*472*20260210", "DTM*472*20260230").replace("DTM*150*20260210", "DTM*150*20260230")
    text = text.replace("SVC*HC>99213*-500", "SVC*HC>J3410*-500")
    [remittance] = read_remittances(text)

    first, reversal = remittance.claims
    assert [line.procedure for line in first.lines] == [Procedure("HC", "", (), "")] * 2
    dates = [(line.service_date, line.service_start, line.service_end) for line in first.lines]
    assert dates == [(None, None, None), (None, None, date(2026, 2, 11))]
    assert reversal.lines[0].procedure == first.lines[1].original_procedure == Procedure("HC", "J3410", (), "")
    assert [finding for finding in remittance.findings if "DTM02" in finding] == [
        "DTM02 at position 29 is not a CCYYMMDD date: read as none",
        "DTM02 at position 35 is not a CCYYMMDD date: read as none",
    ]
    assert sum("no procedure code" in finding for finding in remittance.findings) == 2
