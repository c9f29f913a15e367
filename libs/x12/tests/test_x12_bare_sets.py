"""A bare transaction set, as payer portals export an 835 (ST to SE, no ISA or GS), reads as an interchange
with no envelope: its delimiters are taken from the ST segment, the missing envelope is a finding, and the
835 reads as it does inside an interchange, known by its payer and TRN02."""

from __future__ import annotations

import re

from rcm_x12 import read
from rcm_x12.corpus import default_root
from rcm_x12.reader import BARE_SET_FINDING
from rcm_x12.remittance_reader import read_remittances

CORPUS = default_root()
EMEDNY = CORPUS / "edi-835-parser/tests/test_edi_835_files/emedny_sample.txt"


def bare(enveloped: str) -> str:
    """The interchange's transaction sets alone, as a portal exports them."""
    return re.sub(r"(ISA|GS|GE|IEA)\*[^~]*~", "", enveloped)


def test_a_bare_835_reads_as_its_enveloped_self_with_the_missing_envelope_named() -> None:
    enveloped = EMEDNY.read_text()

    [interchange] = read(bare(enveloped))
    [original] = read(enveloped)

    assert interchange.findings[0] == BARE_SET_FINDING
    assert (interchange.control_number, interchange.sender, interchange.groups[0].functional_id) == ("", "", "HP")
    ours, theirs = interchange.delimiters, original.delimiters
    assert (ours.element, ours.component, ours.segment) == (theirs.element, theirs.component, theirs.segment)
    assert ours.repetition is None  # only an ISA declares one
    assert [t.segments for t in interchange.groups[0].transactions] == [
        t.segments for g in original.groups for t in g.transactions
    ]


def test_a_bare_835_posts_as_the_enveloped_one_known_by_payer_and_trace() -> None:
    enveloped = EMEDNY.read_text()

    bare_sets = read_remittances(bare(enveloped))
    sets = read_remittances(enveloped)

    assert [(r.payer.identifier, r.trace_number, r.interchange_control_number) for r in bare_sets] == [
        (r.payer.identifier, r.trace_number, "") for r in sets
    ]
    assert [r.claims for r in bare_sets] == [r.claims for r in sets]
    assert all(r.findings[0] == BARE_SET_FINDING for r in bare_sets)


def test_a_bare_set_in_other_delimiters_takes_them_from_its_st_segment() -> None:
    text = "ST|835|0001\nBPR|I|10|C|CHK\nTRN|1|T1|1512345678\nSVC|HC>99213|10|10\nSE|5|0001\n"

    [interchange] = read(text)

    delimiters = interchange.delimiters
    assert (delimiters.element, delimiters.segment, delimiters.component) == ("|", "\n", ">")
    [transaction] = interchange.groups[0].transactions
    assert (transaction.control_number, [s[0] for s in transaction.segments]) == ("0001", ["BPR", "TRN", "SVC"])
    assert interchange.findings == [BARE_SET_FINDING]


def test_a_bare_set_cut_short_is_read_as_such_and_its_trailer_checked() -> None:
    [cut] = read("ST*835*0001~BPR*I*10*C*CHK~TRN*1*T1*1512345678~")
    [miscounted] = read("ST*835*0001~BPR*I*10*C*CHK~SE*9*0002~")

    assert not cut.groups[0].transactions[0].complete
    assert "ST at position 1 has no SE segment: the set may be cut short" in cut.findings
    assert miscounted.findings[1:] == [
        "SE at position 3 counts 9 segments, found 3",
        "SE at position 3: control number does not match ST02",
    ]


def test_the_portal_export_in_the_corpus_reads_as_a_bare_835() -> None:
    [interchange] = read((CORPUS / "edi-835-parser/tests/test_edi_835_files/blue_cross_nc_sample.txt").read_bytes())

    [transaction] = interchange.groups[0].transactions
    assert (transaction.set_id, transaction.control_number, transaction.complete) == ("835", "1234", True)
    assert interchange.findings[0] == BARE_SET_FINDING
