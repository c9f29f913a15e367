"""The Medicare Physician Fee Schedule's relative value file answering `FeeSchedule`.

The table shipped in `data/mpfs_sample.csv` is a sample for tests and demonstration: about thirty codes a
physician office bills, with indicators as CMS sets them and RVUs near the national values of a recent year,
but not CMS's file (see `data/README.md`). Production puts CMS's own relative value file (the `PPRRVU*.csv`
of the quarterly RVU release) in the operator's code-set directory; once one is loaded the sample is dropped,
so an illustrative value never stands beside a real one.

CMS's CSV opens with a preamble (copyright, notes), then a header row naming the columns (HCPCS, MOD, STATUS
CODE, ... NON-FACILITY TOTAL, FACILITY TOTAL, PCTC IND, GLOB DAYS, PRE OP, INTRA OP, POST OP, MULT PROC,
BILAT SURG, ... CONV FACTOR); a header split over two rows is joined. Columns are found by name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from pathlib import Path

from rcm_charge.adapters.code_set_errors import CodeSetError
from rcm_charge.domain.code_sets import FeeScheduleEntry
from rcm_charge.domain.procedures import procedure_code_form

_SAMPLE = "mpfs_sample.csv"
_SAMPLE_COLUMNS = [
    "code",
    "modifier",
    "status",
    "global_days",
    "pctc",
    "bilateral",
    "multiple_procedure",
    "preop",
    "intraop",
    "postop",
    "nonfacility_rvu",
    "facility_rvu",
    "conversion_factor",
]
# CMS's header names (upper case, spaces collapsed) for each field.
_CMS_COLUMNS = {
    "code": "HCPCS",
    "modifier": "MOD",
    "status": "STATUS CODE",
    "global_days": "GLOB DAYS",
    "pctc": "PCTC IND",
    "bilateral": "BILAT SURG",
    "multiple_procedure": "MULT PROC",
    "preop": "PRE OP",
    "intraop": "INTRA OP",
    "postop": "POST OP",
    "nonfacility_rvu": "NON-FACILITY TOTAL",
    "facility_rvu": "FACILITY TOTAL",
    "conversion_factor": "CONV FACTOR",
}
_COMPONENT_MODIFIERS = frozenset({"26", "TC", "53"})
_QUARTERS = ("JAN", "APR", "JUL", "OCT")


class FeeScheduleTable:
    """`FeeSchedule` from rows as loaded; a later row for a code and modifier replaces an earlier one."""

    def __init__(self, entries: Iterable[FeeScheduleEntry]) -> None:
        self._entries = {(entry.code, entry.modifier): entry for entry in entries}

    def entry(self, code: str, modifier: str | None = None) -> FeeScheduleEntry | None:
        return self._entries.get((code.strip().upper(), modifier))


def load_fee_schedule(directory: Path | None) -> FeeScheduleTable:
    """CMS's relative value files in the operator's code-set directory (any `PPRRVU*.csv`) in place of the
    shipped sample."""
    cms: list[FeeScheduleEntry] = []
    if directory is not None and directory.is_dir():
        releases = [
            p for p in directory.iterdir() if p.name.lower().startswith("pprrvu") and p.name.lower().endswith(".csv")
        ]
        for path in sorted(releases, key=release_order):  # a later quarter's rows replace an earlier one's
            cms += read_cms_rvu_file(path.read_text(encoding="utf-8-sig", errors="replace"), path.name)
    return FeeScheduleTable(cms or _shipped_entries())


def release_order(path: Path) -> tuple[int, int, str]:
    """CMS names a quarter's file `PPRRVU<yy>_<JAN|APR|JUL|OCT>` (with suffixes for corrections): year, then
    quarter, then name, so APR follows JAN whatever the alphabet says."""
    name = path.name.upper()
    year = re.search(r"PPRRVU(\d{2})", name)
    quarter = next((index for index, month in enumerate(_QUARTERS) if month in name), len(_QUARTERS))
    return (int(year.group(1)) if year else 0, quarter, name)


def read_cms_rvu_file(text: str, source: str) -> list[FeeScheduleEntry]:
    """The rows of CMS's relative value CSV, found under its header row; the preamble is skipped."""
    rows = list(csv.reader(io.StringIO(text)))
    header_at = next((index for index, row in enumerate(rows) if row and _name(row[0]) == "HCPCS"), None)
    if header_at is None:
        raise CodeSetError(source, "no header row naming HCPCS: not CMS's relative value file")
    names = [_name(cell) for cell in rows[header_at]]
    data_from = header_at + 1
    if data_from < len(rows) and rows[data_from] and not _is_procedure(rows[data_from][0]):
        continuation = rows[data_from]  # a header split over two rows
        names = [_name(f"{name} {continuation[i] if i < len(continuation) else ''}") for i, name in enumerate(names)]
        data_from += 1
    positions = {}
    for field, wanted in _CMS_COLUMNS.items():
        if wanted not in names:
            raise CodeSetError(source, f"no {wanted} column", header_at + 1)
        positions[field] = names.index(wanted)
    entries = []
    for number, row in enumerate(rows[data_from:], start=data_from + 1):
        if not row or not _is_procedure(row[0]):
            continue  # notes and blank lines after the table
        cells = {field: row[at].strip() if at < len(row) else "" for field, at in positions.items()}
        try:
            entries.append(_entry(cells))
        except ValueError as error:
            raise CodeSetError(source, str(error), number) from error
    if not entries:
        raise CodeSetError(source, "no rows")
    return entries


