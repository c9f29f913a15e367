"""ICD-10-CM editions answering `DiagnosisCatalog`: the release the `simple-icd-10-cm` package carries, and the
CMS order files an operator drops into the code-set directory for later fiscal years.

An edition is in force from its effective date until a newer one is loaded: a date of service after the newest
edition still uses it, because a new fiscal year's codes are published months ahead and an operator who has not
loaded them yet is better served by the latest known codes than by none. A date before the earliest edition uses
the earliest.

No package ships the sex and age edits of the Medicare Code Editor, so `data/icd10cm_restrictions.csv` is a
curated sample of the clearly sex- or age-specific ranges (see `data/README.md`); an operator's own
`icd10cm_restrictions.csv` in the code-set directory replaces it.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

from rcm_charge.adapters.code_set_errors import CodeSetError
from rcm_charge.domain.code_sets import DiagnosisCode, Sex, dotted

RESTRICTIONS_FILE = "icd10cm_restrictions.csv"

_CODE = re.compile(r"[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}")
_PREFIX = re.compile(r"[A-Z][0-9A-Z]{0,6}")
_ORDER_FILE = re.compile(r"icd10cm[-_]order[-_].*\.txt", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_RESTRICTION_COLUMNS = ["prefix", "sex", "min_age", "max_age", "note"]
_OLDEST_AGE = 124
_SEXES: dict[str, Sex | None] = {"": None, "F": "F", "M": "M"}

# The ICD-10-CM release each supported version of the package carries, so a version bump cannot silently
# mislabel codes or date them wrongly: add the new version here when changing the pin.
_PACKAGE_RELEASES = {"1.5.0": ("FY2026 April update", date(2026, 4, 1))}


# A manifestation's title (ICD-10-CM Official Guidelines I.A.13): "... in [other, bacterial, ...] diseases (or
# conditions, disorders) classified elsewhere"; B95-B97's "as the cause of diseases classified elsewhere" are
# the organisms, not manifestations.
_MANIFESTATION_TITLE = re.compile(
    r"\bin\b[^.]*?\b(?:diseases|conditions|disorders) classified elsewhere", re.IGNORECASE
)


def manifestation_title(description: str) -> bool:
    return bool(_MANIFESTATION_TITLE.search(description)) and "as the cause of" not in description.lower()


class Icd10Entry(NamedTuple):
    description: str
    billable: bool
    code_first: bool = False  # the tabular's "code first the underlying" note, on the code or a code above it
    manifestation: bool = False  # its title, or its category's, names a manifestation


class Icd10Edition:
    """One ICD-10-CM release. `entries` maps undotted codes (categories and subcategories only) to their entry,
    in tabular order; a header's descendants are the codes that start with it."""

    def __init__(self, name: str, effective_from: date, entries: Mapping[str, Icd10Entry]) -> None:
        self.name = name
        self.effective_from = effective_from
        self.entries = entries
        # Billable children are found when asked for, not stored: a bisect of the sorted codes finds every code
        # under a header, and the tabular position puts them back in the order a coder reads them.
        self._sorted = sorted(entries)
        self._position = {code: index for index, code in enumerate(entries)}

    def billable_children(self, header: str) -> tuple[str, ...]:
        """Every billable code under an undotted header, dotted, in tabular order."""
        under: list[str] = []
        index = bisect_right(self._sorted, header)
        while index < len(self._sorted) and self._sorted[index].startswith(header):
            if self.entries[self._sorted[index]].billable:
                under.append(self._sorted[index])
            index += 1
        return tuple(dotted(code) for code in sorted(under, key=self._position.__getitem__))


@dataclass(frozen=True, slots=True)
class Restriction:
    sex: Sex | None
    min_age: int | None
    max_age: int | None
    note: str


_UNRESTRICTED = Restriction(None, None, None, "")


class RestrictionTable:
    """Sex and age restrictions by undotted code prefix; the longest prefix of a code wins, so a row can narrow
    or lift (with blank sex and ages) what a shorter one says."""

    def __init__(self, by_prefix: Mapping[str, Restriction]) -> None:
        self._by_prefix = dict(by_prefix)

    def for_code(self, code: str) -> Restriction | None:
        for length in range(len(code), 0, -1):
            found = self._by_prefix.get(code[:length])
            if found is not None:
                return found
        return None


