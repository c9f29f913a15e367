"""The code-set adapters: ICD-10-CM editions from the package and CMS order files, the sex and age restrictions,
and the PTP and MUE tables, shipped and loaded from CMS's files."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest

from rcm_charge.adapters.code_set_errors import CodeSetError
from rcm_charge.adapters.icd10cm import (
    Icd10Catalog,
    Icd10Edition,
    cms_order_file_edition,
    load_catalog,
    load_restrictions,
    package_edition,
)
from rcm_charge.adapters.mpfs import load_fee_schedule, read_cms_rvu_file
from rcm_charge.adapters.ncci import ProcedureEditTables, load_edit_tables, read_cms_mue, read_cms_ptp
from rcm_charge.domain.code_sets import PairEdit

DOS = date(2026, 6, 1)
FY2027 = date(2026, 10, 1)

CMS_PTP = "\n".join(
    [
        "CPT only copyright 2025 American Medical Association. All rights reserved.",
        "Practitioner PTP Edits v321r0",
        "Column 1\tColumn 2\t* = In existence prior to 1996\tEffective Date\tDeletion Date *=no data\t"
        "Modifier 0=not allowed 1=allowed 9=not applicable\tPTP Edit Rationale",
        "\t\t\t\t\t\t",
        "G0283\t97014\t \t20200101\t20230101\t0\tMutually exclusive procedures",
        "G0283\t97014\t \t20240101\t*\t1\tMutually exclusive procedures",
        "97110\t97113\t \t20200101\t20200101\t9\tMisuse of column two code with column one code",
        "0001U\t0352U\t \t20240101\t*\t0\tMisuse of column two code with column one code",
    ]
)
CMS_MUE = "\n".join(
    [
        '"CPT codes, descriptions and other data only are copyright 2025 American Medical Association."',
        "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale",
        "99214,2,3 Date of Service Edit: Clinical,Clinical: Data",
        "0001U,1,2 Date of Service Edit: Policy,Code Descriptor / CPT Instruction",
        "20610,2,1 Line Edit,Anatomic Consideration",
    ]
)


def order_line(number: int, code: str, billable: bool, description: str) -> str:
    """One line of CMS's fixed-width order file: the long description starts in column 78."""
    return f"{number:05d} {code:<7} {'1' if billable else '0'} {description[:60]:<60} {description}"


FY2027_ORDER_FILE = "\n".join(
    [
        order_line(1, "E11", False, "Type 2 diabetes mellitus"),
        order_line(2, "E119", True, "Type 2 diabetes mellitus without complications"),
        order_line(3, "E11B", True, "Type 2 diabetes mellitus, made-up FY2027 code"),
        "",
    ]
)


@pytest.fixture(scope="module")
def package() -> Icd10Edition:
    return package_edition()


@pytest.fixture(scope="module")
def catalog(package: Icd10Edition) -> Icd10Catalog:
    return Icd10Catalog([package], load_restrictions(None))


@pytest.fixture(scope="module")
def edits() -> ProcedureEditTables:
    return load_edit_tables(None)


def test_a_category_with_codes_beneath_is_a_header_naming_every_billable_one(catalog: Icd10Catalog) -> None:
    header = catalog.lookup("E11", DOS)
    assert header is not None
    assert header.description == "Type 2 diabetes mellitus"
    assert not header.billable
    assert {"E11.9", "E11.65", "E11.00"} <= set(header.billable_children)
    assert "E11" not in header.billable_children
    assert "E11.6" not in header.billable_children  # a subcategory header, not billable itself
    assert header.billable_children[0] == "E11.00"  # tabular order
    assert header.billable_children.index("E11.65") < header.billable_children.index("E11.9")


def test_a_leaf_is_billable_with_its_description(catalog: Icd10Catalog) -> None:
    code = catalog.lookup("E11.9", DOS)
    assert code is not None
    assert code.billable
    assert code.description == "Type 2 diabetes mellitus without complications"
    assert code.billable_children == ()
    assert code.sex is None


