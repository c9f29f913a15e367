"""The appeal of a denied claim as the letter a billing office mails or uploads to the payer: a US Letter PDF
with the practice's letterhead, the payer's appeals address, the claim at a glance, a body worded for the
denial's category, the denied lines, a signature block and the enclosures.

The body comes from a `string.Template` per denial category (`data/appeal_templates/<category>.txt`, with
`default.txt` for a category that has none), which a practice may replace from a directory of its own.
Paragraphs are separated by a blank line (a single line break stays a line break); the table of denied lines
follows the first paragraph; a dollar sign is written `$$`. The placeholders: `$practice_name`, `$payer_name`,
`$patient_name`, `$member_id`, `$claim_number` (the payer's), `$patient_control_number` (CLM01),
`$date_of_service`, `$total_charge`, `$amount_paid`, `$amount_at_stake`, `$denial_reasons` (every reason and
remark in words), `$appeal_level` ("first-level appeal"), `$appeal_number`, `$appeal_reason`, `$argument`,
`$enclosures` and `$contact` (whom to call, and how). Templates are checked when loaded, so a bad one fails at
start-up, not at letter time.

The letter uses the PDF core font Helvetica, which only knows Latin-1: other characters are spelled in Latin-1
where they can be and replaced otherwise. The same facts give the same bytes (the creation date is the letter
date; the file id is a hash of the content), and the metadata names the claim by CLM01 only, which carries no
PHI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template
from types import MappingProxyType
from typing import Final, Literal, cast, get_args

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, TableBordersLayout, XPos, YPos
from fpdf.fonts import FontFace

from rcm_claim.domain.denial_work import LEVEL_NAMES
from rcm_common.events.remittance import DenialCategoryName
from rcm_common.printed import dollars, latin1, long_date, us_date

DENIAL_CATEGORIES: Final[tuple[str, ...]] = get_args(DenialCategoryName)  # remittance's categories
DEFAULT_TEMPLATE: Final = "default"
TEMPLATE_NAMES: Final = (*DENIAL_CATEGORIES, DEFAULT_TEMPLATE)

FONT: Final = "Helvetica"
TEXT_SIZE: Final = 10
LINE_HEIGHT: Final = 4.6  # mm, for TEXT_SIZE
PARAGRAPH_SPACE: Final = 2.4  # mm
SMALL_LINE_HEIGHT: Final = 4.2  # mm, for the 9-point enclosures
INK: Final = (33, 33, 33)
ACCENT: Final = (24, 55, 99)
MUTED: Final = (110, 110, 110)
SIGNATURE_SPACE: Final = 11.0  # mm left blank for the pen


class AppealTemplateError(ValueError):
    """A template that cannot be read or names a placeholder the letter does not fill; says which file."""


@dataclass(frozen=True, slots=True)
class LetterParty:
    """Who writes or receives the letter: a name, the lines of a postal address, and how to reach them."""

    name: str
    address_lines: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class AppealedLine:
    """A denied service line as the payer decided it, with its reasons in words (e.g. "CO-197: ...")."""

    procedure_code: str
    modifiers: tuple[str, ...]
    date_of_service: date
    charge: Decimal
    paid: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AppealLetterFacts:
    """Everything the letter says, as plain data: the caller gathers it from the claim, its denial and the
    appeal. A payer without a known appeals address is written to its appeals department by name; a one-day
    claim leaves `service_to` empty."""

    practice: LetterParty
    practice_npi: str
    practice_tax_id: str
    payer: LetterParty
    patient_name: str
    patient_birth_date: date
    member_id: str
    patient_control_number: str  # CLM01
    payer_claim_number: str
    service_from: date
    total_charge: Decimal
    amount_paid: Decimal
    denial_category: str
    denial_reasons: tuple[str, ...]  # each CARC with its description, e.g. "CO-197: Precertification ... absent."
    amount_at_stake: Decimal
    lines: tuple[AppealedLine, ...]
    appeal_level: Literal[1, 2, 3]
    appeal_number: int  # the appeal's number on the claim
    appeal_reason: str
    argument: str
    letter_date: date
    remark_codes: tuple[str, ...] = ()  # each RARC with its description
    attachments: tuple[str, ...] = ()
    practice_contact: str | None = None
    service_to: date | None = None


@dataclass(frozen=True, slots=True)
class AppealTemplates:
    """The letter bodies by denial category, checked; `default` words a category without one of its own."""

    by_category: Mapping[str, Template]
    default: Template

    def for_category(self, category: str) -> Template:
        return self.by_category.get(category, self.default)


def load_appeal_templates(directory: Path | None = None) -> AppealTemplates:
    """The packaged templates, each replaced by the practice's `<category>.txt` in `directory` if it has one.
    A file there that names no category is refused too: a misspelt override would otherwise go unnoticed."""
    packaged = files("rcm_claim.adapters.data").joinpath("appeal_templates")
    sources: dict[str, Traversable] = {name: packaged.joinpath(f"{name}.txt") for name in TEMPLATE_NAMES}
    if directory is not None:
        sources |= _overrides(directory)
    templates = {name: _checked_template(source) for name, source in sources.items()}
    default = templates.pop(DEFAULT_TEMPLATE)
    return AppealTemplates(MappingProxyType(templates), default)


def appeal_letter_pdf(facts: AppealLetterFacts, templates: AppealTemplates) -> bytes:
    """The appeal letter as PDF bytes: one page, or more when the argument is long."""
    pdf = _LetterPdf(footer=f"Appeal of claim {facts.payer_claim_number} (our claim {facts.patient_control_number})")
    pdf.set_title(f"Appeal of claim {facts.patient_control_number}")
    pdf.set_creator("rcm-claim")
    pdf.set_lang("en-US")
    pdf.set_creation_date(datetime.combine(facts.letter_date, time(), UTC))
    pdf.add_page()
    _write_letterhead(pdf, facts)
    _write_date_and_recipient(pdf, facts)
    _write_subject(pdf, facts)
    opening, *paragraphs = _body_paragraphs(templates.for_category(facts.denial_category), facts)
    _write_paragraphs(pdf, ("Dear Appeals Reviewer:", opening))
    _write_denied_lines(pdf, facts.lines)
    _write_paragraphs(pdf, paragraphs[:-1])
    _write_closing(pdf, paragraphs[-1:], facts)
    _write_enclosures(pdf, facts.attachments)
    return bytes(pdf.output())


# The templates.


def _overrides(directory: Path) -> dict[str, Traversable]:
    if not directory.is_dir():
        raise AppealTemplateError(f"{directory}: not a directory of appeal templates")
    overrides: dict[str, Traversable] = {}
    for path in sorted(directory.glob("*.txt")):
        if path.stem not in TEMPLATE_NAMES:
            raise AppealTemplateError(f"{path}: names no denial category (one of {', '.join(TEMPLATE_NAMES)})")
        overrides[path.stem] = path
    return overrides


# What a template is checked with when loaded: any facts fill the same placeholders.
_SAMPLE_FACTS: Final = AppealLetterFacts(
    practice=LetterParty("Sample Practice", ("1 Main St", "Springfield, IL 62701"), "(217) 555-0100"),
    practice_npi="1234567893",
    practice_tax_id="12-3456789",
    payer=LetterParty("Sample Payer"),
    patient_name="Sample Patient",
    patient_birth_date=date(1980, 1, 1),
    member_id="M0000000",
    patient_control_number="C0000000000000000",
    payer_claim_number="0000000000",
    service_from=date(2026, 1, 1),
    total_charge=Decimal("100.00"),
    amount_paid=Decimal("0.00"),
    denial_category="other",
    denial_reasons=("CO-16: Claim lacks information needed for adjudication.",),
    amount_at_stake=Decimal("100.00"),
    lines=(),
    appeal_level=1,
    appeal_number=1,
    appeal_reason="The sample is correct",
    argument="The sample argument.",
    letter_date=date(2026, 1, 2),
)


def _checked_template(source: Traversable) -> Template:
    """The template, after substituting sample facts: what fails here would otherwise fail a letter."""
    try:
        template = Template(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise AppealTemplateError(f"{source}: the appeal template cannot be read ({error})") from error
    sample = _placeholders(_SAMPLE_FACTS)
    try:
        body = template.substitute(sample)
    except KeyError as error:
        known = ", ".join(f"${name}" for name in sorted(sample))
        raise AppealTemplateError(f"{source}: unknown placeholder ${error.args[0]} (known: {known})") from error
    except ValueError as error:
        raise AppealTemplateError(f"{source}: {error} (write $$ for a dollar sign)") from error
    if not body.strip():
        raise AppealTemplateError(f"{source}: the appeal template is empty")
    return template


def _body_paragraphs(template: Template, facts: AppealLetterFacts) -> list[str]:
    body = template.substitute(_placeholders(facts)).replace("\r\n", "\n")
    return [paragraph.strip() for paragraph in re.split(r"\n\s*\n", body) if paragraph.strip()]


def _placeholders(facts: AppealLetterFacts) -> dict[str, str]:
    return {
        "practice_name": facts.practice.name,
        "payer_name": facts.payer.name,
        "patient_name": facts.patient_name,
        "member_id": facts.member_id,
        "claim_number": facts.payer_claim_number,
        "patient_control_number": facts.patient_control_number,
        "date_of_service": _service_dates(facts),
        "total_charge": dollars(facts.total_charge),
        "amount_paid": dollars(facts.amount_paid),
        "amount_at_stake": dollars(facts.amount_at_stake),
        "denial_reasons": " ".join(map(_sentence, (*facts.denial_reasons, *facts.remark_codes))) or "no reason code.",
        "appeal_level": _appeal_level(facts.appeal_level),
        "appeal_number": str(facts.appeal_number),
        "appeal_reason": _sentence(facts.appeal_reason),
        "argument": facts.argument.strip(),
        "enclosures": "; ".join(item.strip().rstrip(".") for item in facts.attachments) or "none",
        "contact": _contact(facts),
    }


def _contact(facts: AppealLetterFacts) -> str:
    """Whom to call, said in words: "Dana Reyes at (217) 555-0100 or billing@example.org"."""
    who = facts.practice_contact or "our billing office"
    ways = [way for way in (facts.practice.phone, facts.practice.email) if way]
    return f"{who} at {' or '.join(ways)}" if ways else who


# The words of the letter.


def _appeal_level(level: int) -> str:
    if level not in LEVEL_NAMES:
        raise ValueError(f"an appeal level is 1, 2 or 3, not {level}")
    return LEVEL_NAMES[level]


def _service_dates(facts: AppealLetterFacts) -> str:
    if facts.service_to is None or facts.service_to == facts.service_from:
        return us_date(facts.service_from)
    return f"{us_date(facts.service_from)} to {us_date(facts.service_to)}"


def _reason_code(reason: str) -> str:
    """The code a reason in words begins with: "CO-197" of "CO-197: Precertification/... absent."."""
    return reason.split(":", 1)[0].strip()


def _sentence(text: str) -> str:
    """The text ending as a sentence does, so reasons and the biller's words run on in a paragraph."""
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else f"{text}."


