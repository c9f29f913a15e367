"""The practice's chargemaster and its payers' contract rates as CSV files, read and written.

A file is taken whole or not at all: every problem is collected, with its row (the header is row 1) and column,
and raised together as one `PriceFileError`, so a practice fixes its spreadsheet in one pass and a half-read
price list never prices a claim. Amounts are read as decimals, never as floats. A problem names the row and the
column but does not repeat what the cell held, except a code or key already found valid (codes and amounts
are not PHI, but a cell in the wrong column might be anything).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from rcm_charge.domain.pricing import CENT, FEE_SCHEDULE_RATE, LOCATION_PATTERN, ChargemasterEntry, ContractRate
from rcm_charge.domain.procedures import modifier_form_valid, procedure_code_form

__all__ = [
    "CHARGEMASTER_COLUMNS",
    "CONTRACT_RATE_COLUMNS",
    "MAX_ROWS",
    "PriceFileError",
    "PriceProblem",
    "chargemaster_csv",
    "contract_rates_csv",
    "parse_chargemaster",
    "parse_contract_rates",
]

MAX_ROWS = 100_000  # data rows; a chargemaster has some thousands
CHARGEMASTER_COLUMNS = ("code", "modifier", "location", "charge", "description")
CONTRACT_RATE_COLUMNS = ("payer_id", "code", "modifier", "allowed")

_MONEY = re.compile(r"\d+(?:\.\d{1,2})?")
_MONEY_LIMIT = Decimal(10_000_000)
_LOCATION = re.compile(LOCATION_PATTERN)
_MAX_DESCRIPTION = 200
_MAX_PAYER_ID = 80
# A cell beginning with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class PriceProblem:
    """One thing wrong with a price file: `row` counts the header as 1; `column` is None for the file as a whole."""

    row: int
    column: str | None
    message: str


class PriceFileError(ValueError):
    """The file cannot be imported; `problems` lists everything wrong with it, in row order."""

    def __init__(self, problems: list[PriceProblem]) -> None:
        super().__init__(f"the price file has {len(problems)} problem(s); nothing was imported")
        self.problems = problems


def parse_chargemaster(text: str) -> list[ChargemasterEntry]:
    """The entries of a chargemaster CSV (`code`, `charge`; optional `modifier`, `location`, `description`)."""
    problems: list[PriceProblem] = []
    entries: list[ChargemasterEntry] = []
    first_row: dict[tuple[str, str | None, str | None], int] = {}
    for row in _rows(text, CHARGEMASTER_COLUMNS, frozenset({"code", "charge"}), problems):
        code = row.take("code", _code, "")
        modifier = row.take("modifier", _modifier, None)
        location = row.take("location", _location, None)
        charge = row.take("charge", _charge, CENT)
        description = row.take("description", _description, "")
        if not row.valid:
            continue
        key = (code, modifier, location)
        if (earlier := first_row.setdefault(key, row.number)) != row.number:
            what = f"code {code}, modifier {modifier or '(none)'}, location {location or '(all)'}"
            row.problem(None, f"{what} is already priced in row {earlier}")
            continue
        entries.append(ChargemasterEntry(code, charge, modifier, location, description))
    _raise_if(problems)
    return entries


def parse_contract_rates(text: str) -> list[ContractRate]:
    """The rates of a contract rates CSV (`payer_id`, `code`, `allowed`; optional `modifier`)."""
    problems: list[PriceProblem] = []
    rates: list[ContractRate] = []
    first_row: dict[tuple[str, str, str | None], int] = {}
    for row in _rows(text, CONTRACT_RATE_COLUMNS, frozenset({"payer_id", "code", "allowed"}), problems):
        payer_id = row.take("payer_id", _payer_id, "")
        code = row.take("code", _rate_code, "")
        modifier = row.take("modifier", _modifier, None)
        allowed = row.take("allowed", _allowed, CENT)
        if not row.valid:
            continue
        key = (payer_id, code, modifier)
        if (earlier := first_row.setdefault(key, row.number)) != row.number:
            what = f"payer {payer_id}, code {code}, modifier {modifier or '(none)'}"
            row.problem(None, f"{what} already has a rate in row {earlier}")
            continue
        rates.append(ContractRate(payer_id, code, allowed, modifier))
    _raise_if(problems)
    return rates


def chargemaster_csv(entries: Iterable[ChargemasterEntry]) -> str:
    """The chargemaster as CSV, ordered by code, modifier and location, as `parse_chargemaster` reads it back."""
    ordered = sorted(entries, key=lambda e: (e.code, e.modifier or "", e.location or ""))
    return _csv(
        CHARGEMASTER_COLUMNS,
        ((e.code, e.modifier or "", e.location or "", f"{e.charge:.2f}", _defused(e.description)) for e in ordered),
    )


def contract_rates_csv(rates: Iterable[ContractRate]) -> str:
    """The contract rates as CSV, ordered by payer, code and modifier, as `parse_contract_rates` reads it back."""
    ordered = sorted(rates, key=lambda r: (r.payer_id, r.code, r.modifier or ""))
    return _csv(
        CONTRACT_RATE_COLUMNS,
        ((_defused(r.payer_id), r.code, r.modifier or "", f"{r.allowed:.2f}") for r in ordered),
    )


class _Invalid(ValueError):
    """A cell that cannot be read; its message is the problem's."""


class _Row:
    """One data row: its cells by column (a column the header lacks is absent), and whether all were read."""

    def __init__(self, number: int, problems: list[PriceProblem]) -> None:
        self.number = number
        self.cells: dict[str, str] = {}
        self.problems = problems
        self.valid = True

    def take(self, column: str, read: Callable[[str], _T], default: _T) -> _T:
        """The cell read, or `default` when it cannot be (a problem noted) or its column is missing."""
        if column not in self.cells:
            return default
        try:
            return read(self.cells[column])
        except _Invalid as invalid:
            self.problem(column, str(invalid))
            return default

    def problem(self, column: str | None, message: str) -> None:
        self.valid = False
        self.problems.append(PriceProblem(self.number, column, message))