@pytest.mark.parametrize("written", ["E119", "e11.9", " E11.9 "])
def test_codes_are_found_undotted_in_any_case_and_returned_dotted(catalog: Icd10Catalog, written: str) -> None:
    code = catalog.lookup(written, DOS)
    assert code is not None
    assert code.code == "E11.9"


@pytest.mark.parametrize("written", ["E11.99", "E1.19", "E11..9", "E08-E13", "4", "", "99214"])
def test_unknown_misdotted_and_non_codes_are_none(catalog: Icd10Catalog, written: str) -> None:
    assert catalog.lookup(written, DOS) is None


def test_the_package_edition_is_the_april_2026_update(catalog: Icd10Catalog, package: Icd10Edition) -> None:
    assert package.effective_from == date(2026, 4, 1)
    assert catalog.edition_for(DOS) == "ICD-10-CM FY2026 April update (simple-icd-10-cm 1.5.0)"
    assert catalog.edition_for(date(2015, 10, 1)) == catalog.edition_for(DOS)  # the earliest serves older dates


def test_a_cms_order_file_takes_over_from_its_effective_date(tmp_path: Path) -> None:
    (tmp_path / "icd10cm-order-2027.txt").write_text(FY2027_ORDER_FILE)
    (tmp_path / "icd10cm-order-addenda-2027.txt").write_text("Add:    E11B    not an edition\n")
    catalog = load_catalog(tmp_path)

    assert catalog.edition_for(date(2026, 9, 30)).startswith("ICD-10-CM FY2026 April update")
    assert catalog.edition_for(FY2027) == "ICD-10-CM FY2027 (icd10cm-order-2027.txt)"
    assert catalog.edition_for(date(2031, 1, 1)) == catalog.edition_for(FY2027)  # in force until a newer one

    assert catalog.lookup("E11.B", date(2026, 9, 30)) is None
    added = catalog.lookup("E11.B", FY2027)
    assert added is not None
    assert added.billable
    assert added.description == "Type 2 diabetes mellitus, made-up FY2027 code"

    assert catalog.lookup("E11.65", date(2026, 9, 30)) is not None
    assert catalog.lookup("E11.65", FY2027) is None  # dropped by the made-up edition
    header = catalog.lookup("E11", FY2027)
    assert header is not None
    assert header.billable_children == ("E11.9", "E11.B")


@pytest.mark.parametrize(
    ("name", "effective"),
    [
        ("icd10cm-order-2027.txt", date(2026, 10, 1)),
        ("icd10cm_order_2025.txt", date(2024, 10, 1)),
        ("icd10cm-order-April-1-2026.txt", date(2026, 4, 1)),
    ],
)
def test_an_order_file_is_dated_by_its_name(tmp_path: Path, name: str, effective: date) -> None:
    path = tmp_path / name
    path.write_text(FY2027_ORDER_FILE)
    assert cms_order_file_edition(path).effective_from == effective


def test_an_order_file_without_a_year_needs_a_date(tmp_path: Path) -> None:
    path = tmp_path / "icd10cm-order-latest.txt"
    path.write_text(FY2027_ORDER_FILE)
    with pytest.raises(CodeSetError, match="no year"):
        cms_order_file_edition(path)
    edition = cms_order_file_edition(path, effective_from=date(2027, 10, 1))
    assert edition.effective_from == date(2027, 10, 1)
    assert edition.name == "ICD-10-CM (icd10cm-order-latest.txt)"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (order_line(3, "E11B", True, "flag").replace(" 1 flag", " 2 flag", 1), "column 15 must be 0"),
        (order_line(3, "E1.1B", True, "a dotted code"), "no ICD-10-CM code"),
        (order_line(3, "E11B", True, "short line")[:60], "fixed-width layout"),
        (order_line(3, "E119", True, "the same code again"), "E11.9 appears twice"),
        (order_line(3, "E11B", True, "") + " ", "description is missing"),
    ],
)
def test_a_malformed_order_file_is_refused_naming_the_line(tmp_path: Path, bad: str, message: str) -> None:
    path = tmp_path / "icd10cm-order-2027.txt"
    path.write_text("\n".join([*FY2027_ORDER_FILE.splitlines()[:2], bad]))
    with pytest.raises(CodeSetError, match=f"line 3: .*{message}") as raised:
        cms_order_file_edition(path)
    assert raised.value.line == 3


