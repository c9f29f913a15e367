"""Coding validation over a small stand-in of the code sets: each rule's issue code, line and message."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from rcm_charge.adapters.mpfs import load_fee_schedule
from rcm_charge.domain.code_sets import UnitLimit
from rcm_charge.domain.model import EncounterDetails, Issue, ServiceLine
from rcm_charge.domain.pricing import ChargemasterEntry, ContractRate, PriceList, priced
from rcm_charge.domain.procedures import normalized_ndc, procedure_code_form
from rcm_charge.domain.validation import CoverageFacts, PatientFacts, ValidationContext, age_on, validate
from rcm_charge.testing import FakeCatalog, FakeEdits, chargemaster, contract_rates

PATIENT = uuid.uuid4()
COVERAGE = uuid.uuid4()
DAY = date(2026, 11, 2)
PRICES = PriceList(tuple(chargemaster()), tuple(contract_rates()))


def details(**changes: Any) -> EncounterDetails:
    base = EncounterDetails(
        patient_id=PATIENT,
        coverage_id=COVERAGE,
        date_of_service=DAY,
        place_of_service="11",
        billing_provider_npi="1234567893",
        rendering_provider_npi="1245319599",
        diagnoses=("E11.9", "I10"),
        lines=(ServiceLine("99214", diagnosis_pointers=(1, 2)),),
    )
    return replace(base, **changes)


def context(**changes: Any) -> ValidationContext:
    base = ValidationContext(
        diagnoses=FakeCatalog(),
        edits=FakeEdits(),
        fees=FEES,
        prices=PRICES,
        today=date(2026, 12, 3),
        patient=PatientFacts("F", date(1961, 5, 4)),
        coverage=CoverageFacts(COVERAGE, PATIENT, "ACME01", date(2026, 1, 1), None),
    )
    return replace(base, **changes)


def check(encounter: EncounterDetails, against: ValidationContext) -> tuple[Issue, ...]:
    """Validate the encounter as the service does: with its lines priced first."""
    lines = priced(
        encounter.lines,
        against.prices,
        FEES,
        location=encounter.location,
        payer_id="ACME01",
        date_of_service=encounter.date_of_service,
    )
    return validate(replace(encounter, lines=lines), against)


def codes(found: tuple[Any, ...]) -> list[str]:
    return [issue.code for issue in found]


def test_the_issues_example_encounter_is_clean() -> None:
    assert check(details(), context()) == ()


def test_a_header_code_names_itself_and_its_billable_children() -> None:
    (issue,) = check(details(diagnoses=("E11", "I10")), context())

    assert issue.code == "ICD10_NOT_BILLABLE"
    assert issue.codes == ("E11.9", "E11.65", "E11.8")
    assert "E11 (Type 2 diabetes mellitus) is a header, not billable" in issue.message
    assert "E11.9, E11.65, E11.8" in issue.message


def test_unknown_duplicate_and_too_many_diagnoses() -> None:
    found = check(details(diagnoses=("E11.9", "E11.9", "X99.999")), context())
    assert codes(found) == ["DIAGNOSIS_DUPLICATE", "ICD10_UNKNOWN"]
    assert "X99.999 is not an ICD-10-CM code in ICD-10-CM test edition" in found[1].message
    assert "DIAGNOSIS_LIMIT" in codes(check(details(diagnoses=("I10",) * 13), context()))


def test_sex_and_age_specific_codes_are_checked_against_the_patient() -> None:
    line = (ServiceLine("99214", diagnosis_pointers=(1,)),)
    male = context(patient=PatientFacts("M", date(1961, 5, 4)))
    assert codes(check(details(diagnoses=("O80",), lines=line), male)) == [
        "ICD10_SEX_CONFLICT",
        "ICD10_AGE_CONFLICT",
    ]
    young = context(patient=PatientFacts("F", date(2000, 1, 1)))
    assert check(details(diagnoses=("O80",), lines=line), young) == ()
    assert codes(check(details(diagnoses=("N40.0",), lines=line), context())) == ["ICD10_SEX_CONFLICT"]
    unknown_sex = context(patient=PatientFacts("U", None))
    assert check(details(diagnoses=("N40.0",), lines=line), unknown_sex) == ()


def test_age_is_whole_years_on_the_date_of_service() -> None:
    assert age_on(date(2000, 11, 3), date(2026, 11, 2)) == 25
    assert age_on(date(2000, 11, 2), date(2026, 11, 2)) == 26


def test_an_ncci_pair_without_a_modifier_is_held_and_passes_with_an_associated_one() -> None:
    lines = (ServiceLine("97530", diagnosis_pointers=(1,)), ServiceLine("97140", diagnosis_pointers=(1,)))
    (issue,) = check(details(diagnoses=("M54.50",), lines=lines), context())
    assert issue.code == "NCCI_PAIR_MODIFIER_REQUIRED"
    assert issue.line == 2
    assert "97140 is bundled into 97530" in issue.message

    with_59 = (lines[0], replace(lines[1], modifiers=("59",)))
    assert check(details(diagnoses=("M54.50",), lines=with_59), context()) == ()
    with_xu = (lines[0], replace(lines[1], modifiers=("XU",)))
    assert check(details(diagnoses=("M54.50",), lines=with_xu), context()) == ()
    with_unrelated = (lines[0], replace(lines[1], modifiers=("GP",)))
    assert codes(check(details(diagnoses=("M54.50",), lines=with_unrelated), context())) == [
        "NCCI_PAIR_MODIFIER_REQUIRED"
    ]


@pytest.mark.parametrize(
    ("procedure", "visit", "passes"),
    [
        ((), ("25",), True),  # 25 on the E/M: a separately identifiable visit
        (("25",), (), False),  # 25 on the procedure says nothing of the visit
        (("59",), (), False),  # with an E/M in the pair, only 25 or 57 on the E/M unbundles it
        (("RT",), ("LT",), False),
        ((), ("57",), True),
    ],
)
def test_only_25_or_57_on_the_visit_unbundles_a_procedure_and_a_visit(
    procedure: tuple[str, ...], visit: tuple[str, ...], passes: bool
) -> None:
    lines = (
        ServiceLine("20610", procedure, diagnosis_pointers=(1,)),
        ServiceLine("99213", visit, diagnosis_pointers=(1,)),
    )
    found = codes(check(details(diagnoses=("M54.50",), lines=lines), context()))
    assert ("NCCI_PAIR_MODIFIER_REQUIRED" not in found) is passes


@pytest.mark.parametrize(
    ("first", "second", "passes"),
    [
        ((), ("59",), True),  # a distinct-service modifier on either line
        (("XS",), (), True),
        (("RT",), ("RT",), False),  # the same site twice is not two sites
        (("RT",), ("LT",), True),
        (("LT", "F1"), ("LT",), False),  # overlapping sites are not different ones
        (("RT",), (), False),  # one site named: nothing says the other is elsewhere
        (("79",), (), True),  # a global-surgery modifier on either line
    ],
)
def test_which_modifiers_unbundle_two_procedures(first: tuple[str, ...], second: tuple[str, ...], passes: bool) -> None:
    lines = (
        ServiceLine("97530", first, diagnosis_pointers=(1,)),
        ServiceLine("97140", second, diagnosis_pointers=(1,)),
    )
    found = codes(check(details(diagnoses=("M54.50",), lines=lines), context()))
    assert ("NCCI_PAIR_MODIFIER_REQUIRED" not in found) is passes


def test_a_pair_no_modifier_unbundles_is_held_whatever_the_modifier() -> None:
    lines = (ServiceLine("93000", diagnosis_pointers=(2,)), ServiceLine("93010", ("59",), diagnosis_pointers=(2,)))
    (issue,) = check(details(lines=lines), context())
    assert issue.code == "NCCI_PAIR_NOT_ALLOWED"
    assert issue.line == 2


def test_a_pair_on_different_days_is_not_edited() -> None:
    lines = (
        ServiceLine("97530", diagnosis_pointers=(1,)),
        ServiceLine("97140", diagnosis_pointers=(1,), date_of_service=date(2026, 11, 3)),
    )
    assert check(details(diagnoses=("M54.50",), lines=lines), context()) == ()


def test_units_per_day_are_summed_against_the_limit() -> None:
    lines = (
        ServiceLine("97140", units=Decimal(3), diagnosis_pointers=(1,)),
        ServiceLine("97140", ("59",), units=Decimal(2), diagnosis_pointers=(1,)),
    )
    (issue,) = check(details(diagnoses=("M54.50",), lines=lines), context())
    assert issue.code == "UNITS_EXCEED_LIMIT"
    assert issue.message == "5 units of 97140 in one day exceed its limit of 4"


def test_a_line_with_no_fitting_charge_or_too_large_a_charge_is_held() -> None:
    clinic_only = PriceList((ChargemasterEntry("99214", Decimal("210.00"), location="HOSP"),))
    (issue,) = check(details(location="MAIN"), context(prices=clinic_only))
    assert (issue.code, issue.line) == ("CHARGE_NOT_FOUND", 1)
    huge = PriceList((ChargemasterEntry("99214", Decimal("9999999.99")),))
    lines = (ServiceLine("99214", units=Decimal("9999"), diagnosis_pointers=(1,)),)
    assert codes(check(details(lines=lines), context(prices=huge))) == [
        "CHARGE_TOO_LARGE",
        "CHARGE_TOO_LARGE",
        "UNITS_EXCEED_LIMIT",
    ]


def test_a_date_of_service_outside_every_edition_is_warned_of_but_not_held() -> None:
    encounter = details(date_of_service=date(2027, 10, 2))
    (issue,) = check(encounter, context(today=date(2027, 12, 1)))
    assert (issue.code, issue.severity) == ("ICD10_EDITION_STALE", "warning")
    before_birth = context(patient=PatientFacts("F", date(2026, 12, 1)))
    assert codes(check(details(), before_birth)) == ["DATE_OF_SERVICE_BEFORE_BIRTH"]


def test_line_rules_format_code_list_modifiers_units_pointers_and_ndc() -> None:
    lines = (
        ServiceLine("9921", diagnosis_pointers=(1,)),
        ServiceLine("99999", diagnosis_pointers=(1,)),
        ServiceLine("99213", ("25", "25", "ZZ", "Z!"), diagnosis_pointers=(1,)),
        ServiceLine("36415", ("26", "TC"), units=Decimal(0), diagnosis_pointers=()),
        ServiceLine("82962", diagnosis_pointers=(1, 1, 3)),
        ServiceLine("J1100", diagnosis_pointers=(1,), ndc="123"),
    )
    found = check(details(lines=lines), context())
    assert [(issue.code, issue.line) for issue in found] == [
        ("PROCEDURE_FORMAT", 1),
        ("PROCEDURE_NOT_IN_CODE_LIST", 2),
        ("MODIFIER_DUPLICATE", 3),
        ("MODIFIER_UNKNOWN", 3),
        ("MODIFIER_INVALID", 3),
        ("MODIFIER_CONFLICT", 4),
        ("UNITS_INVALID", 4),
        ("POINTER_REQUIRED", 4),
        ("POINTER_DUPLICATE", 5),
        ("POINTER_OUT_OF_RANGE", 5),
        ("NDC_INVALID", 6),
    ]


def test_providers_place_date_patient_and_coverage() -> None:
    wrong = details(billing_provider_npi="1234567890", place_of_service="00", date_of_service=date(2027, 1, 1))
    assert codes(check(wrong, context())) == [
        "NPI_INVALID",
        "PLACE_OF_SERVICE_INVALID",
        "DATE_OF_SERVICE_FUTURE",
    ]
    ended = context(coverage=CoverageFacts(COVERAGE, PATIENT, "ACME01", date(2026, 1, 1), date(2026, 10, 31)))
    assert codes(check(details(), ended)) == ["COVERAGE_INACTIVE"]
    assert codes(check(details(patient_id=None), context())) == ["PATIENT_UNMATCHED"]
    assert codes(check(details(), context(patient=None, coverage=None))) == ["PATIENT_UNKNOWN", "COVERAGE_UNKNOWN"]
    other = context(coverage=CoverageFacts(COVERAGE, uuid.uuid4(), "ACME01", date(2026, 1, 1), None))
    assert codes(check(details(), other)) == ["COVERAGE_NOT_PATIENTS"]
    assert check(details(coverage_id=None), context(coverage=None)) == ()


def test_review_rules_flag_a_top_level_visit_for_a_minor_problem_and_a_lone_25() -> None:
    visit = details(diagnoses=("J06.9",), lines=(ServiceLine("99215", diagnosis_pointers=(1,)),))
    (issue,) = check(visit, context())
    assert issue.code == "REVIEW_HIGH_LEVEL_VISIT"
    assert issue.severity == "review"
    lone_25 = details(lines=(ServiceLine("99214", ("25",), diagnosis_pointers=(1,)),))
    assert codes(check(lone_25, context())) == ["REVIEW_MODIFIER_25"]
    with_procedure = details(
        lines=(ServiceLine("99214", ("25",), diagnosis_pointers=(1,)), ServiceLine("82962", diagnosis_pointers=(1,)))
    )
    assert check(with_procedure, context()) == ()


def test_repeated_lines_are_flagged_for_review() -> None:
    lines = (ServiceLine("82962", diagnosis_pointers=(1,)), ServiceLine("82962", diagnosis_pointers=(1,)))
    (issue,) = check(details(lines=lines), context())
    assert (issue.code, issue.severity, issue.line) == ("LINE_DUPLICATE", "review", 2)


def test_pricing_takes_the_most_specific_entry_and_the_payers_rate_times_units() -> None:
    lines = (ServiceLine("99214", diagnosis_pointers=(1,)), ServiceLine("J1100", units=Decimal(8)))
    main = priced(lines, PRICES, FEES, date_of_service=DAY, location="MAIN", payer_id="ACME01")
    assert [(line.charge, line.expected_allowed) for line in main] == [
        (Decimal("185.00"), Decimal("131.20")),
        (Decimal("36.00"), None),
    ]
    clinic = priced(lines, PRICES, FEES, date_of_service=DAY, location="HOSP", payer_id=None)
    assert [(line.charge, line.expected_allowed) for line in clinic] == [
        (Decimal("210.00"), None),
        (Decimal("36.00"), None),
    ]
    assert replace(details(), lines=main).total_charge == Decimal("221.00")
    assert replace(details(), lines=main).expected_reimbursement is None


@pytest.mark.parametrize(
    ("code", "form"),
    [("99214", "CPT"), ("0001F", "CPT"), ("0042T", "CPT"), ("J1100", "HCPCS"), ("G0439", "HCPCS"),
     ("W1234", None), ("9921", None), ("99214A", None), ("j1100", None)],
)  # fmt: skip
def test_procedure_code_forms(code: str, form: str | None) -> None:
    assert procedure_code_form(code) == form


@pytest.mark.parametrize(
    ("ndc", "normal"),
    [("00002143380", "00002143380"), ("0002-1433-80", "00002143380"), ("50242-040-62", "50242004062"),
     ("60575-4112-1", "60575411201"), ("123", None), ("12345-6789-012", None)],
)  # fmt: skip
def test_ndcs_normalise_to_eleven_digits(ndc: str, normal: str | None) -> None:
    assert normalized_ndc(ndc) == normal


FEES = load_fee_schedule(None)
JOINT_PRICES = PriceList(
    (
        ChargemasterEntry("20610", Decimal("400.00")),
        ChargemasterEntry("71046", Decimal("90.00")),
        ChargemasterEntry("10060", Decimal("400.00")),
    ),
    (
        ContractRate("ACME01", "20610", Decimal("100.00")),
        ContractRate("ACME01", "10060", Decimal("100.00")),
        ContractRate("ACME01", "71046", Decimal("40.00")),
        ContractRate("ACME01", "71046", Decimal("30.00"), "TC"),
    ),
)


@pytest.mark.parametrize(
    ("modifiers", "allowed"),
    [
        ((), "100.00"),
        (("50",), "150.00"),  # bilateral, indicator 1: 150% (MCPM ch. 12, §40.7)
        (("51",), "50.00"),  # a later procedure of the session: 50%
        (("62",), "62.50"),  # co-surgeon: 62.5%
        (("80",), "16.00"),  # assistant surgeon: 16%
        (("AS",), "13.60"),  # non-physician assistant: 13.6%
        (("54",), None),  # split care is for a 10- or 90-day global; 20610's is 0 days: no guess
        (("55",), None),
        (("56",), None),
        (("CQ",), "85.00"),  # by a therapy assistant: 85% (SSA §1834(v))
        (("CO",), "85.00"),
        (("26",), None),  # a component with no rate of its own: no guess
        (("TC",), None),
    ],
)
def test_payment_modifiers_take_their_share_of_the_contract_rate(
    modifiers: tuple[str, ...], allowed: str | None
) -> None:
    (line,) = priced(
        (ServiceLine("20610", modifiers),), JOINT_PRICES, FEES, date_of_service=DAY, location=None, payer_id="ACME01"
    )
    assert line.expected_allowed == (Decimal(allowed) if allowed else None)


@pytest.mark.parametrize(("modifier", "allowed"), [("54", "90.00"), ("55", "10.00"), ("56", "10.00")])
def test_split_care_takes_its_share_of_a_procedure_with_a_global_period(modifier: str, allowed: str) -> None:
    """MCPM ch. 12, §40.2.A: 54 surgical care only is paid the pre- and intraoperative shares (10% + 80% for
    10060, a 10-day global), 55 postoperative care only the postoperative share, 56 the preoperative."""
    (line,) = priced(
        (ServiceLine("10060", (modifier,)),), JOINT_PRICES, FEES, date_of_service=DAY, location=None, payer_id="ACME01"
    )
    assert line.expected_allowed == Decimal(allowed)


def test_modifier_50_pays_as_the_codes_bilateral_indicator_says() -> None:
    """MCPM ch. 12, §40.7: indicator 9 (a visit) has no bilateral payment, so 50 takes one side's amount."""
    (line,) = priced(
        (ServiceLine("99214", ("50",), diagnosis_pointers=(1,)),),
        PRICES,
        FEES,
        date_of_service=DAY,
        location=None,
        payer_id="ACME01",
    )
    assert line.expected_allowed == Decimal("131.20")


