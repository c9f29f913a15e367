"""Coding validation: every finding an encounter's coding earns, each with a stable code a coder and an
integrator can act on, and a message that names the codes concerned (never the patient).

Errors hold an encounter until they are corrected; review flags hold it until a coder accepts them. The rules
run in the order a coder reads a superbill: who and where, the patient and coverage, the diagnoses, each line,
then the lines together (unit limits per day, procedure-to-procedure edits, duplicates) and the review rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final, Literal
from uuid import UUID

from rcm_charge.domain.code_sets import (
    MAJOR_SURGERY_GLOBAL,
    MINOR_SURGERY_GLOBALS,
    DiagnosisCatalog,
    DiagnosisCode,
    FeeSchedule,
    ProcedureEdits,
    is_external_cause,
)
from rcm_charge.domain.model import (
    MAX_DIAGNOSES,
    MAX_LINES,
    MAX_MODIFIERS,
    MAX_POINTERS,
    EncounterDetails,
    Issue,
    ServiceLine,
)
from rcm_charge.domain.pricing import PriceList
from rcm_charge.domain.procedures import (
    ANATOMIC,
    CONFLICTING,
    DISTINCT_SERVICE,
    EVALUATION_AND_MANAGEMENT_BYPASS,
    GLOBAL_SURGERY,
    MODIFIERS,
    is_evaluation_and_management,
    is_preventive_visit,
    modifier_form_valid,
    normalized_ndc,
    procedure_code_form,
)
from rcm_common.identifiers import npi_valid

# CMS's place-of-service code set (the codes in use; the rest are unassigned).
PLACES_OF_SERVICE: Final = frozenset(
    f"{number:02d}"
    for number in (*range(1, 28), 31, 32, 33, 34, 41, 42, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 65, 66)
) | frozenset({"71", "72", "81", "99"})

HIGH_LEVEL_VISITS: Final = frozenset({"99205", "99215", "99245", "99285"})
# Self-limited problems that rarely support the highest visit level on their own (the review rule's list).
MINOR_DIAGNOSES: Final = ("J00", "J02", "J06", "J30", "H10", "H60", "H66", "L23", "L30", "R05", "R51", "Z23")
SHOWN_CHILDREN: Final = 12
# What NUMERIC(12,2) holds, here and in the claim service: a larger charge is refused before it is published.
MAX_CHARGE: Final = Decimal("9999999999.99")


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the code edits need of the patient: sex and birth date."""

    sex: Literal["F", "M", "U"]
    birth_date: date | None


@dataclass(frozen=True, slots=True)
class CoverageFacts:
    coverage_id: UUID
    patient_id: UUID
    payer_id: str
    effective_date: date
    termination_date: date | None

    def active_on(self, day: date) -> bool:
        return self.effective_date <= day and (self.termination_date is None or day <= self.termination_date)


@dataclass(frozen=True, slots=True)
class ValidationContext:
    diagnoses: DiagnosisCatalog
    edits: ProcedureEdits
    fees: FeeSchedule
    prices: PriceList
    today: date
    patient: PatientFacts | None = None  # None: the patient is not known here (yet)
    coverage: CoverageFacts | None = None  # None: not known here, or self-pay
    billed_same_day: tuple[ServiceLine, ...] = ()
    """The lines of the patient's other captured encounters that day by the same rendering provider."""


def validate(details: EncounterDetails, context: ValidationContext) -> tuple[Issue, ...]:
    return tuple(
        (
            *_providers_and_place(details, context.today),
            *_patient_and_coverage(details, context),
            *_diagnoses(details, context),
            *_lines(details, context),
            *_total(details),
            *_unit_limits(details, context.edits),
            *_pair_edits(details, context.edits),
            *_pair_edits_across_encounters(details, context),
            *_bilateral(details, context.fees),
            *_global_periods(details, context.fees),
            *_duplicates(details),
            *_review_rules(details),
        )
    )