@pytest.mark.parametrize(
    ("code", "sex", "min_age", "max_age"),
    [
        ("O80", "F", 9, 64),  # the MCE's maternity ages (Definitions of Medicare Code Edits, age conflict)
        ("Z3A.01", "F", 9, 64),
        ("N40.0", "M", None, None),
        ("C56.1", "F", None, None),
        ("C50.911", None, None, None),  # breast: the longer prefix lifts the female genital range
        ("Z38.00", None, None, 0),
        ("Z00.110", None, None, 0),
        ("Z00.121", None, None, 17),
        ("Z00.00", None, 15, None),  # the MCE's adult ages, 15 to 124
        ("E11.9", None, None, None),
    ],
)
def test_sex_and_age_restrictions_are_the_mces_and_come_from_the_longest_prefix(
    catalog: Icd10Catalog, code: str, sex: str | None, min_age: int | None, max_age: int | None
) -> None:
    found = catalog.lookup(code, DOS)
    assert found is not None
    assert (found.sex, found.min_age, found.max_age) == (sex, min_age, max_age)


def test_an_operator_restrictions_file_replaces_the_shipped_one(tmp_path: Path, package: Icd10Edition) -> None:
    (tmp_path / "icd10cm_restrictions.csv").write_text("prefix,sex,min_age,max_age,note\nE11,,18,,adults only\n")
    catalog = Icd10Catalog([package], load_restrictions(tmp_path))
    diabetes = catalog.lookup("E11.9", DOS)
    delivery = catalog.lookup("O80", DOS)
    assert diabetes is not None
    assert delivery is not None
    assert (diabetes.min_age, diabetes.restriction_note) == (18, "adults only")
    assert delivery.sex is None


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("O,X,,,bad sex", "sex must be"),
        ("E11,,60,18,min above max", "min_age is above max_age"),
        ("E11,,130,,too old", "an age must be"),
        ("E11.9,F,,,dotted", "undotted"),
        ("E11,F,,", "expected 5 columns"),
        ("O,M,,,again", "O appears twice"),
    ],
)
def test_a_malformed_restrictions_file_is_refused_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    (tmp_path / "icd10cm_restrictions.csv").write_text(f"prefix,sex,min_age,max_age,note\nO,F,12,55,ok\n{row}\n")
    with pytest.raises(CodeSetError, match=f"line 3: .*{message}"):
        load_restrictions(tmp_path)


@pytest.mark.parametrize(("first", "second"), [("97530", "97140"), ("97140", "97530"), (" 97140", "97530 ")])
def test_a_shipped_pair_is_found_in_either_order(edits: ProcedureEditTables, first: str, second: str) -> None:
    edit = edits.pair_edit(first, second, DOS)
    assert edit is not None
    assert (edit.column1, edit.column2, edit.modifier_allowed) == ("97530", "97140", True)


def test_a_shipped_pair_that_no_modifier_breaks(edits: ProcedureEditTables) -> None:
    edit = edits.pair_edit("93005", "93000", DOS)
    assert edit is not None
    assert not edit.modifier_allowed
    assert edits.pair_edit("99214", "36415", DOS) is None


@pytest.mark.parametrize(
    ("code", "units", "per_line"),
    [("99214", 1, False), ("36415", 2, False), ("97140", 4, False), ("J1100", 30, False), ("j1100", 30, False),
     ("20610", 2, True)],
)  # fmt: skip
def test_shipped_unit_limits(edits: ProcedureEditTables, code: str, units: int, per_line: bool) -> None:
    limit = edits.unit_limit(code)
    assert limit is not None
    assert (limit.max_units, limit.per_line) == (units, per_line)


