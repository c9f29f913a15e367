"""The patient statement as the paper a practice mails: a US Letter PDF with the payee's letterhead, the
guarantor's address where a #10 window envelope shows it, the amount due and its due date (and a payment
plan's terms) in a box beside it, the notice, every visit with what was billed, paid, adjusted and
owed, the balance by age, how to pay, and a stub to tear off and send back with the payment.

The visits run onto as many pages as they need, their column headings repeated on each; the stub is always at
the foot of the last page. Text uses the PDF core font Helvetica, which only knows Latin-1: other characters
are spelled in Latin-1 where they can be and replaced otherwise. The same statement gives the same bytes (the
creation date is the statement date; the file id is a hash of the content), and the metadata carries no PHI.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Final, cast

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from rcm_collections.domain.statements import Addressee, Statement
from rcm_common.printed import dollars, latin1, long_date, us_date

FONT: Final = "Helvetica"
INK: Final = (33, 33, 33)
ACCENT: Final = (24, 55, 99)
MUTED: Final = (105, 105, 105)
RULE: Final = (190, 196, 204)
PANEL: Final = (240, 243, 247)
STRIPE: Final = (244, 246, 249)
NOTICE_COLOURS: Final[dict[int | None, tuple[int, int, int]]] = {
    None: (46, 125, 80),  # on a payment plan
    1: ACCENT,
    2: (196, 120, 0),
    3: (170, 30, 30),
}
MARGIN: Final = 15.0  # mm, left and right
TOP: Final = 11.0  # mm
BOTTOM: Final = 13.0  # mm kept clear at the foot of every page
# Where a #10 window envelope shows the address of a letter folded in three: 7/8" from the left, 2" down. The
# stub's remit-to address starts at the same distance from the left.
WINDOW_X: Final = 22.0
WINDOW_Y: Final = 51.0
WINDOW_WIDTH: Final = 88.0
ADDRESS_LINE: Final = 4.8
STUB_HEIGHT: Final = 62.0  # mm from the tear line to the foot of the page
SUMMARY_X: Final = 121.0  # where the summary box and the stub's figures begin
AGING_WIDTH: Final = 108.0
AGING_HEIGHT: Final = 21.0  # its title and two rows
BALANCES_WIDTH: Final = 68.0
LINE: Final = 4.4  # mm, for 9.5-point text
BUCKETS: Final = (
    ("current", "Current"),
    ("31_60", "31-60 days"),
    ("61_90", "61-90 days"),
    ("91_120", "91-120 days"),
    ("over_120", "Over 120 days"),
)
COLUMNS: Final = (
    "Date of service",
    "Provider NPI",
    "Services",
    "Billed",
    "Insurance paid",
    "Adjustments",
    "You paid",
    "You owe",
)
COLUMN_WIDTHS: Final = (19, 20, 43, 20, 21, 21, 19, 21)


def render_statement(statement: Statement) -> bytes:
    """The statement as PDF bytes: one page, or more when the visits do not fit on one. Laid out twice, the
    second time knowing the page count ("Page 1 of 3"): fpdf2's page-count alias would misalign it."""
    pages = _laid_out(statement, pages=0).pages_count
    return bytes(_laid_out(statement, pages).output())


def _laid_out(statement: Statement, pages: int) -> _StatementPdf:
    pdf = _StatementPdf(statement, pages)
    pdf.set_title("Patient statement")
    pdf.set_creator("rcm-collections")
    pdf.set_lang("en-US")
    pdf.set_creation_date(datetime.combine(statement.issued_on, time(), UTC))
    pdf.add_page()  # the header draws the letterhead, the address and the summary
    _write_message(pdf, statement)
    _write_visits(pdf, statement)
    _write_balances_and_aging(pdf, statement)
    _write_how_to_pay(pdf, statement)
    _write_stub(pdf, statement)
    return pdf


# The words and figures.


