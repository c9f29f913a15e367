"""The provider and payer directories as CSV: what is written reads back the same, a spreadsheet's export is
read, and a file with anything wrong is refused whole, the file's, the fields' and the domain's problems
together, each by row and column, none repeating a cell."""

from __future__ import annotations

import dataclasses

import pytest

from rcm_claim.adapters import directory_csv
from rcm_claim.adapters.directory_csv import (
    PAYER_COLUMNS,
    PROVIDER_COLUMNS,
    parse_payer_directory,
    parse_provider_directory,
    payer_directory_csv,
    provider_directory_csv,
)
from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.domain.directories import Address, BillingProvider, Facility, PayerProfile, Provider, ProviderDirectory
from rcm_claim.testing import PRACTICE
from rcm_common.csv_tables import CsvFileError, CsvProblem

HEADER = ",".join(PROVIDER_COLUMNS)
BILLING = "billing,Springfield Family Medicine,,,1234567893,371234567,207Q00000X,100 Main St,,Springfield,IL,627011234"
OSLER = "provider,,Osler,William,1497758544,,207R00000X"
PAYERS_HEADER = ",".join(PAYER_COLUMNS)
ACME = "ACME01,Acme Health Plan,12,90,30,500,60,30,72148"
FORMULA = "a cell cannot begin with =, +, -, or @, which spreadsheets run as a formula"


def problems_of(text: str, parse: object = parse_provider_directory) -> list[CsvProblem]:
    assert callable(parse)
    with pytest.raises(CsvFileError) as refused:
        parse(text)
    return refused.value.problems


def test_a_provider_directory_written_reads_back_the_same() -> None:
    directory = ProviderDirectory(
        BillingProvider(
            'Springfield "Family" Medicine, LLC', "1234567893", "371234567", "207Q00000X",
            Address("100 Main St", "Springfield", "IL", "627011234", line2="Suite 2"),
            pay_to=Address("PO Box 9", "Springfield", "IL", "62705"),
        ),
        (Provider("Osler", "William", "1497758544", "207R00000X"), Provider("Nightingale", "", "1003000001")),
        (Facility("HOSP", "Springfield General", Address("800 E Carpenter St", "Springfield", "IL", "627690001"),
                  "1245319599"),),
    )  # fmt: skip

    text = provider_directory_csv(directory)

    assert text.splitlines() == [
        HEADER,
        'billing,"Springfield ""Family"" Medicine, LLC",,,1234567893,371234567,207Q00000X,100 Main St,Suite 2,'
        "Springfield,IL,627011234,PO Box 9,,Springfield,IL,62705,,",
        OSLER + "," * 12,
        "provider,,Nightingale,,1003000001,,," + "," * 11,
        "facility,Springfield General,,,1245319599,,,800 E Carpenter St,,Springfield,IL,627690001,,,,,,HOSP,",
    ]
    assert parse_provider_directory(text) == directory


def test_the_payers_written_read_back_the_same_with_their_codes() -> None:
    payers = default_payers()

    text = payer_directory_csv(payers)

    assert text.splitlines()[:2] == [
        PAYERS_HEADER,
        "ACME01,Acme Health Plan,12,90,30,500,5,30,70551 70552 70553 72148 74177,180,PO BOX 3003,"
        "ATTN APPEALS DEPARTMENT,HARTFORD,CT,06101",
    ]
    assert set(parse_payer_directory(text)) == set(payers)


def test_a_spreadsheet_export_is_read_whatever_its_header_case_order_bom_and_line_ends() -> None:
    providers = f"\ufeff{HEADER.upper()}\r\n{BILLING}\r\n\r\n{OSLER}\r\n"
    payers = (
        "\ufeffName,PAYER_ID,filing_indicator,timely_filing_days,follow_up_days,batch_size,batch_interval_seconds,"
        'Prior_Authorization_Codes\r\nAcme , ACME01 ,12,90,30,500,60,"72148;70551, 74177 "\r\n'
    )

    assert parse_provider_directory(providers) == PRACTICE
    assert parse_payer_directory(payers) == (
        PayerProfile("ACME01", "Acme", "12", 90, 30, 500, 60, frozenset({"72148", "70551", "74177"})),
    )


def test_every_problem_of_a_provider_file_is_listed_by_row_and_column_together() -> None:
    text = "\n".join(
        [
            HEADER,
            BILLING.replace("1234567893", "1234567890").replace("627011234", "62701"),  # row 2
            OSLER.replace("Osler", "=HYPERLINK(1)"),
            "provider,,Lister,Joseph,1497758544,,surgeon",
            "provider,,Doe,Jane,1003000019,123456789,,1 Elm St",
            "doctor,,Roe,Ann,1003000027",
            "provider,," + "x" * 61 + ",,1003000035",
            BILLING,  # row 8: a second billing row
            "provider,,,Mary,1003000043",
            "provider,,Smith,John,1003000050,,,,,,,,,,,,,,,extra",
        ]
    )

    assert problems_of(text) == [
        CsvProblem(2, "npi", "an NPI is ten digits with a valid check digit"),
        CsvProblem(2, "address_postal_code", "the ZIP is the nine-digit ZIP+4 (N403 of 2010AA and 2310C)"),
        CsvProblem(3, "last_name", FORMULA),
        CsvProblem(4, "taxonomy", "a provider taxonomy is ten characters ending in X (NUCC)"),
        CsvProblem(4, "npi", "the NPI is listed already at row 3"),
        CsvProblem(5, "tax_id", "only the billing row has this column"),
        CsvProblem(5, "address_line1", "only the billing or a facility row has this column"),
        CsvProblem(
            6,
            "role",
            "the role is billing (the practice, one row), provider (a rendering or referring provider) or facility",
        ),
        CsvProblem(7, "last_name", "is too long"),
        CsvProblem(8, "role", "row 2 is the billing provider; a file has one"),
        CsvProblem(9, "last_name", "is required"),
        CsvProblem(10, None, "the row has more cells than the header has columns (19)"),
    ]