def test_imaging_on_film_or_computed_radiography_loses_part_of_its_technical_component() -> None:
    """Social Security Act §1848(b)(9): FX takes 20% off the technical component, FY 10% from 2023 (7% from
    2018). On a global line only the technical part is reduced: 71046's is 0.85 of its 1.17 RVUs; a
    professional component line is not reduced at all."""
    prices_with_26 = PriceList(
        JOINT_PRICES.chargemaster, (*JOINT_PRICES.rates, ContractRate("ACME01", "71046", Decimal("12.00"), "26"))
    )
    (film,) = priced(
        (ServiceLine("71046", ("FX",)),), JOINT_PRICES, FEES, date_of_service=DAY, location=None, payer_id="ACME01"
    )
    (computed,) = priced(
        (ServiceLine("71046", ("TC", "FY")),), JOINT_PRICES, FEES, date_of_service=DAY, location=None, payer_id="ACME01"
    )
    (unknown,) = priced(
        (ServiceLine("20610", ("FX",)),), JOINT_PRICES, FEES, date_of_service=DAY, location=None, payer_id="ACME01"
    )

    (reading,) = priced(
        (ServiceLine("71046", ("26", "FX")),), prices_with_26, FEES, date_of_service=DAY, location=None,
        payer_id="ACME01",
    )  # fmt: skip
    (computed_2022,) = priced(
        (ServiceLine("71046", ("TC", "FY")),), JOINT_PRICES, FEES, date_of_service=date(2022, 6, 1),
        location=None, payer_id="ACME01",
    )  # fmt: skip

    assert film.expected_allowed == Decimal("34.19")  # 40.00 x (1 - 0.20 x 0.85 / 1.17)
    assert computed.expected_allowed == Decimal("27.00")  # the TC rate, 30.00, less 10%
    assert computed_2022.expected_allowed == Decimal("27.90")  # 7% before 2023
    assert reading.expected_allowed == Decimal("12.00")  # the professional component is not reduced
    assert unknown.expected_allowed is None  # 20610 has no technical component on the schedule: no guess