def account_number(statement: Statement) -> str:
    """The account number a guarantor quotes: the first 8 hex digits of the account id, upper-cased."""
    return statement.account_id.hex[:8].upper()


def _address_lines(addressee: Addressee) -> list[str]:
    city = f"{addressee.city}, {addressee.state} {addressee.postal_code}"
    return [line for line in (addressee.name, addressee.line1, addressee.line2, city) if line]


def _pay_address_lines(statement: Statement) -> list[str]:
    """The payee and the address to mail to, a line each where the address has line breaks."""
    lines = [line.strip() for line in statement.pay_address.splitlines()]
    return [statement.payee, *filter(None, lines)]


# The page.


class _StatementPdf(FPDF):
    """US Letter pages: the first with the letterhead, the window address and the summary box; the others with
    a slim header that says whose statement it is and which page."""

    def __init__(self, statement: Statement, pages: int) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.statement = statement
        self.page_total = pages
        self.set_margins(left=MARGIN, top=TOP, right=MARGIN)
        self.set_auto_page_break(auto=True, margin=BOTTOM)
        self.set_text_color(*INK)

    def normalize_text(self, text: str) -> str:
        """Every string drawn passes here: none can stop the statement with a character Latin-1 lacks."""
        return super().normalize_text(latin1(text))

    def header(self) -> None:
        if self.page_no() == 1:
            _write_letterhead(self, self.statement, self.page_total)
            _write_addressee(self, self.statement.addressee)
            bottom = _write_summary(self, self.statement)
            self.set_xy(self.l_margin, max(bottom, _address_bottom(self.statement.addressee)) + 5)
        else:
            _write_running_header(self, self.statement, self.page_total)


