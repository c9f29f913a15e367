"""Procedure code forms, the E/M range, NDC normalisation and the modifier table and form."""

from __future__ import annotations

import pytest

from rcm_charge.domain.procedures import (
    ANATOMIC,
    CONFLICTING,
    DISTINCT_SERVICE,
    EVALUATION_AND_MANAGEMENT_BYPASS,
    GLOBAL_SURGERY,
    MODIFIERS,
    is_evaluation_and_management,
    modifier_form_valid,
    normalized_ndc,
    procedure_code_form,
)


@pytest.mark.parametrize(
    ("code", "form"),
    [
        ("99214", "CPT"),
        ("0001F", "CPT"),
        ("0042T", "CPT"),
        ("0001U", "CPT"),  # Proprietary Laboratory Analyses
        ("0352U", "CPT"),
        ("0002M", "CPT"),  # administrative MAAA
        ("J1100", "HCPCS"),
        ("A0425", "HCPCS"),
        ("U0003", "HCPCS"),
        ("V2020", "HCPCS"),
        ("W1234", None),
        ("Z1234", None),
        ("0001X", None),
        ("001U", None),
        ("00001U", None),
        ("0001u", None),
        ("9921", None),
        ("99214A", None),
        ("j1100", None),
        ("", None),
        ("٩٩٢١٤", None),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_procedure_code_forms(code: str, form: str | None) -> None:
    assert procedure_code_form(code) == form


@pytest.mark.parametrize(
    "code",
    ["99201", "99202", "99215", "99221", "99284", "99304", "99316", "99341", "99350", "99381", "99397", "99499"],
)
def test_the_evaluation_and_management_range_is_99202_to_99499(code: str) -> None:
    assert is_evaluation_and_management(code)


@pytest.mark.parametrize("code", ["99199", "99500", "99605", "98940", "90471", "0992F", "9921", "992140", "G0439"])
def test_codes_outside_the_range_are_not_evaluation_and_management(code: str) -> None:
    assert not is_evaluation_and_management(code)


@pytest.mark.parametrize(
    ("ndc", "normal"),
    [
        ("00409488802", "00409488802"),  # 11 plain digits
        ("00409-4888-02", "00409488802"),  # 5-4-2 dashed
        ("0409-4888-02", "00409488802"),  # 4-4-2
        ("50242-040-62", "50242004062"),  # 5-3-2
        ("60575-4112-1", "60575411201"),  # 5-4-1
    ],
)
def test_ndcs_normalise_to_the_eleven_digit_5_4_2_form(ndc: str, normal: str) -> None:
    assert normalized_ndc(ndc) == normal


@pytest.mark.parametrize(
    "ndc",
    [
        "0040948880",  # 10 plain digits: which segment to pad is unknown
        "004094888021",  # 12 digits
        "123",
        "",
        "0409-4888-2",  # 4-4-1: 9 digits
        "409-4888-02",  # a 3-digit labeler
        "00409-04888-02",  # a 5-digit product
        "12345-6789-012",  # a 3-digit package
        "00409-488-8-02",
        "00409 4888 02",
        "00409-4888-02-",
        "٠٠٤٠٩٤٨٨٨٠٢",  # Arabic-Indic digits
    ],
)
def test_other_lengths_and_forms_are_not_ndcs(ndc: str) -> None:
    assert normalized_ndc(ndc) is None


@pytest.mark.parametrize("modifier", ["25", "59", "RT", "XU", "P3", "U1", "ZZ", "9Z"])
def test_a_modifier_is_two_ascii_upper_case_letters_or_digits(modifier: str) -> None:
    assert modifier_form_valid(modifier)


@pytest.mark.parametrize(
    "modifier", ["", "2", "255", "rt", "Rt", "R-", " 2", "2\n", "٢٥", "\uff32\uff34"]
)  # the last two: Arabic-Indic digits and full-width letters
def test_other_modifiers_are_malformed(modifier: str) -> None:
    assert not modifier_form_valid(modifier)


@pytest.mark.parametrize(
    ("modifier", "words"),
    [
        ("CQ", "physical therapist assistant"),
        ("CO", "occupational therapy assistant"),
        ("GV", "hospice"),
        ("GW", "hospice"),
        ("JG", "340B"),
        ("TB", "340B"),
        ("QK", "concurrent anesthesia"),
        ("QZ", "CRNA"),
        ("P1", "normal healthy"),
        ("P6", "brain-dead"),
        ("U9", "level of care 9"),
        ("UD", "level of care 13"),
        ("HE", "mental health program"),
        ("HF", "substance abuse program"),
        ("23", "anesthesia"),
        ("73", "before the administration of anesthesia"),
        ("74", "after the administration of anesthesia"),
        ("GQ", "asynchronous"),
        ("Q0", "investigational"),
        ("Q1", "routine clinical service"),
        ("SL", "vaccine"),
    ],
)
def test_the_table_names_the_added_modifiers(modifier: str, words: str) -> None:
    assert words in MODIFIERS[modifier]


def test_every_modifier_in_the_tables_is_well_formed_and_known() -> None:
    assert all(modifier_form_valid(modifier) and description for modifier, description in MODIFIERS.items())
    conflicting = {modifier for pair, _ in CONFLICTING for modifier in pair}
    assert (
        frozenset().union(ANATOMIC, GLOBAL_SURGERY, EVALUATION_AND_MANAGEMENT_BYPASS, DISTINCT_SERVICE, conflicting)
        <= MODIFIERS.keys()
    )


def test_the_ncci_associated_modifiers_fall_in_one_kind_each() -> None:
    kinds = (ANATOMIC, GLOBAL_SURGERY, EVALUATION_AND_MANAGEMENT_BYPASS, DISTINCT_SERVICE)
    assert sum(len(kind) for kind in kinds) == len(frozenset().union(*kinds))
    assert {"59", "XE", "XS", "XP", "XU"} <= DISTINCT_SERVICE
    assert {"25", "57"} == EVALUATION_AND_MANAGEMENT_BYPASS
    assert {"LT", "RT", "F1", "TA"} <= ANATOMIC
