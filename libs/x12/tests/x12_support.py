"""What the codec's tests share: pyx12's verdict on an interchange we wrote (the conformance oracle), and a
look at the one transaction set a writer produced."""

from __future__ import annotations

import io
import json

from pyx12.params import params  # type: ignore[import-untyped]
from pyx12.x12n_document import x12n_document  # type: ignore[import-untyped]

from rcm_x12 import Segment, read


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
