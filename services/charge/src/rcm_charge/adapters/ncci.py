"""NCCI-style procedure-to-procedure edits and MUE-style unit limits answering `ProcedureEdits`.

The tables shipped in `data/` are a curated sample for tests and demonstration, modelled on the CMS practitioner
edits but not CMS's values (see `data/README.md`): `ncci_ptp.csv` holds about thirty pairs common in physician
offices (therapy codes, ECG global and components, joint injections and E/M, injections and infusions,
debridement, nail and lesion counts), `mue.csv` about forty limits (office E/M, venipuncture, therapy, injections
and a few drugs) with their MUE adjudication indicators. Production adds CMS's quarterly practitioner files from
the operator's code-set directory: the PTP edits in CMS's tab-delimited text (any `*ptp*.txt`, since CMS's own
names vary) and the MUE table as CSV (any `*mue*.csv`). Modifier indicator 9 means the edit does not apply, so
those rows are never loaded. A procedure code is one of the forms `procedure_code_form` knows, as on a claim.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import date
from importlib.resources import files
from pathlib import Path

from rcm_charge.adapters.code_set_errors import CodeSetError
from rcm_charge.domain.code_sets import PairEdit, UnitLimit
from rcm_charge.domain.procedures import procedure_code_form

_CMS_DATE = re.compile(r"[0-9]{8}")
# The MUE adjudication indicator as CMS writes it ("1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of
# Service Edit: Clinical") or as the shipped table does (the digit alone).
_ADJUDICATION_INDICATOR = re.compile(r"([123])(?:\s.*)?", re.DOTALL)
_PTP_COLUMNS = ["column1", "column2", "effective_date", "deletion_date", "modifier_indicator", "rationale"]
_MUE_COLUMNS = ["code", "max_units", "adjudication_indicator", "rationale"]
_CMS_MUE_CODE = "hcpcs/cpt code"
_CMS_MUE_UNITS = "practitioner services mue values"
_CMS_MUE_INDICATOR = "mue adjudication indicator"
_CMS_MUE_RATIONALE = "mue rationale"


class ProcedureEditTables:
    """`ProcedureEdits` from rows as loaded. A pair may have several rows over time (deleted, then added again);
    the one in force on the date answers, and if rows overlap the latest effective, then the last loaded, wins.
    A later limit for a code replaces an earlier one, so CMS's file overrides the sample."""

    def __init__(self, pairs: Iterable[PairEdit], limits: Iterable[UnitLimit]) -> None:
        self._pairs: dict[tuple[str, str], list[PairEdit]] = {}
        for edit in pairs:
            self._pairs.setdefault((edit.column1, edit.column2), []).append(edit)
        self._limits = {limit.code: limit for limit in limits}

    def pair_edit(self, first: str, second: str, on: date) -> PairEdit | None:
        one, other = first.strip().upper(), second.strip().upper()
        in_force = [
            edit for key in ((one, other), (other, one)) for edit in self._pairs.get(key, ()) if edit.in_force(on)
        ]
        return max(reversed(in_force), key=lambda edit: edit.effective, default=None)

    def unit_limit(self, code: str) -> UnitLimit | None:
        return self._limits.get(code.strip().upper())


def read_cms_ptp(path: Path) -> list[PairEdit]:
    """CMS's practitioner PTP edits as tab-delimited text. Rows whose first two fields are procedure codes are
    data (column 1, column 2, the pre-1996 marker, effective and deletion dates as YYYYMMDD, `*` for no
    deletion, modifier indicator, rationale); anything else is CMS's preamble and headings."""
    edits: list[PairEdit] = []
    rows = 0
    # Only ASCII codes, dates and rationales matter; the preamble's copyright sign may be in any encoding.
    for number, line in enumerate(path.read_text(encoding="utf-8-sig", errors="replace").splitlines(), start=1):
        fields = [field.strip().strip('"').strip() for field in line.split("\t")]
        if len(fields) < 2 or not (_is_procedure(fields[0]) and _is_procedure(fields[1])):
            continue
        rows += 1
        try:
            if len(fields) < 6:
                raise ValueError("a PTP edit row has at least six tab-separated fields")
            column1, column2, _before_1996, effective, deletion, indicator, *rationale = fields
            edit = _pair_edit(
                column1,
                column2,
                _cms_date(effective),
                None if deletion in ("", "*") else _cms_date(deletion),
                indicator,
                rationale[0] if rationale else "",
            )
        except ValueError as error:
            raise CodeSetError(path.name, str(error), number) from error
        if edit is not None:
            edits.append(edit)
    if rows == 0:
        raise CodeSetError(path.name, "no PTP edit rows: expected CMS's tab-delimited text")
    return edits