def _providers_and_place(details: EncounterDetails, today: date) -> Iterator[Issue]:
    for role, npi in (
        ("billing", details.billing_provider_npi),
        ("rendering", details.rendering_provider_npi),
        ("referring", details.referring_provider_npi),
    ):
        if npi is not None and not npi_valid(npi):
            yield Issue("NPI_INVALID", f"the {role} provider NPI is not ten digits with a valid check digit")
    if details.place_of_service not in PLACES_OF_SERVICE:
        yield Issue("PLACE_OF_SERVICE_INVALID", f"place of service {details.place_of_service!r} is not a CMS code")
    if details.date_of_service > today:
        yield Issue("DATE_OF_SERVICE_FUTURE", "the date of service is in the future")


def _patient_and_coverage(details: EncounterDetails, context: ValidationContext) -> Iterator[Issue]:
    if details.patient_id is None:
        yield Issue("PATIENT_UNMATCHED", "no registered patient is linked to this encounter; link one")
        return
    if context.patient is None:
        yield Issue("PATIENT_UNKNOWN", "the patient is not registered (or not yet known to the charge service)")
    elif context.patient.birth_date is not None and details.date_of_service < context.patient.birth_date:
        yield Issue("DATE_OF_SERVICE_BEFORE_BIRTH", "the date of service is before the patient's birth date")
    if details.coverage_id is None:
        return
    coverage = context.coverage
    if coverage is None:
        yield Issue("COVERAGE_UNKNOWN", "the coverage is not registered (or not yet known to the charge service)")
    elif coverage.patient_id != details.patient_id:
        yield Issue("COVERAGE_NOT_PATIENTS", "the coverage belongs to another patient")
    elif not coverage.active_on(details.date_of_service):
        yield Issue("COVERAGE_INACTIVE", "the coverage is not in effect on the date of service")


def _diagnoses(details: EncounterDetails, context: ValidationContext) -> Iterator[Issue]:
    if not details.diagnoses:
        yield Issue("DIAGNOSIS_REQUIRED", "an encounter needs at least one ICD-10-CM diagnosis")
    if len(details.diagnoses) > MAX_DIAGNOSES:
        yield Issue("DIAGNOSIS_LIMIT", f"a claim carries at most {MAX_DIAGNOSES} diagnoses")
    seen: set[str] = set()
    edition = context.diagnoses.edition_for(details.date_of_service)
    if details.diagnoses and not context.diagnoses.covers(details.date_of_service):
        yield Issue(
            "ICD10_EDITION_STALE",
            f"no loaded ICD-10-CM edition is in force on the date of service; the codes were checked against "
            f"{edition}: load CMS's files for that fiscal year",
            severity="warning",
        )
    for position, code in enumerate(details.diagnoses):
        if code in seen:
            yield Issue("DIAGNOSIS_DUPLICATE", f"{code} is listed twice; list each diagnosis once")
            continue
        seen.add(code)
        known = context.diagnoses.lookup(code, details.date_of_service)
        if known is None:
            yield Issue("ICD10_UNKNOWN", f"{code} is not an ICD-10-CM code in {edition}")
        elif not known.billable:
            yield _not_billable(code, known)
        else:
            yield from _restrictions(known, details.date_of_service, context.patient)
        if position == 0:
            yield from _first_listed(code, known)
    yield from _line_primaries(details, context)


def _first_listed(code: str, known: DiagnosisCode | None, line: int | None = None) -> Iterator[Issue]:
    """What may not be listed first, on the claim or as a line's first pointer: an external cause (Official
    Guidelines I.C.20: never first-listed), a manifestation (I.A.13: its underlying condition comes first),
    and, for a coder's judgement, a code under a "code first" note."""
    where = f"line {line}'s first diagnosis" if line else "the first-listed diagnosis"
    if is_external_cause(code):
        yield Issue(
            "DIAGNOSIS_EXTERNAL_CAUSE_FIRST",
            f"{code} is an external cause (V00-Y99), never {where}: list the injury or condition it explains "
            "first (ICD-10-CM Official Guidelines I.C.20)",
            line=line,
        )
    elif known is not None and known.manifestation:
        yield Issue(
            "DIAGNOSIS_MANIFESTATION_FIRST",
            f"{code} is a manifestation ({known.description}), never {where}: list the underlying condition "
            "first (ICD-10-CM Official Guidelines I.A.13)",
            line=line,
        )
    elif known is not None and known.code_first:
        yield Issue(
            "REVIEW_CODE_FIRST",
            f"the tabular says to code the underlying condition before {code}; confirm it is {where} "
            "(ICD-10-CM Official Guidelines I.A.13)",
            severity="review",
            line=line,
        )


