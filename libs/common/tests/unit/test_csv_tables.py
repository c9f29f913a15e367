"""CSV tables taken whole or not at all: the header read in any order and case, every problem with its row
and column and never the cell, one problem a cell, formulas refused in and defused out, the row limit, and
the 422 an API answers."""

from __future__ import annotations

import pytest

from rcm_common.csv_tables import (
    CsvFileError,
    CsvProblem,
    CsvRow,
    InvalidCell,
    defused,
    raise_if_any,
    read_rows,
    refusal,
    refuse_formula,
    write_csv,
)

COLUMNS = ("name", "count", "note")
REQUIRED = frozenset({"name", "count"})


def _count(cell: str) -> int:
    if not cell.isdigit():
        raise InvalidCell("a count is a whole number")
    return int(cell)


def _note(cell: str) -> str:
    refuse_formula(cell, "a note")
    return cell


def table(text: str, *, max_rows: int = 100) -> list[tuple[str, int, str]]:
    """A tiny table of the kind a service reads: every row's cells taken, refused whole."""
    problems: list[CsvProblem] = []
    rows = []
    for row in read_rows(text, COLUMNS, REQUIRED, problems, max_rows=max_rows):
        read = (row.take("name", str, ""), row.take("count", _count, 0), row.take("note", _note, ""))
        if row.valid:
            rows.append(read)
    raise_if_any(problems)
    return rows


def problems_of(text: str, *, max_rows: int = 100) -> list[CsvProblem]:
    with pytest.raises(CsvFileError) as refused:
        table(text, max_rows=max_rows)
    return refused.value.problems


def test_the_header_names_the_columns_in_any_order_and_case_after_a_bom_and_with_crlf() -> None:
    text = "\ufeffCOUNT, Name \r\n3 , a \r\n\r\n4,b\r\n"

    assert table(text) == [("a", 3, ""), ("b", 4, "")]


def test_every_problem_is_listed_by_row_and_column_in_row_order() -> None:
    text = "name,count,note\na,x,\nb,1,=SUM(A1)\nc,2,ok,extra\nd,y,@me\n"

    assert problems_of(text) == [
        CsvProblem(2, "count", "a count is a whole number"),
        CsvProblem(3, "note", "a note cannot begin with =, +, -, or @, which spreadsheets run as a formula"),
        CsvProblem(4, None, "the row has more cells than the header has columns (3)"),
        CsvProblem(5, "count", "a count is a whole number"),
        CsvProblem(5, "note", "a note cannot begin with =, +, -, or @, which spreadsheets run as a formula"),
    ]


def test_the_header_must_name_known_columns_once_and_every_required_one() -> None:
    assert problems_of("Name,NAME,,Jane Doe\nx,y,z,w\n") == [
        CsvProblem(1, "name", "the column is named twice"),
        CsvProblem(1, None, "column 3 has no name"),
        CsvProblem(1, None, "column 4 is unknown; the columns are name, count, note"),
        CsvProblem(1, "count", "the required column is missing"),
    ]


def test_a_file_without_a_header_never_has_its_first_row_echoed_as_column_names() -> None:
    problems = problems_of("Jane Doe,1980-01-02,MRN 7\n")

    assert all("Jane" not in p.message and "1980" not in p.message for p in problems)
    assert all(p.column is None or p.column in COLUMNS for p in problems)


def test_a_row_left_short_reads_blank_and_an_optional_column_may_be_absent() -> None:
    assert table("name,count,note\na,1\n") == [("a", 1, "")]
    assert table("count,name\n2,b\n") == [("b", 2, "")]


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n", ",,\na,1\n"])
def test_a_file_without_a_header_is_refused(text: str) -> None:
    assert problems_of(text) == [CsvProblem(1, None, "row 1 must be the header naming the columns: name, count, note")]


@pytest.mark.parametrize("text", ["name,count", "name,count\r\n", "name,count\n\n , \n"])
def test_a_file_without_data_rows_is_refused(text: str) -> None:
    assert problems_of(text) == [CsvProblem(1, None, "the file has no data rows")]


def test_reading_stops_past_the_row_limit_blank_rows_not_counted() -> None:
    rows = "name,count\na,1\n\nb,2\nc,3\n"

    assert len(table(rows, max_rows=3)) == 3
    assert problems_of(rows + "d,4\ne,5\n", max_rows=3) == [CsvProblem(6, None, "the file has more than 3 data rows")]


def test_a_row_the_csv_module_cannot_split_is_reported_and_reading_stops() -> None:
    text = "name,count\na,1\nb," + "9" * 200_000 + "\nc,x\n"

    [problem] = problems_of(text)

    assert (problem.row, problem.column) == (3, None)
    assert problem.message.startswith("the row is not valid CSV (field larger than field limit")


def test_a_cell_has_one_problem_the_first_and_a_missing_column_none_of_its_own() -> None:
    problems: list[CsvProblem] = []
    row = CsvRow(2, problems, {"name": "=x", "count": ""})

    row.problem("name", "first")
    row.problem("name", "second")
    row.problem("note", "the header lacks this column")
    row.problem(None, "the row's")
    row.problem(None, "the row's, again")

    assert problems == [
        CsvProblem(2, "name", "first"),
        CsvProblem(2, None, "the row's"),
        CsvProblem(2, None, "the row's, again"),
    ]
    assert not row.valid


def test_nothing_is_raised_for_a_good_file_and_problems_are_raised_in_row_order() -> None:
    raise_if_any([])
    with pytest.raises(CsvFileError) as refused:
        raise_if_any([CsvProblem(3, "a", "x"), CsvProblem(1, None, "y"), CsvProblem(3, None, "z")])

    assert [(p.row, p.message) for p in refused.value.problems] == [(1, "y"), (3, "x"), (3, "z")]
    assert str(refused.value) == "the file has 3 problem(s); nothing was imported"


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_a_spreadsheet_would_run_is_refused_in_and_defused_out(cell: str) -> None:
    with pytest.raises(InvalidCell, match="a note cannot begin with"):
        refuse_formula(cell, "a note")
    assert defused(cell) == "'" + cell


def test_an_ordinary_cell_is_neither_refused_nor_changed() -> None:
    refuse_formula("Dr. O'Neil, MD", "a note")
    assert defused("Dr. O'Neil, MD") == "Dr. O'Neil, MD"


def test_what_is_written_is_read_back_the_same() -> None:
    text = write_csv(COLUMNS, [("a, b", "1", 'said "hi"'), ("c", "2", "")])

    assert text == 'name,count,note\r\n"a, b",1,"said ""hi"""\r\nc,2,\r\n'
    assert table(text) == [("a, b", 1, 'said "hi"'), ("c", 2, "")]


def test_a_refused_file_is_a_422_naming_row_and_column_the_first_two_hundred() -> None:
    problems = [CsvProblem(1, None, "the file has no data rows")] + [
        CsvProblem(row, "count", "a count is a whole number") for row in range(2, 302)
    ]

    failed = refusal(CsvFileError(problems))

    assert failed.status == 422
    assert failed.detail == "The file has 301 problems; nothing was stored."
    assert len(failed.errors) == 200
    assert failed.errors[:2] == [
        {"field": "row 1", "message": "the file has no data rows"},
        {"field": "row 2 count", "message": "a count is a whole number"},
    ]
