"""The 277 writer: a 277 reads back through the claim status reader to the statuses written (pyx12 has no
usable map for the 277 of 005010X212), what one cannot hold is refused when made, and a delimiter in a value
is refused naming the place, never the value."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import pyx12  # type: ignore[import-untyped]
from pyx12.errors import EngineError  # type: ignore[import-untyped]

from rcm_x12 import read
from rcm_x12.claim_status_reader import read_claim_statuses
from rcm_x12.claim_status_writer import ClaimStatusReport, StatusReply, write_277
from rcm_x12.elements import Period
from rcm_x12.testing import (
    DELIMITER_MARKS,
    ENVELOPE,
    JANE,
    PAYER,
    PROVIDER,
    SAM,
    SUBMITTER,
    D,
    assert_refused_naming_the_place_not_the_value,
    code,
    pyx12_verdict,
    segments_of,
)


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


@pytest.mark.parametrize("mark", DELIMITER_MARKS)
@pytest.mark.parametrize(
    ("write", "element", "record"),
    [
        (lambda v: write_277(status_reply(replace(PAID, trace=v)), ENVELOPE), "TRN02", "claim 1"),
        (lambda v: write_277(status_reply(PAID, replace(PENDING, codes=(code("P1", v),))), ENVELOPE), "STC01",
         "claim 2"),
    ],
    ids=["277 trace", "277 status"],
)  # fmt: skip
def test_a_delimiter_in_a_value_is_refused_naming_the_place_not_the_value(
    mark: str, write: Any, element: str, record: str
) -> None:
    assert_refused_naming_the_place_not_the_value(write, mark, element, record)
