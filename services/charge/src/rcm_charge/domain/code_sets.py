"""What validation asks of the code sets: ICD-10-CM diagnoses as of a date of service, the
procedure-to-procedure (NCCI-style) and medically-unlikely-units (MUE-style) edits, and the physician fee
schedule's indicators (global period, bilateral, multiple-procedure, professional and technical component).

These are ports: the adapters answer them from the `simple-icd-10-cm` package, the curated tables shipped with
the service and the official CMS files an operator loads. Codes are given and returned as billed on a claim:
diagnoses dotted (`E11.9`), procedures upper case (`99214`, `J1100`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, Literal, Protocol

Sex = Literal["F", "M"]


def is_external_cause(code: str) -> bool:
    """Chapter 20's external causes of morbidity, V00-Y99 (Official Guidelines I.C.20)."""
    return code.strip().upper()[:1] in ("V", "W", "X", "Y")


def dotted(code: str) -> str:
    """A diagnosis code as a claim writes it: upper case, the dot after the third character (E119 is E11.9)."""
    bare = code.strip().replace(".", "").upper()
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


@dataclass(frozen=True, slots=True)
class DiagnosisCode:
    """One ICD-10-CM code of an edition. A header (category or subcategory with codes beneath it) is not
    billable; `billable_children` then names every billable code under it, in the tabular order.
    `sex`, `min_age` and `max_age` restrict who the code can describe (MCE-style sex and age edits).
    `manifestation` marks a code titled "in diseases classified elsewhere", `code_first` one under the
    tabular's "code first (the) underlying ..." note: the underlying condition is listed before it (Official
    Guidelines I.A.13)."""

    code: str
    description: str
    billable: bool
    billable_children: tuple[str, ...] = ()
    manifestation: bool = False
    code_first: bool = False
    sex: Sex | None = None
    min_age: int | None = None
    max_age: int | None = None
    restriction_note: str = ""


class DiagnosisCatalog(Protocol):
    def lookup(self, code: str, on: date) -> DiagnosisCode | None:
        """The code as the edition in force on `on` knows it (dotted or not), or None when it has no such code."""
        ...

    def edition_for(self, on: date) -> str:
        """The name of the edition used for a date of service, such as `FY2026 (simple-icd-10-cm 1.5.0)`."""
        ...

    def covers(self, on: date) -> bool:
        """Whether a loaded edition is in force on the date (else the nearest one is used)."""
        ...


@dataclass(frozen=True, slots=True)
class PairEdit:
    """A procedure-to-procedure edit: `column2` is not paid with `column1` on the same day for the same patient
    unless `modifier_allowed` and an NCCI-associated modifier on either line says the services were distinct."""

    column1: str
    column2: str
    modifier_allowed: bool
    effective: date
    deleted: date | None = None
    rationale: str = ""

    def in_force(self, on: date) -> bool:
        return self.effective <= on and (self.deleted is None or on < self.deleted)


@dataclass(frozen=True, slots=True)
class UnitLimit:
    """The most units of a code one provider bills for one patient on one day, or on one line (MUE-style).
    `per_line` is the MUE adjudication indicator: True for MAI 1 (a line edit: each line is checked on its own,
    so units billed on separate lines with modifiers such as 76, 91, LT or RT are not summed), False for MAI 2
    and 3 (date of service edits: the code's units are summed over the day)."""

    code: str
    max_units: int
    rationale: str = ""
    per_line: bool = False


class ProcedureEdits(Protocol):
    def pair_edit(self, first: str, second: str, on: date) -> PairEdit | None:
        """The edit in force on `on` between two procedure codes, whichever is column 1, or None."""
        ...

    def unit_limit(self, code: str) -> UnitLimit | None: ...


MAJOR_SURGERY_GLOBAL: Final = "090"
MINOR_SURGERY_GLOBALS: Final = frozenset({"000", "010"})


@dataclass(frozen=True, slots=True)
class FeeScheduleEntry:
    """One row of the Medicare Physician Fee Schedule's relative value file: a code (with a modifier for its
    professional `26` or technical `TC` component) and the indicators that drive billing rules.

    `global_days` is the global surgery period: `000` and `010` minor procedures, `090` major surgery,
    `XXX` the concept does not apply (visits, tests), `YYY` set by the carrier, `ZZZ` an add-on within
    another service's period, `MMM` maternity. `bilateral` is the BILAT SURG indicator: 0 modifier 50 is not
    recognised, 1 the bilateral adjustment (150%) applies, 2 the code is already bilateral (100%), 3 each
    side is paid in full (200%), 9 the concept does not apply. `preop`, `intraop` and `postop` are the
    shares of the global package for modifiers 56, 54 and 55. RVUs are the national totals."""

    code: str
    modifier: str | None
    status: str
    global_days: str
    pctc: str
    bilateral: str
    multiple_procedure: str
    preop: Decimal
    intraop: Decimal
    postop: Decimal
    nonfacility_rvu: Decimal
    facility_rvu: Decimal
    conversion_factor: Decimal | None = None


class FeeSchedule(Protocol):
    def entry(self, code: str, modifier: str | None = None) -> FeeScheduleEntry | None:
        """The code's row (its `26` or `TC` row when that modifier is given), or None when it has none."""
        ...


@dataclass(frozen=True, slots=True)
class CodeSets:
    """The code sets validation runs against, loaded once per process."""

    diagnoses: DiagnosisCatalog
    edits: ProcedureEdits
    fees: FeeSchedule