def test_the_expected_allowed_is_never_above_the_charge() -> None:
    """Payers pay the lesser of the actual charge and the fee schedule amount (MCPM ch. 12, §20.1)."""
    prices = PriceList(
        (ChargemasterEntry("99214", Decimal("100.00")),), (ContractRate("ACME01", "99214", Decimal("131.20")),)
    )
    (line,) = priced(
        (ServiceLine("99214", diagnosis_pointers=(1,)),),
        prices,
        FEES,
        date_of_service=DAY,
        location=None,
        payer_id="ACME01",
    )
    assert (line.charge, line.expected_allowed) == (Decimal("100.00"), Decimal("100.00"))


def test_a_component_rate_of_its_own_is_taken_whole() -> None:
    prices = PriceList(
        (ChargemasterEntry("93000", Decimal("70.00")),),
        (ContractRate("ACME01", "93000", Decimal("20.00")), ContractRate("ACME01", "93000", Decimal("8.00"), "26")),
    )
    (line,) = priced(
        (ServiceLine("93000", ("26",)),), prices, FEES, date_of_service=DAY, location=None, payer_id="ACME01"
    )
    assert line.expected_allowed == Decimal("8.00")


def test_a_line_edit_checks_each_line_alone() -> None:
    edits = FakeEdits(limits={"20610": UnitLimit("20610", 1, per_line=True)})
    lines = (
        ServiceLine("20610", ("RT",), diagnosis_pointers=(1,)),
        ServiceLine("20610", ("LT",), diagnosis_pointers=(1,)),
    )
    assert check(details(diagnoses=("M54.50",), lines=lines), context(edits=edits)) == ()
    too_many = (ServiceLine("20610", units=Decimal(2), diagnosis_pointers=(1,)),)
    assert codes(check(details(diagnoses=("M54.50",), lines=too_many), context(edits=edits))) == ["UNITS_EXCEED_LIMIT"]
    per_day = FakeEdits(limits={"20610": UnitLimit("20610", 1)})
    assert codes(check(details(diagnoses=("M54.50",), lines=lines), context(edits=per_day))) == ["UNITS_EXCEED_LIMIT"]


