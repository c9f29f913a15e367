"""The 999 and TA1 readers: hand-written acknowledgments checked value by value, refusals naming the
segment and position, and every 999 and TA1 file of the shared corpus."""

from __future__ import annotations

import json
from datetime import date

import pytest

from rcm_x12 import X12Error, read
from rcm_x12.acknowledgment_reader import (
    ElementPosition,
    InterchangeAcknowledgment,
    acknowledgment_of,
    read_acknowledgments,
    summary,
)
from rcm_x12.corpus import CorpusFile, default_root, manifest

CORPUS = default_root()
ISA = "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*CLINIC         *260110*1015*^*00501*000000202*0*P*:~"


def interchange(body: str, *, set_id: str = "999") -> str:
    """An interchange around one 999; `body` is one segment per line, the first at position 4."""
    segments = [line.strip() for line in body.strip().splitlines() if line.strip()]
    return (
        f"{ISA}GS*FA*CLEARINGHOUSE*CLINIC*20260110*1015*7*X*005010X231A1~ST*{set_id}*0001*005010X231A1~"
        + "".join(f"{segment}~" for segment in segments)
        + f"SE*{len(segments) + 2}*0001~GE*1*7~IEA*1*000000202~"
    )


REJECTED = """
AK1*HC*1001*005010X222A1
AK2*837*0001*005010X222A1
IK3*NM1*17*2010BA*8
CTX*CLM01:CLAIM-001
IK4*8*66*7*ZZ
IK4*5:3*1325*I12
CTX*SITUATIONAL TRIGGER*CLM*22**5:3
IK5*R*5
AK2*837*0002*005010X222A1
IK3*REF*30**3
IK5*R*5*I5
AK9*R*2*2*0
"""

ACCEPTED = """
AK1*HC*1002*005010X222A1
AK2*837*0003*005010X222A1
IK5*A
AK9*A*1*1*1
"""


def test_a_rejected_group_with_segment_and_element_errors() -> None:
    [acknowledgment] = read_acknowledgments(interchange(REJECTED)).implementation

    assert (acknowledgment.functional_id, acknowledgment.group_control_number, acknowledgment.version) == (
        "HC",
        "1001",
        "005010X222A1",
    )
    assert (acknowledgment.code, acknowledgment.meaning) == ("R", "Rejected")
    assert (acknowledgment.sets_included, acknowledgment.sets_received, acknowledgment.sets_accepted) == (2, 2, 0)
    assert acknowledgment.group_errors == ()
    first, second = acknowledgment.responses
    assert (first.set_id, first.control_number, first.implementation) == ("837", "0001", "005010X222A1")
    assert (first.code, first.meaning, first.accepted) == ("R", "Rejected", False)
    assert (first.syntax_errors, first.syntax_error_meanings) == (("5",), ["One or more segments in error"])
    assert (second.syntax_errors, second.syntax_error_meanings) == (
        ("5", "I5"),
        ["One or more segments in error", "Implementation one or more segments in error"],
    )


def test_the_segment_and_element_errors_say_where_and_why() -> None:
    [acknowledgment] = read_acknowledgments(interchange(REJECTED)).implementation
    [name_error] = acknowledgment.responses[0].segment_errors
    [missing] = acknowledgment.responses[1].segment_errors

    assert (name_error.segment_id, name_error.position, name_error.loop_id, name_error.code) == (
        "NM1",
        17,
        "2010BA",
        "8",
    )
    assert name_error.meaning == "Segment has data element errors"
    [claim] = name_error.contexts
    assert (claim.name, claim.reference, claim.segment_id, claim.segment_position) == ("CLM01", "CLAIM-001", "", None)
    qualifier, pattern = name_error.element_errors
    assert (qualifier.position, qualifier.reference, qualifier.code) == (ElementPosition(8, None, None), "66", "7")
    assert (qualifier.meaning, qualifier.bad_value) == ("Invalid code value", "ZZ")
    assert "ZZ" not in repr(qualifier)
    assert (pattern.position, pattern.meaning) == (ElementPosition(5, 3, None), "Implementation pattern match failure")
    [trigger] = pattern.contexts
    assert (trigger.name, trigger.segment_id, trigger.segment_position, trigger.element_position) == (
        "SITUATIONAL TRIGGER",
        "CLM",
        22,
        ElementPosition(5, 3, None),
    )
    assert (missing.segment_id, missing.position, missing.loop_id, missing.meaning) == (
        "REF",
        30,
        "",
        "Required segment missing",
    )
    assert missing.contexts == []


def test_an_accepted_group() -> None:
    [acknowledgment] = read_acknowledgments(interchange(ACCEPTED)).implementation
    [response] = acknowledgment.responses

    assert (acknowledgment.code, acknowledgment.meaning, acknowledgment.sets_accepted) == ("A", "Accepted", 1)
    assert (response.control_number, response.code, response.accepted, response.segment_errors) == (
        "0003",
        "A",
        True,
        [],
    )