# The page.


class _LetterPdf(FPDF):
    """A US Letter page with the claim and the page count in its footer, for a reviewer holding one page."""

    def __init__(self, footer: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.footer_text = footer
        self.set_margins(left=22, top=12, right=22)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_text_color(*INK)

    def normalize_text(self, text: str) -> str:
        """Every string drawn passes here: none can stop the letter with a character Latin-1 lacks."""
        return super().normalize_text(latin1(text))

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 4, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)


def _write_letterhead(pdf: FPDF, facts: AppealLetterFacts) -> None:
    practice = facts.practice
    pdf.set_font(FONT, "B", 14)
    pdf.set_text_color(*ACCENT)
    _write_line(pdf, practice.name, height=6.5, align="C")
    pdf.set_font(FONT, size=8.5)
    pdf.set_text_color(*MUTED)
    address = (*practice.address_lines, f"Phone {practice.phone}" if practice.phone else "")
    identifiers = (practice.email or "", f"NPI {facts.practice_npi}", f"Tax ID {facts.practice_tax_id}")
    for line in (address, identifiers):
        _write_line(pdf, "  |  ".join(filter(None, line)), height=4.2, align="C")
    pdf.set_text_color(*INK)
    pdf.ln(1.5)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(6)


def _write_date_and_recipient(pdf: FPDF, facts: AppealLetterFacts) -> None:
    pdf.set_font(FONT, size=TEXT_SIZE)
    _write_line(pdf, long_date(facts.letter_date))
    pdf.ln(LINE_HEIGHT)
    payer = facts.payer
    recipient = (payer.name, *payer.address_lines) if payer.address_lines else ("Appeals Department", payer.name)
    for line in recipient:
        _write_line(pdf, line)
    pdf.ln(LINE_HEIGHT)


