"""The answer writers of the clearinghouse simulator (999, TA1, 277CA, 277, 271, 835): what they write reads
back through the typed readers to the values written with the envelope found right, pyx12 accepts the 835s,
277CAs and 999s (it has no usable map for the 271 or the 277 of 005010X212: those are checked by reading
back), a delimiter in a value is refused naming the place and never the value, and an 835 that does not
balance is refused naming the claim by position."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pyx12  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from pyx12.errors import EngineError  # type: ignore[import-untyped]
from x12_support import assert_accepted_by_pyx12, find, pyx12_verdict, segments_of

from rcm_x12 import Delimiters, Segment, X12Error, read
from rcm_x12.acknowledgment import read_acknowledgments
from rcm_x12.acknowledgment_writer import (
    ElementFault,
    GroupAcknowledgment,
    InterchangeAcknowledgment,
    SegmentFault,
    SetAcknowledgment,
    accepting,
    write_999,
    write_ta1,
)
from rcm_x12.claim_acknowledgment_writer import (
    AcknowledgedClaim,
    ClaimAcknowledgment,
    ClaimRejection,
    ProviderAcknowledgment,
    write_277ca,
)
from rcm_x12.claim_status import StatusCode, read_claim_statuses
from rcm_x12.claim_status_writer import ClaimStatusReport, StatusReply, write_277
from rcm_x12.elements import Period, Procedure
from rcm_x12.eligibility import read_eligibility
from rcm_x12.eligibility_response_writer import (
    BenefitInfo,
    CoverageAnswer,
    EligibilityReply,
    RequestRejection,
    write_271,
)
from rcm_x12.professional_claim import (
    BillingProvider,
    Claim,
    Contact,
    ProfessionalClaimBatch,
    ProviderClaims,
    ServiceLine,
    SubscriberClaims,
    write_837p,
)
from rcm_x12.remittance import read_remittances
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
from rcm_x12.writer import Address, Envelope, Member, Payer, Provider, TradingPartner

ENVELOPE = Envelope("BIGHEALTH", "ACMEBILLING", 301, 31, 1, datetime(2026, 3, 21, 6, 45), usage="T")
HOME = Address("12 OAK AVE", "SPRINGFIELD", "IL", "627041234", line2="APT 3")
PAYER = Payer("BIG HEALTH PLAN", "BHP01", Address("PO BOX 9", "CHICAGO", "IL", "60601"))
CLEARINGHOUSE = TradingPartner("SWITCHBOARD EDI", "SWITCH01")
SUBMITTER = TradingPartner("ACME BILLING", "ACMEBILLING")
PROVIDER = Provider("ACME MEDICAL GROUP", "1234567893")
JANE = Member("DOE", "JANE", "W000000001", birth_date=date(1980, 1, 2), gender="F", address=HOME)
SAM = Member("DOE", "SAM", birth_date=date(2015, 5, 6), gender="M")
SECRET = "SECRET"
D = Decimal


def code(category: str, status: str, entity: str = "", code_list: str = "") -> StatusCode:
    return StatusCode(category, status, entity, code_list)


# The 999 and the TA1.


def rejected_set(control: str = "0002") -> SetAcknowledgment:
    faults = (
        SegmentFault(
            "CLM",
            22,
            "8",
            "2300",
            ("CLM01", "PCN-3"),
            (ElementFault(2, "1", "782"), ElementFault(5, "7", "1331", component=1, bad_value="99")),
        ),
        SegmentFault("NM1", 9, "3", "2010", element_faults=(ElementFault(3, "I12", repetition=2),)),
    )
    return SetAcknowledgment("837", control, "005010X222A1", "R", ("5",), faults)


def group_acknowledgment(*responses: SetAcknowledgment, **changes: Any) -> GroupAcknowledgment:
    return GroupAcknowledgment("HC", "7", "005010X222A1", responses, **changes)


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
    billing = BillingProvider("ACME MEDICAL GROUP", "1234567893", "371234567", Address("1 MAIN ST", "X", "IL", "62701"))
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


# The 277CA.


def acknowledged(claim_id: str = "PCN-1", **changes: Any) -> AcknowledgedClaim:
    fields: dict[str, Any] = {
        "patient": JANE,
        "charge": D("185.50"),
        "service_date": date(2026, 2, 27),
        "payer_claim_number": f"ICN-{claim_id}",
        "clearinghouse_trace": f"CH-{claim_id}",
    }
    return AcknowledgedClaim(claim_id, **(fields | changes))


REJECTION = ClaimRejection((code("A7", "562", "85"), code("A7", "21", "IL")), "NPI NOT ENROLLED")


def claim_acknowledgment(
    *groups: ProviderAcknowledgment, source: Payer | TradingPartner = PAYER
) -> ClaimAcknowledgment:
    return ClaimAcknowledgment("ACK0001", source, SUBMITTER, "BATCH0001", date(2026, 3, 20), date(2026, 3, 21), groups)


def test_a_277ca_reads_back_to_the_claims_acknowledged() -> None:
    rejected = acknowledged("PCN-2", charge=D("40"), service_end=date(2026, 3, 1), payer_claim_number="")
    text = write_277ca(
        claim_acknowledgment(
            ProviderAcknowledgment(PROVIDER, (acknowledged(), replace(rejected, rejection=REJECTION)))
        ),
        ENVELOPE,
    )
    segments = segments_of(text)
    [response] = read_claim_statuses(text)

    assert (response.kind, response.implementation) == ("277CA", "005010X214")
    assert (response.header.structure, response.header.reference, response.header.transaction_type) == (
        "0085",
        "ACK0001",
        "TH",
    )
    assert find(segments, "HL") == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "21", "1"],
        ["HL", "3", "2", "19", "1"],
        ["HL", "4", "3", "PT"],
        ["HL", "5", "3", "PT"],
    ]
    assert find(segments, "DTP", "050") == [["DTP", "050", "D8", "20260320"]]
    assert find(segments, "DTP", "009") == [["DTP", "009", "D8", "20260321"]]
    assert find(segments, "QTY") == [["QTY", "90", "1"], ["QTY", "AA", "1"], ["QTY", "QA", "1"], ["QTY", "QC", "1"]]
    assert find(segments, "AMT") == [["AMT", "YU", "185.5"], ["AMT", "YY", "40"]] * 2
    [payer, receiver, provider] = response.entity_statuses
    assert (payer.level, payer.party and payer.party.identifier, payer.statuses) == ("payer", "BHP01", [])
    assert (receiver.level, receiver.trace_number) == ("receiver", "BATCH0001")
    assert [(s.codes, s.effective_date, s.action, s.charge) for s in receiver.statuses] == [
        ((code("A1", "19", "PR"),), date(2026, 3, 21), "WQ", D("225.50"))
    ]
    assert [(s.codes, s.effective_date, s.action, s.charge) for s in provider.statuses] == [
        ((code("A1", "19", "PR"),), None, "WQ", D("225.50"))
    ]
    first, second = response.claims
    assert (first.patient_control_number, first.accepted, first.payer_claim_number, first.clearinghouse_trace) == (
        "PCN-1",
        True,
        "ICN-PCN-1",
        "CH-PCN-1",
    )
    assert [(s.codes, s.action, s.charge, s.effective_date) for s in first.statuses] == [
        ((code("A1", "19", "PR"),), "WQ", D("185.50"), date(2026, 3, 21)),
        ((code("A2", "20", "PR"),), "WQ", D("185.50"), date(2026, 3, 21)),
    ]
    assert first.service_period == Period(date(2026, 2, 27))
    assert (first.member_id, first.provider and first.provider.identifier, first.subscriber) == (
        "W000000001",
        "1234567893",
        None,
    )
    assert (first.patient and (first.patient.entity, first.patient.name, first.patient.first_name)) == (
        "QC",
        "DOE",
        "JANE",
    )
    assert (second.patient_control_number, second.accepted, second.payer_claim_number) == ("PCN-2", False, None)
    [status] = second.statuses
    assert (status.codes, status.action, status.charge, status.message) == (
        REJECTION.codes,
        "U",
        D("40.00"),
        "NPI NOT ENROLLED",
    )
    assert second.service_period == Period(date(2026, 2, 27), date(2026, 3, 1))


@pytest.mark.parametrize("source", [PAYER, CLEARINGHOUSE], ids=["payer", "clearinghouse"])
def test_277cas_pass_pyx12(source: Payer | TradingPartner) -> None:
    other = Provider("SMITH", "1098765432", first_name="ANNA")
    groups = (
        ProviderAcknowledgment(
            PROVIDER,
            tuple(
                acknowledged(f"PCN-{n}", rejection=REJECTION, payer_claim_number="")
                if n % 4 == 0
                else acknowledged(f"PCN-{n}")
                for n in range(1, 200)
            ),
        ),
        ProviderAcknowledgment(other, (acknowledged("ONLY", patient=replace(JANE, middle_name="Q", suffix="JR")),)),
        ProviderAcknowledgment(PROVIDER, (replace(acknowledged("R"), payer_claim_number="", rejection=REJECTION),)),
    )
    text = write_277ca(claim_acknowledgment(*groups, source=source), ENVELOPE)

    assert "AK9*A*1*1*1~" in assert_accepted_by_pyx12(text)
    [response] = read_claim_statuses(text)
    assert [claim.accepted for claim in response.claims].count(False) == 49 + 1
    assert find(segments_of(text), "NM1", "AY" if source is CLEARINGHOUSE else "PR")


def test_pyx12_reports_what_is_wrong_in_a_277ca() -> None:
    text = write_277ca(claim_acknowledgment(ProviderAcknowledgment(PROVIDER, (acknowledged(),))), ENVELOPE)
    broken = text.replace("*WQ*185.5~", "*QQ*185.5~").replace("DTP*472*D8*20260227~", "")

    valid, errors, acknowledgment = pyx12_verdict(broken)

    assert not valid
    assert errors
    assert "AK9*R*1*1*0~" in acknowledgment


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ClaimRejection((code("A1", "19"),)), "A3, A6, A7 or A8"),
        (lambda: ClaimRejection(()), "one to three"),
        (lambda: ClaimRejection((code("A7", "21"),) * 4), "one to three"),
        (lambda: ClaimRejection((code("A7", ""),)), "category and status"),
        (lambda: acknowledged(rejection=REJECTION), "no payer claim number"),
        (lambda: acknowledged(patient=SAM), "member id"),
        (lambda: acknowledged(charge=D("1.005")), "two decimal places"),
        (lambda: acknowledged(charge=1.5), "Decimal"),
        (lambda: ProviderAcknowledgment(PROVIDER, ()), "at least one claim"),
        (lambda: claim_acknowledgment(), "at least one claim"),
    ],
    ids=["category", "none", "four", "status", "icn", "member id", "cents", "float", "provider", "batch"],
)
def test_what_a_277ca_cannot_hold_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


# The 277.


def status_reply(*claims: ClaimStatusReport) -> StatusReply:
    return StatusReply("STAT0001", PAYER, SUBMITTER, PROVIDER, claims)


PAID = ClaimStatusReport(
    JANE,
    "T-1",
    (code("F1", "65"),),
    date(2026, 3, 20),
    D("185.50"),
    D("100.00"),
    date(2026, 3, 18),
    date(2026, 3, 21),
    "EFT123",
    "ICN-1",
    "PCN-1",
    date(2026, 2, 27),
)
PENDING = ClaimStatusReport(
    JANE,
    "T-2",
    (code("P1", "20"), code("P3", "317", "", "RX"), code("R4", "21", "QC")),
    date(2026, 3, 19),
    D("40"),
    patient_control_number="PCN-2",
    service_date=date(2026, 2, 1),
    service_end=date(2026, 2, 3),
    dependent=SAM,
)


def test_a_277_reads_back_to_the_statuses_written() -> None:
    text = write_277(status_reply(PAID, PENDING), ENVELOPE)
    [interchange] = read(text)
    [response] = read_claim_statuses(text)

    assert (interchange.groups[0].functional_id, interchange.groups[0].version) == ("HN", "005010X212")
    assert (response.kind, response.header.structure, response.header.transaction_type) == ("277", "0010", "DG")
    assert segments_of(text) == [
        ["BHT", "0010", "08", "STAT0001", "20260321", "0645", "DG"],
        ["HL", "1", "", "20", "1"],
        ["NM1", "PR", "2", "BIG HEALTH PLAN", "", "", "", "", "PI", "BHP01"],
        ["HL", "2", "1", "21", "1"],
        ["NM1", "41", "2", "ACME BILLING", "", "", "", "", "46", "ACMEBILLING"],
        ["HL", "3", "2", "19", "1"],
        ["NM1", "1P", "2", "ACME MEDICAL GROUP", "", "", "", "", "XX", "1234567893"],
        ["HL", "4", "3", "22", "0"],
        ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W000000001"],
        ["TRN", "2", "T-1"],
        ["STC", "F1:65", "20260320", "", "185.5", "100", "20260318", "", "20260321", "EFT123"],
        ["REF", "1K", "ICN-1"],
        ["REF", "EJ", "PCN-1"],
        ["DTP", "472", "D8", "20260227"],
        ["HL", "5", "3", "22", "1"],
        ["NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "W000000001"],
        ["HL", "6", "5", "23"],
        ["NM1", "QC", "1", "DOE", "SAM"],
        ["TRN", "2", "T-2"],
        ["STC", "P1:20", "20260319", "", "40", "", "", "", "", "", "P3:317::RX", "R4:21:QC"],
        ["REF", "EJ", "PCN-2"],
        ["DTP", "472", "RD8", "20260201-20260203"],
    ]
    paid, pending = response.claims
    [status] = paid.statuses
    assert (paid.patient_control_number, paid.payer_claim_number, paid.member_id, paid.accepted) == (
        "T-1",
        "ICN-1",
        "W000000001",
        None,
    )
    assert (status.codes, status.effective_date, status.charge, status.paid) == (
        PAID.codes,
        date(2026, 3, 20),
        D("185.50"),
        D("100.00"),
    )
    assert (status.adjudication_date, status.payment_date, status.check_number) == (
        date(2026, 3, 18),
        date(2026, 3, 21),
        "EFT123",
    )
    assert [r.value for r in paid.references] == ["ICN-1", "PCN-1"]
    assert paid.service_period == Period(date(2026, 2, 27))
    assert [s.codes for s in pending.statuses] == [PENDING.codes]
    assert pending.statuses[0].codes[1].status_meaning is None  # an NCPDP code, not the X12 list's
    assert (pending.subscriber and pending.subscriber.identifier, pending.patient and pending.patient.first_name) == (
        "W000000001",
        "SAM",
    )
    assert (pending.statuses[0].paid, pending.service_period) == (None, Period(date(2026, 2, 1), date(2026, 2, 3)))
    assert [e.level for e in response.entity_statuses] == ["payer", "receiver", "provider"]


def x212_map_path(tmp_path: Path) -> str:
    """pyx12's maps with its shipped 277.5010.X212.xml registered, which its maps.xml leaves out."""
    shipped = Path(pyx12.__file__).parent / "map"
    for path in shipped.iterdir():
        if path.name != "maps.xml":
            (tmp_path / path.name).symlink_to(path)
    index = (shipped / "maps.xml").read_text()
    x214 = '<map vriic="005010X214" fic="HN" abbr="277">277.5010.X214.xml</map>'
    x212 = '<map vriic="005010X212" fic="HN" abbr="277">277.5010.X212.xml</map>'
    (tmp_path / "maps.xml").write_text(index.replace(x214, x214 + x212))
    return str(tmp_path)