def test_a_bilateral_procedure_is_one_line_of_one_unit_with_modifier_50() -> None:
    """MCPM ch. 12, §40.7.B: bilateral procedures are billed on one line with 50 and one unit; two units
    with 50 would be paid as four sides."""
    both_sides = ServiceLine("20610", ("50",), units=Decimal(2), diagnosis_pointers=(1,))
    one_line = ServiceLine("20610", ("50",), diagnosis_pointers=(1,))

    assert [(i.code, i.severity, i.line) for i in check(details(lines=(both_sides,)), context())] == [
        ("BILATERAL_ONE_UNIT", "error", 1)
    ]
    assert check(details(lines=(one_line,)), context()) == ()


def test_modifier_50_on_a_code_the_fee_schedule_does_not_pay_bilaterally_asks_a_coder() -> None:
    visit = ServiceLine("99214", ("50",), diagnosis_pointers=(1,))
    (issue,) = check(details(lines=(visit,)), context())
    assert (issue.code, issue.severity) == ("BILATERAL_NOT_RECOGNISED", "review")


def test_57_is_for_the_decision_for_major_surgery_and_25_for_a_visit_beside_a_minor_procedure() -> None:
    """MCPM ch. 12, §30.6.6 and §40.2.A.4: 20610 has a 0-day global, so a separate visit that day takes 25;
    57 belongs to the visit that decided on a 90-day surgery (27447), where 25 does not unbundle the visit."""
    injection = ServiceLine("20610", diagnosis_pointers=(1,))
    knee = ServiceLine("27447", diagnosis_pointers=(1,))

    with_57 = check(details(lines=(injection, ServiceLine("99213", ("57",), diagnosis_pointers=(1,)))), context())
    with_25 = check(details(lines=(injection, ServiceLine("99213", ("25",), diagnosis_pointers=(1,)))), context())
    major_25 = check(details(lines=(knee, ServiceLine("99213", ("25",), diagnosis_pointers=(1,)))), context())
    major_57 = check(details(lines=(knee, ServiceLine("99213", ("57",), diagnosis_pointers=(1,)))), context())

    both = ServiceLine("99213", ("57", "25"), diagnosis_pointers=(1,))  # the decision for both, same day
    major_and_minor = check(details(lines=(knee, injection, both)), context())

    assert [(i.code, i.line) for i in with_57] == [("MODIFIER_57_MINOR_PROCEDURE", 2)]
    assert with_25 == ()
    assert "MODIFIER_25_MAJOR_SURGERY" in codes(major_25)
    assert not {"MODIFIER_25_MAJOR_SURGERY", "MODIFIER_57_MINOR_PROCEDURE"} & set(codes(major_and_minor))
    assert "MODIFIER_25_MAJOR_SURGERY" not in codes(major_57)
    assert "MODIFIER_57_MINOR_PROCEDURE" not in codes(major_57)