def _line_primaries(details: EncounterDetails, context: ValidationContext) -> Iterator[Issue]:
    """A line's first pointer names its primary diagnosis: the same sequencing applies there."""
    for number, line in enumerate(details.lines, start=1):
        if not line.diagnosis_pointers or line.diagnosis_pointers[0] == 1:
            continue  # the first-listed diagnosis is checked once, above
        pointer = line.diagnosis_pointers[0]
        if not 1 <= pointer <= len(details.diagnoses):
            continue  # an out-of-range pointer is its own error
        code = details.diagnoses[pointer - 1]
        yield from _first_listed(code, context.diagnoses.lookup(code, details.date_of_service), number)


def _not_billable(code: str, known: DiagnosisCode) -> Issue:
    children = known.billable_children
    shown = ", ".join(children[:SHOWN_CHILDREN])
    more = f" and {len(children) - SHOWN_CHILDREN} more" if len(children) > SHOWN_CHILDREN else ""
    return Issue(
        "ICD10_NOT_BILLABLE",
        f"{code} ({known.description}) is a header, not billable; code to the highest specificity, one of its "
        f"{len(children)} billable codes: {shown}{more}",
        codes=children,
    )


def _restrictions(known: DiagnosisCode, day: date, patient: PatientFacts | None) -> Iterator[Issue]:
    if patient is None:
        return
    note = f" ({known.restriction_note})" if known.restriction_note else ""
    if known.sex is not None and patient.sex in ("F", "M") and patient.sex != known.sex:
        sex = "female" if known.sex == "F" else "male"
        yield Issue(
            "ICD10_SEX_CONFLICT",
            f"{known.code} is for {sex} patients only{note}; confirm the documentation (and KX where the payer asks)",
            severity="review",
        )
    if patient.birth_date is None or (known.min_age is None and known.max_age is None):
        return
    age = age_on(patient.birth_date, day)
    low = known.min_age if known.min_age is not None else 0
    high = known.max_age if known.max_age is not None else 124
    if not low <= age <= high:
        yield Issue(
            "ICD10_AGE_CONFLICT",
            f"{known.code} is for patients aged {low} to {high}{note}; confirm the documentation",
            severity="review",
        )


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _lines(details: EncounterDetails, context: ValidationContext) -> Iterator[Issue]:
    if not details.lines:
        yield Issue("LINE_REQUIRED", "an encounter needs at least one service line")
    if len(details.lines) > MAX_LINES:
        yield Issue("LINE_LIMIT", f"a claim carries at most {MAX_LINES} service lines")
    for number, line in enumerate(details.lines, start=1):
        yield from _line(number, line, details, context)


def _line(number: int, line: ServiceLine, details: EncounterDetails, context: ValidationContext) -> Iterator[Issue]:
    if procedure_code_form(line.code) is None:
        yield Issue("PROCEDURE_FORMAT", f"{line.code!r} is neither a CPT nor a HCPCS Level II code", line=number)
    elif not context.prices.has_code(line.code):
        yield Issue("PROCEDURE_NOT_IN_CODE_LIST", f"{line.code} is not in the practice's code list", line=number)
    elif line.charge is None:
        yield Issue(
            "CHARGE_NOT_FOUND",
            f"no chargemaster entry for {line.code} fits this line's location and modifiers",
            line=number,
        )
    elif line.charge > MAX_CHARGE or (line.expected_allowed or 0) > MAX_CHARGE:
        yield Issue("CHARGE_TOO_LARGE", f"the line's charge or expected allowed exceeds {MAX_CHARGE:,}", line=number)
    yield from _modifiers(number, line)
    if line.units <= 0:
        yield Issue("UNITS_INVALID", "units must be more than zero", line=number)
    if line.date_of_service is not None and line.date_of_service > context.today:
        yield Issue("DATE_OF_SERVICE_FUTURE", "the line's date of service is in the future", line=number)
    yield from _pointers(number, line, len(details.diagnoses))
    if line.ndc is not None and normalized_ndc(line.ndc) is None:
        yield Issue("NDC_INVALID", "the NDC is neither 11 digits nor a dashed 10-digit NDC", line=number)