def test_pyx12_4_has_no_usable_map_to_check_a_277_of_005010x212_against(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """pyx12 4.0 indexes no 005010X212 map, and the 277.5010.X212.xml it ships, once indexed, cannot be
    the oracle: its GS01 and GS08 are the 820's (RA, 005010X218), and it cannot find the first HL after the
    BHT (it fails the shared corpus's LinuxForHealth demo.277 the same way). The 277 is checked by reading
    back; when pyx12 gains a working map, this fails and becomes an acceptance test."""
    text = write_277(status_reply(PAID, PENDING), ENVELOPE)
    with pytest.raises(EngineError, match="Map not found"):
        pyx12_verdict(text)

    valid, errors, _ = pyx12_verdict(text, map_path=x212_map_path(tmp_path))
    assert not valid
    assert "Segment HL*1**20*1 not found.  Started at /ISA_LOOP/GS_LOOP/ST_LOOP/HEADER/BHT" in errors
    assert "(HN) is not a valid code for Functional Identifier Code (GS01)" in caplog.text
    assert "(005010X212) is not a valid code for Version / Release / Industry Identifier Code (GS08)" in caplog.text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: replace(PAID, codes=()), "one to three"),
        (lambda: replace(PAID, codes=(code("F1", ""),)), "category and status"),
        (lambda: replace(PAID, subscriber=SAM), "member id"),
        (lambda: replace(PAID, paid=D("0.001")), "two decimal places"),
        (lambda: replace(PAID, service_date=None, service_end=date(2026, 3, 1)), "start date"),
        (lambda: status_reply(), "at least one claim"),
    ],
    ids=["no code", "no status", "member id", "cents", "end without start", "no claims"],
)
def test_what_a_277_cannot_hold_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