def test_the_summary_is_json_without_the_copies_of_bad_elements() -> None:
    [result] = read(interchange(REJECTED))

    data = json.loads(json.dumps(summary(result.groups[0].transactions[0], result)))

    assert (data["code"], data["sets_accepted"]) == ("R", 0)
    [error] = data["transaction_sets"][0]["segment_errors"]
    assert (error["segment_id"], error["position"], error["meaning"]) == ("NM1", 17, "Segment has data element errors")
    assert error["contexts"][0]["reference"] == "CLAIM-001"
    assert [e["code"] for e in error["element_errors"]] == ["7", "I12"]
    assert "ZZ" not in json.dumps(data)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (REJECTED.replace("AK9*R*2*2*0", "AK9*R*two*2*0"), r"AK902 is not a count \(segment AK9 at position 15\)"),
        (REJECTED.replace("IK3*NM1*17*", "IK3*NM1*x17*"), r"IK302 is not a count \(segment IK3 at position 6\)"),
        (REJECTED.replace("IK4*8*66", "IK4*8a*66"), r"IK401 is not an element position \(segment IK4 at position 8\)"),
        (REJECTED.replace("IK3*NM1*17*2010BA*8\nCTX*CLM01:CLAIM-001", ""), r"IK4 comes before any IK3 \(.* 6\)"),
        (REJECTED.replace("IK3*NM1*17*2010BA*8", ""), r"CTX comes before any IK3 \(segment CTX at position 6\)"),
        (REJECTED.replace("AK2*837*0001*005010X222A1", ""), r"IK3 comes before any AK2 \(segment IK3 at position 5\)"),
        (REJECTED.replace("AK9*R*2*2*0", ""), r"no AK9 segment \(segment ST at position 3\)"),
        (REJECTED.replace("AK1*HC*1001*005010X222A1", ""), r"no AK1 segment \(segment ST at position 3\)"),
    ],
)
def test_a_malformed_999_is_refused_naming_segment_and_position(body: str, message: str) -> None:
    with pytest.raises(X12Error, match=message):
        read_acknowledgments(interchange(body))


def test_a_transaction_that_is_not_a_999_is_refused() -> None:
    data = interchange(ACCEPTED, set_id="997")
    [result] = read(data)

    assert read_acknowledgments(data).implementation == []
    with pytest.raises(X12Error, match="not a 999"):
        acknowledgment_of(result.groups[0].transactions[0], result)


def test_a_ta1_rejecting_an_interchange_names_the_reason() -> None:
    data = f"{ISA}TA1*000000101*260110*1015*R*006~IEA*0*000000202~"

    acknowledgments = read_acknowledgments(data)

    assert acknowledgments.interchange == [
        InterchangeAcknowledgment(
            control_number="000000101", date=date(2026, 1, 10), time="1015", code="R", note_code="006"
        )
    ]
    [ta1] = acknowledgments.interchange
    assert (ta1.note, ta1.meaning) == (
        "Invalid Interchange Sender ID",
        "The transmitted interchange control structure header and trailer are rejected because of errors",
    )
    assert acknowledgments.implementation == []


TA1_FOLDER = "OopFactory-X12Parser/tests/OopFactory.X12.Tests.Unit/Parsing/_SampleEdiFiles/Acknowledgments"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            f"{TA1_FOLDER}/TechnicalAcknowledgment_Sample1.txt",  # 8-digit dates, no TA105
            [("0659", date(2011, 9, 22), "A", "", None), ("0660", date(2011, 9, 22), "A", "", None)],
        ),
        (
            f"{TA1_FOLDER}/TechnicalAcknowledgment_SampleFromJeffN825.txt",  # ">" separators, newline-terminated
            [("900000001", date(2010, 6, 24), "R", "006", "Invalid Interchange Sender ID")],
        ),
        (
            "UHIN-x12-parser-library/tests/test-files/TA1.edi",  # a short ISA
            [("000000100", date(2003, 8, 9), "R", "024", "Invalid Interchange Content (e.g., Invalid GS Segment)")],
        ),
    ],
)
def test_the_ta1_files_of_the_corpus(path: str, expected: list[tuple[str, date, str, str, str | None]]) -> None:
    acknowledgments = read_acknowledgments((CORPUS / path).read_bytes())

    assert [(a.control_number, a.date, a.code, a.note_code, a.note) for a in acknowledgments.interchange] == expected


def test_the_999_of_the_corpus_with_errors() -> None:
    path = f"{TA1_FOLDER}/_999/DHS_Wisconsin_Sample.txt"
    [acknowledgment] = read_acknowledgments((CORPUS / path).read_bytes()).implementation

    assert (acknowledgment.code, acknowledgment.meaning) == (
        "P",
        "Partially accepted, at least one transaction set was rejected",
    )
    assert [response.accepted for response in acknowledgment.responses] == [True, False, False]
    assert [error.segment_id for r in acknowledgment.responses for error in r.segment_errors] == ["CLM", "REF"]


FILES = [entry for entry in manifest(CORPUS) if entry.must_read and entry.kind == "999"]


@pytest.mark.parametrize("entry", FILES, ids=lambda entry: entry.path)
def test_every_999_of_the_corpus_is_read_and_summarised(entry: CorpusFile) -> None:
    data = (CORPUS / entry.path).read_bytes()
    transactions = [(t, i) for i in read(data) for g in i.groups for t in g.transactions]

    acknowledgments = read_acknowledgments(data).implementation

    assert len(acknowledgments) == len(transactions) >= 1
    assert all(acknowledgment.responses for acknowledgment in acknowledgments)
    for transaction, result in transactions:
        json.dumps(summary(transaction, result))


def test_the_corpus_has_the_999_files_it_should() -> None:
    assert len(FILES) == 5