def _write_subject(pdf: FPDF, facts: AppealLetterFacts) -> None:
    """The "RE:" block: what a reviewer keys the letter to the claim by, in two columns."""
    pdf.set_font(FONT, "B", TEXT_SIZE)
    level = _appeal_level(facts.appeal_level)
    _write_line(pdf, f"RE: {level[0].upper()}{level[1:]} of denied claim {facts.payer_claim_number}")
    pdf.ln(1)
    rows = (
        ("Patient", facts.patient_name, "Payer claim number", facts.payer_claim_number),
        ("Date of birth", us_date(facts.patient_birth_date), "Our claim number", facts.patient_control_number),
        ("Member ID", facts.member_id, "Billed", dollars(facts.total_charge)),
        ("Date of service", _service_dates(facts), "Paid", dollars(facts.amount_paid)),
        ("Appeal", f"{level} (appeal {facts.appeal_number})", "Amount at stake", dollars(facts.amount_at_stake)),
    )
    label = FontFace(emphasis="BOLD", color=MUTED)
    pdf.set_font(FONT, size=9.5)
    with pdf.table(
        borders_layout=TableBordersLayout.NONE, first_row_as_headings=False, col_widths=(19, 31, 22, 28),
        text_align="LEFT", line_height=4.3, padding=(0, 1, 0, 0), width=pdf.epw - 8, align="RIGHT",
    ) as table:  # fmt: skip
        for left_label, left_value, right_label, right_value in rows:
            row = table.row()
            row.cell(left_label, style=label)
            row.cell(left_value)
            row.cell(right_label, style=label)
            row.cell(right_value)
    pdf.ln(LINE_HEIGHT)


