"""The practice's chargemaster and its payers' contract rates as CSV files, read and written.

A file is taken whole or not at all (`rcm_common.csv_tables`): every problem is collected, with its row and
column, and raised together as one `CsvFileError`, so a half-read price list never prices a claim. What is
charge's own is here: the columns and what their cells mean. Amounts are read as decimals, never as floats. A
problem does not repeat what the cell held, except a code or key already found valid (codes and amounts are
not PHI, but a cell in the wrong column might be anything).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from rcm_charge.domain.pricing import CENT, FEE_SCHEDULE_RATE, LOCATION_PATTERN, ChargemasterEntry, ContractRate
from rcm_charge.domain.procedures import modifier_form_valid, procedure_code_form
from rcm_common.csv_tables import (
    CsvProblem,
    InvalidCell,
    defused,
    raise_if_any,
    read_rows,
    refuse_formula,
    write_csv,
)

__all__ = [
    "CHARGEMASTER_COLUMNS",
    "CONTRACT_RATE_COLUMNS",
    "MAX_ROWS",
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


def parse_chargemaster(text: str) -> list[ChargemasterEntry]:
    """The entries of a chargemaster CSV (`code`, `charge`; optional `modifier`, `location`, `description`)."""
    problems: list[CsvProblem] = []
    entries: list[ChargemasterEntry] = []
    first_row: dict[tuple[str, str | None, str | None], int] = {}
    required = frozenset({"code", "charge"})
    for row in read_rows(text, CHARGEMASTER_COLUMNS, required, problems, max_rows=MAX_ROWS):
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
    raise_if_any(problems)
    return entries


def parse_contract_rates(text: str) -> list[ContractRate]:
    """The rates of a contract rates CSV (`payer_id`, `code`, `allowed`; optional `modifier`)."""
    problems: list[CsvProblem] = []
    rates: list[ContractRate] = []
    first_row: dict[tuple[str, str, str | None], int] = {}
    required = frozenset({"payer_id", "code", "allowed"})
    for row in read_rows(text, CONTRACT_RATE_COLUMNS, required, problems, max_rows=MAX_ROWS):
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
    raise_if_any(problems)
    return rates


def chargemaster_csv(entries: Iterable[ChargemasterEntry]) -> str:
    """The chargemaster as CSV, ordered by code, modifier and location, as `parse_chargemaster` reads it back."""
    ordered = sorted(entries, key=lambda e: (e.code, e.modifier or "", e.location or ""))
    return write_csv(
        CHARGEMASTER_COLUMNS,
        ((e.code, e.modifier or "", e.location or "", f"{e.charge:.2f}", defused(e.description)) for e in ordered),
    )


def contract_rates_csv(rates: Iterable[ContractRate]) -> str:
    """The contract rates as CSV, ordered by payer, code and modifier, as `parse_contract_rates` reads it back."""
    ordered = sorted(rates, key=lambda r: (r.payer_id, r.code, r.modifier or ""))
    return write_csv(
        CONTRACT_RATE_COLUMNS,
        ((defused(r.payer_id), r.code, r.modifier or "", f"{r.allowed:.2f}") for r in ordered),
    )


def _code(cell: str) -> str:
    code = cell.upper()
    if not code:
        raise InvalidCell("a code is required")
    if not (code.isascii() and procedure_code_form(code)):
        raise InvalidCell(
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
        raise InvalidCell("a modifier must be two letters or digits")
    return modifier


def _location(cell: str) -> str | None:
    if not cell:
        return None
    if not (cell.isascii() and _LOCATION.fullmatch(cell)):
        raise InvalidCell("a location code must be 1 to 20 letters, digits, - or _")
    return cell


def _description(cell: str) -> str:
    if len(cell) > _MAX_DESCRIPTION:
        raise InvalidCell(f"a description must be at most {_MAX_DESCRIPTION} characters")
    refuse_formula(cell, "a description")
    return cell


def _payer_id(cell: str) -> str:
    if not cell:
        raise InvalidCell("a payer id is required")
    if len(cell) > _MAX_PAYER_ID:
        raise InvalidCell(f"a payer id must be at most {_MAX_PAYER_ID} characters")
    refuse_formula(cell, "a payer id")
    return cell


def _charge(cell: str) -> Decimal:
    charge = _money(cell, "a charge")
    if charge <= 0:
        raise InvalidCell("a charge must be more than 0")
    return charge


def _allowed(cell: str) -> Decimal:
    return _money(cell, "an allowed amount")


def _money(cell: str, what: str) -> Decimal:
    """An amount as written (digits, at most two decimal places), to the cent; never through a float."""
    if not cell:
        raise InvalidCell(f"{what} is required")
    if not (cell.isascii() and _MONEY.fullmatch(cell)):
        raise InvalidCell(f"{what} must be an amount in dollars with at most two decimal places, such as 125.00")
    amount = Decimal(cell).quantize(CENT)
    if amount >= _MONEY_LIMIT:
        raise InvalidCell(f"{what} must be less than 10,000,000.00")
    return amount