def test_every_shipped_limit_has_an_adjudication_indicator() -> None:
    """Each shipped row's indicator (1, 2 or 3) is loaded: 1 as a line edit, 2 and 3 as date of service edits."""
    text = files("rcm_charge.adapters.data").joinpath("mue.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    assert {row["adjudication_indicator"] for row in rows} == {"1", "2", "3"}
    tables = load_edit_tables(None)
    for row in rows:
        limit = tables.unit_limit(row["code"])
        assert limit is not None
        assert limit.per_line == (row["adjudication_indicator"] == "1")


def test_the_edit_in_force_on_the_date_answers() -> None:
    tables = ProcedureEditTables(
        [
            PairEdit("G0283", "97014", False, date(2020, 1, 1), date(2023, 1, 1)),
            PairEdit("97014", "G0283", True, date(2024, 1, 1)),
        ],
        [],
    )
    before = tables.pair_edit("G0283", "97014", date(2022, 12, 31))
    after = tables.pair_edit("G0283", "97014", date(2024, 1, 1))
    assert before is not None
    assert not before.modifier_allowed
    assert tables.pair_edit("G0283", "97014", date(2023, 1, 1)) is None  # deleted, not yet added again
    assert tables.pair_edit("G0283", "97014", date(2019, 12, 31)) is None
    assert after is not None
    assert after.modifier_allowed


def test_cms_files_in_the_code_set_directory_replace_the_shipped_sample(tmp_path: Path) -> None:
    (tmp_path / "ccipra-v321r0-f1-ptp.txt").write_text(CMS_PTP)
    (tmp_path / "MCR_MUE_PractitionerServices_Eff_2026-01-01.csv").write_text(CMS_MUE)
    edits = load_edit_tables(tmp_path)

    deleted = edits.pair_edit("97014", "G0283", date(2022, 6, 1))
    assert deleted is not None
    assert deleted.deleted == date(2023, 1, 1)
    assert edits.pair_edit("G0283", "97014", date(2023, 6, 1)) is None
    readded = edits.pair_edit("G0283", "97014", date(2024, 6, 1))
    assert readded is not None
    assert readded.modifier_allowed
    assert readded.rationale == "Mutually exclusive procedures"
    assert edits.pair_edit("97110", "97113", date(2020, 1, 1)) is None  # indicator 9: never an edit
    assert edits.pair_edit("0352U", "0001U", DOS) is not None
    assert edits.pair_edit("97530", "97140", DOS) is None  # the sample's pairs never fire beside CMS's

    official, added, line_edit = edits.unit_limit("99214"), edits.unit_limit("0001U"), edits.unit_limit("20610")
    assert official is not None
    assert (official.max_units, official.rationale, official.per_line) == (2, "Clinical: Data", False)
    assert added is not None
    assert (added.max_units, added.per_line) == (1, False)
    assert line_edit is not None
    assert (line_edit.max_units, line_edit.per_line) == (2, True)
    assert edits.unit_limit("36415") is None  # nor the sample's limits


def test_without_official_files_the_shipped_sample_is_in_force(tmp_path: Path) -> None:
    edits = load_edit_tables(tmp_path)
    assert edits.pair_edit("97530", "97140", DOS) is not None
    limit = edits.unit_limit("36415")
    assert limit is not None
    assert limit.max_units == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("97530\t97140\t \t2020-01-01\t*\t1\tdashed date", "not a YYYYMMDD date"),
        ("97530\t97140\t \t20200101\t*\t7\tindicator 7", "modifier indicator must be 0, 1 or 9"),
        ("97530\t97140\t \t20201301\t*\t1\tno such month", "month must be"),
        ("97530\t97140\t \t20200101", "at least six"),
    ],
)
def test_a_malformed_ptp_row_is_refused_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "ptp.txt"
    path.write_text(f"{CMS_PTP}\n{row}\n")
    with pytest.raises(CodeSetError, match=f"line 9: .*{message}"):
        read_cms_ptp(path)


