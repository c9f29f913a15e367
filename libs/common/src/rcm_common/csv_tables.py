"""CSV tables a practice keeps in a spreadsheet (price lists, directories), read and written.

A file is taken whole or not at all: every problem is collected, with its row (the header is row 1) and
column, and raised together as one `CsvFileError`, so a practice fixes its spreadsheet in one pass and a
half-read file never changes anything. A problem names the row and the column and the rule, never what the
cell held: a cell in the wrong column might be anything, PHI among it. A cell a spreadsheet would run as a
formula is refused on the way in and defused on the way out (CSV injection).

What a table's cells mean stays with the service that owns it: it reads each row's cells with `CsvRow.take`
and a reader that raises `InvalidCell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, TypeVar

from rcm_common.errors import ValidationFailed

CSV_MEDIA_TYPE: Final = "text/csv"

__all__ = [
    "CsvFileError",
    "CsvProblem",
    "CsvRow",
    "InvalidCell",
    "defused",
    "raise_if_any",
    "read_rows",
    "refusal",
    "refuse_formula",
    "write_csv",
]

# A cell beginning with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_PROBLEMS_ANSWERED = 200

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class CsvProblem:
    """One thing wrong with a file: `row` counts the header as 1; `column` is None for a whole row or file."""

    row: int
    column: str | None
    message: str


class CsvFileError(ValueError):
    """The file cannot be taken; `problems` lists everything wrong with it, in row order."""

    def __init__(self, problems: list[CsvProblem]) -> None:
        super().__init__(f"the file has {len(problems)} problem(s); nothing was imported")
        self.problems = problems


class InvalidCell(ValueError):
    """A cell that cannot be read; its message is the problem's, and never quotes the cell."""


@dataclass(slots=True)
class CsvRow:
    """One data row: its cells by column (a required column the header lacks is absent), and whether every
    cell was read. A cell has one problem, the first found: a second adds nothing to the fix."""

    number: int
    problems: list[CsvProblem]
    cells: dict[str, str] = field(default_factory=dict)
    valid: bool = True
    _noted: set[str] = field(default_factory=set)

    def take(self, column: str, read: Callable[[str], _T], default: _T) -> _T:
        """The cell read, or `default` when it cannot be (a problem noted) or its column is missing."""
        if column not in self.cells:
            return default
        try:
            return read(self.cells[column])
        except InvalidCell as invalid:
            self.problem(column, str(invalid))
            return default

    def problem(self, column: str | None, message: str) -> None:
        """Note a problem with a cell, or with the row (`column` None). A column the header lacks has had its
        problem noted at the header, once for every row."""
        self.valid = False
        if column is not None:
            if column not in self.cells or column in self._noted:
                return
            self._noted.add(column)
        self.problems.append(CsvProblem(self.number, column, message))


def read_rows(
    text: str, columns: tuple[str, ...], required: frozenset[str], problems: list[CsvProblem], *, max_rows: int
) -> Iterator[CsvRow]:
    """The data rows under the header, blank rows passed over but counted, the header's problems noted. The
    header names `columns` in any order and case, each once, and every `required` one; an optional column it
    lacks reads blank. A row left short reads blank in its last cells; a row without a required column is
    invalid. Reading stops at a row the CSV module cannot split or past `max_rows` data rows."""
    records = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    number = 0  # of the last record read: a record that cannot be split is the next
    data_rows = 0
    try:
        header = next(records, None)
        if header is None or not any(cell.strip() for cell in header):
            problems.append(CsvProblem(1, None, f"row 1 must be the header naming the columns: {', '.join(columns)}"))
            return
        names = _header(header, columns, required, problems)
        missing = [name for name in columns if name not in names]
        for number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue
            data_rows += 1
            if data_rows > max_rows:
                problems.append(CsvProblem(number, None, f"the file has more than {max_rows:,} data rows"))
                return
            yield _row(number, record, names, missing, required, problems)
    except csv.Error as error:
        problems.append(CsvProblem(number + 1, None, f"the row is not valid CSV ({error})"))
    if not data_rows:
        problems.append(CsvProblem(1, None, "the file has no data rows"))


def raise_if_any(problems: list[CsvProblem]) -> None:
    """Refuse the file when anything is wrong with it, its problems in row order."""
    if problems:
        raise CsvFileError(sorted(problems, key=lambda problem: problem.row))


def refuse_formula(cell: str, what: str) -> None:
    """Refuse a cell a spreadsheet would run as a formula; `what` names the value in the message."""
    if cell.startswith(_FORMULA_START):
        raise InvalidCell(f"{what} cannot begin with =, +, -, or @, which spreadsheets run as a formula")


def defused(cell: str) -> str:
    """A text cell a spreadsheet would run as a formula, quoted with a leading apostrophe. What was read from a
    file never begins so (it is refused), so this only guards values that came another way."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def write_csv(columns: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    """The header and rows as CSV with CRLF line ends, as spreadsheets write it; cells are written as given,
    so a text cell from outside a file goes through `defused` first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def refusal(error: CsvFileError) -> ValidationFailed:
    """The 422 an API answers for a refused file: each problem as `row 3 column` and its rule (the first 200)."""
    return ValidationFailed(
        [{"field": _where(p), "message": p.message} for p in error.problems[:_MAX_PROBLEMS_ANSWERED]],
        detail=f"The file has {len(error.problems)} problems; nothing was stored.",
    )


def _where(problem: CsvProblem) -> str:
    return f"row {problem.row}" if problem.column is None else f"row {problem.row} {problem.column}"


def _row(
    number: int,
    record: list[str],
    names: list[str | None],
    missing: list[str],
    required: frozenset[str],
    problems: list[CsvProblem],
) -> CsvRow:
    row = CsvRow(number, problems)
    for index, cell in enumerate(record):
        if index >= len(names):
            if cell.strip():
                row.problem(None, f"the row has more cells than the header has columns ({len(names)})")
                break
        elif (name := names[index]) is not None:
            row.cells[name] = cell.strip()
    for name in names[len(record) :]:
        if name is not None:
            row.cells[name] = ""
    for name in missing:
        if name in required:
            row.valid = False
        else:
            row.cells[name] = ""
    return row


def _header(
    header: list[str], columns: tuple[str, ...], required: frozenset[str], problems: list[CsvProblem]
) -> list[str | None]:
    """The column each cell of the header names (None for a cell that names none, or one already named). A
    cell naming no known column is named by its position: a file without a header has data there."""
    names: list[str | None] = []
    for index, cell in enumerate(header, start=1):
        name = cell.strip().lower()
        if not name:
            problems.append(CsvProblem(1, None, f"column {index} has no name"))
            names.append(None)
        elif name not in columns:
            problems.append(CsvProblem(1, None, f"column {index} is unknown; the columns are {', '.join(columns)}"))
            names.append(None)
        elif name in names:
            problems.append(CsvProblem(1, name, "the column is named twice"))
            names.append(None)
        else:
            names.append(name)
    for name in columns:
        if name in required and name not in names:
            problems.append(CsvProblem(1, name, "the required column is missing"))
    return names
