"""The chargemaster and contract rate CSV files: what is written reads back the same, a spreadsheet's BOM and
CRLF are read, and a file with anything wrong is refused whole, every problem named by row and column."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from rcm_charge.adapters import price_csv
from rcm_charge.adapters.price_csv import chargemaster_csv, contract_rates_csv, parse_chargemaster, parse_contract_rates
from rcm_charge.domain.pricing import ChargemasterEntry, ContractRate
from rcm_common.csv_tables import CsvFileError, CsvProblem

CODE_FORM = "a code must be CPT (5 digits, or 4 and F, T, U or M) or HCPCS Level II (a letter A-V and 4 digits)"
CHARGE_FORM = "a charge must be an amount in dollars with at most two decimal places, such as 125.00"
ALLOWED_FORM = "an allowed amount must be an amount in dollars with at most two decimal places, such as 125.00"


def problems_of(text: str, parse: Callable[[str], object] = parse_chargemaster) -> list[CsvProblem]:
    with pytest.raises(CsvFileError) as refused:
        parse(text)
    return refused.value.problems


def test_a_chargemaster_written_reads_back_the_same_in_a_stable_order() -> None:
    entries = [
        ChargemasterEntry("J1100", Decimal("12.40"), description="Dexamethasone, per 1 mg"),
        ChargemasterEntry("99214", Decimal("150.00"), location="NORTH-1"),
        ChargemasterEntry("71046", Decimal("90.00"), modifier="26", description='Chest x-ray, "2 views"'),
        ChargemasterEntry("99214", Decimal("165.00"), modifier="25", location="MAIN_OFFICE"),
        ChargemasterEntry("99214", Decimal("140.00")),
        ChargemasterEntry("0591T", Decimal("75.50")),
        ChargemasterEntry("1036F", Decimal("0.01")),
    ]

    text = chargemaster_csv(entries)

    assert text.splitlines() == [
        "code,modifier,location,charge,description",
        "0591T,,,75.50,",
        "1036F,,,0.01,",
        '71046,26,,90.00,"Chest x-ray, ""2 views"""',
        "99214,,,140.00,",
        "99214,,NORTH-1,150.00,",
        "99214,25,MAIN_OFFICE,165.00,",
        'J1100,,,12.40,"Dexamethasone, per 1 mg"',
    ]
    assert parse_chargemaster(text) == sorted(entries, key=lambda e: (e.code, e.modifier or "", e.location or ""))


def test_contract_rates_written_read_back_the_same_in_a_stable_order() -> None:
    rates = [
        ContractRate("BCBS IL", "99214", Decimal("98.12")),
        ContractRate("60054", "71046", Decimal("31.00"), modifier="26"),
        ContractRate("60054", "71046", Decimal("0.00")),
        ContractRate("60054", "36415", Decimal("3.00")),
    ]

    text = contract_rates_csv(rates)

    assert text.splitlines() == [
        "payer_id,code,modifier,allowed",
        "60054,36415,,3.00",
        "60054,71046,,0.00",
        "60054,71046,26,31.00",
        "BCBS IL,99214,,98.12",
    ]
    assert parse_contract_rates(text) == sorted(rates, key=lambda r: (r.payer_id, r.code, r.modifier or ""))


def test_a_spreadsheet_export_is_read_whatever_its_header_case_order_bom_and_line_ends() -> None:
    text = "\ufeffCharge, CODE ,Location\r\n 125 ,j1100 , WEST \r\n\r\n9.5,g0008,\r\n"

    assert parse_chargemaster(text) == [
        ChargemasterEntry("J1100", Decimal("125.00"), location="WEST"),
        ChargemasterEntry("G0008", Decimal("9.50")),
    ]
    assert parse_contract_rates("\ufeffALLOWED,Payer_ID,code,Modifier\r\n80,  AETNA  ,99213,tc\r\n") == [
        ContractRate("AETNA", "99213", Decimal("80.00"), modifier="TC")
    ]


def test_amounts_are_decimals_as_written_never_floats() -> None:
    [entry] = parse_chargemaster("code,charge\n99213,0.10\n")
    [rate] = parse_contract_rates("payer_id,code,allowed\nP1,99213,9999999.99\n")

    assert (entry.charge, str(entry.charge)) == (Decimal("0.10"), "0.10")
    assert rate.allowed == Decimal("9999999.99")