def test_ptp_text_without_edit_rows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ptp.txt"
    path.write_text("column1,column2,effective\n97530,97140,20200101\n")
    with pytest.raises(CodeSetError, match="no PTP edit rows"):
        read_cms_ptp(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("99213,two,3 Date of Service Edit: Clinical,Clinical: Data", "whole number of units"),
        ("9921,1,1 Line Edit,", "not a procedure code"),
        ("W1234,1,1 Line Edit,", "not a procedure code"),  # the domain's HCPCS Level II letters are A to V
        ("99213", "shorter than the header"),
        ("99213,1", "shorter than the header"),
        ("99214,3,2 Date of Service Edit: Policy,", "99214 appears twice"),
        ("99213,1,,Clinical: Data", "adjudication indicator must be 1, 2 or 3"),
        ("99213,1,4 Date of Service Edit,Clinical: Data", "adjudication indicator must be 1, 2 or 3"),
        ("99213,1,12 Line Edit,Clinical: Data", "adjudication indicator must be 1, 2 or 3"),
        ("99213,1,Line Edit,Clinical: Data", "adjudication indicator must be 1, 2 or 3"),
    ],
)
def test_a_malformed_mue_row_is_refused_naming_the_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "mue.csv"
    path.write_text(f"{CMS_MUE}\n{row}\n")
    with pytest.raises(CodeSetError, match=f"line 6: .*{message}") as raised:
        read_cms_mue(path)
    assert raised.value.line == 6


@pytest.mark.parametrize(
    ("indicator", "per_line"),
    [("1 Line Edit", True), ("1", True), ("2 Date of Service Edit: Policy", False),
     ("3 Date of Service Edit: Clinical", False), ("3", False)],
)  # fmt: skip
def test_the_mue_adjudication_indicator_is_read_by_its_leading_digit(
    tmp_path: Path, indicator: str, per_line: bool
) -> None:
    path = tmp_path / "mue.csv"
    # The header is matched in any case and spacing, even with a line break inside a quoted name.
    path.write_text(
        f'hcpcs/cpt code,"Practitioner Services\nMUE Values",MUE  Adjudication Indicator\n0002M,1,"{indicator}"\n'
    )
    (limit,) = read_cms_mue(path)
    assert (limit.code, limit.max_units, limit.per_line, limit.rationale) == ("0002M", 1, per_line, "")


@pytest.mark.parametrize(
    "header",
    [
        "code,max_units\n99214,1",
        "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Rationale\n99214,1,Clinical: Data",  # no indicator
    ],
)
def test_mue_csv_without_its_header_row_is_refused(tmp_path: Path, header: str) -> None:
    path = tmp_path / "mue.csv"
    path.write_text(f"{header}\n")
    with pytest.raises(CodeSetError, match="no header row"):
        read_cms_mue(path)


@pytest.mark.parametrize(
    ("day", "covered"),
    [(date(2025, 10, 1), True), (date(2026, 9, 30), True), (date(2026, 10, 1), False), (date(2025, 9, 30), False)],
)
def test_the_package_edition_covers_its_fiscal_year(day: date, covered: bool) -> None:
    assert load_catalog(None).covers(day) is covered


def test_a_newer_cms_edition_extends_what_is_covered(tmp_path: Path) -> None:
    (tmp_path / "icd10cm-order-2027.txt").write_text(FY2027_ORDER_FILE)
    assert load_catalog(tmp_path).covers(date(2027, 9, 30))


# ------------------------------------------------------------------ the physician fee schedule's relative values

# CMS's layout (preamble, a header over two rows, notes after the table), with two of its rows.
CMS_RVU_FILE = (Path(__file__).parent / "cms_rvu_file.csv").read_text(encoding="utf-8")