# The 271.

ACTIVE = BenefitInfo("1", "IND", ("30", "1", "33", "35", "47", "86", "88", "98", "AL", "MH", "UC"), "HM", "GOLD PLAN")
COPAY = BenefitInfo(
    "B",
    "IND",
    ("98",),
    "HM",
    time_period="27",
    amount=D("25.00"),
    authorization_required=False,
    in_plan_network="Y",
    messages=("PCP VISITS ONLY", "SPECIALIST COPAY APPLIES"),
)
COINSURANCE = BenefitInfo("A", "IND", ("30",), percent=D("0.20"), in_plan_network="N", authorization_required=True)
DEDUCTIBLE = BenefitInfo(
    "C", "FAM", ("30",), time_period="29", amount=D("1234.56"), quantity_qualifier="VS", quantity=D("3")
)


def eligibility_reply(*answers: CoverageAnswer, **changes: Any) -> EligibilityReply:
    return EligibilityReply("ELIG0001", PAYER, PROVIDER, answers, **changes)


SUBSCRIBER_ANSWER = CoverageAnswer(
    JANE,
    trace="T-1",
    trace_originator="9ACMEGROUP",
    group_number="G77",
    plan_begin=date(2026, 1, 1),
    plan_end=date(2026, 12, 31),
    benefits=(ACTIVE, COPAY, COINSURANCE, DEDUCTIBLE),
)
DEPENDANT_ANSWER = CoverageAnswer(
    JANE,
    SAM,
    "T-2",
    "9ACMEGROUP",
    plan_begin=date(2026, 1, 1),
    plan_end=date(2026, 6, 30),
    plan_dates="291",
    relationship="19",
    benefits=(ACTIVE,),
)
INVALID_ID = CoverageAnswer(replace(JANE, member_id="BAD1", address=None), errors=(RequestRejection("72", "C"),))