def test_every_problem_of_a_chargemaster_is_reported_with_its_row_and_column() -> None:
    text = "\n".join(
        [
            "code,charge,modifier,location,description",
            "9921,100.00,,,",  # row 2
            "99213,0,,,",
            "99213,-5,,,",
            "99213,1.234,,,",
            "99213,1e3,,,",
            "99213,$80,,,",
            "99213,10000000,,,",
            "99213,,,,",
            ",100,,,",  # row 10
            "99213,100,2,,",
            "99213,100,25X,,",
            "99213,100,,MAIN OFFICE,",
            "99213,100,,A123456789012345678901,",
            "99213,100,,," + "x" * 201,
            "99213,100,,,=HYPERLINK(1)",
            "99213,100,,,,extra",
            "99214,100,,,",
            "99214,120,,,",  # row 19: the same code, modifier and location as row 18
            "99214,120,25,,",
            "99214,120,,MAIN,",
            "99214,120,25,MAIN,",
            "x9999,100,,,",
        ]
    )

    assert problems_of(text) == [
        CsvProblem(2, "code", CODE_FORM),
        CsvProblem(3, "charge", "a charge must be more than 0"),
        CsvProblem(4, "charge", CHARGE_FORM),
        CsvProblem(5, "charge", CHARGE_FORM),
        CsvProblem(6, "charge", CHARGE_FORM),
        CsvProblem(7, "charge", CHARGE_FORM),
        CsvProblem(8, "charge", "a charge must be less than 10,000,000.00"),
        CsvProblem(9, "charge", "a charge is required"),
        CsvProblem(10, "code", "a code is required"),
        CsvProblem(11, "modifier", "a modifier must be two letters or digits"),
        CsvProblem(12, "modifier", "a modifier must be two letters or digits"),
        CsvProblem(13, "location", "a location code must be 1 to 20 letters, digits, - or _"),
        CsvProblem(14, "location", "a location code must be 1 to 20 letters, digits, - or _"),
        CsvProblem(15, "description", "a description must be at most 200 characters"),
        CsvProblem(
            16, "description", "a description cannot begin with =, +, -, or @, which spreadsheets run as a formula"
        ),
        CsvProblem(17, None, "the row has more cells than the header has columns (5)"),
        CsvProblem(19, None, "code 99214, modifier (none), location (all) is already priced in row 18"),
        CsvProblem(23, "code", CODE_FORM),
    ]


def test_every_problem_of_contract_rates_is_reported_with_its_row_and_column() -> None:
    text = "\r\n".join(
        [
            "payer_id,code,modifier,allowed",
            ",99213,,10",  # row 2
            "P" * 81 + ",99213,,10",
            "@P1,99213,,10",
            "P1,992,,10",
            "P1,99213,,",
            "P1,99213,,-1",
            "P1,99213,,0",
            "P1,99213,26,0",
            "P1,99213,,5",  # row 10: the same payer, code and modifier as row 8
            "P2,99213,,5",
        ]
    )

    assert problems_of(text, parse_contract_rates) == [
        CsvProblem(2, "payer_id", "a payer id is required"),
        CsvProblem(3, "payer_id", "a payer id must be at most 80 characters"),
        CsvProblem(4, "payer_id", "a payer id cannot begin with =, +, -, or @, which spreadsheets run as a formula"),
        CsvProblem(5, "code", CODE_FORM),
        CsvProblem(6, "allowed", "an allowed amount is required"),
        CsvProblem(7, "allowed", ALLOWED_FORM),
        CsvProblem(10, None, "payer P1, code 99213, modifier (none) already has a rate in row 8"),
    ]


def test_the_header_must_name_known_columns_once_and_every_required_one() -> None:
    text = "Code,Price,code,,description\n99213,100,99214,,x\n"

    assert problems_of(text) == [
        CsvProblem(1, None, "column 2 is unknown; the columns are code, modifier, location, charge, description"),
        CsvProblem(1, "code", "the column is named twice"),
        CsvProblem(1, None, "column 4 has no name"),
        CsvProblem(1, "charge", "the required column is missing"),
    ]
    assert problems_of("payer,code\n1,99213\n", parse_contract_rates) == [
        CsvProblem(1, None, "column 1 is unknown; the columns are payer_id, code, modifier, allowed"),
        CsvProblem(1, "payer_id", "the required column is missing"),
        CsvProblem(1, "allowed", "the required column is missing"),
    ]


