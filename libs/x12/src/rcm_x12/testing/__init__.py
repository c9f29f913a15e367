"""What the codec's tests share: pyx12's verdict on an interchange we wrote (the conformance oracle), a look
at the one transaction set a writer produced, the parties of the answer writers' tests (a payer answering a
billing service), and the check that a delimiter in a value is refused naming its place, never the value."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pyx12.params import params  # type: ignore[import-untyped]
from pyx12.x12n_document import x12n_document  # type: ignore[import-untyped]

from rcm_x12 import Segment, X12Error, read
from rcm_x12.acknowledgment_writer import ElementFault, GroupAcknowledgment, SegmentFault, SetAcknowledgment
from rcm_x12.claim_status_reader import StatusCode
from rcm_x12.writer import Address, Envelope, Member, Payer, Provider, TradingPartner


def pyx12_verdict(text: str, map_path: str | None = None) -> tuple[bool, list[str], str]:
    """pyx12's verdict on an interchange: its own flag, every error it reported at any level (interchange,
    group, transaction, loop and segment, element), and the 999 it wrote (none for a 999, which it does not
    acknowledge)."""
    acknowledgment, report = io.StringIO(), io.StringIO()
    valid = x12n_document(params(), io.StringIO(text), acknowledgment, None, None, report, map_path=map_path)
    errors: list[str] = []
    for interchange in json.loads(report.getvalue())["interchanges"]:
        errors += [e["err_str"] for e in interchange["errors"]]
        for group in interchange["groups"]:
            errors += [e["err_str"] for e in group["errors"]]
            for transaction in group["transactions"]:
                errors += [e["err_str"] for e in transaction["errors"]]
                for segment in transaction["segments"]:
                    errors += [e["err_str"] for e in segment["errors"]]
                    errors += [e["err_str"] for element in segment["elements"] for e in element["errors"]]
    return valid, errors, acknowledgment.getvalue()


def assert_accepted_by_pyx12(text: str) -> str:
    """pyx12 reports no error at any level and calls the interchange valid; returns the 999 it wrote."""
    valid, errors, acknowledgment = pyx12_verdict(text)
    assert errors == []
    assert valid
    return acknowledgment


def segments_of(text: str) -> list[Segment]:
    """The one transaction's segments, with the envelope read and found right."""
    [interchange] = read(text)
    assert interchange.findings == []
    [group] = interchange.groups
    [transaction] = group.transactions
    return transaction.segments


def find(segments: list[Segment], *head: str) -> list[Segment]:
    """The segments that begin with `head` (an id, then leading elements)."""
    return [s for s in segments if s[: len(head)] == list(head)]


# The answer writers' tests (999, TA1, 277CA, 277, 271, 835): who answers whom, and about whom.

ENVELOPE = Envelope("BIGHEALTH", "ACMEBILLING", 301, 31, 1, datetime(2026, 3, 21, 6, 45), usage="T")
HOME = Address("12 OAK AVE", "SPRINGFIELD", "IL", "627041234", line2="APT 3")
PAYER = Payer("BIG HEALTH PLAN", "BHP01", Address("PO BOX 9", "CHICAGO", "IL", "60601"))
SUBMITTER = TradingPartner("ACME BILLING", "ACMEBILLING")
PROVIDER = Provider("ACME MEDICAL GROUP", "1234567893")
JANE = Member("DOE", "JANE", "W000000001", birth_date=date(1980, 1, 2), gender="F", address=HOME)
SAM = Member("DOE", "SAM", birth_date=date(2015, 5, 6), gender="M")
SECRET = "SECRET"  # nosec B105 - a marker that error messages must not echo, not a credential
D = Decimal


def code(category: str, status: str, entity: str = "", code_list: str = "") -> StatusCode:
    return StatusCode(category, status, entity, code_list)


def rejected_set(control: str = "0002") -> SetAcknowledgment:
    """A 999's response rejecting an 837 set, with segment and element faults (a component's and a
    repetition's among them)."""
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


DELIMITER_MARKS = ("*", "~", ":", "^")


def secret_in(mark: str) -> str:
    return f"{SECRET}{mark}X"


def assert_refused_naming_the_place_not_the_value(
    write: Callable[[str], object], mark: str, element: str, record: str
) -> None:
    """Writing a value that holds the delimiter `mark` is refused: the message names the element, the record
    and the segment's position, never the value."""
    with pytest.raises(X12Error) as refused:
        write(secret_in(mark))

    message = str(refused.value)
    assert f"{element} of {record} holds" in message
    assert refused.value.segment == element[:-2]
    assert SECRET not in message
    assert re.search(r"\(segment \w+ at position \d+\)$", message)