def test_a_271_reads_back_to_the_answers_written() -> None:
    text = write_271(eligibility_reply(SUBSCRIBER_ANSWER, DEPENDANT_ANSWER, INVALID_ID), ENVELOPE)
    segments = segments_of(text)
    [response] = read_eligibility(text)
    [interchange] = read(text)

    assert (interchange.groups[0].functional_id, response.implementation) == ("HB", "005010X279A1")
    assert (response.header.structure, response.header.purpose, response.header.reference) == ("0022", "11", "ELIG0001")
    assert find(segments, "HL") == [
        ["HL", "1", "", "20", "1"],
        ["HL", "2", "1", "21", "1"],
        ["HL", "3", "2", "22", "0"],
        ["HL", "4", "2", "22", "1"],
        ["HL", "5", "4", "23", "0"],
        ["HL", "6", "2", "22", "0"],
    ]
    assert find(segments, "EB") == [
        ["EB", "1", "IND", "30^1^33^35^47^86^88^98^AL^MH^UC", "HM", "GOLD PLAN"],
        ["EB", "B", "IND", "98", "HM", "", "27", "25", "", "", "", "N", "Y"],
        ["EB", "A", "IND", "30", "", "", "", "", "0.2", "", "", "Y", "N"],
        ["EB", "C", "FAM", "30", "", "", "29", "1234.56", "", "VS", "3"],
        ["EB", "1", "IND", "30^1^33^35^47^86^88^98^AL^MH^UC", "HM", "GOLD PLAN"],
    ]
    assert find(segments, "AAA") == [["AAA", "N", "", "72", "C"]]
    [source] = response.sources
    [receiver] = source.receivers
    assert (source.payer and source.payer.identifier, receiver.provider and receiver.provider.identifier) == (
        "BHP01",
        "1234567893",
    )
    assert response.errors == []
    subscriber, parent, invalid = response.subscribers
    assert (subscriber.member_id, subscriber.name.name, subscriber.name.first_name) == ("W000000001", "DOE", "JANE")
    assert (subscriber.trace_numbers, subscriber.group_number, subscriber.birth_date, subscriber.gender) == (
        [("T-1", "9ACMEGROUP")],
        "G77",
        date(1980, 1, 2),
        "F",
    )
    assert subscriber.address
    assert (subscriber.address.lines, subscriber.address.postal_code) == (
        ("12 OAK AVE", "APT 3"),
        "627041234",
    )
    assert (subscriber.plan_begin, subscriber.plan_end, subscriber.active) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
        True,
    )
    for benefit, written in zip(subscriber.benefits, SUBSCRIBER_ANSWER.benefits, strict=True):
        assert (benefit.code, benefit.coverage_level, benefit.service_types, benefit.insurance_type) == (
            written.code,
            written.coverage_level,
            written.service_types,
            written.insurance_type,
        )
        assert (benefit.plan_description, benefit.time_period, benefit.amount, benefit.percent) == (
            written.plan_description,
            written.time_period,
            written.amount,
            written.percent,
        )
        assert (benefit.quantity_qualifier, benefit.quantity, benefit.authorization_required) == (
            written.quantity_qualifier,
            written.quantity,
            written.authorization_required,
        )
        assert (benefit.in_plan_network, tuple(benefit.messages)) == (written.in_plan_network, written.messages)
    assert (parent.active, parent.benefits, parent.trace_numbers) == (None, [], [])
    [dependant] = parent.dependants
    assert (dependant.name.entity, dependant.name.first_name, dependant.member_id) == ("03", "SAM", "")
    assert (dependant.trace_numbers, dependant.relationship, dependant.birth_date) == (
        [("T-2", "9ACMEGROUP")],
        "19",
        date(2015, 5, 6),
    )
    assert (dependant.plan_begin, dependant.plan_end, dependant.active) == (date(2026, 1, 1), date(2026, 6, 30), True)
    assert dependant.dates == {"291": Period(date(2026, 1, 1), date(2026, 6, 30))}
    assert (invalid.member_id, invalid.active, invalid.benefits) == ("BAD1", False, [])
    assert [(e.level, e.valid_request, e.code, e.follow_up) for e in invalid.errors] == [
        ("subscriber", False, "72", "C")
    ]
    assert invalid.errors[0].meaning == "Invalid/Missing Subscriber/Insured ID"