def _total(details: EncounterDetails) -> Iterator[Issue]:
    totals = (details.total_charge or 0, details.expected_reimbursement or 0)
    if max(totals) > MAX_CHARGE:
        yield Issue("CHARGE_TOO_LARGE", f"the encounter's total charge or expected allowed exceeds {MAX_CHARGE:,}")


def _modifiers(number: int, line: ServiceLine) -> Iterator[Issue]:
    modifiers = line.modifiers
    if len(modifiers) > MAX_MODIFIERS:
        yield Issue("MODIFIER_LIMIT", f"a line carries at most {MAX_MODIFIERS} modifiers", line=number)
    for modifier in dict.fromkeys(modifiers):
        if modifiers.count(modifier) > 1:
            yield Issue("MODIFIER_DUPLICATE", f"modifier {modifier} is given twice", line=number)
        if not modifier_form_valid(modifier):
            yield Issue("MODIFIER_INVALID", "a modifier is two letters or digits", line=number)
        elif modifier not in MODIFIERS:
            yield Issue(
                "MODIFIER_UNKNOWN",
                f"{modifier} is not a modifier the platform knows; confirm it is current for this payer",
                severity="review",
                line=number,
            )
    for pair, why in CONFLICTING:
        if pair <= set(modifiers):
            yield Issue("MODIFIER_CONFLICT", f"modifiers {' and '.join(sorted(pair))}: {why}", line=number)


def _pointers(number: int, line: ServiceLine, diagnoses: int) -> Iterator[Issue]:
    pointers = line.diagnosis_pointers
    if not pointers:
        yield Issue("POINTER_REQUIRED", "a line points to at least one of the encounter's diagnoses", line=number)
    if len(pointers) > MAX_POINTERS:
        yield Issue("POINTER_LIMIT", f"a line points to at most {MAX_POINTERS} diagnoses", line=number)
    if len(set(pointers)) != len(pointers):
        yield Issue("POINTER_DUPLICATE", "a line points to the same diagnosis twice", line=number)
    for pointer in sorted(set(pointers)):
        if not 1 <= pointer <= diagnoses:
            yield Issue(
                "POINTER_OUT_OF_RANGE",
                f"pointer {pointer} points past the encounter's {diagnoses} diagnoses",
                line=number,
            )


def _unit_limits(details: EncounterDetails, edits: ProcedureEdits) -> Iterator[Issue]:
    """Units of one code on one day, summed over its lines, against the code's limit."""
    per_day: dict[tuple[str, date], list[int]] = defaultdict(list)
    for number, line in enumerate(details.lines, start=1):
        per_day[(line.code, line.service_date(details.date_of_service))].append(number)
    for (code, _day), numbers in per_day.items():
        limit = edits.unit_limit(code)
        if limit is None:
            continue
        if limit.per_line:  # a line edit: each line on its own (bilateral or repeated services bill apart)
            for number in numbers:
                units = details.lines[number - 1].units
                if units > limit.max_units:
                    yield Issue(
                        "UNITS_EXCEED_LIMIT",
                        f"{units} units of {code} on one line exceed its limit of {limit.max_units}",
                        line=number,
                    )
            continue
        units = sum((details.lines[number - 1].units for number in numbers), Decimal(0))
        if units > limit.max_units:
            yield Issue(
                "UNITS_EXCEED_LIMIT",
                f"{units} units of {code} in one day exceed its limit of {limit.max_units}",
                line=numbers[0],
            )