def _shipped_entries() -> list[FeeScheduleEntry]:
    rows = csv.reader(io.StringIO(files("rcm_charge.adapters.data").joinpath(_SAMPLE).read_text(encoding="utf-8")))
    if next(rows, None) != _SAMPLE_COLUMNS:
        raise CodeSetError(_SAMPLE, f"the first row must be {','.join(_SAMPLE_COLUMNS)}", 1)
    entries = []
    for row in rows:
        if len(row) != len(_SAMPLE_COLUMNS):
            raise CodeSetError(_SAMPLE, f"expected {len(_SAMPLE_COLUMNS)} columns", rows.line_num)
        try:
            entries.append(_entry(dict(zip(_SAMPLE_COLUMNS, (cell.strip() for cell in row), strict=True))))
        except ValueError as error:
            raise CodeSetError(_SAMPLE, str(error), rows.line_num) from error
    return entries


def _entry(cells: dict[str, str]) -> FeeScheduleEntry:
    code = cells["code"].upper()
    if not _is_procedure(code):
        raise ValueError(f"{code!r} is not a procedure code")
    modifier = cells["modifier"].upper() or None
    if modifier is not None and modifier not in _COMPONENT_MODIFIERS:
        raise ValueError(f"modifier {modifier!r} is not a component the fee schedule prices apart (26, TC, 53)")
    global_days = cells["global_days"].upper()
    if global_days not in {"000", "010", "090", "XXX", "YYY", "ZZZ", "MMM"}:
        raise ValueError(f"global days {global_days!r} is not 000, 010, 090, XXX, YYY, ZZZ or MMM")
    if cells["bilateral"] not in {"0", "1", "2", "3", "9"}:
        raise ValueError(f"the bilateral indicator {cells['bilateral']!r} is not 0, 1, 2, 3 or 9")
    shares = [_decimal(cells[name], name) for name in ("preop", "intraop", "postop")]
    if any(share < 0 or share > 1 for share in shares):
        raise ValueError("the pre-, intra- and postoperative shares are fractions from 0 to 1")
    factor = cells["conversion_factor"]
    return FeeScheduleEntry(
        code=code,
        modifier=modifier,
        status=cells["status"].upper(),
        global_days=global_days,
        pctc=cells["pctc"],
        bilateral=cells["bilateral"],
        multiple_procedure=cells["multiple_procedure"],
        preop=shares[0],
        intraop=shares[1],
        postop=shares[2],
        nonfacility_rvu=_decimal(cells["nonfacility_rvu"], "the non-facility total"),
        facility_rvu=_decimal(cells["facility_rvu"], "the facility total"),
        conversion_factor=_decimal(factor, "the conversion factor") if factor else None,
    )


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text or "0")
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what} {text!r} is not a number")
    return value


def _name(cell: str) -> str:
    return " ".join(cell.upper().split())


def _is_procedure(code: str) -> bool:
    return procedure_code_form(code.strip().upper()) is not None