def test_a_problem_visit_with_25_beside_a_preventive_visit_is_not_flagged() -> None:
    """A problem addressed at a preventive visit is billed as its own E/M with 25 (CPT's preventive
    medicine guidelines; MCPM ch. 12, §30.6.2): nothing to review."""
    preventive = ServiceLine("99396", diagnosis_pointers=(1,))
    problem = ServiceLine("99213", ("25",), diagnosis_pointers=(1,))
    alone = check(details(lines=(problem,)), context())
    beside = check(details(lines=(preventive, problem)), context())

    assert "REVIEW_MODIFIER_25" in codes(alone)
    assert "REVIEW_MODIFIER_25" not in codes(beside)


def test_an_external_cause_is_never_the_first_listed_diagnosis() -> None:
    """ICD-10-CM Official Guidelines I.C.20: external cause codes (V00-Y99) are never first-listed. The
    reviewed case: W19.XXXA first-listed is held; after the fracture it explains, it is fine."""
    visit = ServiceLine("99213", diagnosis_pointers=(1, 2))
    fall_first = check(details(diagnoses=("W19.XXXA", "S72.001A"), lines=(visit,)), context())
    fracture_first = check(details(diagnoses=("S72.001A", "W19.XXXA"), lines=(visit,)), context())

    assert [(i.code, i.severity) for i in fall_first] == [("DIAGNOSIS_EXTERNAL_CAUSE_FIRST", "error")]
    assert fracture_first == ()