class Icd10Catalog:
    """`DiagnosisCatalog` over editions by effective date. Of two editions with the same effective date the
    one given later replaces the other, so an operator's file overrides the package's release of that date."""

    def __init__(self, editions: Iterable[Icd10Edition], restrictions: RestrictionTable) -> None:
        by_date = {edition.effective_from: edition for edition in editions}
        if not by_date:
            raise ValueError("an ICD-10-CM catalog needs at least one edition")
        self._editions = [by_date[day] for day in sorted(by_date)]
        self._dates = sorted(by_date)
        self._restrictions = restrictions

    def edition(self, on: date) -> Icd10Edition:
        return self._editions[max(bisect_right(self._dates, on) - 1, 0)]

    def edition_for(self, on: date) -> str:
        return self.edition(on).name

    def covers(self, on: date) -> bool:
        """Whether a loaded edition's fiscal year (October 1 to September 30) holds `on`: from the start of the
        first edition's fiscal year (an April update stands for its year's release) to the end of the last's."""
        first, last = self._dates[0], self._dates[-1]
        first_year_start = date(first.year - (0 if first.month >= 10 else 1), 10, 1)
        last_year_end = date(last.year + (1 if last.month >= 10 else 0), 9, 30)
        return first_year_start <= on <= last_year_end

    def lookup(self, code: str, on: date) -> DiagnosisCode | None:
        key = undotted(code)
        if key is None:
            return None
        edition = self.edition(on)
        entry = edition.entries.get(key)
        if entry is None:
            return None
        restriction = self._restrictions.for_code(key) or _UNRESTRICTED
        return DiagnosisCode(
            code=dotted(key),
            description=entry.description,
            billable=entry.billable,
            manifestation=entry.manifestation,
            code_first=entry.code_first,
            billable_children=() if entry.billable else edition.billable_children(key),
            sex=restriction.sex,
            min_age=restriction.min_age,
            max_age=restriction.max_age,
            restriction_note=restriction.note,
        )


def undotted(code: str) -> str | None:
    """The code as the editions key it (upper case, no dot), or None when it is not an ICD-10-CM code's form;
    a dot is accepted only where it belongs, after the third character."""
    text = code.strip().upper()
    if "." in text:
        if text.index(".") != 3 or text.count(".") > 1:
            return None
        text = text.replace(".", "")
    return text if _CODE.fullmatch(text) else None


def _requires_underlying_first(note: str) -> bool:
    """A "code first" note of the etiology/manifestation convention: the underlying condition, without
    "if applicable" or "any associated" (which ask for it only where there is one)."""
    text = note.lower()
    return "underlying" in text and "if applicable" not in text and "any associated" not in text


@cache
def package_edition() -> Icd10Edition:
    """The release `simple-icd-10-cm` carries. Built once per process: importing the package parses its
    tabular XML (about 1.4 s and 200 MB), so it happens on first use, not when this module is imported."""
    package_version = version("simple-icd-10-cm")
    if package_version not in _PACKAGE_RELEASES:
        raise CodeSetError("simple-icd-10-cm", f"version {package_version} is not mapped to an ICD-10-CM release")
    release, effective_from = _PACKAGE_RELEASES[package_version]
    with warnings.catch_warnings():  # the package still reads its data with a deprecated importlib API
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd  # deliberately lazy, see the docstring

    codes = [code for code in icd.get_all_codes(with_dots=True) if icd.is_category_or_subcategory(code)]
    # The etiology/manifestation convention's note, "code first (the) underlying ..." (Official Guidelines
    # I.A.13), on a category or subcategory holds for every code beneath it: the undotted prefixes. Other
    # "code first" notes are conditional ("any routine childhood examination" on Z23, "if applicable").
    noted = {code.replace(".", "") for code in codes if _requires_underlying_first(icd.get_code_first(code))}
    entries: dict[str, Icd10Entry] = {}
    for code in codes:
        key = code.replace(".", "")
        # A block holding a single category repeats the category's name: the first one found is kept.
        if key not in entries:
            code_first = any(key[:length] in noted for length in range(3, len(key) + 1))
            entries[key] = Icd10Entry(icd.get_description(code), icd.is_leaf(code), code_first)
    return Icd10Edition(
        f"ICD-10-CM {release} (simple-icd-10-cm {package_version})", effective_from, _with_manifestations(entries)
    )


def cms_order_file_edition(path: Path, effective_from: date | None = None) -> Icd10Edition:
    """An edition from CMS's `icd10cm-order-YYYY.txt` (the code descriptions in tabular order). Without
    `effective_from` the date comes from the file name: FY YYYY starts on October 1 of YYYY-1, and an April
    update (`april` in the name) on April 1 of YYYY."""
    year = _YEAR.search(path.name)
    april = "april" in path.name.lower()
    if effective_from is None:
        if year is None:
            raise CodeSetError(path.name, "the file name has no year: give the edition's effective date")
        fiscal_year = int(year.group(1))
        effective_from = date(fiscal_year, 4, 1) if april else date(fiscal_year - 1, 10, 1)
    name = f"ICD-10-CM ({path.name})"
    if year is not None:
        name = f"ICD-10-CM FY{year.group(1)}{' April update' if april else ''} ({path.name})"
    entries: dict[str, Icd10Entry] = {}
    # One byte per character keeps the fixed columns where CMS put them whatever stray byte a line carries.
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            code, entry = _order_line(line)
        except ValueError as error:
            raise CodeSetError(path.name, str(error), number) from error
        if code in entries:
            raise CodeSetError(path.name, f"{dotted(code)} appears twice", number)
        entries[code] = entry
    if not entries:
        raise CodeSetError(path.name, "no codes")
    return Icd10Edition(name, effective_from, _with_manifestations(entries))