def test_cms_relative_value_file_is_read_by_its_column_names_under_a_two_row_header(tmp_path: Path) -> None:
    (tmp_path / "PPRRVU26_JAN.csv").write_text(CMS_RVU_FILE, encoding="utf-8")

    fees = load_fee_schedule(tmp_path)

    injection = fees.entry("20610")
    assert injection is not None
    assert (injection.global_days, injection.bilateral, injection.multiple_procedure) == ("000", "1", "2")
    assert (injection.preop, injection.intraop, injection.postop) == (Decimal("0.10"), Decimal("0.80"), Decimal("0.10"))
    assert (injection.nonfacility_rvu, injection.facility_rvu) == (Decimal("2.01"), Decimal("1.49"))
    professional = fees.entry("71046", "26")
    assert professional is not None
    assert professional.pctc == "1"
    assert fees.entry("99213") is None  # CMS's file replaces the shipped sample whole


def test_the_shipped_fee_schedule_sample_loads_without_a_directory() -> None:
    fees = load_fee_schedule(None)
    assert {code: fees.entry(code).global_days for code in ("99213", "20610", "10060", "27447")} == {  # type: ignore[union-attr]
        "99213": "XXX",
        "20610": "000",
        "10060": "010",
        "27447": "090",
    }


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (CMS_RVU_FILE.replace('"HCPCS"', '"CODE"'), "no header row naming HCPCS"),
        (CMS_RVU_FILE.replace('"GLOB"', '"GLOBAL"'), "no GLOB DAYS column"),
        (CMS_RVU_FILE.replace('"000","0.10"', '"045","0.10"'), "line 6: global days '045'"),
        (CMS_RVU_FILE.replace('"0.80"', '"8.0"'), "line 6: the pre-, intra- and postoperative shares"),
    ],
)
def test_a_malformed_relative_value_file_is_refused_naming_the_line(broken: str, message: str) -> None:
    with pytest.raises(CodeSetError, match=message):
        read_cms_rvu_file(broken, "PPRRVU26_JAN.csv")


def test_the_package_marks_manifestations_and_codes_under_a_code_first_note(catalog: Icd10Catalog) -> None:
    """ICD-10-CM Official Guidelines I.A.13, read off the tabular: G63's title says "in diseases classified
    elsewhere"; F06's "code first" note holds for F06.30 beneath it; E11.9 has neither."""
    polyneuropathy = catalog.lookup("G63", date(2026, 11, 2))
    mood = catalog.lookup("F06.30", date(2026, 11, 2))
    diabetes = catalog.lookup("E11.9", date(2026, 11, 2))
    assert polyneuropathy is not None
    assert mood is not None
    assert diabetes is not None
    assert (polyneuropathy.manifestation, polyneuropathy.code_first) == (True, True)
    assert (mood.manifestation, mood.code_first) == (False, True)
    assert (diabetes.manifestation, diabetes.code_first) == (False, False)
    for manifestation in ("G01", "M01.X0", "M14.60", "J91.8"):  # "in bacterial diseases...", M14's title
        found = catalog.lookup(manifestation, date(2026, 11, 2))
        assert found is not None, manifestation
        assert found.manifestation, manifestation
    organism = catalog.lookup("B95.0", date(2026, 11, 2))  # "as the cause of diseases classified elsewhere"
    assert organism is not None
    assert not organism.manifestation
    immunization = catalog.lookup("Z23", date(2026, 11, 2))  # "code first any routine childhood examination"
    assert immunization is not None
    assert not immunization.code_first


def test_quarterly_relative_value_files_load_in_release_order(tmp_path: Path) -> None:
    """CMS's April file corrects January's: it is loaded after it, though 'APR' sorts before 'JAN'."""
    (tmp_path / "PPRRVU26_JAN.csv").write_text(CMS_RVU_FILE, encoding="utf-8")
    (tmp_path / "PPRRVU26_APR.csv").write_text(CMS_RVU_FILE.replace('"000","0.10"', '"010","0.10"'), encoding="utf-8")

    injection = load_fee_schedule(tmp_path).entry("20610")

    assert injection is not None
    assert injection.global_days == "010"