def _pair_edits(details: EncounterDetails, edits: ProcedureEdits) -> Iterator[Issue]:
    """Procedure-to-procedure edits between lines of the same day; the column 2 line is the one held."""
    lines = list(enumerate(details.lines, start=1))
    for index, (first_number, first) in enumerate(lines):
        for second_number, second in lines[index + 1 :]:
            day = first.service_date(details.date_of_service)
            if first.code == second.code or second.service_date(details.date_of_service) != day:
                continue
            edit = edits.pair_edit(first.code, second.code, day)
            if edit is None:
                continue
            held = second_number if second.code == edit.column2 else first_number
            named = f"{edit.column2} is bundled into {edit.column1} on the same day (NCCI-style edit)"
            if not edit.modifier_allowed:
                yield Issue("NCCI_PAIR_NOT_ALLOWED", f"{named}; no modifier unbundles it: remove it", line=held)
            elif not distinct_services(first, second):
                yield Issue(
                    "NCCI_PAIR_MODIFIER_REQUIRED",
                    f"{named}; bill it only as a distinct service: 59, XE, XS, XP or XU, different anatomic "
                    "modifiers on the two lines, or 25 or 57 on the E/M line",
                    line=held,
                )


def _pair_edits_across_encounters(details: EncounterDetails, context: ValidationContext) -> Iterator[Issue]:
    """Payers apply procedure-to-procedure edits per patient, provider and day, not per claim (the NCCI
    policy manual, chapter I): a line that is column 2 to a line already captured that day in another
    encounter is held as it would be on one claim; one that is column 1 to such a line is payable and is
    told with a warning, since the other encounter's line is the one not paid and must be corrected."""
    for number, line in enumerate(details.lines, start=1):
        day = line.service_date(details.date_of_service)
        for other in context.billed_same_day:
            if other.code == line.code or other.service_date(details.date_of_service) != day:
                continue
            edit = context.edits.pair_edit(line.code, other.code, day)
            if edit is None or (edit.modifier_allowed and distinct_services(line, other)):
                continue
            if line.code == edit.column2:
                yield Issue(
                    "NCCI_PAIR_ACROSS_ENCOUNTERS",
                    f"{line.code} is bundled into {other.code}, captured for this patient and provider that day in "
                    "another encounter (NCCI edits apply per day, not per claim)"
                    + ("; bill it only as a distinct service" if edit.modifier_allowed else "; remove it"),
                    line=number,
                )
            else:
                yield Issue(
                    "PAIR_ACROSS_ENCOUNTERS_OTHER_HELD",
                    f"{other.code}, captured for this patient and provider that day in another encounter, is bundled "
                    f"into {line.code}: correct that encounter",
                    severity="warning",
                    line=number,
                )


def distinct_services(first: ServiceLine, second: ServiceLine) -> bool:
    """Whether the lines' NCCI-associated modifiers say the pair's services were distinct (the NCCI policy
    manual, chapter I). With an E/M in the pair, only 25 or 57 on the E/M line says the visit was separate.
    Otherwise a distinct-service or global-surgery modifier on either line, or anatomic modifiers on both lines
    naming different sites, does."""
    visits = [line for line in (first, second) if is_evaluation_and_management(line.code)]
    if visits:
        return any(EVALUATION_AND_MANAGEMENT_BYPASS.intersection(line.modifiers) for line in visits)
    if {*first.modifiers, *second.modifiers} & (DISTINCT_SERVICE | GLOBAL_SURGERY):
        return True
    first_sites, second_sites = (ANATOMIC.intersection(line.modifiers) for line in (first, second))
    return bool(first_sites) and bool(second_sites) and not first_sites & second_sites


def _bilateral(details: EncounterDetails, fees: FeeSchedule) -> Iterator[Issue]:
    """A bilateral procedure is one line with modifier 50 and one unit (MCPM chapter 12, §40.7.B), and 50
    belongs only on a code whose fee schedule bilateral indicator recognises it (1 or 3)."""
    for number, line in enumerate(details.lines, start=1):
        if "50" not in line.modifiers:
            continue
        if line.units != 1:
            yield Issue(
                "BILATERAL_ONE_UNIT",
                f"{line.code} with modifier 50 is billed as one unit for both sides, not {line.units} "
                "(MCPM ch. 12, §40.7)",
                line=number,
            )
        entry = fees.entry(line.code)
        if entry is not None and entry.bilateral in ("0", "2", "9"):
            why = NOT_BILATERAL[entry.bilateral]
            yield Issue(
                "BILATERAL_NOT_RECOGNISED",
                f"modifier 50 is not recognised for {line.code}: {why} (fee schedule bilateral indicator "
                f"{entry.bilateral})",
                severity="review",
                line=number,
            )