@pytest.mark.parametrize(
    ("changes", "levels", "level"),
    [
        ({"source_errors": (RequestRejection("42", "R", valid_request=True),)}, [["HL", "1", "", "20", "0"]], "source"),
        (
            {"receiver_errors": (RequestRejection("50", "N", valid_request=True),)},
            [["HL", "1", "", "20", "1"], ["HL", "2", "1", "21", "0"]],
            "receiver",
        ),
    ],
    ids=["payer unable to respond", "provider ineligible"],
)
def test_a_271_says_why_it_could_not_answer_at_the_level_it_failed(
    changes: dict[str, Any], levels: list[Segment], level: str
) -> None:
    text = write_271(eligibility_reply(**changes), ENVELOPE)
    [response] = read_eligibility(text)
    [error] = changes.get("source_errors") or changes["receiver_errors"]

    assert find(segments_of(text), "HL") == levels
    assert find(segments_of(text), "AAA") == [["AAA", "Y", "", error.code, error.follow_up]]
    assert [(e.level, e.valid_request, e.code, e.follow_up) for e in response.errors] == [
        (level, True, error.code, error.follow_up)
    ]
    assert response.subscribers == []


def test_a_271_repeats_service_types_with_the_envelopes_separator() -> None:
    piped = replace(ENVELOPE, delimiters=Delimiters("|", ">", "!", "\n"))
    text = write_271(eligibility_reply(SUBSCRIBER_ANSWER), piped)
    [response] = read_eligibility(text)

    assert "EB|1|IND|30!1!33!35!47!86!88!98!AL!MH!UC|HM|GOLD PLAN\n" in text
    assert response.subscribers[0].benefits[0].service_types == ACTIVE.service_types
    assert read(text)[0].findings == []


