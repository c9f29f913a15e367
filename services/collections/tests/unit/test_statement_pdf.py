"""The patient statement as a PDF, read back as poppler reads it: it says what the guarantor owes and why (each
visit's amounts, the balance by age, the notice), shows a payment plan's terms, runs 40 visits onto more pages
with the stub on the last only, draws a page with ink on it, survives any character and comes out the same
twice."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from PIL import Image

from rcm_collections.adapters.statement_pdf import render_statement
from rcm_collections.domain.statements import (
    DUNNING_MESSAGES,
    PLAN_MESSAGE,
    Addressee,
    PlanTerms,
    Statement,
    StatementLine,
)

LINES = (
    StatementLine(
        UUID(int=1), date(2026, 8, 3), "1497758544", ("99214", "36415"),
        Decimal("245.00"), Decimal("158.40"), Decimal("41.60"), Decimal("10.00"), Decimal("35.00"), 75, "61_90",
    ),
    StatementLine(
        UUID(int=2), date(2026, 9, 14), "1023456789", ("72148-26",),
        Decimal("1450.00"), Decimal("980.00"), Decimal("320.00"), Decimal("0.00"), Decimal("150.00"), 40, "31_60",
    ),
    StatementLine(
        UUID(int=3), date(2026, 10, 21), None, ("99213",),
        Decimal("180.00"), Decimal("112.25"), Decimal("30.50"), Decimal("12.25"), Decimal("25.00"), 5, "current",
    ),
)  # fmt: skip
STATEMENT = Statement(
    id=UUID("3f2a9c1e-8b7d-4e6f-a1b2-c3d4e5f60718"),
    account_id=UUID("9c41e7a2-5b3d-4f80-9e1a-2b6c7d8e9f01"),
    issued_on=date(2026, 11, 20),
    due_by=date(2026, 12, 11),
    addressee=Addressee("Jane Q. Doe", "1234 Elm Street", "Apt 5B", "Springfield", "IL", "62704-1234"),
    lines=LINES,
    awaiting_insurance=Decimal("312.50"),
    credit=Decimal("15.00"),
    amount_due=Decimal("210.00"),
    aging={
        "current": Decimal("25.00"),
        "31_60": Decimal("150.00"),
        "61_90": Decimal("35.00"),
        "91_120": Decimal("0.00"),
        "over_120": Decimal("0.00"),
    },
    dunning_level=2,
    message=DUNNING_MESSAGES[2],
    plan=None,
    payee="Maple Street Family Practice",
    pay_address="Attn: Patient Accounts\nPO Box 14079\nSpringfield, IL 62704-4079",
    pay_phone="(217) 555-0100",
    pay_online="https://pay.maplestreetfp.example",
)
PLAN = PlanTerms(Decimal("85.00"), date(2026, 12, 1), Decimal("1234.56"), 6)


def poppler(tool: str) -> str:
    """A poppler-utils program; its absence fails the test, since without it nothing checks what the PDF says."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install poppler-utils (apt-get install poppler-utils)")
    return path


def pages_of(statement: Statement, tmp_path: Path) -> list[str]:
    """The text of each page as laid out, its whitespace runs made single spaces so rows read as one line."""
    source = tmp_path / "statement.pdf"
    source.write_bytes(render_statement(statement))
    command = [poppler("pdftotext"), "-layout", str(source), "-"]
    text = subprocess.run(command, capture_output=True, check=True, text=True).stdout
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


def page_count(pdf: bytes, tmp_path: Path) -> int:
    source = tmp_path / "count.pdf"
    source.write_bytes(pdf)
    info = subprocess.run([poppler("pdfinfo"), str(source)], capture_output=True, check=True, text=True).stdout
    match = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert match is not None, info
    return int(match[1])


def assert_in_order(text: str, *parts: str) -> None:
    """Each part is in the text, after the one before it."""
    position = 0
    for part in parts:
        found = text.find(part, position)
        assert found >= 0, f"{part!r} not found after {text[max(0, position - 80) : position]!r}"
        position = found + len(part)


def many_lines(count: int) -> tuple[StatementLine, ...]:
    return tuple(
        StatementLine(
            UUID(int=number), date(2025, 1, 6) + timedelta(days=7 * number), "1497758544",
            ("99214", "36415", "85025-QW", "81002") if number % 3 == 0 else ("99213",),
            Decimal("200.00") + number, Decimal("120.00"), Decimal("40.00"), Decimal("0.00"), Decimal(40 + number),
            30, "current",
        )
        for number in range(count)
    )  # fmt: skip