def _rows(
    text: str, columns: tuple[str, ...], required: frozenset[str], problems: list[PriceProblem]
) -> Iterator[_Row]:
    """The data rows under the header, blank rows passed over but counted, the header's problems noted. A row
    left short reads blank in its last cells; a row without a required column (reported at the header) is
    invalid. Reading stops at a row the CSV module cannot split or past `MAX_ROWS` data rows."""
    records = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    number = 0  # of the last record read: a record that cannot be split is the next
    data_rows = 0
    try:
        header = next(records, None)
        if header is None or not any(cell.strip() for cell in header):
            problems.append(PriceProblem(1, None, f"row 1 must be the header naming the columns: {', '.join(columns)}"))
            return
        names = _header(header, columns, required, problems)
        missing = [name for name in columns if name not in names]
        for number, record in enumerate(records, start=2):
            if not any(cell.strip() for cell in record):
                continue
            data_rows += 1
            if data_rows > MAX_ROWS:
                problems.append(PriceProblem(number, None, f"the file has more than {MAX_ROWS:,} data rows"))
                return
            yield _row(number, record, names, missing, required, problems)
    except csv.Error as error:
        problems.append(PriceProblem(number + 1, None, f"the row is not valid CSV ({error})"))
    if not data_rows:
        problems.append(PriceProblem(1, None, "the file has no data rows"))


def _row(
    number: int,
    record: list[str],
    names: list[str | None],
    missing: list[str],
    required: frozenset[str],
    problems: list[PriceProblem],
) -> _Row:
    row = _Row(number, problems)
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
    header: list[str], columns: tuple[str, ...], required: frozenset[str], problems: list[PriceProblem]
) -> list[str | None]:
    """The column each cell of the header names (None for a cell that names none, or one already named)."""
    names: list[str | None] = []
    for index, cell in enumerate(header, start=1):
        name = cell.strip().lower()
        if not name:
            problems.append(PriceProblem(1, None, f"column {index} has no name"))
            names.append(None)
        elif name not in columns:
            problems.append(PriceProblem(1, name, f"unknown column; the columns are {', '.join(columns)}"))
            names.append(None)
        elif name in names:
            problems.append(PriceProblem(1, name, "the column is named twice"))
            names.append(None)
        else:
            names.append(name)
    for name in columns:
        if name in required and name not in names:
            problems.append(PriceProblem(1, name, "the required column is missing"))
    return names


def _raise_if(problems: list[PriceProblem]) -> None:
    if problems:
        raise PriceFileError(sorted(problems, key=lambda problem: problem.row))


def _code(cell: str) -> str:
    code = cell.upper()
    if not code:
        raise _Invalid("a code is required")
    if not (code.isascii() and procedure_code_form(code)):
        raise _Invalid(
            "a code must be CPT (5 digits, or 4 and F, T, U or M) or HCPCS Level II (a letter A-V and 4 digits)"
        )
    return code


def _rate_code(cell: str) -> str:
    """A code, or `MPFS`: the payer pays codes without a rate of their own by the fee schedule, the row's
    amount being its conversion factor."""
    return FEE_SCHEDULE_RATE if cell.upper() == FEE_SCHEDULE_RATE else _code(cell)


def _modifier(cell: str) -> str | None:
    modifier = cell.upper()
    if not modifier:
        return None
    if not modifier_form_valid(modifier):
        raise _Invalid("a modifier must be two letters or digits")
    return modifier


def _location(cell: str) -> str | None:
    if not cell:
        return None
    if not (cell.isascii() and _LOCATION.fullmatch(cell)):
        raise _Invalid("a location code must be 1 to 20 letters, digits, - or _")
    return cell


def _description(cell: str) -> str:
    if len(cell) > _MAX_DESCRIPTION:
        raise _Invalid(f"a description must be at most {_MAX_DESCRIPTION} characters")
    _refuse_formula(cell, "a description")
    return cell


def _payer_id(cell: str) -> str:
    if not cell:
        raise _Invalid("a payer id is required")
    if len(cell) > _MAX_PAYER_ID:
        raise _Invalid(f"a payer id must be at most {_MAX_PAYER_ID} characters")
    _refuse_formula(cell, "a payer id")
    return cell


def _charge(cell: str) -> Decimal:
    charge = _money(cell, "a charge")
    if charge <= 0:
        raise _Invalid("a charge must be more than 0")
    return charge


def _allowed(cell: str) -> Decimal:
    return _money(cell, "an allowed amount")


def _money(cell: str, what: str) -> Decimal:
    """An amount as written (digits, at most two decimal places), to the cent; never through a float."""
    if not cell:
        raise _Invalid(f"{what} is required")
    if not (cell.isascii() and _MONEY.fullmatch(cell)):
        raise _Invalid(f"{what} must be an amount in dollars with at most two decimal places, such as 125.00")
    amount = Decimal(cell).quantize(CENT)
    if amount >= _MONEY_LIMIT:
        raise _Invalid(f"{what} must be less than 10,000,000.00")
    return amount


def _refuse_formula(cell: str, what: str) -> None:
    if cell.startswith(_FORMULA_START):
        raise _Invalid(f"{what} cannot begin with =, +, -, or @, which spreadsheets run as a formula")


def _defused(cell: str) -> str:
    """A text cell a spreadsheet would run as a formula, quoted with a leading apostrophe. What was read from a
    file never begins so (it is refused), so this only guards values that came another way."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _csv(columns: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()