def read_cms_mue(path: Path) -> list[UnitLimit]:
    """CMS's practitioner MUE table as CSV. The header row (after any copyright preamble) is found by its
    `HCPCS/CPT Code`, `Practitioner Services MUE Values` and `MUE Adjudication Indicator` columns; every
    non-blank row after it is a limit. An indicator is read by its leading digit: 1 is a line edit, 2 and 3
    date of service edits."""
    rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig", errors="replace")))
    columns: tuple[int, int, int, int | None] | None = None
    limits: dict[str, UnitLimit] = {}
    for row in rows:
        cells = [cell.strip() for cell in row]
        if columns is None:
            columns = _cms_mue_columns(cells)
            continue
        if not any(cells):
            continue
        code_at, units_at, indicator_at, rationale_at = columns
        try:
            if len(cells) <= max(code_at, units_at, indicator_at):
                raise ValueError("the row is shorter than the header")
            rationale = cells[rationale_at] if rationale_at is not None and rationale_at < len(cells) else ""
            limit = _unit_limit(cells[code_at], cells[units_at], cells[indicator_at], rationale)
        except ValueError as error:
            raise CodeSetError(path.name, str(error), rows.line_num) from error
        if limit.code in limits:
            raise CodeSetError(path.name, f"{limit.code} appears twice", rows.line_num)
        limits[limit.code] = limit
    if columns is None:
        raise CodeSetError(
            path.name,
            'no header row with "HCPCS/CPT Code", "Practitioner Services MUE Values" and "MUE Adjudication Indicator"',
        )
    return list(limits.values())


def _cms_mue_columns(cells: list[str]) -> tuple[int, int, int, int | None] | None:
    names = [" ".join(cell.split()).lower() for cell in cells]
    if not {_CMS_MUE_CODE, _CMS_MUE_UNITS, _CMS_MUE_INDICATOR} <= set(names):
        return None
    rationale = names.index(_CMS_MUE_RATIONALE) if _CMS_MUE_RATIONALE in names else None
    return names.index(_CMS_MUE_CODE), names.index(_CMS_MUE_UNITS), names.index(_CMS_MUE_INDICATOR), rationale


def load_edit_tables(directory: Path | None) -> ProcedureEditTables:
    """CMS's files in the operator's code-set directory (if given and it exists) in place of the shipped
    sample: the sample's invented pairs must not fire beside the real edits, so once any CMS PTP file is
    loaded the sample pairs are dropped, and likewise the sample limits once any MUE file is."""
    cms_pairs: list[PairEdit] = []
    cms_limits: list[UnitLimit] = []
    if directory is not None and directory.is_dir():
        for path in sorted(directory.iterdir()):
            name = path.name.lower()
            if "ptp" in name and name.endswith(".txt"):
                cms_pairs += read_cms_ptp(path)
            elif "mue" in name and name.endswith(".csv"):
                cms_limits += read_cms_mue(path)
    return ProcedureEditTables(cms_pairs or _shipped_pairs(), cms_limits or _shipped_limits())


def _shipped_pairs() -> list[PairEdit]:
    edits: list[PairEdit] = []
    for number, row in _shipped_rows("ncci_ptp.csv", _PTP_COLUMNS):
        column1, column2, effective, deletion, indicator, rationale = row
        try:
            edit = _pair_edit(
                column1,
                column2,
                date.fromisoformat(effective),
                date.fromisoformat(deletion) if deletion else None,
                indicator,
                rationale,
            )
        except ValueError as error:
            raise CodeSetError("ncci_ptp.csv", str(error), number) from error
        if edit is not None:
            edits.append(edit)
    return edits


def _shipped_limits() -> list[UnitLimit]:
    limits: list[UnitLimit] = []
    for number, (code, units, indicator, rationale) in _shipped_rows("mue.csv", _MUE_COLUMNS):
        try:
            limits.append(_unit_limit(code, units, indicator, rationale))
        except ValueError as error:
            raise CodeSetError("mue.csv", str(error), number) from error
    return limits


def _shipped_rows(name: str, columns: list[str]) -> list[tuple[int, list[str]]]:
    rows = csv.reader(io.StringIO(files("rcm_charge.adapters.data").joinpath(name).read_text(encoding="utf-8")))
    if next(rows, None) != columns:
        raise CodeSetError(name, f"the first row must be {','.join(columns)}", 1)
    found: list[tuple[int, list[str]]] = []
    for row in rows:
        if len(row) != len(columns):
            raise CodeSetError(name, f"expected {len(columns)} columns", rows.line_num)
        found.append((rows.line_num, [cell.strip() for cell in row]))
    return found


def _pair_edit(
    column1: str, column2: str, effective: date, deleted: date | None, indicator: str, rationale: str
) -> PairEdit | None:
    """The edit a row states, or None for modifier indicator 9 (the edit does not apply)."""
    for code in (column1, column2):
        if not _is_procedure(code):
            raise ValueError(f"{code!r} is not a procedure code")
    if indicator not in ("0", "1", "9"):
        raise ValueError("the modifier indicator must be 0, 1 or 9")
    if indicator == "9":
        return None
    return PairEdit(column1, column2, indicator == "1", effective, deleted, rationale)


def _unit_limit(code: str, units: str, indicator: str, rationale: str) -> UnitLimit:
    if not _is_procedure(code):
        raise ValueError(f"{code!r} is not a procedure code")
    if not (units.isascii() and units.isdigit()):
        raise ValueError("the MUE value must be a whole number of units")
    adjudication = _ADJUDICATION_INDICATOR.fullmatch(indicator)
    if adjudication is None:
        raise ValueError(f"the MUE adjudication indicator must be 1, 2 or 3, not {indicator!r}")
    return UnitLimit(code, int(units), rationale, per_line=adjudication.group(1) == "1")


def _is_procedure(code: str) -> bool:
    return procedure_code_form(code) is not None


def _cms_date(text: str) -> date:
    if not _CMS_DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not a YYYYMMDD date")
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))
