"""The full CARC and RARC lists as X12 publishes them, saved as CSV or tab-separated text, read into
(code, description) pairs for `CodeBook.with_loaded`.

The first non-blank line is the header; it names a code column ("code", "carc", "rarc", "reason code" ...) and
a description column ("description", "desc"), in any order and case. Other columns (start, stop, last
modified, notes) are passed over. Every row is returned, retired codes too: an old 835 still carries them. A
file with anything wrong is refused whole, naming the line, so a bad list never half-replaces the curated one.
`rcm_common.csv_tables` is not used: its files are the practice's own, comma-separated with fixed column names,
while these are a publisher's, in either delimiter and with columns we ignore.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Final

from rcm_remittance.domain.codes import CodeBook

_CODE_COLUMNS: Final = frozenset({"code", "carc", "rarc", "reason code", "remark code", "carc code", "rarc code"})
_DESCRIPTION_COLUMNS: Final = frozenset({"description", "desc", "code description"})
_CODE: Final = re.compile(r"[A-Z0-9]{1,5}")


class CodeListError(ValueError):
    """A code list that cannot be loaded; `line` is the 1-based line at fault."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def read_code_list(text: str) -> list[tuple[str, str]]:
    """Every (code, description) of the list in file order: codes upper case, descriptions on one line."""
    text = text.removeprefix("\ufeff")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first_line else ","
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: tuple[int, int, int] | None = None  # its line, then where the code and the description are
    codes: list[tuple[str, str]] = []
    first_seen: dict[str, int] = {}
    end = 0  # the last line read: a record may span lines inside quotes
    try:
        for record in records:
            line, end = end + 1, records.line_num
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = (line, *_columns(record, line))
                continue
            code, description = _row(record, header[1], header[2], line)
            if code in first_seen:
                raise CodeListError(line, f"the code {code} is listed twice (first on line {first_seen[code]})")
            first_seen[code] = line
            codes.append((code, description))
    except csv.Error as error:
        raise CodeListError(end + 1, f"the line is not valid CSV ({error})") from error
    if header is None:
        raise CodeListError(1, "the file is empty: expected a header naming a code and a description column")
    if not codes:
        raise CodeListError(header[0], "there are no code rows under the header")
    return codes


def _columns(header: list[str], line: int) -> tuple[int, int]:
    """Where the code and the description are, from the header's names."""
    names = [" ".join(cell.replace("_", " ").split()).lower() for cell in header]
    code_at = [index for index, name in enumerate(names) if name in _CODE_COLUMNS]
    description_at = [index for index, name in enumerate(names) if name in _DESCRIPTION_COLUMNS]
    if not code_at:
        raise CodeListError(line, 'the header names no code column ("code", "carc", "rarc" or "reason code")')
    if not description_at:
        raise CodeListError(line, 'the header names no description column ("description" or "desc")')
    if len(code_at) > 1 or len(description_at) > 1:
        raise CodeListError(line, "the header names more than one code or description column")
    return code_at[0], description_at[0]


def _row(record: list[str], code_at: int, description_at: int, line: int) -> tuple[str, str]:
    code = record[code_at].strip().upper() if code_at < len(record) else ""
    if not _CODE.fullmatch(code):
        raise CodeListError(line, f"the code {code!r} is not 1 to 5 letters and digits")
    description = " ".join(record[description_at].split()) if description_at < len(record) else ""
    if not description:
        raise CodeListError(line, f"the code {code} has no description")
    return code, description


def loaded_code_book(curated: CodeBook, carc_list: Path | None, rarc_list: Path | None) -> CodeBook:
    """The curated book with the published lists the settings name loaded over it; a list that cannot be read
    raises CodeListError naming the file and the line."""
    lists: list[list[tuple[str, str]]] = []
    for path in (carc_list, rarc_list):
        if path is None:
            lists.append([])
            continue
        try:
            lists.append(read_code_list(path.read_text(encoding="utf-8")))
        except CodeListError as error:
            raise CodeListError(error.line, f"{error.problem} (in {path})") from None
        except (OSError, UnicodeDecodeError) as error:
            raise CodeListError(0, f"{path} cannot be read as UTF-8 text ({type(error).__name__})") from None
    reasons, remarks = lists
    return curated.with_loaded(reasons, remarks)
