"""The shared corpus of real X12 files (`../shared/x12-corpus`) as its MANIFEST.md describes it: used by
the tests and by `rcm-x12 corpus` to show what the codec makes of files nobody on the project wrote."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ROW = re.compile(r"\| `([^`]+)` \| ([^|]*) \| ([^|]*) \| (\d+) \| ([^|]*) \| ([^|]*) \| ([^|]*) \|")


@dataclass(frozen=True)
class CorpusFile:
    """One file of the corpus: its path under the corpus root, kind (ST01, 277CA apart), GS08 version,
    the raw CLP and CLM counts, and the note (`fixture` marks a file that must be refused)."""

    path: str
    kind: str
    version: str
    clp: int
    clm: int
    note: str

    @property
    def fixture(self) -> bool:
        return "fixture" in self.note

    @property
    def must_read(self) -> bool:
        """A 5010 file that is not an error fixture: every reader must read it."""
        return self.version.startswith("005010") and not self.fixture


def default_root() -> Path:
    """`shared/x12-corpus` beside the repository, as CI and every developer have it."""
    return Path(__file__).resolve().parents[4].parent / "shared" / "x12-corpus"


def manifest(root: Path) -> list[CorpusFile]:
    text = (root / "MANIFEST.md").read_text()
    files = []
    for line in text.splitlines():
        if match := _ROW.match(line):
            path, kind, version, _size, clp, clm, note = (part.strip() for part in match.groups())
            files.append(CorpusFile(path, kind, version, int(clp or 0), int(clm or 0), note))
    return files
