"""The shared corpus of real X12 files (../shared/x12-corpus): every 5010 file of the platform's kinds
is read, its claims counted as MANIFEST.md counts them; every 004010 file is refused with a clear message.
A summary per kind is printed (run with -s to see it)."""

from __future__ import annotations

import collections

import pytest

from rcm_x12 import UnsupportedVersion, X12Error, read
from rcm_x12.corpus import CorpusFile, default_root, manifest

CORPUS = default_root()


if not (CORPUS / "MANIFEST.md").is_file():
    pytest.fail(f"the shared X12 corpus is missing at {CORPUS}", pytrace=False)
FILES = manifest(CORPUS)
MUST_READ = [f for f in FILES if f.must_read]
OLD = [f for f in FILES if f.version.startswith("004010")]


def test_the_manifest_lists_the_corpus() -> None:
    assert len(FILES) == 286
    assert len(MUST_READ) == 156


@pytest.mark.parametrize("entry", MUST_READ, ids=lambda f: f.path)
def test_every_5010_file_is_read_and_its_claims_counted(entry: CorpusFile) -> None:
    interchanges = read((CORPUS / entry.path).read_bytes())
    segments = [s[0] for i in interchanges for g in i.groups for t in g.transactions for s in t.segments]

    assert interchanges
    assert (segments.count("CLP"), segments.count("CLM")) == (entry.clp, entry.clm)


@pytest.mark.parametrize("entry", OLD, ids=lambda f: f.path)
def test_every_004010_file_is_refused_as_such(entry: CorpusFile) -> None:
    with pytest.raises(UnsupportedVersion, match="004010"):
        read((CORPUS / entry.path).read_bytes())


def test_corpus_report(capsys: pytest.CaptureFixture[str]) -> None:
    outcome: collections.Counter[tuple[str, str]] = collections.Counter()
    for entry in FILES:
        try:
            read((CORPUS / entry.path).read_bytes())
            result = "read"
        except UnsupportedVersion:
            result = "refused: version"
        except X12Error:
            result = "refused: unreadable"
        outcome[(entry.kind, result)] += 1
    with capsys.disabled():
        print("\nX12 corpus (kind, outcome: files)")
        for (kind, result), count in sorted(outcome.items()):
            print(f"  {kind:<14} {result:<20} {count}")
    assert sum(outcome.values()) == len(FILES)