def test_pyx12_4_has_no_map_to_check_a_271_against() -> None:
    """pyx12 4.0 ships a 271 map for 004010X092A1 only (its maps.xml comments the 005010X279A1 entry out, and
    no such map file exists): the 271 is checked by reading back and by its envelope. When pyx12 gains the
    map, this fails, and the test becomes an acceptance test."""
    with pytest.raises(EngineError, match="Map not found"):
        pyx12_verdict(write_271(eligibility_reply(SUBSCRIBER_ANSWER), ENVELOPE))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: CoverageAnswer(JANE, trace="T-1", benefits=(ACTIVE,)), "TRN03"),
        (lambda: CoverageAnswer(JANE), "benefits"),
        (lambda: CoverageAnswer(JANE, relationship="19", benefits=(ACTIVE,)), "dependant"),
        (lambda: CoverageAnswer(JANE, plan_end=date(2026, 1, 1), plan_dates="291", benefits=(ACTIVE,)), "begin"),
        (lambda: BenefitInfo("A", percent=D("20")), "fraction"),
        (lambda: BenefitInfo("B", amount=D("25.001")), "two decimal places"),
        (lambda: BenefitInfo("F", quantity=D("3")), "qualifier"),
        (lambda: BenefitInfo("1", service_types=("30",) * 100), "99"),
        (lambda: eligibility_reply(), "at least one"),
        (lambda: eligibility_reply(SUBSCRIBER_ANSWER, source_errors=(RequestRejection("42", "R"),)), "answers no"),
    ],
    ids=["trace", "nothing", "relationship", "291", "percent", "cents", "quantity", "types", "empty", "source"],
)
def test_what_a_271_cannot_hold_is_refused_when_made(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


# The 835.


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
        (lambda: remittance(), "claims or provider adjustments"),
    ],
    ids=[
        "float", "cents", "negative", "non with money", "money without non", "ach bank", "status", "filing",
        "subscriber id", "group", "statement", "modifiers", "nan", "payer address", "technical contact", "plb date",
        "empty",
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


# Delimiters in values, in every writer.


def secret_in(mark: str) -> str:
    return f"{SECRET}{mark}X"


@pytest.mark.parametrize("mark", ["*", "~", ":", "^"])
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
        (lambda v: write_277ca(claim_acknowledgment(ProviderAcknowledgment(PROVIDER, (acknowledged(v),))), ENVELOPE),
         "TRN02", "claim 1"),
        (lambda v: write_277ca(claim_acknowledgment(ProviderAcknowledgment(PROVIDER, (
            acknowledged(), acknowledged("R", payer_claim_number="", rejection=replace(REJECTION, message=v))))),
            ENVELOPE), "STC12", "claim 2"),
        (lambda v: write_277(status_reply(replace(PAID, trace=v)), ENVELOPE), "TRN02", "claim 1"),
        (lambda v: write_277(status_reply(PAID, replace(PENDING, codes=(code("P1", v),))), ENVELOPE), "STC01",
         "claim 2"),
        (lambda v: write_271(eligibility_reply(replace(SUBSCRIBER_ANSWER, subscriber=replace(JANE, member_id=v))),
                             ENVELOPE), "NM109", "answer 1"),
        (lambda v: write_271(eligibility_reply(replace(SUBSCRIBER_ANSWER, benefits=(
            replace(ACTIVE, service_types=("30", v)),))), ENVELOPE), "EB03", "answer 1"),
        (lambda v: write_271(eligibility_reply(replace(SUBSCRIBER_ANSWER, benefits=(
            replace(COPAY, messages=(v,)),))), ENVELOPE), "MSG01", "answer 1"),
        (lambda v: write_999(group_acknowledgment(SetAcknowledgment("837", "1"), replace(
            rejected_set(), segment_faults=(SegmentFault("CLM", 2, "8", business_unit=("CLM01", v)),))), ENVELOPE),
         "CTX01", "transaction set response 2"),
        (lambda v: write_999(group_acknowledgment(replace(rejected_set(), segment_faults=(
            SegmentFault("CLM", 2, "8", element_faults=(ElementFault(1, "6", bad_value=v),)),))), ENVELOPE),
         "IK404", "transaction set response 1"),
    ],
    ids=[
        "835 claim id", "835 patient", "835 modifier", "835 remark", "835 payer id", "835 plb reference",
        "277ca claim id", "277ca message", "277 trace", "277 status", "271 member id", "271 service type",
        "271 message", "999 claim id", "999 bad value",
    ],
)  # fmt: skip
def test_a_delimiter_in_a_value_is_refused_naming_the_place_not_the_value(
    mark: str, write: Any, element: str, record: str
) -> None:
    with pytest.raises(X12Error) as refused:
        write(secret_in(mark))

    message = str(refused.value)
    assert f"{element} of {record} holds" in message
    assert refused.value.segment == element[:-2]
    assert SECRET not in message
    assert re.search(r"\(segment \w+ at position \d+\)$", message)


def test_replacement_puts_the_replacement_where_the_delimiters_were_when_asked() -> None:
    replacing = replace(ENVELOPE, on_delimiter="replace", replacement="-")
    rejection = replace(REJECTION, message="NPI*NOT~ON:FILE^")
    text = write_277ca(
        claim_acknowledgment(
            ProviderAcknowledgment(PROVIDER, (acknowledged("R", payer_claim_number="", rejection=rejection),))
        ),
        replacing,
    )
    bad_value = SegmentFault("CLM", 2, "8", element_faults=(ElementFault(1, "6", bad_value="A*B"),))
    acknowledgment = write_999(group_acknowledgment(replace(rejected_set(), segment_faults=(bad_value,))), replacing)

    assert read_claim_statuses(text)[0].claims[0].statuses[0].message == "NPI-NOT-ON-FILE-"
    assert (
        read_acknowledgments(acknowledgment)
        .implementation[0]
        .responses[0]
        .segment_errors[0]
        .element_errors[0]
        .bad_value
        == "A-B"
    )