def test_a_manifestation_is_never_first_listed_on_the_claim_or_a_line() -> None:
    """Official Guidelines I.A.13: a code titled "in diseases classified elsewhere" follows its underlying
    condition, on the claim and as a line's primary (first-pointed) diagnosis; a code under a "code first"
    note asks a coder."""
    first = check(
        details(diagnoses=("G63", "E11.42"), lines=(ServiceLine("99213", diagnosis_pointers=(1,)),)), context()
    )
    line_primary = check(
        details(diagnoses=("E11.42", "G63"), lines=(ServiceLine("99213", diagnosis_pointers=(2, 1)),)), context()
    )
    mood = check(details(diagnoses=("F06.30",), lines=(ServiceLine("99213", diagnosis_pointers=(1,)),)), context())

    assert [(i.code, i.line) for i in first] == [("DIAGNOSIS_MANIFESTATION_FIRST", None)]
    assert [(i.code, i.line) for i in line_primary] == [("DIAGNOSIS_MANIFESTATION_FIRST", 1)]
    assert [(i.code, i.severity) for i in mood] == [("REVIEW_CODE_FIRST", "review")]
    assert (
        check(details(diagnoses=("E11.42", "G63"), lines=(ServiceLine("99213", diagnosis_pointers=(1, 2)),)), context())
        == ()
    )


