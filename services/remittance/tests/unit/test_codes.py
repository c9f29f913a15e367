"""The CARC and RARC code book: the denial categories a biller works key adjustments under, the curated tables'
soundness, unknown codes named and never refused, and the published lists read whole or refused by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcm_remittance.adapters.code_lists import CodeListError, loaded_code_book, read_code_list
from rcm_remittance.domain.code_table import CARC_ROWS, RARC_ROWS
from rcm_remittance.domain.codes import (
    CATEGORIES,
    CURATED,
    GROUP_CODES,
    SUGGESTED_ACTIONS,
    AdjustmentReason,
    RemarkCode,
)


@pytest.mark.parametrize(
    ("group", "carc", "category"),
    [
        ("CO", "197", "authorisation"),
        ("CO", "27", "eligibility"),
        ("CO", "29", "timely_filing"),
        ("CO", "18", "duplicate"),
        ("CO", "97", "bundling"),
        ("CO", "16", "missing_information"),
        ("CO", "50", "medical_necessity"),
        ("CO", "45", "contractual"),
        ("CO", "253", "contractual"),
        ("CO", "59", "contractual"),
        ("PR", "1", "patient_responsibility"),
        ("PR", "2", "patient_responsibility"),
        ("PR", "3", "patient_responsibility"),
        ("OA", "23", "coordination_of_benefits"),
        ("CO", "11", "coding"),
        ("CO", "96", "eligibility"),
    ],
)
def test_key_adjustments_fall_in_the_category_a_biller_works_them_under(group: str, carc: str, category: str) -> None:
    assert CURATED.category(group, carc) == category


def test_anything_the_payer_puts_on_the_patient_is_the_patients() -> None:
    assert CURATED.category("PR", "204") == "patient_responsibility"
    assert CURATED.category(" pr ", "27") == "patient_responsibility"
    assert CURATED.category("CO", "204") == "eligibility"


def test_every_category_has_a_suggested_action() -> None:
    assert set(SUGGESTED_ACTIONS) == set(CATEGORIES)
    assert all(action.strip().endswith(".") for action in SUGGESTED_ACTIONS.values())
    assert SUGGESTED_ACTIONS["contractual"].startswith("No action")


def test_the_curated_tables_are_sound() -> None:
    carcs = [row[0] for row in CARC_ROWS]
    rarcs = [row[0] for row in RARC_ROWS]
    assert len(carcs) == len(set(carcs)) >= 80
    assert len(rarcs) == len(set(rarcs)) >= 40
    for reason in CURATED.reasons.values():
        assert reason.groups, reason.code
        assert set(reason.groups) <= set(GROUP_CODES), reason.code
        assert reason.category in CATEGORIES, reason.code
        assert reason.description.strip() == reason.description != "", reason.code
    for remark in CURATED.remarks.values():
        assert remark.description.strip() == remark.description != "", remark.code
    for codes in (carcs, rarcs):
        assert all(code == code.strip().upper() for code in codes)


def test_curated_descriptions_are_all_different() -> None:
    descriptions = [reason.description.lower() for reason in CURATED.reasons.values()]
    descriptions += [remark.description.lower() for remark in CURATED.remarks.values()]
    assert len(descriptions) == len(set(descriptions))


def test_contractual_write_offs_are_not_denials_and_the_patients_share_is_pr() -> None:
    for code in ("45", "131", "253", "94", "104"):
        assert CURATED.reason(code).category == "contractual"
    for code in ("1", "2", "3"):
        assert CURATED.reason(code).groups == ("PR",)


def test_a_code_is_found_however_it_was_written() -> None:
    assert CURATED.reason(" b7 ").code == "B7"
    assert CURATED.remark("n130").code == "N130"


def test_an_unknown_code_is_named_and_never_refused() -> None:
    assert CURATED.reason("zz9") == AdjustmentReason("ZZ9", "CARC ZZ9: not in the code table", (), "other")
    assert CURATED.remark("N9999") == RemarkCode("N9999", "RARC N9999: not in the code table")
    assert CURATED.reason("").category == "other"
    assert CURATED.category("CO", "ZZ9") == "other"
    assert CURATED.category("PR", "ZZ9") == "patient_responsibility"


def test_loaded_descriptions_replace_the_curated_ones_and_keep_the_category() -> None:
    book = CURATED.with_loaded(
        [("197", "Published wording for 197."), ("300", "A code only the published list has.")],
        [("n130", "Published wording for N130.")],
    )
    assert book.reason("197") == AdjustmentReason("197", "Published wording for 197.", ("CO",), "authorisation")
    assert book.reason("300") == AdjustmentReason("300", "A code only the published list has.", (), "other")
    assert book.remark("N130") == RemarkCode("N130", "Published wording for N130.")
    assert book.reason("45") == CURATED.reason("45")
    assert CURATED.reason("197").description != "Published wording for 197."
    assert CURATED.reason("300").description == "CARC 300: not in the code table"


def test_a_tab_separated_list_is_read_with_its_dates_ignored() -> None:
    text = (
        "Code\tDescription\tStart\tLast Modified\tStop\n"
        "1\tDeductible amount.\t01/01/1995\t\t\n"
        "b7 \t  Provider not   eligible \t01/01/1995\t\t\n"
        "\n"
        "62\tOld authorisation code.\t01/01/1995\t\t01/01/2009\n"
    )
    assert read_code_list(text) == [
        ("1", "Deductible amount."),
        ("B7", "Provider not eligible"),
        ("62", "Old authorisation code."),
    ]


def test_a_comma_separated_list_is_read_with_quotes_and_a_bom() -> None:
    text = (
        "\ufeffRARC,Description\r\n"
        'N130,"Consult plan benefit documents, then ""restrictions""."\r\n'
        'MA01,"Alert:\nappeal"\r\n'
    )
    assert read_code_list(text) == [
        ("N130", 'Consult plan benefit documents, then "restrictions".'),
        ("MA01", "Alert: appeal"),
    ]


@pytest.mark.parametrize(
    "header",
    ["code,description", "CARC,Desc", "Reason Code,Description", "reason_code,DESCRIPTION", "Description,RARC,Notes"],
)
def test_the_header_may_name_its_columns_in_several_ways(header: str) -> None:
    row = "Some words,A1" if header.startswith("Description") else "A1,Some words"
    if header.endswith("Notes"):
        row += ",a note"
    assert read_code_list(f"{header}\n{row}\n") == [("A1", "Some words")]


def test_blank_lines_before_the_header_are_counted() -> None:
    assert read_code_list("\n\ncode,description\n45,Fee schedule.\n") == [("45", "Fee schedule.")]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "the file is empty"),
        ("id,description\n1,Deductible.\n", 1, "no code column"),
        ("code,meaning\n1,Deductible.\n", 1, "no description column"),
        ("code,carc,description\n1,1,Deductible.\n", 1, "more than one code or description column"),
        ("code,description\n", 1, "no code rows"),
        ("\ncode,description\n\n", 2, "no code rows"),
        ("code,description\n1,Deductible.\n2,  \n", 3, "the code 2 has no description"),
        ("code,description\n1,Deductible.\n2\n", 3, "the code 2 has no description"),
        ("code,description\n1,Deductible.\nN1234X,Too long.\n", 3, "'N1234X' is not 1 to 5 letters and digits"),
        ("code,description\nN-1,Dash.\n", 2, "'N-1' is not 1 to 5 letters and digits"),
        ("code,description\n,No code.\n", 2, "'' is not 1 to 5 letters and digits"),
        ("code,description\n18,Duplicate.\n\n18,Again.\n", 4, "the code 18 is listed twice (first on line 2)"),
        ('code,description\n1,"Multi\nline"\n2,"unclosed\n', 4, "not valid CSV"),
    ],
)
def test_a_bad_list_is_refused_naming_the_line_and_the_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(CodeListError) as refused:
        read_code_list(text)
    assert refused.value.line == line
    assert problem in refused.value.problem
    assert str(refused.value).startswith(f"line {line}: ")
    assert isinstance(refused.value, ValueError)


def test_a_loaded_list_feeds_the_code_book() -> None:
    reasons = read_code_list("Code\tDescription\n16\tClaim lacks information.\n")
    remarks = read_code_list("RARC,Description\nM76,Missing diagnosis.\n")
    book = CURATED.with_loaded(reasons, remarks)
    assert book.reason("16").description == "Claim lacks information."
    assert book.category("CO", "16") == "missing_information"
    assert book.remark("M76").description == "Missing diagnosis."


def test_the_lists_the_settings_name_are_loaded_over_the_curated_book(tmp_path: Path) -> None:
    carc = tmp_path / "carc.tsv"
    carc.write_text("Code\tDescription\tStart\n45\tPublished wording of 45.\t01/01/1995\nZZ9\tA new code.\t\n")
    book = loaded_code_book(CURATED, carc, None)
    assert (book.reason("45").description, book.reason("45").category) == ("Published wording of 45.", "contractual")
    assert book.reason("ZZ9").category == "other"
    assert book.remark("N130").description == CURATED.remark("N130").description


def test_a_list_that_cannot_be_read_stops_the_start_naming_the_file_and_line(tmp_path: Path) -> None:
    carc = tmp_path / "carc.csv"
    carc.write_text("code,description\n45,\n")
    with pytest.raises(CodeListError, match=r"line 2: .*carc\.csv"):
        loaded_code_book(CURATED, carc, None)
    with pytest.raises(CodeListError, match="cannot be read"):
        loaded_code_book(CURATED, None, tmp_path / "missing.csv")
