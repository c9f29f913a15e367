"""The 999 and TA1 writer: a 999 reads back through the acknowledgment reader to the verdicts written, its group
verdict and counts follow from its sets, accepting a group read acknowledges each of its sets, pyx12 accepts
the 999s, a TA1 stands alone in its interchange, what either cannot hold is refused when made or written, and
a delimiter in a value is refused naming the place, never the value."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest

from rcm_x12 import X12Error, read
from rcm_x12.acknowledgment_reader import read_acknowledgments
from rcm_x12.acknowledgment_writer import (
    ElementFault,
    InterchangeAcknowledgment,
    SegmentFault,
    SetAcknowledgment,
    accepting,
    write_999,
    write_ta1,
)
from rcm_x12.professional_claim_writer import (
    BillingProvider,
    Claim,
    Contact,
    ProfessionalClaimBatch,
    ProviderClaims,
    ServiceLine,
    SubscriberClaims,
    write_837p,
)
from rcm_x12.testing import (
    DELIMITER_MARKS,
    ENVELOPE,
    JANE,
    PAYER,
    SUBMITTER,
    D,
    assert_accepted_by_pyx12,
    assert_refused_naming_the_place_not_the_value,
    group_acknowledgment,
    pyx12_verdict,
    rejected_set,
    segments_of,
)
from rcm_x12.writer import Address, Envelope, TradingPartner


def test_a_999_reads_back_to_the_verdicts_written() -> None:
    written = group_acknowledgment(
        SetAcknowledgment("837", "0001", "005010X222A1"),
        rejected_set(),
        SetAcknowledgment("837", "0003", "005010X222A1", "E", ("I5",), (SegmentFault("REF", 40, "I4", "2300"),)),
    )
    text = write_999(written, ENVELOPE)
    [interchange] = read(text)
    [group] = interchange.groups

    assert (group.functional_id, group.version, group.transactions[0].implementation) == (
        "FA",
        "005010X231A1",
        "005010X231A1",
    )
    assert segments_of(text) == [
        ["AK1", "HC", "7", "005010X222A1"],
        ["AK2", "837", "0001", "005010X222A1"],
        ["IK5", "A"],
        ["AK2", "837", "0002", "005010X222A1"],
        ["IK3", "CLM", "22", "2300", "8"],
        ["CTX", "CLM01:PCN-3"],
        ["IK4", "2", "782", "1"],
        ["IK4", "5:1", "1331", "7", "99"],
        ["IK3", "NM1", "9", "2010", "3"],
        ["IK4", "3::2", "", "I12"],
        ["IK5", "R", "5"],
        ["AK2", "837", "0003", "005010X222A1"],
        ["IK3", "REF", "40", "2300", "I4"],
        ["IK5", "E", "I5"],
        ["AK9", "P", "3", "3", "2"],
    ]
    [read_back] = read_acknowledgments(text).implementation
    assert (read_back.functional_id, read_back.group_control_number, read_back.version) == ("HC", "7", "005010X222A1")
    assert (read_back.code, read_back.sets_included, read_back.sets_received, read_back.sets_accepted) == ("P", 3, 3, 2)
    for response, expected in zip(read_back.responses, written.responses, strict=True):
        assert (response.set_id, response.control_number, response.implementation) == (
            expected.set_id,
            expected.control_number,
            expected.implementation,
        )
        assert (response.code, response.syntax_errors, response.accepted) == (
            expected.code,
            expected.syntax_errors,
            expected.accepted,
        )
        for error, fault in zip(response.segment_errors, expected.segment_faults, strict=True):
            assert (error.segment_id, error.position, error.loop_id, error.code) == (
                fault.segment_id,
                fault.position,
                fault.loop_id,
                fault.code,
            )
            assert [(c.name, c.reference) for c in error.contexts] == (
                [fault.business_unit] if fault.business_unit else []
            )
            assert [
                (e.position.element, e.position.component, e.position.repetition, e.reference, e.code, e.bad_value)
                for e in error.element_errors
            ] == [
                (f.position, f.component, f.repetition, f.reference, f.code, f.bad_value) for f in fault.element_faults
            ]


@pytest.mark.parametrize(
    ("codes", "changes", "expected"),
    [
        (("A", "A"), {}, "AK9*A*2*2*2"),
        (("A", "E"), {}, "AK9*E*2*2*2"),
        (("A", "R"), {}, "AK9*P*2*2*1"),
        (("R", "R"), {}, "AK9*R*2*2*0"),
        ((), {}, "AK9*R*0*0*0"),
        (("A",), {"group_errors": ("5",), "sets_included": 2}, "AK9*E*2*1*1*5"),
        (("A",), {"code": "R", "group_errors": ("2",)}, "AK9*R*1*1*1*2"),
    ],
    ids=["accepted", "errors noted", "partly", "rejected", "empty", "count mismatch", "given"],
)
def test_the_group_verdict_and_counts_follow_from_the_sets(
    codes: tuple[str, ...], changes: dict[str, Any], expected: str
) -> None:
    responses = [
        SetAcknowledgment("837", f"{n:04d}", "005010X222A1", c, () if c == "A" else ("5",))
        for n, c in enumerate(codes, 1)
    ]
    text = write_999(group_acknowledgment(*responses, **changes), ENVELOPE)

    assert f"~{expected}~SE*" in text
    assert_accepted_by_pyx12(text)


def claims_batch() -> ProfessionalClaimBatch:
    billing = BillingProvider(
        "ACME MEDICAL GROUP", "1234567893", "371234567", Address("1 MAIN ST", "X", "IL", "627011234")
    )
    line = ServiceLine("99214", D("150.00"), D("1"), date(2026, 2, 27))
    claims = (Claim("PCN-1", "11", ("J449",), (line,)), Claim("PCN-2", "11", ("E119",), (line, line)))
    return ProfessionalClaimBatch(
        "BATCH0001",
        SUBMITTER,
        Contact("EDI DESK", phone="2175550199"),
        TradingPartner("BIG HEALTH PLAN", "BIGHEALTH"),
        (ProviderClaims(billing, (SubscriberClaims(JANE, PAYER, claims),)),),
    )


def test_accepting_a_group_that_was_read_acknowledges_each_of_its_sets() -> None:
    received = Envelope("ACMEBILLING", "BIGHEALTH", 900, 44, 17, datetime(2026, 3, 20, 23, 59))
    [interchange] = read(write_837p(claims_batch(), received))
    text = write_999(accepting(interchange.groups[0]), ENVELOPE)

    [acknowledgment] = read_acknowledgments(text).implementation
    assert (acknowledgment.functional_id, acknowledgment.group_control_number, acknowledgment.version) == (
        "HC",
        "44",
        "005010X222A1",
    )
    assert [(r.set_id, r.control_number, r.implementation, r.code) for r in acknowledgment.responses] == [
        ("837", "0017", "005010X222A1", "A")
    ]
    assert (acknowledgment.code, acknowledgment.sets_accepted) == ("A", 1)
    assert_accepted_by_pyx12(text)


def test_999s_pass_pyx12() -> None:
    responses = [rejected_set(f"{n:04d}") if n % 3 == 0 else SetAcknowledgment("837", f"{n:04d}") for n in range(1, 31)]
    text = write_999(group_acknowledgment(*responses), ENVELOPE)

    # pyx12 checks a 999 against its map but writes no 999 about it.
    assert assert_accepted_by_pyx12(text) == ""
    assert read_acknowledgments(text).implementation[0].sets_accepted == 20


def test_pyx12_reports_what_is_wrong_in_a_999() -> None:
    """The oracle can fail: a segment error code out of its list and a missing AK9 are reported."""
    text = write_999(group_acknowledgment(rejected_set()), ENVELOPE)
    broken = text.replace("IK3*CLM*22*2300*8~", "IK3*CLM*22*2300*Q~").replace("AK9*R*1*1*0~", "")

    valid, errors, _ = pyx12_verdict(broken)

    assert not valid
    assert any("IK304" in error for error in errors)
    assert any("AK9" in error for error in errors)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ElementFault(0, "1"), "count from 1"),
        (lambda: ElementFault(1, ""), "needs its code"),
        (lambda: SegmentFault("CLM", 0, "8"), "counts from 1"),
        (lambda: SegmentFault("CLM", 1, "8", "2010BA"), "four characters"),
        (lambda: SetAcknowledgment("837", "1", code="Q"), "IK501"),
        (lambda: SetAcknowledgment("837", "1", code="R"), "names why"),
        (lambda: SetAcknowledgment("837", "1", syntax_errors=("5",)), "no syntax error codes"),
        (lambda: group_acknowledgment(code="Z"), "AK901"),
        (lambda: replace(group_acknowledgment(), group_control_number="7A"), "digits"),
    ],
    ids=[
        "position",
        "element code",
        "segment position",
        "loop id",
        "verdict",
        "no reason",
        "accepted with reason",
        "group",
        "gs06",
    ],
)
def test_what_a_999_cannot_hold_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_a_ta1_stands_alone_in_its_interchange() -> None:
    written = InterchangeAcknowledgment("000000101", date(2026, 3, 20), "2359", "R", "006")
    text = write_ta1(written, ENVELOPE)
    [interchange] = read(text)

    assert text.endswith("~TA1*000000101*260320*2359*R*006~IEA*0*000000301~")
    assert len(text[: text.index("~")]) == 105
    assert (interchange.groups, interchange.findings, interchange.control_number) == ([], [], "000000301")
    acknowledgments = read_acknowledgments(text)
    assert acknowledgments.interchange == [written]
    assert acknowledgments.interchange[0].note == "Invalid Interchange Sender ID"
    short = write_ta1(replace(written, control_number="101", code="A", note_code="000"), ENVELOPE)
    assert read_acknowledgments(short).interchange == [replace(written, code="A", note_code="000")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"control_number": "12*4"}, "TA101"),
        ({"control_number": "1234567890"}, "TA101"),
        ({"date": None}, "TA102"),
        ({"time": "9:05"}, "TA103"),
        ({"code": "Q"}, "TA104"),
        ({"note_code": "6"}, "TA105"),
    ],
)
def test_a_ta1_refuses_what_it_cannot_write(changes: dict[str, Any], message: str) -> None:
    written = InterchangeAcknowledgment("000000101", date(2026, 3, 20), "2359", "A", "000")
    with pytest.raises(X12Error, match=message):
        write_ta1(replace(written, **changes), ENVELOPE)


@pytest.mark.parametrize("mark", DELIMITER_MARKS)
@pytest.mark.parametrize(
    ("write", "element", "record"),
    [
        (lambda v: write_999(group_acknowledgment(SetAcknowledgment("837", "1"), replace(
            rejected_set(), segment_faults=(SegmentFault("CLM", 2, "8", business_unit=("CLM01", v)),))), ENVELOPE),
         "CTX01", "transaction set response 2"),
        (lambda v: write_999(group_acknowledgment(replace(rejected_set(), segment_faults=(
            SegmentFault("CLM", 2, "8", element_faults=(ElementFault(1, "6", bad_value=v),)),))), ENVELOPE),
         "IK404", "transaction set response 1"),
    ],
    ids=["999 claim id", "999 bad value"],
)  # fmt: skip
def test_a_delimiter_in_a_value_is_refused_naming_the_place_not_the_value(
    mark: str, write: Any, element: str, record: str
) -> None:
    assert_refused_naming_the_place_not_the_value(write, mark, element, record)