def _with_manifestations(entries: dict[str, Icd10Entry]) -> dict[str, Icd10Entry]:
    """Each entry marked a manifestation when its title or its category's says so (M14.60 "Charcot's joint"
    is under M14 "Arthropathies in other diseases classified elsewhere")."""
    marked = {code for code, entry in entries.items() if manifestation_title(entry.description)}
    return {code: entry._replace(manifestation=code in marked or code[:3] in marked) for code, entry in entries.items()}


def _order_line(line: str) -> tuple[str, Icd10Entry]:
    """Columns 1-5 order number, 7-13 the undotted code left-justified, 15 `0` header or `1` billable, 17-76
    the short and 78 on the long description, with blanks between."""
    if len(line) < 78 or any(line[column] != " " for column in (5, 13, 15, 76)) or not line[:5].isdigit():
        raise ValueError("not the order file's fixed-width layout")
    code = line[6:13].rstrip()
    if not _CODE.fullmatch(code):
        raise ValueError("columns 7-13 hold no ICD-10-CM code")
    if line[14] not in "01":
        raise ValueError("column 15 must be 0 (header) or 1 (billable)")
    description = line[77:].strip()
    if not description or not line[16:76].strip():
        raise ValueError("a description is missing")
    return code, Icd10Entry(description, line[14] == "1")


def read_restrictions(text: str, source: str) -> RestrictionTable:
    """A restrictions CSV: `prefix,sex,min_age,max_age,note`, prefixes undotted, blanks meaning no limit."""
    rows = csv.reader(io.StringIO(text))
    if next(rows, None) != _RESTRICTION_COLUMNS:
        raise CodeSetError(source, f"the first row must be {','.join(_RESTRICTION_COLUMNS)}", 1)
    by_prefix: dict[str, Restriction] = {}
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        try:
            prefix, restriction = _restriction_row(row)
        except ValueError as error:
            raise CodeSetError(source, str(error), rows.line_num) from error
        if prefix in by_prefix:
            raise CodeSetError(source, f"prefix {prefix} appears twice", rows.line_num)
        by_prefix[prefix] = restriction
    return RestrictionTable(by_prefix)


def _restriction_row(row: list[str]) -> tuple[str, Restriction]:
    if len(row) != len(_RESTRICTION_COLUMNS):
        raise ValueError(f"expected {len(_RESTRICTION_COLUMNS)} columns")
    prefix, sex, min_text, max_text, note = (cell.strip() for cell in row)
    if not _PREFIX.fullmatch(prefix):
        raise ValueError("the prefix must be the start of an undotted ICD-10-CM code")
    if sex not in _SEXES:
        raise ValueError("sex must be F, M or blank")
    min_age, max_age = _age(min_text), _age(max_text)
    if min_age is not None and max_age is not None and min_age > max_age:
        raise ValueError("min_age is above max_age")
    return prefix, Restriction(_SEXES[sex], min_age, max_age, note)


def _age(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) > _OLDEST_AGE:
        raise ValueError(f"an age must be a whole number of years from 0 to {_OLDEST_AGE}")
    return int(text)


def load_restrictions(directory: Path | None) -> RestrictionTable:
    """The operator's `icd10cm_restrictions.csv` from the code-set directory if there is one, else the sample
    shipped with the service."""
    operator = directory / RESTRICTIONS_FILE if directory is not None else None
    if operator is not None and operator.is_file():
        return read_restrictions(operator.read_text(encoding="utf-8"), operator.name)
    shipped = files("rcm_charge.adapters.data").joinpath(RESTRICTIONS_FILE)
    return read_restrictions(shipped.read_text(encoding="utf-8"), RESTRICTIONS_FILE)


def load_catalog(directory: Path | None) -> Icd10Catalog:
    """The package's edition, every CMS order file in the operator's code-set directory (if given and it exists)
    and the restrictions. CMS's addenda files, which list changes in another layout, are not editions."""
    editions = [package_edition()]
    if directory is not None and directory.is_dir():
        editions += [
            cms_order_file_edition(path)
            for path in sorted(directory.iterdir())
            if _ORDER_FILE.fullmatch(path.name) and "addenda" not in path.name.lower()
        ]
    return Icd10Catalog(editions, load_restrictions(directory))