def test_a_payer_paying_by_the_fee_schedule_allows_rvus_times_its_conversion_factor() -> None:
    """A payer whose contract pays by the physician fee schedule (an `MPFS` rate: its conversion factor,
    here $36.00): a code without a rate of its own is allowed its RVUs times the factor, the facility RVUs
    at a facility's place of service (PFS payment policy), a component's own row for 26 or TC."""
    prices = PriceList(
        (ChargemasterEntry("99213", Decimal("150.00")), ChargemasterEntry("71046", Decimal("90.00"))),
        (ContractRate("MCBYPFS", "MPFS", Decimal("36.00")), ContractRate("MCBYPFS", "99213", Decimal("80.00"), "95")),
    )
    visit, reading = ServiceLine("99213", diagnosis_pointers=(1,)), ServiceLine("71046", ("26",))

    office = priced(
        (visit, reading), prices, FEES, date_of_service=DAY, location=None, payer_id="MCBYPFS", place_of_service="11"
    )
    hospital = priced(
        (visit,), prices, FEES, date_of_service=DAY, location=None, payer_id="MCBYPFS", place_of_service="22"
    )
    other_payer = priced((visit,), prices, FEES, date_of_service=DAY, location=None, payer_id="ACME01")

    assert [line.expected_allowed for line in office] == [Decimal("99.36"), Decimal("11.52")]  # 2.76, 0.32 RVUs
    assert hospital[0].expected_allowed == Decimal("71.28")  # 1.98 facility RVUs
    assert other_payer[0].expected_allowed is None  # no rate and no fee-schedule factor: no guess
