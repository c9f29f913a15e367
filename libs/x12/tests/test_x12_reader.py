"""The tolerant reader: delimiters from the ISA, whatever lies between segments, the envelope's findings,
and clear refusals."""

from __future__ import annotations

import gc
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcm_x12 import UnsupportedVersion, X12Error, read
from rcm_x12.reader import collector_paused

ISA = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *261123*1430*^*00501*000000101*0*T*:~"


def interchange(body: str = "", *, isa: str = ISA, se_count: int | None = None, ge_count: str = "1") -> str:
    segments = [s for s in body.split("~") if s]
    count = se_count if se_count is not None else len(segments) + 2
    return (
        f"{isa}GS*HC*SUBMITTER*RECEIVER*20261123*1430*1*X*005010X222A1~ST*837*0001*005010X222A1~"
        + "".join(f"{s}~" for s in segments)
        + f"SE*{count}*0001~GE*{ge_count}*1~IEA*1*000000101~"
    )


def test_reads_the_envelope_and_the_segments() -> None:
    [result] = read(interchange("BHT*0019*00*0123*20261123*1430*CH~CLM*A1*100***11:B:1*Y*A*Y*Y~"))

    assert (result.sender, result.receiver, result.control_number, result.usage) == (
        "SUBMITTER",
        "RECEIVER",
        "000000101",
        "T",
    )
    assert (result.delimiters.element, result.delimiters.component, result.delimiters.repetition) == ("*", ":", "^")
    [group] = result.groups
    assert (group.functional_id, group.version) == ("HC", "005010X222A1")
    [transaction] = group.transactions
    assert (transaction.set_id, transaction.control_number) == ("837", "0001")
    assert [s[0] for s in transaction.segments] == ["BHT", "CLM"]
    assert transaction.segments[1][5] == "11:B:1"
    assert result.findings == []


def test_line_breaks_indentation_and_a_byte_order_mark_between_segments_are_ignored() -> None:
    text = interchange("BHT*0019*00*0123*20261123*1430*CH~").replace("~", "~\r\n    ")
    [result] = read(b"\xef\xbb\xbf" + text.encode())

    assert [s[0] for s in result.groups[0].transactions[0].segments] == ["BHT"]


def test_empty_segments_between_terminators_are_passed_over() -> None:
    [result] = read(interchange("BHT*0019*00*0123*20261123*1430*CH~").replace("~", "~~"))

    assert [s[0] for s in result.groups[0].transactions[0].segments] == ["BHT"]
    assert result.findings == []


def test_of_several_invalid_segment_identifiers_the_first_is_named() -> None:
    with pytest.raises(X12Error, match=r"invalid identifier \(at segment position 5\)"):
        read(interchange("BHT*0019~B#T*1~ZZ*1~1AB*2~B#T*3~"))


def test_utf16_data_is_decoded() -> None:
    [result] = read(interchange().encode("utf-16-le"))

    assert result.groups[0].transactions[0].set_id == "837"


def test_a_short_isa_is_read_by_its_separators_not_its_width() -> None:
    short = "ISA*00**00**ZZ*SUB*ZZ*REC*261123*1430*^*00501*101*0*P*:~"
    [result] = read(interchange(isa=short).replace("IEA*1*000000101", "IEA*1*101"))

    assert (result.sender, result.control_number) == ("SUB", "101")
    assert result.findings[:2] == [
        "ISA02 is 0 characters wide, not 10 (ISA at position 1)",
        "ISA04 is 0 characters wide, not 10 (ISA at position 1)",
    ]  # read all the same, and told


def test_envelope_mistakes_are_findings_not_failures() -> None:
    [result] = read(interchange(se_count=9, ge_count="2").replace("IEA*1*000000101", "IEA*1*000000999"))

    assert result.findings == [
        "SE at position 4 counts 9 segments, found 2",
        "GE at position 5 counts 2 transaction sets, found 1",
        "IEA at position 6: control number does not match ISA13",
    ]


def test_a_truncated_file_is_read_as_far_as_it_goes() -> None:
    text = interchange("BHT*0019*00*0123*20261123*1430*CH~").split("SE*")[0]
    [result] = read(text)

    assert [s[0] for s in result.groups[0].transactions[0].segments] == ["BHT"]
    assert "has no SE segment" in result.findings[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "does not begin with an ISA segment"),
        (b"ST*835*0001", "no segment terminator after its ST"),
        (b"ST*835*0001~BPR*I~SE*3*0001~GS*HP~", "must begin with ST"),
        (b"ISA*00*  *00", "fewer than 16 elements"),
        (interchange().replace("GS*HC", "GS*HC").replace("005010X222A1~ST", "004010X098A1~ST"), "004010"),
        (interchange("B#T*1~"), "invalid identifier"),
    ],
)
def test_unreadable_data_is_refused_with_a_clear_message(data: bytes | str, message: str) -> None:
    with pytest.raises(X12Error, match=message):
        read(data)


def test_004010_is_named_as_such() -> None:
    with pytest.raises(UnsupportedVersion, match="004010"):
        read(interchange().replace("005010X222A1~ST", "004010X098A1~ST"))


SEPARATORS = st.sampled_from(list("*|^!+%&,;~:>\x1d\x1e\x1f"))


@given(element=SEPARATORS, component=SEPARATORS, terminator=SEPARATORS, repetition=SEPARATORS)
def test_any_distinct_delimiters_declared_in_the_isa_are_found(
    element: str, component: str, terminator: str, repetition: str
) -> None:
    if len({element, component, terminator, repetition}) < 4:
        return
    text = interchange("CLM*A1*100***11:B:1~")
    swapped = "".join({"*": element, ":": component, "~": terminator, "^": repetition}.get(ch, ch) for ch in text)
    [result] = read(swapped)

    assert (result.delimiters.element, result.delimiters.component, result.delimiters.segment) == (
        element,
        component,
        terminator,
    )
    assert result.groups[0].transactions[0].segments[0][5] == f"11{component}B{component}1"


def test_a_carriage_return_may_be_the_segment_terminator() -> None:
    text = interchange("BHT*0019*00*0123*20261123*1430*CH~").replace("~", "\r")
    [result] = read(text)

    assert [s[0] for s in result.groups[0].transactions[0].segments] == ["BHT"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfeI", "does not begin with an ISA segment"),
        (ISA.replace("*:~", "*A~").encode(), "letter, digit or space"),
    ],
)
def test_odd_input_is_refused_with_an_x12_error(data: bytes, message: str) -> None:
    with pytest.raises(X12Error, match=message):
        read(data)


def test_a_transaction_without_its_se_is_marked_incomplete() -> None:
    text = interchange("BHT*0019*00*0123*20261123*1430*CH~").split("SE*")[0]
    [result] = read(text)

    assert result.groups[0].transactions[0].complete is False


def test_readers_in_several_threads_leave_the_collector_as_they_found_it() -> None:
    """Readers that overlap in threads (a service reads large files off its event loop) share one pause of the
    collector: whatever the interleaving, it is on again once every reader has ended, and off while any reads."""

    collecting_while_read: list[int] = []

    def read_many() -> None:
        for _ in range(1_000):
            with collector_paused():
                if gc.isenabled():
                    collecting_while_read.append(1)

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can, so the readers interleave every way
    try:
        for _ in range(20):
            threads = [threading.Thread(target=read_many) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert gc.isenabled()
    finally:
        sys.setswitchinterval(switching)
    assert not collecting_while_read