def _write_letterhead(pdf: FPDF, statement: Statement, pages: int) -> None:
    """The payee and where to reach it on the left, in the return window; the title and the statement's
    references on the right."""
    pdf.set_xy(MARGIN, TOP)
    pdf.set_font(FONT, "B", 14)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(95, 6.2, statement.payee, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*MUTED)
    for line in (*_pay_address_lines(statement)[1:], statement.pay_phone):
        pdf.multi_cell(95, 3.9, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    left_bottom = pdf.get_y()

    right = 120.0
    width = pdf.w - MARGIN - right
    pdf.set_xy(right, TOP)
    pdf.set_font(FONT, "B", 17)
    pdf.set_text_color(*ACCENT)
    pdf.cell(width, 7, "Patient statement", align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(1.5)
    rows = (
        ("Statement date", long_date(statement.issued_on)),
        ("Account number", account_number(statement)),
        ("Page", f"{pdf.page_no()} of {pages}"),
    )
    for label, value in rows:
        pdf.set_x(right)
        pdf.set_font(FONT, size=8.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(width - 42, 4.3, label, align="R")
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(*INK)
        pdf.cell(42, 4.3, value, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_x(right)
    pdf.set_font(FONT, size=6.5)
    pdf.set_text_color(*MUTED)
    pdf.cell(width, 3.4, f"Account {statement.account_id}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    rule_y = max(left_bottom, pdf.get_y()) + 3
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(MARGIN, rule_y, pdf.w - MARGIN, rule_y)


def _write_running_header(pdf: FPDF, statement: Statement, pages: int) -> None:
    """The header of a page after the first: payee, title, account and page, over a rule."""
    pdf.set_font(FONT, size=8.5)
    reference = (
        f"Patient statement (continued)  |  Account {account_number(statement)}  |  Page {pdf.page_no()} of {pages}"
    )
    reference_width = pdf.get_string_width(reference) + 1
    pdf.set_xy(pdf.w - MARGIN - reference_width, TOP)
    pdf.set_text_color(*MUTED)
    pdf.cell(reference_width, 5, reference, align="R")
    pdf.set_xy(MARGIN, TOP)
    pdf.set_text_color(*ACCENT)
    _fitted_cell(pdf, pdf.epw - reference_width - 4, 5, statement.payee, "B", 10)
    pdf.set_text_color(*INK)
    pdf.ln(1)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.4)
    pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
    pdf.ln(5)


def _address_bottom(addressee: Addressee) -> float:
    return WINDOW_Y + ADDRESS_LINE * len(_address_lines(addressee))


def _write_addressee(pdf: FPDF, addressee: Addressee) -> None:
    """The guarantor's name and address where the envelope's window shows them."""
    pdf.set_xy(WINDOW_X, WINDOW_Y)
    for number, line in enumerate(_address_lines(addressee)):
        pdf.set_x(WINDOW_X)
        _fitted_cell(pdf, WINDOW_WIDTH, ADDRESS_LINE, line, "B" if number == 0 else "", 10.5)


def _write_summary(pdf: FPDF, statement: Statement) -> float:
    """The box beside the address: the amount to pay and its date (on a plan, the installment), and a plan's
    terms; returns its bottom."""
    x, y = SUMMARY_X, WINDOW_Y - 4
    width = pdf.w - MARGIN - x
    inner = width - 10
    rows = _plan_rows(statement) if statement.plan is not None else []
    height = 29 + (6 + 5 * len(rows) if rows else 0)
    pdf.set_fill_color(*PANEL)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    pdf.rect(x, y, width, height, style="DF")
    pdf.set_fill_color(*ACCENT)
    pdf.rect(x, y, 2.2, height, style="F")

    pdf.set_xy(x + 6, y + 3.5)
    pdf.set_font(FONT, "B", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(inner, 4, "INSTALLMENT DUE" if statement.plan else "AMOUNT DUE", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 22)
    pdf.set_text_color(*ACCENT)
    pdf.cell(inner, 10, dollars(_to_pay(statement)), new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9.5)
    pdf.set_text_color(*INK)
    pdf.cell(inner, 5, f"Please pay by {long_date(_pay_by(statement))}", new_x=XPos.LEFT, new_y=YPos.NEXT)
    if rows:
        pdf.ln(2)
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        pdf.line(x + 6, pdf.get_y(), x + width - 4, pdf.get_y())
        pdf.set_xy(x + 6, pdf.get_y() + 1.5)
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(*MUTED)
        pdf.cell(inner, 4.5, "YOUR PAYMENT PLAN", new_x=XPos.LEFT, new_y=YPos.NEXT)
        for label, value in rows:
            pdf.set_font(FONT, size=9.5)
            pdf.set_text_color(*INK)
            pdf.cell(inner - 30, 5, label)
            pdf.set_font(FONT, "B", 9.5)
            pdf.cell(30, 5, value, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.set_x(x + 6)
    pdf.set_text_color(*INK)
    return y + height


def _plan_rows(statement: Statement) -> list[tuple[str, str]]:
    plan = statement.plan
    assert plan is not None  # only a plan's statement has plan rows
    return [
        ("Balance due", dollars(statement.amount_due)),
        ("Remaining on plan", dollars(plan.remaining)),
        ("Installments left", str(plan.installments_left)),
    ]


def _to_pay(statement: Statement) -> Decimal:
    """What this statement asks to be paid now: the plan's installment, or else the amount due."""
    return statement.plan.installment_due if statement.plan is not None else statement.amount_due


def _pay_by(statement: Statement) -> date:
    return statement.plan.next_due_on if statement.plan is not None else statement.due_by


def _write_message(pdf: FPDF, statement: Statement) -> None:
    """The notice (or the plan's thanks) in a tinted panel, its bar coloured by how firm the notice is; the
    final notice in bold."""
    pdf.set_font(FONT, "B" if statement.dunning_level == 3 else "", 9.5)
    width = pdf.epw - 10
    height = _text_height(pdf, width, LINE, statement.message) + 5
    y = pdf.get_y()
    pdf.set_fill_color(*PANEL)
    pdf.rect(MARGIN, y, pdf.epw, height, style="F")
    pdf.set_fill_color(*NOTICE_COLOURS.get(statement.dunning_level, ACCENT))
    pdf.rect(MARGIN, y, 2.2, height, style="F")
    pdf.set_xy(MARGIN + 6, y + 2.5)
    pdf.multi_cell(width, LINE, statement.message, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(y + height + 4)


def _write_visits(pdf: FPDF, statement: Statement) -> None:
    """The visits, one row each, with column totals; the headings repeat on every page the table reaches."""
    _section_title(pdf, "Your visits", keep_with=18)
    lines = statement.lines
    totals = [
        sum((getattr(line, field) for line in lines), Decimal(0))
        for field in ("billed", "insurance_paid", "adjustments", "patient_paid", "patient_owes")
    ]
    _table_ink(pdf, size=8.5)
    heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=ACCENT, size_pt=8)
    stripe = FontFace(fill_color=STRIPE)
    total = FontFace(emphasis="BOLD", fill_color=PANEL)
    with pdf.table(
        borders_layout=TableBordersLayout.HORIZONTAL_LINES, col_widths=COLUMN_WIDTHS,
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"), line_height=3.9,
        padding=(1.1, 1.5), headings_style=heading, v_align="TOP",
    ) as table:  # fmt: skip
        table.row(COLUMNS)
        for number, line in enumerate(lines):
            table.row((
                us_date(line.date_of_service), line.provider_npi or "-", ", ".join(line.services) or "-",
                dollars(line.billed), dollars(line.insurance_paid), dollars(line.adjustments),
                dollars(line.patient_paid), dollars(line.patient_owes),
            ), style=stripe if number % 2 else None)  # fmt: skip
        row = table.row(style=total)
        row.cell(f"Totals ({len(lines)} visit{'' if len(lines) == 1 else 's'})", colspan=3)
        for amount in totals:
            row.cell(dollars(amount))
    pdf.ln(4)


def _write_balances_and_aging(pdf: FPDF, statement: Statement) -> None:
    """Side by side under the table: the amount due by age on the left; on the right what insurance still
    has and any credit (each when not zero) and the amount due."""
    rows: list[tuple[str, Decimal, str | None]] = []
    if statement.awaiting_insurance:
        rows.append(("Awaiting insurance", statement.awaiting_insurance, "With your insurer; not billed to you"))
    if statement.credit:
        rows.append(("Credit on account", statement.credit, None))
    rows.append(("Balance due" if statement.plan else "Amount due", statement.amount_due, None))
    balances_height = sum(5.2 + (3.4 if note else 0) for _, _, note in rows)
    if pdf.will_page_break(max(balances_height, AGING_HEIGHT)):
        pdf.add_page()
    top = pdf.get_y()

    _section_title(pdf, "Your balance by age (days past due)", keep_with=0, width=AGING_WIDTH)
    _table_ink(pdf, size=8.5)
    with pdf.table(
        borders_layout=TableBordersLayout.ALL, text_align="CENTER", line_height=4.2, padding=(1.2, 1),
        headings_style=FontFace(emphasis="BOLD", color=MUTED, fill_color=PANEL, size_pt=7.5),
        width=AGING_WIDTH, align="LEFT",
    ) as table:  # fmt: skip
        table.row([label for _, label in BUCKETS])
        table.row([dollars(statement.aging.get(key, Decimal(0))) for key, _ in BUCKETS])
    aging_bottom = pdf.get_y()

    x = pdf.w - MARGIN - BALANCES_WIDTH
    pdf.set_xy(x, top + 1.5)
    for label, amount, note in rows:
        last = label in ("Amount due", "Balance due")
        if last:
            pdf.set_draw_color(*ACCENT)
            pdf.set_line_width(0.4)
            pdf.line(x, pdf.get_y() + 0.6, pdf.w - MARGIN, pdf.get_y() + 0.6)
            pdf.ln(1.4)
        pdf.set_x(x)
        pdf.set_font(FONT, "B" if last else "", 10.5 if last else 9.5)
        pdf.set_text_color(*(ACCENT if last else INK))
        pdf.cell(BALANCES_WIDTH - 32, 5.2, label)
        pdf.cell(32, 5.2, dollars(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if note:
            pdf.set_x(x)
            pdf.set_font(FONT, "I", 7.5)
            pdf.set_text_color(*MUTED)
            pdf.cell(BALANCES_WIDTH, 3.4, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_y(max(aging_bottom, pdf.get_y()) + 4)


def _write_how_to_pay(pdf: FPDF, statement: Statement) -> None:
    """How to pay: by mail (the payee and its address) on the left, by phone and online on the right. On the
    page of the stub it points to, so the last page is never a stub alone."""
    half = (pdf.epw - 8) / 2
    address = ", ".join(_pay_address_lines(statement)[1:]).rstrip(".")
    mail = f"Make your check payable to {statement.payee} and mail it with the stub below"
    mail = f"{mail} to {address}." if address else f"{mail}."
    pdf.set_font(FONT, size=9)
    left = _text_height(pdf, half, 4.2, mail)
    right = 6 + sum(_text_height(pdf, half, 4.2, text) for text in (statement.pay_phone, statement.pay_online))
    if pdf.get_y() + 6.5 + 5 + max(left, right) > _stub_top(pdf) - 2:
        pdf.add_page()
    _section_title(pdf, "How to pay", keep_with=0)
    top = pdf.get_y()
    _way_to_pay(pdf, MARGIN, top, half, "By mail", mail)
    left_bottom = pdf.get_y()
    x = MARGIN + half + 8
    _way_to_pay(pdf, x, top, half, "By phone", statement.pay_phone)
    _way_to_pay(pdf, x, pdf.get_y() + 1, half, "Online", statement.pay_online)
    pdf.set_xy(MARGIN, max(left_bottom, pdf.get_y()) + 4)


def _way_to_pay(pdf: FPDF, x: float, y: float, width: float, title: str, text: str) -> None:
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", 9)
    pdf.set_text_color(*ACCENT)
    pdf.cell(width, 5, title, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    pdf.set_text_color(*INK)
    pdf.multi_cell(width, 4.2, text, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)


def _stub_top(pdf: FPDF) -> float:
    return pdf.h - STUB_HEIGHT


def _write_stub(pdf: FPDF, statement: Statement) -> None:
    """The remittance stub at the foot of the last page, below a dashed tear line: the guarantor's name, the
    payee's address where a return envelope's window shows it, the account, the amount and its date, and a
    space for the amount enclosed."""
    top = _stub_top(pdf)
    if pdf.get_y() > top - 2:
        pdf.add_page()
    pdf.set_auto_page_break(auto=False)
    pdf.set_draw_color(*MUTED)
    pdf.set_line_width(0.3)
    pdf.set_dash_pattern(dash=2, gap=1.5)
    pdf.line(0, top, pdf.w, top)
    pdf.set_dash_pattern()
    pdf.set_xy(MARGIN, top + 0.8)
    pdf.set_font(FONT, "I", 7)
    pdf.set_text_color(*MUTED)
    pdf.cell(pdf.epw, 3, "Detach here and return the lower part with your payment", align="C")

    pdf.set_xy(MARGIN, top + 6)
    pdf.set_font(FONT, "B", 10.5)
    pdf.set_text_color(*ACCENT)
    pdf.cell(100, 5, "Please return this part with your payment", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*MUTED)
    _fitted_cell(pdf, SUMMARY_X - MARGIN - 6, 4, f"{statement.payee}  |  Patient statement", "", 8)

    # Left: who pays, then whom to pay, where a return envelope's window shows it.
    pdf.set_xy(WINDOW_X, top + 17)
    _stub_label(pdf, "FROM")
    from_lines = _address_lines(statement.addressee)
    _fitted_cell(pdf, 88, 4.2, from_lines[0], "B", 9)
    _fitted_cell(pdf, 88, 3.8, ", ".join(from_lines[1:]), "", 8)

    pdf.set_xy(WINDOW_X, top + 31)
    _stub_label(pdf, "MAKE PAYABLE TO AND MAIL TO")
    for number, line in enumerate(_pay_address_lines(statement)):
        pdf.set_font(FONT, "B" if number == 0 else "", 10)
        pdf.multi_cell(88, 4.6, line, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)

    # Right: the figures, and the space to write the amount enclosed.
    x = SUMMARY_X
    width = pdf.w - MARGIN - x
    rows = [
        ("Account number", account_number(statement)),
        ("Statement date", us_date(statement.issued_on)),
        ("Due by", us_date(_pay_by(statement))),
    ]
    if statement.plan is not None:
        rows.append(("Balance due", dollars(statement.amount_due)))
    rows.append(("Amount due", dollars(_to_pay(statement))))
    row_height = 6.2
    box_top = top + 6
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.25)
    for number, (label, value) in enumerate(rows):
        y = box_top + number * row_height
        emphasised = label == "Amount due"
        pdf.set_fill_color(*(PANEL if emphasised else (255, 255, 255)))
        pdf.rect(x, y, width, row_height, style="DF")
        pdf.set_xy(x + 3, y)
        pdf.set_font(FONT, size=8.5)
        pdf.set_text_color(*MUTED)
        pdf.cell(width / 2, row_height, label)
        pdf.set_font(FONT, "B", 11 if emphasised else 9.5)
        pdf.set_text_color(*(ACCENT if emphasised else INK))
        pdf.cell(width / 2 - 6, row_height, value, align="R")
    y = box_top + len(rows) * row_height + 3
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    pdf.rect(x, y, width, 11)
    pdf.set_xy(x + 3, y)
    pdf.set_font(FONT, "B", 10)
    pdf.set_text_color(*INK)
    pdf.cell(32, 11, "Amount enclosed:")
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.3)
    pdf.cell(5, 11, "$")
    pdf.line(pdf.get_x(), y + 7.6, x + width - 4, y + 7.6)


# Helpers.


def _fitted_cell(pdf: FPDF, width: float, height: float, text: str, style: str, size: float) -> None:
    """A line of text in the font size given, or smaller until it fits the width (6.5 points at the least, and
    cut short with "..." if even that is too wide), then the cursor under it."""
    pdf.set_font(FONT, style, size)
    while size > 6.5 and pdf.get_string_width(text) > width:
        size -= 0.5
        pdf.set_font(FONT, style, size)
    if pdf.get_string_width(text) > width:
        while text and pdf.get_string_width(f"{text}...") > width:
            text = text[:-1]
        text = f"{text.rstrip()}..."
    pdf.cell(width, height, text, new_x=XPos.LEFT, new_y=YPos.NEXT)


def _stub_label(pdf: FPDF, label: str) -> None:
    pdf.set_font(FONT, size=7)
    pdf.set_text_color(*MUTED)
    pdf.cell(88, 3.6, label, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)


def _section_title(pdf: FPDF, title: str, keep_with: float, width: float = 0) -> None:
    """A section's title, moved to the next page with what follows it when that would not fit."""
    if pdf.will_page_break(6.5 + keep_with):
        pdf.add_page()
    pdf.set_x(MARGIN)
    pdf.set_font(FONT, "B", 11)
    pdf.set_text_color(*ACCENT)
    pdf.cell(width or pdf.epw, 6.5, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)


def _table_ink(pdf: FPDF, size: float) -> None:
    """The font, rules and a white fill for a table: fpdf2 fills a cell without a fill colour of its own in
    whatever fill colour was set last."""
    pdf.set_font(FONT, size=size)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.set_fill_color(255, 255, 255)


def _text_height(pdf: FPDF, width: float, line_height: float, text: str) -> float:
    return cast(
        float, pdf.multi_cell(width, line_height, text, align="L", dry_run=True, output=MethodReturnValue.HEIGHT)
    )
