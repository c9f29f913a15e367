"""The X12 readers fuzzed: the real files of `../shared/x12-corpus`, mutated (an element replaced by any text, a
segment dropped, repeated or swapped, the file cut short), and arbitrary bytes. Whatever comes in, a reader
returns what it read or refuses with `X12Error`, whose message names a segment and position: it never crashes
with another exception. `make test` runs a few examples of each; `make fuzz` runs `RCM_FUZZ_EXAMPLES` (3,000)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm_x12.acknowledgment_reader import read_acknowledgments
from rcm_x12.claim_status_reader import read_claim_statuses
from rcm_x12.corpus import default_root, manifest
from rcm_x12.eligibility_response_reader import read_eligibility
from rcm_x12.errors import X12Error
from rcm_x12.inquiry_reader import read_eligibility_requests, read_status_requests
from rcm_x12.professional_claim_reader import read_professional_claims
from rcm_x12.reader import read
from rcm_x12.remittance_reader import read_remittances

EXAMPLES: Final = int(os.environ.get("RCM_FUZZ_EXAMPLES", "25"))
LARGEST_SEED: Final = 64_000
"""Bytes: larger corpus files make each example slow without reaching other code."""
READERS: Final[dict[str, Callable[[bytes], Any]]] = {
    "835": read_remittances,
    "837P": read_professional_claims,
    "999": read_acknowledgments,
    "277CA": read_claim_statuses,
    "277": read_claim_statuses,
    "271": read_eligibility,
    "270": read_eligibility_requests,
    "276": read_status_requests,
}
FUZZ: Final = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def seeds(kind: str) -> list[bytes]:
    """The corpus's files of `kind` that its reader reads whole (a file it refuses as it stands, a 276 without
    the trace the simulator needs say, would make every mutation a refusal of the same thing)."""
    root = default_root()
    candidates = [
        (root / entry.path).read_bytes()
        for entry in manifest(root)
        if entry.kind == kind and entry.must_read and (root / entry.path).stat().st_size <= LARGEST_SEED
    ]
    found = [document for document in candidates if reads(READERS[kind], document)]
    assert found, f"the corpus holds no {kind} of {LARGEST_SEED} bytes or less that its reader reads"
    return found


def reads(reader: Callable[[bytes], Any], document: bytes) -> bool:
    try:
        reader(document)
    except X12Error:
        return False
    return True


def separators(document: bytes) -> tuple[bytes, bytes]:
    """The element separator and the segment terminator the ISA header declares."""
    start = document.find(b"ISA")
    return document[start + 3 : start + 4], document[start + 105 : start + 106]


@st.composite
def mutated(draw: st.DrawFn, documents: list[bytes]) -> bytes:
    document = draw(st.sampled_from(documents))
    element, terminator = separators(document)
    segments = document.split(terminator)
    for _ in range(draw(st.integers(1, 4))):
        if len(segments) < 2:
            break
        at = draw(st.integers(0, len(segments) - 1))
        change = draw(st.sampled_from(["element", "drop", "repeat", "swap", "cut"]))
        if change == "element":
            elements = segments[at].split(element)
            which = draw(st.integers(0, len(elements) - 1))
            elements[which] = draw(st.binary(max_size=12) | st.text(max_size=12).map(str.encode))
            segments[at] = element.join(elements)
        elif change == "drop":
            del segments[at]
        elif change == "repeat":
            segments.insert(at, segments[at])
        elif change == "swap":
            other = draw(st.integers(0, len(segments) - 1))
            segments[at], segments[other] = segments[other], segments[at]
        else:
            joined = terminator.join(segments)
            return joined[: draw(st.integers(0, len(joined)))]
    return terminator.join(segments)


def read_or_refuse(reader: Callable[[bytes], Any], data: bytes) -> None:
    """A reader's only two answers to any input: what it read, or `X12Error` saying why."""
    try:
        reader(data)
    except X12Error as refused:
        reason = str(refused)
    else:
        return
    assert reason


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_mutated_file_is_read_or_refused_never_crashes(kind: str) -> None:
    reader = READERS[kind]

    @FUZZ
    @given(data=mutated(seeds(kind)))
    def check(data: bytes) -> None:
        read_or_refuse(reader, data)

    check()


@pytest.mark.parametrize("reader", [read, *dict.fromkeys(READERS.values())], ids=lambda reader: reader.__name__)
def test_arbitrary_bytes_are_refused_never_crash(reader: Callable[[bytes], Any]) -> None:
    @FUZZ
    @given(data=st.binary(max_size=400) | st.binary(max_size=300).map(lambda tail: ISA_HEADER + tail))
    def check(data: bytes) -> None:
        read_or_refuse(reader, data)

    check()


ISA_HEADER: Final = (
    b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*^*00501*000000001*0*P*:~"
)


def test_every_reader_has_seeds_from_the_corpus() -> None:
    """The fuzzing starts from real files each reader reads whole: a mutation is what makes an input bad."""
    assert Path(default_root(), "MANIFEST.md").is_file()
    assert {kind: len(seeds(kind)) > 0 for kind in READERS} == dict.fromkeys(READERS, True)