def _global_periods(details: EncounterDetails, fees: FeeSchedule) -> Iterator[Issue]:
    """A visit on the day of a procedure: 57 marks the decision for a major surgery (090 global days), 25 a
    significant, separately identifiable visit on the day of a minor procedure (000 or 010) (MCPM chapter 12,
    §30.6.6 and §40.2.A.4). 57 with only minor procedures, or 25 with a major surgery, is the wrong one."""
    for number, line in enumerate(details.lines, start=1):
        if not is_evaluation_and_management(line.code):
            continue
        day = line.service_date(details.date_of_service)
        globals_ = {
            entry.global_days
            for other in details.lines
            if other.service_date(details.date_of_service) == day
            and (entry := fees.entry(other.code)) is not None
            and entry.global_days in (MINOR_SURGERY_GLOBALS | {MAJOR_SURGERY_GLOBAL})
        }
        if "57" in line.modifiers and globals_ and MAJOR_SURGERY_GLOBAL not in globals_:
            yield Issue(
                "MODIFIER_57_MINOR_PROCEDURE",
                f"57 marks the decision for a major surgery (90-day global); the procedures billed with "
                f"{line.code} have 0- or 10-day globals: use 25 (MCPM ch. 12, §30.6.6)",
                line=number,
            )
        if "25" in line.modifiers and "57" not in line.modifiers and MAJOR_SURGERY_GLOBAL in globals_:
            yield Issue(
                "MODIFIER_25_MAJOR_SURGERY",
                f"a visit on the day of a major surgery is part of its global package unless it was the decision "
                f"for surgery (57 on {line.code}) or a significant, unrelated problem: confirm which "
                "(MCPM ch. 12, §40.2.A.4)",
                severity="review",
                line=number,
            )


def _duplicates(details: EncounterDetails) -> Iterator[Issue]:
    seen: dict[tuple[str, tuple[str, ...], date], int] = {}
    for number, line in enumerate(details.lines, start=1):
        key = (line.code, tuple(sorted(line.modifiers)), line.service_date(details.date_of_service))
        if key in seen:
            yield Issue(
                "LINE_DUPLICATE",
                f"{line.code} repeats line {seen[key]}; add units to it, or a repeat modifier (76, 77, 91)",
                severity="review",
                line=number,
            )
        else:
            seen[key] = number


NOT_BILATERAL: Final = {
    "0": "a bilateral procedure is paid as one side",
    "2": "the code is bilateral already",
    "9": "bilateral surgery does not apply to it",
}


def _review_rules(details: EncounterDetails) -> Iterator[Issue]:
    """A 25 on a visit with no procedure is flagged, except on a problem visit billed with a preventive one,
    where it is expected: the problem was significant and separately identifiable from the preventive
    service (CPT's preventive medicine guidelines; MCPM chapter 12, §30.6.2)."""
    codes = {line.code for line in details.lines}
    with_preventive = any(is_preventive_visit(code) for code in codes)
    for number, line in enumerate(details.lines, start=1):
        if line.code in HIGH_LEVEL_VISITS and len(details.diagnoses) == 1:
            diagnosis = details.diagnoses[0]
            if diagnosis.replace(".", "").startswith(MINOR_DIAGNOSES):
                yield Issue(
                    "REVIEW_HIGH_LEVEL_VISIT",
                    f"{line.code} is the highest visit level, with one minor diagnosis ({diagnosis}); "
                    "confirm the documentation supports it",
                    severity="review",
                    line=number,
                )
        if (
            is_evaluation_and_management(line.code)
            and "25" in line.modifiers
            and not any(not is_evaluation_and_management(code) for code in codes)
            and not (with_preventive and not is_preventive_visit(line.code))
        ):
            yield Issue(
                "REVIEW_MODIFIER_25",
                f"{line.code} has modifier 25 but no procedure is billed with it",
                severity="review",
                line=number,
            )
