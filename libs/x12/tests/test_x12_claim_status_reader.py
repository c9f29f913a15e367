"""The 277 and 277CA reader: hand-written acknowledgments and status responses checked value by value,
refusals naming element and position, and every 277 and 277CA of the shared corpus."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from rcm_x12 import X12Error, read
from rcm_x12.claim_status_reader import ClaimStatusResponse, StatusCode, claim_status_of, read_claim_statuses, summary
from rcm_x12.corpus import CorpusFile, default_root, manifest
from rcm_x12.elements import Period

CORPUS = default_root()
ISA = "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *260110*1015*^*00501*000000101*0*T*:~"


def interchange(body: str, *, implementation: str = "005010X214", st03: bool = True) -> str:
    """An interchange around one 277; `body` is one segment per line, the first at position 4."""
    segments = [line.strip() for line in body.strip().splitlines() if line.strip()]
    st = f"ST*277*0001*{implementation}" if st03 else "ST*277*0001"
    return (
        f"{ISA}GS*HN*PAYER*CLINIC*20260110*1015*1*X*{implementation}~{st}~"
        + "".join(f"{segment}~" for segment in segments)
        + f"SE*{len(segments) + 2}*0001~GE*1*1~IEA*1*000000101~"
    )


ACKNOWLEDGMENT = """
BHT*0085*08*BATCH1*20260110*1015*TH
HL*1**20*1
NM1*PR*2*ACME HEALTH*****PI*12345
TRN*1*BATCH1
DTP*050*D8*20260110
DTP*009*D8*20260110
HL*2*1*21*1
NM1*41*2*RIVERSIDE CLINIC*****46*SUB001
TRN*2*BATCH1
STC*A1:19:PR*20260110*WQ*350
QTY*90*1
QTY*AA*1
AMT*YU*150
AMT*YY*200
HL*3*2*19*1
NM1*85*2*RIVERSIDE CLINIC*****XX*1234567893
TRN*1*0
HL*4*3*PT
NM1*QC*1*DOE*JANE****MI*W123456789
TRN*2*CLAIM-001
STC*A2:20:PR*20260110*WQ*150
REF*1K*PAYER0001
REF*D9*CH0001
DTP*472*D8*20260105
HL*5*3*PT
NM1*QC*1*ROE*RICHARD****MI*X987654321
TRN*2*CLAIM-002
STC*A7:21:IL*20260110*U*200******A7:33:IL
DTP*472*RD8*20260102-20260103
"""

STATUS = """
BHT*0010*08*STATUS1*20260301*0900*DG
HL*1**20*1
NM1*PR*2*ACME HEALTH*****PI*12345
HL*2*1*21*1
NM1*41*2*RIVERSIDE CLINIC*****46*SUB001
HL*3*2*19*1
NM1*1P*2*RIVERSIDE CLINIC*****XX*1234567893
HL*4*3*22*1
NM1*IL*1*DOE*JOHN****MI*W123456789
TRN*2*CLAIM-010
STC*F1:65*20260215**200*180*20260210*CHK*20260215*CHK12345
REF*1K*PAYER0010
DTP*472*D8*20260201
HL*5*4*23
NM1*QC*1*DOE*JIMMY
TRN*2*CLAIM-011
STC*P1:20*20260220**90********CLAIM UNDER REVIEW
REF*1K*PAYER0011
SVC*HC:99213:25*90*0****1
STC*P1:20*20260220
REF*FJ*LINE1
DTP*472*D8*20260202
"""


def _response(body: str, implementation: str = "005010X214") -> ClaimStatusResponse:
    [response] = read_claim_statuses(interchange(body, implementation=implementation))
    return response


def test_a_277ca_accepts_one_claim_and_rejects_the_other() -> None:
    response = _response(ACKNOWLEDGMENT)
    accepted, rejected = response.claims

    assert (response.kind, response.header.reference, response.header.transaction_type) == ("277CA", "BATCH1", "TH")
    assert (accepted.patient_control_number, accepted.accepted) == ("CLAIM-001", True)
    assert (accepted.payer_claim_number, accepted.clearinghouse_trace) == ("PAYER0001", "CH0001")
    assert accepted.service_period == Period(date(2026, 1, 5))
    [status] = accepted.statuses
    assert status.codes == (StatusCode(category="A2", status="20", entity="PR", code_list=""),)
    assert (status.codes[0].category_meaning, status.codes[0].status_meaning) == (
        "Acknowledgement/Acceptance into adjudication system",
        "Accepted for processing.",
    )
    assert (status.effective_date, status.action, status.charge, status.paid) == (
        date(2026, 1, 10),
        "WQ",
        Decimal("150.00"),
        None,
    )
    assert (rejected.patient_control_number, rejected.accepted, rejected.payer_claim_number) == (
        "CLAIM-002",
        False,
        None,
    )
    [status] = rejected.statuses
    assert [(code.category, code.status, code.entity) for code in status.codes] == [
        ("A7", "21", "IL"),
        ("A7", "33", "IL"),
    ]
    assert status.codes[1].status_meaning == "Subscriber and subscriber id not found."
    assert (status.action, str(status.charge)) == ("U", "200.00")
    assert rejected.service_period == Period(date(2026, 1, 2), date(2026, 1, 3))


def test_the_parties_above_a_277ca_claim_are_on_it() -> None:
    claim = _response(ACKNOWLEDGMENT).claims[1]

    assert claim.payer is not None
    assert claim.provider is not None
    assert claim.patient is not None
    assert (claim.payer.name, claim.payer.identifier) == ("ACME HEALTH", "12345")
    assert (claim.provider.entity, claim.provider.identifier) == ("85", "1234567893")
    assert (claim.patient.entity, claim.patient.name, claim.subscriber) == ("QC", "ROE", None)
    assert claim.member_id == "X987654321"


def test_the_batch_level_statuses_are_kept_apart() -> None:
    response = _response(ACKNOWLEDGMENT)

    assert [(entity.level, entity.trace_number, len(entity.statuses)) for entity in response.entity_statuses] == [
        ("payer", "BATCH1", 0),
        ("receiver", "BATCH1", 1),
        ("provider", "0", 0),
    ]
    [status] = response.entity_statuses[1].statuses
    assert (status.codes[0].status_meaning, status.charge) == (
        "Entity acknowledges receipt of claim/encounter.",
        Decimal("350.00"),
    )


def test_a_277_with_a_paid_and_a_pending_claim() -> None:
    response = _response(STATUS, implementation="005010X212")
    paid, pending = response.claims

    assert response.kind == "277"
    [status] = paid.statuses
    assert (status.codes[0].category_meaning, status.codes[0].status_meaning) == (
        "Finalized/Payment",
        "Claim/line has been paid.",
    )
    assert (status.charge, status.paid, status.adjudication_date) == (
        Decimal("200.00"),
        Decimal("180.00"),
        date(2026, 2, 10),
    )
    assert (status.payment_method, status.payment_date, status.check_number) == ("CHK", date(2026, 2, 15), "CHK12345")
    assert paid.accepted is None
    assert paid.subscriber is not None
    assert paid.subscriber is paid.patient
    assert (paid.patient_control_number, paid.member_id, paid.payer_claim_number) == (
        "CLAIM-010",
        "W123456789",
        "PAYER0010",
    )

    [status] = pending.statuses
    assert (status.codes[0].category, status.codes[0].category_meaning, status.message) == (
        "P1",
        "Pending/In Process",
        "CLAIM UNDER REVIEW",
    )
    assert pending.patient is not None
    assert (pending.patient.first_name, pending.member_id, pending.accepted) == ("JIMMY", "W123456789", None)
    assert pending.service_period is None


def test_a_line_carries_its_own_status_reference_and_date() -> None:
    [line] = _response(STATUS, implementation="005010X212").claims[1].lines

    assert line.procedure is not None
    assert (line.procedure.qualifier, line.procedure.code, line.procedure.modifiers) == ("HC", "99213", ("25",))
    assert (line.charge, line.paid, line.units) == (Decimal("90.00"), Decimal("0.00"), Decimal("1"))
    assert [status.codes[0].category for status in line.statuses] == ["P1"]
    assert [(ref.qualifier, ref.value) for ref in line.references] == [("FJ", "LINE1")]
    assert line.service_period == Period(date(2026, 2, 2))


def test_the_kind_comes_from_gs08_when_st03_is_left_out() -> None:
    [response] = read_claim_statuses(interchange(ACKNOWLEDGMENT, st03=False))

    assert (response.kind, response.implementation) == ("277CA", "")


def test_the_summary_is_json_with_decimal_strings_and_iso_dates() -> None:
    [result] = read(interchange(ACKNOWLEDGMENT))

    data = json.loads(json.dumps(summary(result.groups[0].transactions[0], result)))

    assert data["kind"] == "277CA"
    assert [(c["patient_control_number"], c["accepted"]) for c in data["claims"]] == [
        ("CLAIM-001", True),
        ("CLAIM-002", False),
    ]
    first = data["claims"][0]
    assert (first["service_from"], first["service_to"], first["statuses"][0]["charge"]) == (
        "2026-01-05",
        None,
        "150.00",
    )
    assert [entity["level"] for entity in data["entity_statuses"]] == ["receiver"]
    assert "ROE" not in json.dumps(data)


def test_a_statement_period_is_read_from_dtp_232_and_233() -> None:
    body = ACKNOWLEDGMENT.replace("DTP*472*D8*20260105", "DTP*232*D8*20251201\nDTP*233*D8*20251231")

    assert _response(body).claims[0].service_period == Period(date(2025, 12, 1), date(2025, 12, 31))


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        (
            "STC*A2:20:PR*20260110*WQ*150.001",
            r"STC04 is not an amount of at most two decimal places \(segment STC at position 24\)",
        ),
        (
            "STC*A2:20:PR*20260110*WQ*150*1.5.0",
            r"STC05 is not an amount of at most two decimal places \(segment STC at position 24\)",
        ),
    ],
)
def test_a_bad_amount_is_refused_naming_element_and_position(replacement: str, message: str) -> None:
    with pytest.raises(X12Error, match=message):
        _response(ACKNOWLEDGMENT.replace("STC*A2:20:PR*20260110*WQ*150", replacement))


def test_an_impossible_date_is_none_and_a_finding() -> None:
    response = _response(ACKNOWLEDGMENT.replace("STC*A2:20:PR*20260110", "STC*A2:20:PR*20261340"))

    assert response.claims[0].statuses[0].effective_date is None
    assert response.findings == ["STC02 at position 24 is not a CCYYMMDD date: read as none"]


def test_an_unknown_level_and_a_missing_bht_are_refused() -> None:
    with pytest.raises(X12Error, match=r"HL03 is not a 277 level \(.*\) \(segment HL at position 21\)"):
        _response(ACKNOWLEDGMENT.replace("HL*4*3*PT", "HL*4*3*XX"))
    with pytest.raises(X12Error, match=r"does not begin with BHT \(segment ST at position 3\)"):
        _response(ACKNOWLEDGMENT.replace("BHT*0085*08*BATCH1*20260110*1015*TH", ""))


def test_a_transaction_that_is_not_a_277_is_refused() -> None:
    [result] = read(interchange(ACKNOWLEDGMENT).replace("ST*277*", "ST*276*"))

    with pytest.raises(X12Error, match="not a 277"):
        claim_status_of(result.groups[0].transactions[0], result)


def test_the_rejected_277ca_of_the_corpus() -> None:
    path = "imsweb-x12-parser/src/test/resources/277_5010/x12_277CA_rejected.txt"
    [response] = read_claim_statuses((CORPUS / path).read_bytes())  # its component separator is "|"
    [claim] = response.claims

    assert (claim.patient_control_number, claim.payer_claim_number, claim.accepted) == (
        "3920394930203",
        "1107000000001120",
        False,
    )
    assert claim.statuses[0].codes[0] == StatusCode(category="A7", status="562", entity="85", code_list="")


def test_a_corpus_277ca_with_garbled_dates_is_read_with_findings() -> None:
    folder = "OopFactory-X12Parser/tests/OopFactory.X12.Tests.Unit/Parsing/_SampleEdiFiles/INS/_277/_5010"
    path = f"{folder}/FromLatitude81uk.txt"
    [response] = read_claim_statuses((CORPUS / path).read_bytes())

    assert [claim.accepted for claim in response.claims] == [True]
    assert len(response.findings) == 4
    assert all("read as none" in finding for finding in response.findings)


FILES = [entry for entry in manifest(CORPUS) if entry.must_read and entry.kind in ("277", "277CA")]


@pytest.mark.parametrize("entry", FILES, ids=lambda entry: entry.path)
def test_every_277_of_the_corpus_is_read_as_its_kind_and_summarised(entry: CorpusFile) -> None:
    data = (CORPUS / entry.path).read_bytes()
    transactions = [(t, i) for i in read(data) for g in i.groups for t in g.transactions]

    responses = read_claim_statuses(data)

    assert len(responses) == len(transactions) >= 1
    assert {response.kind for response in responses} == {entry.kind}
    for transaction, result in transactions:
        json.dumps(summary(transaction, result))


def test_the_corpus_has_the_277_files_it_should() -> None:
    assert [entry.kind for entry in FILES].count("277") == 6
    assert [entry.kind for entry in FILES].count("277CA") == 6


def test_a_277ca_action_code_decides_when_the_categories_do_not() -> None:
    rejected_by_action = ACKNOWLEDGMENT.replace("STC*A2:20:PR*20260110*WQ*150", "STC*A0:16:PR*20260110*U*150")
    [first, second] = _response(rejected_by_action).claims

    assert (first.accepted, second.accepted) == (False, False)