def _write_denied_lines(pdf: FPDF, lines: Sequence[AppealedLine]) -> None:
    """The denied lines, their reasons by code: the body has just said them in words."""
    if not lines:
        return
    pdf.ln(1)
    pdf.set_font(FONT, size=8.5)
    with pdf.table(
        borders_layout=TableBordersLayout.HORIZONTAL_LINES, col_widths=(12, 16, 16, 16, 16, 24),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"), line_height=4, padding=(1.2, 1.5),
        headings_style=FontFace(emphasis="BOLD", fill_color=(232, 236, 242)), v_align="TOP",
    ) as table:  # fmt: skip
        table.row(("Code", "Modifiers", "DOS", "Charge", "Paid", "Denial reasons"))
        for line in lines:
            table.row((
                line.procedure_code, " ".join(line.modifiers) or "-", us_date(line.date_of_service),
                dollars(line.charge), dollars(line.paid), ", ".join(map(_reason_code, line.reasons)) or "-",
            ))  # fmt: skip
    pdf.ln(PARAGRAPH_SPACE)


def _write_paragraphs(pdf: FPDF, paragraphs: Iterable[str]) -> None:
    pdf.set_font(FONT, size=TEXT_SIZE)
    for paragraph in paragraphs:
        pdf.multi_cell(0, LINE_HEIGHT, paragraph, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(PARAGRAPH_SPACE)


def _write_closing(pdf: FPDF, last_paragraphs: Sequence[str], facts: AppealLetterFacts) -> None:
    """The last paragraph and the signature, kept on one page: a signature alone on a page could be put under
    any letter."""
    pdf.set_font(FONT, size=TEXT_SIZE)
    paragraphs_height = sum(_paragraph_height(pdf, paragraph) + PARAGRAPH_SPACE for paragraph in last_paragraphs)
    if pdf.will_page_break(paragraphs_height + LINE_HEIGHT * 3 + SIGNATURE_SPACE):
        pdf.add_page()
    _write_paragraphs(pdf, last_paragraphs)
    _write_line(pdf, "Sincerely,")
    pdf.ln(SIGNATURE_SPACE)
    pdf.set_font(FONT, "B", TEXT_SIZE)
    _write_line(pdf, facts.practice_contact or "Billing Office")
    pdf.set_font(FONT, size=TEXT_SIZE)
    _write_line(pdf, facts.practice.name)


def _write_enclosures(pdf: FPDF, attachments: Sequence[str]) -> None:
    """The enclosure notation under the signature, on one page when it fits on one."""
    if not attachments:
        return
    pdf.ln(PARAGRAPH_SPACE)
    if pdf.will_page_break(SMALL_LINE_HEIGHT * (len(attachments) + 1)):
        pdf.add_page()
    pdf.set_font(FONT, "B", 9)
    _write_line(pdf, f"Enclosures ({len(attachments)})", height=SMALL_LINE_HEIGHT)
    pdf.set_font(FONT, size=9)
    for number, attachment in enumerate(attachments, start=1):
        _write_line(pdf, f"{number}. {attachment}", height=SMALL_LINE_HEIGHT)


def _paragraph_height(pdf: FPDF, paragraph: str) -> float:
    return cast(float, pdf.multi_cell(0, LINE_HEIGHT, paragraph, dry_run=True, output=MethodReturnValue.HEIGHT))


def _write_line(pdf: FPDF, text: str, height: float = LINE_HEIGHT, align: str = "L") -> None:
    pdf.multi_cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