def test_the_rows_are_still_checked_when_the_header_is_wrong() -> None:
    assert problems_of("code,charge,notes\nABCDE,100,x\n") == [
        CsvProblem(1, None, "column 3 is unknown; the columns are code, modifier, location, charge, description"),
        CsvProblem(2, "code", CODE_FORM),
    ]


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n", ",,\n99213,100\n"])
def test_a_file_without_a_header_is_refused(text: str) -> None:
    assert problems_of(text) == [
        CsvProblem(
            1, None, "row 1 must be the header naming the columns: code, modifier, location, charge, description"
        )
    ]


@pytest.mark.parametrize("text", ["code,charge", "code,charge\r\n", "code,charge\n\n , \n"])
def test_a_file_without_data_rows_is_refused(text: str) -> None:
    assert problems_of(text) == [CsvProblem(1, None, "the file has no data rows")]


def test_nothing_is_imported_when_one_row_of_many_is_wrong() -> None:
    rows = [f"{99201 + n},{100 + n}" for n in range(50)]
    rows[30] = "99231,abc"

    assert problems_of("code,charge\n" + "\n".join(rows)) == [CsvProblem(32, "charge", CHARGE_FORM)]


def test_a_file_over_the_row_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(price_csv, "MAX_ROWS", 3)
    rows = "code,charge\n99211,10\n\n99212,20\n99213,30\n"

    assert len(parse_chargemaster(rows)) == 3
    assert problems_of(rows + "99214,40\n99215,50\n") == [CsvProblem(6, None, "the file has more than 3 data rows")]


def test_the_real_row_limit_is_a_hundred_thousand() -> None:
    assert price_csv.MAX_ROWS == 100_000


def test_a_row_the_csv_module_cannot_split_is_reported_and_reading_stops() -> None:
    text = "code,charge,description\n99213,10,ok\n99214,10," + "x" * 200_000 + "\n99215,0,\n"

    [problem] = problems_of(text)

    assert (problem.row, problem.column) == (3, None)
    assert problem.message.startswith("the row is not valid CSV (field larger than field limit")


def test_a_row_left_short_reads_blank_in_its_last_cells() -> None:
    assert parse_chargemaster("code,charge,modifier,description\n99213,10\n") == [
        ChargemasterEntry("99213", Decimal("10.00"))
    ]


def test_the_same_code_is_priced_apart_by_modifier_and_location() -> None:
    entries = parse_chargemaster("code,modifier,location,charge\n71046,,,90\n71046,26,,30\n71046,,WEST,95\n")
    assert len(entries) == 3
    assert problems_of("code,modifier,location,charge\nj1100,,,90\nJ1100,,,95\n") == [
        CsvProblem(3, None, "code J1100, modifier (none), location (all) is already priced in row 2")
    ]


def test_problems_never_repeat_what_an_invalid_cell_held() -> None:
    text = "code,charge,modifier,location,description\nJOHN SMITH,DOB 01/02/1980,MRN 7,Jane Doe,=CMD()\n"

    problems = problems_of(text)

    assert [p.column for p in problems] == ["code", "modifier", "location", "charge", "description"]
    assert all("SMITH" not in p.message and "1980" not in p.message and "Jane" not in p.message for p in problems)
    assert str(CsvFileError(problems)) == "the file has 5 problem(s); nothing was imported"


def test_an_entry_a_spreadsheet_would_run_as_a_formula_is_written_defused() -> None:
    text = chargemaster_csv([ChargemasterEntry("99213", Decimal("10.00"), description="=1+1")])
    rates = contract_rates_csv([ContractRate("+P1", "99213", Decimal("10.00"))])

    assert text.splitlines()[1] == "99213,,,10.00,'=1+1"
    assert rates.splitlines()[1] == "'+P1,99213,,10.00"


def test_a_contract_may_pay_by_the_fee_schedule_at_its_own_conversion_factor() -> None:
    rates = parse_contract_rates("payer_id,code,modifier,allowed\nMCBYPFS,mpfs,,36.00\nMCBYPFS,99213,,80.00\n")
    assert rates == [
        ContractRate("MCBYPFS", "MPFS", Decimal("36.00")),
        ContractRate("MCBYPFS", "99213", Decimal("80.00")),
    ]
    assert parse_contract_rates(contract_rates_csv(rates)) == sorted(rates, key=lambda rate: rate.code)
