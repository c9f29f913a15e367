"""The X12 writers: what they write reads back to the same values with the envelope's counts right, what
they cannot write is refused without the value in the message, and pyx12 accepts the 837Ps."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyx12.errors import EngineError  # type: ignore[import-untyped]

from rcm_x12 import Delimiters, X12Error, read
from rcm_x12.eligibility_request_writer import EligibilityInquiry, EligibilityRequest, write_270
from rcm_x12.professional_claim_writer import (
    Claim,
    Contact,
    Dependent,
    LineAdjudication,
    OtherCoverage,
    ProfessionalClaimBatch,
    ServiceFacility,
    ServiceLine,
    SubscriberClaims,
    write_837p,
)
from rcm_x12.remittance_reader import Adjustment
from rcm_x12.status_request_writer import StatusInquiry, StatusRequest, write_276
from rcm_x12.testing import assert_accepted_by_pyx12, find, pyx12_verdict, segments_of
from rcm_x12.testing.claims import (
    BILLING,
    ENVELOPE,
    HOME,
    PAYER,
    PRIMARY,
    RENDERING,
    batch,
    claim,
    line,
    one_claim,
    subscriber,
)
from rcm_x12.writer import Address, Envelope, Member, Provider, TradingPartner, decimal_text


def test_amounts_are_written_in_the_x12_r_form() -> None:
    written = [decimal_text(Decimal(v)) for v in ("100.00", "12.50", "-3.25", "0.00", "-0.00", "1E+2", "0.05", "7")]

    assert written == ["100", "12.5", "-3.25", "0", "0", "100", "0.05", "7"]
    with pytest.raises(X12Error, match="finite"):
        decimal_text(Decimal("NaN"))


def test_the_envelope_has_its_fixed_widths_and_counts() -> None:
    text = write_837p(one_claim(), ENVELOPE)
    isa = text[: text.index("~")].split("*")
    [interchange] = read(text)
    [group] = interchange.groups
    [transaction] = group.transactions

    assert len(text[: text.index("~")]) == 105
    assert (isa[6], isa[8], isa[9], isa[10], isa[11], isa[13], isa[16]) == (
        "SUBMITTER1     ",
        "RECEIVER1      ",
        "260304",
        "0905",
        "^",
        "000000101",
        ":",
    )
    assert (interchange.control_number, interchange.usage, interchange.findings) == ("000000101", "T", [])
    assert (group.functional_id, group.date, group.time, group.control_number, group.version) == (
        "HC",
        "20260304",
        "0905",
        "7",
        "005010X222A1",
    )
    assert (transaction.set_id, transaction.control_number, transaction.implementation) == (
        "837",
        "0001",
        "005010X222A1",
    )
    assert transaction.segments[0] == ["BHT", "0019", "00", "BATCH0001", "20260304", "0905", "CH"]
    assert text.endswith(f"SE*{len(transaction.segments) + 2}*0001~GE*1*7~IEA*1*000000101~")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"delimiters": Delimiters("*", "*", "^", "~")}, "must differ"),
        ({"delimiters": Delimiters("*", "A", "^", "~")}, "not a letter"),
        ({"delimiters": Delimiters("*", ":", None, "~")}, "one ASCII character"),
        ({"sender_id": "S" * 16}, "ISA06"),
        ({"receiver_id": "REC*1"}, "ISA08 holds a delimiter"),
        ({"interchange_control_number": 0}, "ISA13"),
        ({"transaction_control_number": 1_000_000_000}, "ST02"),
        ({"replacement": "~"}, "replacement"),
    ],
)
def test_envelope_settings_x12_cannot_carry_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(X12Error, match=message):
        replace(ENVELOPE, **changes)


def test_an_837p_reads_back_to_the_claims_written() -> None:
    lines = (
        line(pointers=(1, 2, 3, 4), modifiers=("25", "59", "GT", "XS"), control_number="L-1"),
        line("J3420", "12.05", "2.5", service_end=date(2026, 3, 1), place_of_service="22"),
    )
    written = claim("PCN-0042", diagnoses=("J449", "E119", "I10", "Z79899"), lines=lines, prior_authorization="AUTH9")
    segments = segments_of(write_837p(one_claim(written), ENVELOPE))

    [clm] = find(segments, "CLM")
    assert clm == ["CLM", "PCN-0042", "162.05", "", "", "11:B:1", "Y", "A", "Y", "Y"]
    assert find(segments, "REF", "G1") == [["REF", "G1", "AUTH9"]]
    assert find(segments, "HI") == [["HI", "ABK:J449", "ABF:E119", "ABF:I10", "ABF:Z79899"]]
    assert find(segments, "SV1") == [
        ["SV1", "HC:99214:25:59:GT:XS", "150", "UN", "1", "", "", "1:2:3:4"],
        ["SV1", "HC:J3420", "12.05", "UN", "2.5", "22", "", "1"],
    ]
    assert find(segments, "DTP", "472") == [
        ["DTP", "472", "D8", "20260227"],
        ["DTP", "472", "RD8", "20260227-20260301"],
    ]
    assert find(segments, "REF", "6R") == [["REF", "6R", "L-1"]]
    assert [Decimal(s[2]) for s in find(segments, "SV1")] == [line.charge for line in lines]
    assert find(segments, "NM1", "IL") == [["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W000000001"]]
    assert find(segments, "N3") == [["N3", "1 MAIN ST"], ["N3", "12 OAK AVE", "APT 3"]]
    assert find(segments, "DMG") == [["DMG", "D8", "19800102", "F"]]
    assert find(segments, "SBR") == [["SBR", "P", "18", "", "", "", "", "", "", "CI"]]
    assert find(segments, "NM1", "PR") == [["NM1", "PR", "2", "BIG HEALTH PLAN", "", "", "", "", "PI", "BHP01"]]


def test_hierarchical_levels_count_up_and_name_their_parents() -> None:
    patient = Member("DOE", "SAM", birth_date=date(2015, 5, 6), gender="M", address=HOME)
    text = write_837p(
        batch(
            SubscriberClaims(subscriber(1), PAYER, (claim("A"), claim("B"))),
            SubscriberClaims(subscriber(2), PAYER, (claim("C"),), dependent=Dependent(patient, "19")),
            SubscriberClaims(subscriber(3), PAYER, (claim("D"),)),
        ),
        ENVELOPE,
    )
    segments = segments_of(text)

    assert find(segments, "HL") == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "22", "0"],
        ["HL", "3", "1", "22", "1"],
        ["HL", "4", "3", "23", "0"],
        ["HL", "5", "1", "22", "0"],
    ]
    assert [s[1] for s in find(segments, "CLM")] == ["A", "B", "C", "D"]
    assert find(segments, "PAT") == [["PAT", "19"]]
    assert find(segments, "NM1", "QC") == [["NM1", "QC", "1", "DOE", "SAM"]]
    assert [s[2] for s in find(segments, "SBR")] == ["18", "", "18"]


def test_the_rendering_provider_is_written_only_when_it_is_not_the_billing_provider() -> None:
    same = replace(RENDERING, npi=BILLING.npi)
    text = write_837p(
        batch(SubscriberClaims(subscriber(), PAYER, (claim("A", rendering=RENDERING), claim("B", rendering=same)))),
        ENVELOPE,
    )

    assert find(segments_of(text), "NM1", "82") == [["NM1", "82", "1", "SMITH", "ANNA", "", "", "", "XX", "1098765432"]]
    assert find(segments_of(text), "PRV", "PE") == [["PRV", "PE", "PXC", "207Q00000X"]]


def test_a_correction_names_the_payers_claim() -> None:
    segments = segments_of(write_837p(one_claim(claim(frequency="7", payer_claim_number="PAYER-123")), ENVELOPE))

    assert find(segments, "CLM")[0][5] == "11:B:7"
    assert find(segments, "REF", "F8") == [["REF", "F8", "PAYER-123"]]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: claim(frequency="8"), "payer's claim number"),
        (lambda: claim(diagnoses=tuple(f"A{n:02d}" for n in range(13))), "12 diagnosis codes"),
        (lambda: claim(lines=(line(pointers=(3,)),)), "does not have"),
        (lambda: claim(lines=()), "50 service lines"),
        (lambda: line(modifiers=("1", "2", "3", "4", "5")), "four procedure modifiers"),
        (lambda: line(pointers=(1, 2, 3, 4, 5)), "one to four"),
        (lambda: Dependent(Member("DOE", "SAM"), "19"), "address and a birth date"),
        (lambda: Contact("NOBODY"), "phone"),
    ],
    ids=["void", "diagnoses", "pointer", "lines", "modifiers", "pointers", "dependant", "contact"],
)
def test_what_an_837p_cannot_hold_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def secondary_claim(claim_id: str = "SEC1") -> Claim:
    adjudicated = LineAdjudication(
        "FIRST1",
        Decimal("80"),
        "99214",
        Decimal("1"),
        date(2026, 3, 20),
        modifiers=("25",),
        adjustments=(Adjustment("CO", "45", Decimal("50.00")), Adjustment("PR", "2", Decimal("20"), Decimal("1"))),
    )
    coverage = OtherCoverage(
        subscriber(),
        PRIMARY,
        "P",
        group_number="G77",
        paid=Decimal("72.30"),  # CLM02 150.00 = AMT*D 72.30 + the 2320 CAS 7.70 + the 2430 CAS 70.00
        adjustments=tuple(Adjustment("CO", str(reason), Decimal("1.10")) for reason in range(1, 8)),
        adjudication_date=date(2026, 3, 20),
    )
    lines = (line(modifiers=("25",), adjudications=(adjudicated,)),)
    return claim(claim_id, lines=lines, other_coverage=(coverage,))


def test_a_secondary_claim_carries_the_primarys_adjudication() -> None:
    segments = segments_of(write_837p(one_claim(secondary_claim(), responsibility="S"), ENVELOPE))
    after_hi = [s[:2] for s in segments[[s[0] for s in segments].index("HI") + 1 :]]

    assert after_hi == [
        ["SBR", "P"], ["CAS", "CO"], ["CAS", "CO"], ["AMT", "D"], ["OI", ""], ["NM1", "IL"], ["N3", "12 OAK AVE"],
        ["N4", "SPRINGFIELD"], ["NM1", "PR"], ["N3", "PO BOX 9"], ["N4", "CHICAGO"], ["DTP", "573"],
        ["LX", "1"], ["SV1", "HC:99214:25"], ["DTP", "472"], ["SVD", "FIRST1"], ["CAS", "CO"], ["CAS", "PR"],
        ["DTP", "573"],
    ]  # fmt: skip
    assert find(segments, "SBR") == [
        ["SBR", "S", "18", "", "", "", "", "", "", "CI"],
        ["SBR", "P", "18", "G77", "", "", "", "", "", "CI"],
    ]
    first_cas, second_cas = find(segments, "CAS", "CO")[:2]
    assert first_cas == ["CAS", "CO", *(v for reason in range(1, 7) for v in (str(reason), "1.1", ""))][:-1]
    assert second_cas == ["CAS", "CO", "7", "1.1"]
    assert find(segments, "AMT", "D") == [["AMT", "D", "72.3"]]
    assert find(segments, "OI") == [["OI", "", "", "Y", "", "", "Y"]]
    assert find(segments, "SVD") == [["SVD", "FIRST1", "80", "HC:99214:25", "", "1"]]
    assert find(segments, "CAS", "PR") == [["CAS", "PR", "2", "20", "1"]]
    assert find(segments, "DTP", "573") == [["DTP", "573", "D8", "20260320"]] * 2


SECRET = "SECRET"


@pytest.mark.parametrize("mark", ["*", "~", ":", "^"])
@pytest.mark.parametrize(
    ("make", "element", "record"),
    [
        (lambda v: one_claim(claim(f"{SECRET}{v}1")), "CLM01", "claim 1"),
        (lambda v: one_claim(claim(diagnoses=("J449", f"{SECRET}{v}"))), "HI02", "claim 1"),
        (lambda v: one_claim(claim(lines=(line(modifiers=(f"{v}{SECRET}",)),))), "SV101", "claim 1"),
        (lambda v: one_claim(claim(rendering=replace(RENDERING, name=f"{SECRET}{v}"))), "NM103", "claim 1"),
        (lambda v: batch(SubscriberClaims(replace(subscriber(), last_name=f"{SECRET}{v}"), PAYER, (claim(),))),
         "NM103", "subscriber 1"),
        (lambda v: one_claim(secondary_claim(f"{SECRET}{v}")), "CLM01", "claim 1"),
        (lambda v: batch(SubscriberClaims(subscriber(), PAYER, (claim(),)),
                         provider=replace(BILLING, tax_id=f"{SECRET}{v}")), "REF02", "billing provider 1"),
    ],
    ids=["claim id", "diagnosis", "modifier", "rendering name", "subscriber name", "secondary claim", "tax id"],
)  # fmt: skip
def test_a_delimiter_in_a_value_is_refused_naming_the_place_not_the_value(
    mark: str, make: Any, element: str, record: str
) -> None:
    with pytest.raises(X12Error) as refused:
        write_837p(make(mark), ENVELOPE)

    message = str(refused.value)
    assert f"{element} of {record} holds" in message
    assert refused.value.segment == element[:-2]
    assert SECRET not in message
    assert re.search(r"\(segment \w+ at position \d+\)$", message)


@pytest.mark.parametrize("value", ["JOSÉ", "TAB\tBED", "LINE\nBREAK", "NUL\x00", "DEL\x7f"])
def test_a_character_outside_the_extended_set_is_refused(value: str) -> None:
    with pytest.raises(X12Error, match="NM104 of subscriber 1 holds a character outside the X12 extended"):
        write_837p(batch(SubscriberClaims(replace(subscriber(), first_name=value), PAYER, (claim(),))), ENVELOPE)


def test_replacement_puts_the_replacement_where_the_delimiters_were_when_asked() -> None:
    replacing = replace(ENVELOPE, on_delimiter="replace", replacement="-")
    changed = batch(SubscriberClaims(replace(subscriber(), last_name="O*BRIEN~JR"), PAYER, (claim("A:1^2"),)))
    segments = segments_of(write_837p(changed, replacing))

    assert find(segments, "NM1", "IL")[0][3] == "O-BRIEN-JR"
    assert find(segments, "CLM")[0][1] == "A-1-2"
    with pytest.raises(X12Error, match="outside the X12 extended"):
        write_837p(one_claim(claim("JOSÉ")), replacing)


def test_other_delimiters_leave_the_default_ones_writable() -> None:
    piped = replace(ENVELOPE, delimiters=Delimiters("|", ">", "!", "\n"))
    text = write_837p(one_claim(claim("A*B:C^D~E")), piped)
    [interchange] = read(text)

    assert (interchange.delimiters.element, interchange.delimiters.segment) == ("|", "\n")
    clm = next(s for s in interchange.groups[0].transactions[0].segments if s[0] == "CLM")
    assert clm[1:6] == ["A*B:C^D~E", "185.5", "", "", "11>B>1"]
    assert interchange.findings == []
    with pytest.raises(X12Error, match="CLM01 of claim 1 holds the element separator '\\|'"):
        write_837p(one_claim(claim("A|B")), piped)


WRITABLE_SPECIALS = " !\"#$%&'()+,-./;<=>?@[\\]_`{|}"
TEXT = st.text(alphabet=st.one_of(st.sampled_from("*:^~ \t\n"), st.sampled_from(WRITABLE_SPECIALS), st.characters()))


def writable(value: str) -> bool:
    return all(" " <= ch <= "~" and ch not in "*:^~" for ch in value)


@given(value=TEXT, place=st.sampled_from(["CLM01", "NM103", "SV101-3"]))
def test_any_text_round_trips_exactly_or_is_refused(value: str, place: str) -> None:
    if place == "CLM01":
        model = one_claim(claim(value))
    elif place == "NM103":
        model = batch(SubscriberClaims(replace(subscriber(), last_name=value), PAYER, (claim(),)))
    else:
        model = one_claim(claim(lines=(line(modifiers=(value,)),)))
    try:
        text = write_837p(model, ENVELOPE)
    except X12Error:
        assert not writable(value)
        return
    assert writable(value)
    segments = segments_of(text)
    written = {
        "CLM01": find(segments, "CLM")[0][1],
        "NM103": find(segments, "NM1", "IL")[0][3],
        "SV101-3": find(segments, "SV1")[0][1].split(":")[2],
    }
    assert written[place] == value


def many_claims(count: int) -> ProfessionalClaimBatch:
    """`count` claims of a few shapes: one to three lines, two to three per subscriber, some rendered by
    another provider, some for a dependant."""
    patient = Member("DOE", "SAM", birth_date=date(2015, 5, 6), gender="M", address=HOME)
    groups = []
    for first in range(0, count, 3):
        claims = tuple(
            claim(
                f"C{n:06d}",
                lines=tuple(line(control_number=f"C{n:06d}-{k}") for k in range(1 + n % 3)),
                rendering=RENDERING if n % 2 else None,
            )
            for n in range(first, min(first + 3, count))
        )
        dependent = Dependent(patient, "19") if first % 9 == 0 else None
        groups.append(SubscriberClaims(subscriber(first), PAYER, claims, group_number="G1", dependent=dependent))
    return batch(*groups)


def test_five_thousand_claims_pass_pyx12_and_read_back() -> None:
    text = write_837p(many_claims(5000), ENVELOPE)

    assert "AK9*A*1*1*1~" in assert_accepted_by_pyx12(text)
    assert len(find(segments_of(text), "CLM")) == 5000


def test_secondary_claims_corrections_and_dependants_pass_pyx12() -> None:
    patient = Member("DOE", "SAM", "IGNORED", birth_date=date(2015, 5, 6), gender="U", address=HOME)
    text = write_837p(
        batch(
            SubscriberClaims(subscriber(1), PAYER, (secondary_claim("S1"), secondary_claim("S2")), responsibility="S"),
            SubscriberClaims(subscriber(2), PAYER, (claim("R1", frequency="7", payer_claim_number="P-1"),)),
            SubscriberClaims(subscriber(3), PAYER, (claim("V1", frequency="8", payer_claim_number="P-2"),)),
            SubscriberClaims(
                subscriber(4), PAYER, (claim("D1", rendering=RENDERING),), dependent=Dependent(patient, "19")
            ),
            SubscriberClaims(subscriber(5), PAYER, (secondary_claim("S3"),), dependent=Dependent(patient, "01")),
            provider=replace(BILLING, pay_to=Address("PO BOX 77", "SPRINGFIELD", "IL", "62705")),
        ),
        ENVELOPE,
    )

    assert "AK9*A*1*1*1~" in assert_accepted_by_pyx12(text)
    assert [s[1] for s in find(segments_of(text), "CLM")] == ["S1", "S2", "R1", "V1", "D1", "S3"]


def test_pyx12_reports_what_is_wrong_in_an_837p() -> None:
    """The oracle can fail: a code out of its list and a missing required segment are reported."""
    text = write_837p(one_claim(secondary_claim(), responsibility="S"), ENVELOPE)
    broken = text.replace("SBR*S*", "SBR*Q*").replace("DTP*573*D8*20260320~LX", "LX")

    valid, errors, acknowledgment = pyx12_verdict(broken)

    assert not valid
    assert errors
    assert "AK9*R*1*1*0~" in acknowledgment


INQUIRER = Provider("ACME MEDICAL GROUP", "1234567893")


def test_a_270_reads_back_to_the_inquiries_written() -> None:
    child = Member("DOE", "SAM", birth_date=date(2015, 5, 6), gender="U")
    request = EligibilityRequest(
        "ELIG0001",
        PAYER,
        INQUIRER,
        (
            EligibilityInquiry(subscriber(1), date(2026, 3, 4), trace="T-1"),
            EligibilityInquiry(subscriber(2), date(2026, 3, 5), ("30", "98", "UC"), dependent=child, trace="T-2"),
        ),
        trace_originator="9ACMEGROUP",
    )
    text = write_270(request, ENVELOPE)
    [interchange] = read(text)
    [group] = interchange.groups
    segments = segments_of(text)

    assert (group.functional_id, group.version, group.transactions[0].implementation) == (
        "HS",
        "005010X279A1",
        "005010X279A1",
    )
    assert segments == [
        ["BHT", "0022", "13", "ELIG0001", "20260304", "0905"],
        ["HL", "1", "", "20", "1"],
        ["NM1", "PR", "2", "BIG HEALTH PLAN", "", "", "", "", "PI", "BHP01"],
        ["HL", "2", "1", "21", "1"],
        ["NM1", "1P", "2", "ACME MEDICAL GROUP", "", "", "", "", "XX", "1234567893"],
        ["HL", "3", "2", "22", "0"],
        ["TRN", "1", "T-1", "9ACMEGROUP"],
        ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W000000001"],
        ["N3", "12 OAK AVE", "APT 3"],
        ["N4", "SPRINGFIELD", "IL", "627041234"],
        ["DMG", "D8", "19800102", "F"],
        ["DTP", "291", "D8", "20260304"],
        ["EQ", "30"],
        ["HL", "4", "2", "22", "1"],
        ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W000000002"],
        ["N3", "12 OAK AVE", "APT 3"],
        ["N4", "SPRINGFIELD", "IL", "627041234"],
        ["DMG", "D8", "19800102", "F"],
        ["HL", "5", "4", "23", "0"],
        ["TRN", "1", "T-2", "9ACMEGROUP"],
        ["NM1", "03", "1", "DOE", "SAM"],
        ["DMG", "D8", "20150506"],
        ["DTP", "291", "D8", "20260305"],
        ["EQ", "30"],
        ["EQ", "98"],
        ["EQ", "UC"],
    ]


def test_a_270_refuses_a_delimiter_and_needs_the_trace_originator() -> None:
    inquiry = EligibilityInquiry(replace(subscriber(), member_id=f"{SECRET}*"))
    with pytest.raises(X12Error, match="NM109 of inquiry 1 holds the element separator") as refused:
        write_270(EligibilityRequest("E1", PAYER, INQUIRER, (inquiry,)), ENVELOPE)
    assert SECRET not in str(refused.value)
    with pytest.raises(ValueError, match="TRN03"):
        EligibilityRequest("E1", PAYER, INQUIRER, (EligibilityInquiry(subscriber(), trace="T"),))


def test_a_276_reads_back_to_the_inquiries_written() -> None:
    child = Member("DOE", "SAM", birth_date=date(2015, 5, 6), gender="M")
    request = StatusRequest(
        "STAT0001",
        PAYER,
        TradingPartner("ACME BILLING", "SUBMITTER1"),
        INQUIRER,
        (
            StatusInquiry(subscriber(1), "T-1", Decimal("185.50"), date(2026, 2, 27), payer_claim_number="PCN9"),
            StatusInquiry(
                replace(subscriber(2), gender="U"),
                "T-2",
                Decimal("40"),
                date(2026, 2, 1),
                date(2026, 2, 3),
                patient_control_number="CLM7",
                dependent=child,
            ),
        ),
    )
    text = write_276(request, ENVELOPE)
    [interchange] = read(text)
    segments = segments_of(text)

    assert interchange.groups[0].functional_id == "HR"
    assert interchange.groups[0].transactions[0].implementation == "005010X212"
    assert segments == [
        ["BHT", "0010", "13", "STAT0001", "20260304", "0905"],
        ["HL", "1", "", "20", "1"],
        ["NM1", "PR", "2", "BIG HEALTH PLAN", "", "", "", "", "PI", "BHP01"],
        ["HL", "2", "1", "21", "1"],
        ["NM1", "41", "2", "ACME BILLING", "", "", "", "", "46", "SUBMITTER1"],
        ["HL", "3", "2", "19", "1"],
        ["NM1", "1P", "2", "ACME MEDICAL GROUP", "", "", "", "", "XX", "1234567893"],
        ["HL", "4", "3", "22", "0"],
        ["DMG", "D8", "19800102", "F"],
        ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W000000001"],
        ["TRN", "1", "T-1"],
        ["REF", "1K", "PCN9"],
        ["AMT", "T3", "185.5"],
        ["DTP", "472", "D8", "20260227"],
        ["HL", "5", "3", "22", "1"],
        ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W000000002"],
        ["HL", "6", "5", "23"],
        ["DMG", "D8", "20150506", "M"],
        ["NM1", "QC", "1", "DOE", "SAM"],
        ["TRN", "1", "T-2"],
        ["REF", "EJ", "CLM7"],
        ["AMT", "T3", "40"],
        ["DTP", "472", "RD8", "20260201-20260203"],
    ]


def test_a_276_refuses_a_delimiter_in_the_trace() -> None:
    inquiry = StatusInquiry(subscriber(), f"{SECRET}~", Decimal("1"), date(2026, 1, 1))
    with pytest.raises(X12Error, match="TRN02 of inquiry 1 holds the segment terminator") as refused:
        write_276(StatusRequest("S1", PAYER, TradingPartner("B", "SUB1"), INQUIRER, (inquiry,)), ENVELOPE)
    assert SECRET not in str(refused.value)


@pytest.mark.parametrize(
    "text",
    [
        write_270(EligibilityRequest("E1", PAYER, INQUIRER, (EligibilityInquiry(subscriber()),)), ENVELOPE),
        write_276(
            StatusRequest(
                "S1",
                PAYER,
                TradingPartner("B", "SUB1"),
                INQUIRER,
                (StatusInquiry(subscriber(), "T1", Decimal("1"), date(2026, 1, 1)),),
            ),
            ENVELOPE,
        ),
    ],
    ids=["270", "276"],
)
def test_pyx12_4_has_no_map_to_check_a_270_or_a_276_against(text: str) -> None:
    """pyx12 4.0 ships 005010 maps for the 837P, 835, 834, 820, 277 and 999 only (its maps.xml comments
    the 270/276 entries out, and has no 270/276 5010 map files): these writers are checked by reading
    back. When pyx12 gains the maps this fails, and the test becomes an acceptance test."""
    with pytest.raises(EngineError, match="Map not found"):
        pyx12_verdict(text)


def test_fractions_of_a_cent_and_data_characters_as_delimiters_are_refused() -> None:
    with pytest.raises(ValueError, match="two decimal places"):
        ServiceLine("99214", Decimal("12.345"), Decimal("1"), date(2026, 1, 2))
    with pytest.raises(ValueError, match="two decimal places"):
        StatusInquiry(Member("DOE", "JANE", "W1"), "TRACE1", Decimal("0.001"), date(2026, 1, 2))
    for dash_or_point in "-.":
        with pytest.raises(X12Error, match=r"- or \."):
            Envelope("SUB", "REC", 1, 1, 1, datetime(2026, 1, 2), delimiters=Delimiters(dash_or_point, ":", "^", "~"))


def test_a_drug_line_carries_its_ndc_in_2410_and_pyx12_accepts_it() -> None:
    """Medicaid requires the NDC on a drug line (Deficit Reduction Act of 2005, §6002): 2410 LIN*N4 with the
    11-digit NDC and CTP04-05 its quantity and unit."""
    drug = line("J1100", "36.00", "8", ndc="63323016501", ndc_quantity=Decimal("2"), ndc_unit="ML")
    text = write_837p(one_claim(claim(lines=(line(), drug))), ENVELOPE)
    segments = segments_of(text)

    assert find(segments, "LIN") == [["LIN", "", "N4", "63323016501"]]
    assert find(segments, "CTP") == [["CTP", "", "", "", "2", "ML"]]
    assert assert_accepted_by_pyx12(text)


def test_a_service_facility_and_a_lines_own_rendering_provider_are_written_and_pyx12_accepts_them() -> None:
    """2310C names where the service was given when not at the billing provider's address (POS 22, an
    outpatient hospital); 2420A a line's rendering provider when it is not the claim's."""
    facility = ServiceFacility(
        "GENERAL HOSPITAL", Address("9 CARE WAY", "SPRINGFIELD", "IL", "627019999"), "1245319599"
    )
    other_doctor = Provider("JONES", "1588667638", first_name="BOB")
    made = claim(place_of_service="22", service_facility=facility, rendering=RENDERING,
                 lines=(line(), line("85025", "35.50", rendering=other_doctor)))  # fmt: skip
    text = write_837p(one_claim(made), ENVELOPE)
    segments = segments_of(text)

    assert find(segments, "NM1", "77") == [["NM1", "77", "2", "GENERAL HOSPITAL", "", "", "", "", "XX", "1245319599"]]
    assert find(segments, "NM1", "82") == [
        ["NM1", "82", "1", "SMITH", "ANNA", "", "", "", "XX", "1098765432"],  # the claim's (2310B)
        ["NM1", "82", "1", "JONES", "BOB", "", "", "", "XX", "1588667638"],  # line 2's (2420A)
    ]
    assert assert_accepted_by_pyx12(text)


def unbalanced_claim() -> Claim:
    """The secondary claim with its primary's paid amount not what its charge less the adjustments leaves."""
    made = secondary_claim()
    return replace(made, other_coverage=(replace(made.other_coverage[0], paid=Decimal("80.00")),))


def unbalanced_line() -> ServiceLine:
    adjudication = secondary_claim().lines[0].adjudications[0]
    return line(adjudications=(replace(adjudication, paid=Decimal("1.00")),))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: replace(BILLING, address=Address("1 MAIN ST", "SPRINGFIELD", "IL", "62701")), "nine-digit"),
        (lambda: line("J1100", ndc="0002-1433-80", ndc_quantity=Decimal(1)), "eleven digits"),
        (lambda: line("J1100", ndc="00002143380"), "quantity"),
        (lambda: line("J1100", ndc="00002143380", ndc_quantity=Decimal(1), ndc_unit="KG"), "CTP05"),
        (unbalanced_claim, "CLM02"),
        (unbalanced_line, "SV102"),
    ],
)
def test_what_the_guide_requires_of_a_billing_address_a_drug_line_and_a_secondary_claim_is_refused(
    make: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make()