def test_a_missing_column_is_named_once_at_the_header_and_the_rows_are_still_checked() -> None:
    header = HEADER.replace(",tax_id", "")
    billing = BILLING.replace(",371234567", "")
    osler = "provider,,Osler,William,1497758545,207R00000X"

    assert problems_of(f"{header}\n{billing}\n{osler}\n") == [
        CsvProblem(1, "tax_id", "the required column is missing"),
        CsvProblem(3, "npi", "an NPI is ten digits with a valid check digit"),
    ]


def test_a_file_needs_its_one_billing_row() -> None:
    assert problems_of(f"{HEADER}\n{OSLER}\n") == [
        CsvProblem(1, None, "no row has the role billing; the practice's billing provider needs one")
    ]


def test_the_billing_row_takes_no_person_and_the_pay_to_address_is_checked_whole() -> None:
    text = f"{HEADER}\n{BILLING.replace(',,,1234567893', ',Osler,,1234567893')},,,,IL,6270\n"

    assert problems_of(text) == [
        CsvProblem(2, "last_name", "only a provider row has a person's name"),
        CsvProblem(2, "pay_to_line1", "is required"),
        CsvProblem(2, "pay_to_city", "is required"),
    ]


def test_every_problem_of_a_payer_file_is_listed_by_row_and_column_together() -> None:
    text = "\n".join(
        [
            PAYERS_HEADER,
            ACME,  # row 2
            ACME.replace("Acme Health Plan", "Acme again"),
            "acme-02,Acme,XX,0,30,500,60,,",
            "SUMMT1,Summit,HM,ninety,30,500,-60,,72148 MRI 7014x",
            "MCARE1,@Medicare,MB,365,30,500,60,400,123456",
            "MCAID1,Medicaid,MC,180,30,500,60",
        ]
    )

    assert problems_of(text, parse_payer_directory) == [
        CsvProblem(3, "payer_id", "the payer is listed already at row 2"),
        CsvProblem(4, "payer_id", "a payer id is 2 to 80 upper-case letters and digits"),
        CsvProblem(4, "filing_indicator", "not an 837P claim filing indicator (SBR09)"),
        CsvProblem(4, "timely_filing_days", "the timely-filing window is 1 to 3,650 days"),
        CsvProblem(5, "batch_interval_seconds", FORMULA),
        CsvProblem(5, "timely_filing_days", "must be a whole number"),
        CsvProblem(6, "name", FORMULA),
        CsvProblem(6, "prior_authorization_codes", "is too long"),
    ]


def test_a_payer_without_an_eligibility_age_or_codes_takes_the_documents_defaults() -> None:
    [payer] = parse_payer_directory(f"{PAYERS_HEADER}\nMCAID1,Medicaid,MC,180,30,500,60,,\n")

    assert (payer.eligibility_max_age_days, payer.prior_authorization_codes) == (30, frozenset())


def test_problems_never_repeat_what_a_cell_held() -> None:
    text = "\n".join(
        [
            "John Smith,1980-01-02,MRN 7",  # a file without its header
            "provider,,Smith,John,1980010200,SSN 123-45-6789",
        ]
    )
    payers = f"{PAYERS_HEADER}\nJANE,Jane Doe,12,90,30,500,60,30,DOE12 SMITH 1980\n"

    problems = problems_of(text) + problems_of(payers, parse_payer_directory)

    for fragment in ("John", "Smith", "1980", "6789", "MRN", "DOE12", "SMITH"):
        assert all(fragment not in problem.message for problem in problems)
    assert all(problem.column is None or problem.column in PROVIDER_COLUMNS + PAYER_COLUMNS for problem in problems)


def test_a_file_over_the_row_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "\n".join(f"P{index:04d},Payer,12,90,30,500,60,30," for index in range(1001))

    assert problems_of(f"{PAYERS_HEADER}\n{rows}\n", parse_payer_directory) == [
        CsvProblem(1002, None, "the file has more than 1,000 data rows")
    ]
    monkeypatch.setattr(directory_csv, "MAX_PROVIDER_ROWS", 2)
    assert problems_of(f"{HEADER}\n{BILLING}\n{OSLER}\n{OSLER}\n") == [
        CsvProblem(4, None, "the file has more than 2 data rows")
    ]


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_written_defused() -> None:
    billing = dataclasses.replace(PRACTICE.billing, name="=Clinic")
    payer = PayerProfile("ACME01", "+Acme", "12", 90, 30, 500, 60)

    assert (
        provider_directory_csv(dataclasses.replace(PRACTICE, billing=billing))
        .splitlines()[1]
        .startswith("billing,'=Clinic,")
    )
    assert payer_directory_csv([payer]).splitlines()[1] == "ACME01,'+Acme,12,90,30,500,60,30,,,,,,,"