def test_the_statement_says_what_is_owed_and_why(tmp_path: Path) -> None:
    pages = pages_of(STATEMENT, tmp_path)
    text = " ".join(pages)

    assert len(pages) == 1
    for expected in (
        "Patient statement",
        "Maple Street Family Practice",
        "Statement date November 20, 2026",
        "Account number 9C41E7A2",
        "9c41e7a2-5b3d-4f80-9e1a-2b6c7d8e9f01",
        DUNNING_MESSAGES[2],
        "08/03/2026 1497758544 99214, 36415 $245.00 $158.40 $41.60 $10.00 $35.00",
        "09/14/2026 1023456789 72148-26 $1,450.00 $980.00 $320.00 $0.00 $150.00",
        "10/21/2026 - 99213 $180.00 $112.25 $30.50 $12.25 $25.00",
        "Totals (3 visits) $1,875.00 $1,250.65 $392.10 $22.25 $210.00",
        "Current 31-60 days 61-90 days 91-120 days Over 120 days",
        "$25.00 $150.00 $35.00 $0.00 $0.00",
        "Awaiting insurance $312.50",
        "Credit on account $15.00",
        "How to pay",
        "(217) 555-0100",
        "https://pay.maplestreetfp.example",
        "Please return this part with your payment",
        "Amount enclosed: $",
    ):
        assert expected in text, expected
    assert "YOUR PAYMENT PLAN" not in text
    # The address and the summary box beside it share lines of the text as laid out.
    assert_in_order(text, "Jane Q. Doe", "1234 Elm Street", "Apt 5B", "Springfield, IL 62704-1234")
    assert_in_order(text, "AMOUNT DUE", "$210.00", "Please pay by December 11, 2026", "Second notice")
    stub = text.split("Please return this part with your payment", 1)[1]
    assert_in_order(stub, "Account number 9C41E7A2", "Due by 12/11/2026", "Amount due $210.00", "Amount enclosed: $")


def test_nothing_awaiting_insurance_and_no_credit_leave_their_lines_out(tmp_path: Path) -> None:
    statement = dataclasses.replace(STATEMENT, awaiting_insurance=Decimal("0.00"), credit=Decimal("0.00"))

    text = " ".join(pages_of(statement, tmp_path))

    assert "Awaiting insurance" not in text
    assert "Credit on account" not in text


def test_a_statement_on_a_payment_plan_shows_its_terms(tmp_path: Path) -> None:
    statement = dataclasses.replace(STATEMENT, dunning_level=None, message=PLAN_MESSAGE, plan=PLAN)

    text = " ".join(pages_of(statement, tmp_path))

    for expected in (
        "INSTALLMENT DUE",
        "Please pay by December 1, 2026",
        "YOUR PAYMENT PLAN",
        "Balance due $210.00",
        "Remaining on plan $1,234.56",
        "Installments left 6",
        "Due by 12/01/2026",
        "Amount due $85.00",
        PLAN_MESSAGE,
    ):
        assert expected in text, expected
    assert "notice" not in text.lower()


def test_forty_visits_run_onto_more_pages_with_the_headings_repeated_and_the_stub_last(tmp_path: Path) -> None:
    lines = many_lines(40)
    statement = dataclasses.replace(STATEMENT, lines=lines)

    pages = pages_of(statement, tmp_path)
    text = " ".join(pages)

    assert page_count(render_statement(statement), tmp_path) == len(pages) > 1
    for line in lines:
        assert line.date_of_service is not None
        assert f"{line.date_of_service:%m/%d/%Y}" in text
    assert "Totals (40 visits)" in text
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
    table_pages = [page for page in pages if "$" in page and "/2025 1497758544" in page]
    assert len(table_pages) > 1
    assert all("Date of Provider NPI Services Billed Insurance" in page for page in table_pages)
    assert "Please return this part with your payment" in pages[-1]
    assert not any("Please return this part" in page for page in pages[:-1])


def test_page_one_renders_as_a_page_with_ink_on_it(tmp_path: Path) -> None:
    source = tmp_path / "statement.pdf"
    source.write_bytes(render_statement(STATEMENT))

    subprocess.run([poppler("pdftoppm"), "-png", "-r", "60", str(source), str(tmp_path / "page")], check=True)

    png = tmp_path / "page-1.png"
    assert png.exists()
    assert png.stat().st_size > 20_000
    with Image.open(png) as page:
        assert page.size == (510, 660)  # US Letter at 60 dpi
        assert sum(page.convert("L").histogram()[:192]) > 10_000


def test_any_character_is_written_without_stopping_the_statement(tmp_path: Path) -> None:
    addressee = dataclasses.replace(STATEMENT.addressee, name="Zoë Łukasz-Nguyễn 李", line1="12 \u201cThe Oaks\u201d")
    statement = dataclasses.replace(STATEMENT, addressee=addressee, payee="Ødegård Clinic \u2014 Billing")

    text = " ".join(pages_of(statement, tmp_path))

    assert "Zoë ?ukasz-Nguyen ?" in text  # Latin-1 has ë, not ễ (but its e), nor Ł or 李
    assert '12 "The Oaks"' in text
    assert "Ødegård Clinic - Billing" in text


def test_the_same_statement_gives_the_same_bytes_and_no_phi_in_the_metadata(tmp_path: Path) -> None:
    pdf = render_statement(STATEMENT)
    source = tmp_path / "statement.pdf"
    source.write_bytes(pdf)

    info = subprocess.run(
        [poppler("pdfinfo"), "-isodates", str(source)], capture_output=True, check=True, text=True
    ).stdout

    assert render_statement(STATEMENT) == pdf
    assert "Title:           Patient statement" in info
    assert "CreationDate:    2026-11-20T00:00:00Z" in info
    for phi in ("Jane", "Doe", "Elm", "62704"):
        assert phi not in info
