"""The appeal letter as a PDF, read back as poppler reads it: it says what a reviewer needs (the payer, both
claim numbers, the denial in words, the argument, the enclosures, whom to call) in the words of the denial's
category or of the practice's own template, refuses a bad template when loaded, runs onto a numbered second
page, draws something, survives any character and comes out the same twice."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from rcm_claim.adapters.appeal_letter import (
    DENIAL_CATEGORIES,
    AppealedLine,
    AppealLetterFacts,
    AppealTemplateError,
    AppealTemplates,
    LetterParty,
    appeal_letter_pdf,
    load_appeal_templates,
)

CO_197 = "CO-197: Precertification/authorization/notification/pre-treatment absent."
N54 = "N54: Claim information is inconsistent with pre-certified/authorized services."
FACTS = AppealLetterFacts(
    practice=LetterParty(
        "Maple Street Family Practice",
        ("412 Maple Street, Suite 200", "Springfield, IL 62704"),
        phone="(217) 555-0100",
        email="billing@maplestreetfp.example",
    ),
    practice_npi="1497758544",
    practice_tax_id="37-1234567",
    payer=LetterParty("Acme Health Plan", ("Attn: Provider Appeals", "PO Box 14079", "Lexington, KY 40512-4079")),
    patient_name="Jane Q. Doe",
    patient_birth_date=date(1980, 1, 2),
    member_id="W123456789",
    patient_control_number="C7K3M9Q2X4T8B1N6R",
    payer_claim_number="2026310045871",
    service_from=date(2026, 11, 2),
    total_charge=Decimal("1450.00"),
    amount_paid=Decimal("0.00"),
    denial_category="authorisation",
    denial_reasons=(CO_197,),
    remark_codes=(N54,),
    amount_at_stake=Decimal("1450.00"),
    lines=(AppealedLine("72148", ("26",), date(2026, 11, 2), Decimal("1450.00"), Decimal("0.00"), (CO_197, N54)),),
    appeal_level=1,
    appeal_number=1,
    appeal_reason="Prior authorization PA-2026-778812 was approved before the MRI",
    argument="Acme approved PA-2026-778812 on 10/27/2026 for the lumbar MRI performed on 11/02/2026.",
    letter_date=date(2026, 11, 20),
    attachments=("Prior authorization approval PA-2026-778812", "Remittance advice showing the denial"),
    practice_contact="Dana Reyes",
)
AUTHORISATION_WORDS = "Authorization for this service was in place"
NECESSITY_WORDS = "The service was medically necessary"


@pytest.fixture(scope="module")
def templates() -> AppealTemplates:
    return load_appeal_templates()


def poppler(tool: str) -> str:
    """A poppler-utils program; its absence fails the test, since without it nothing checks what the PDF says."""
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"{tool} is missing: install poppler-utils (apt-get install poppler-utils; `make test` does as root)"
        )
    return path


def text_of(pdf: bytes, tmp_path: Path) -> list[str]:
    """The text of each page as laid out (the two columns of the "RE:" block side by side), its lines joined with
    spaces, so a sentence wrapped by the layout reads whole."""
    source = tmp_path / "letter.pdf"
    source.write_bytes(pdf)
    command = [poppler("pdftotext"), "-layout", str(source), "-"]
    text = subprocess.run(command, capture_output=True, check=True, text=True).stdout
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


def letter_text(facts: AppealLetterFacts, templates: AppealTemplates, tmp_path: Path) -> str:
    return " ".join(text_of(appeal_letter_pdf(facts, templates), tmp_path))


def test_the_letter_says_what_the_reviewer_needs(templates: AppealTemplates, tmp_path: Path) -> None:
    text = letter_text(FACTS, templates, tmp_path)

    for expected in (
        "Acme Health Plan Attn: Provider Appeals PO Box 14079 Lexington, KY 40512-4079",
        "RE: First-level appeal of denied claim 2026310045871",
        "Our claim number C7K3M9Q2X4T8B1N6R",
        "Jane Q. Doe",
        "Member ID W123456789",
        "Amount at stake $1,450.00",
        f"The denial cites: {CO_197} {N54}",
        "Our reason for appeal: Prior authorization PA-2026-778812 was approved before the MRI.",
        FACTS.argument,
        "Enclosed in support of this appeal: Prior authorization approval PA-2026-778812; Remittance advice",
        "Enclosures (2) 1. Prior authorization approval PA-2026-778812 2. Remittance advice showing the denial",
        "please contact Dana Reyes at (217) 555-0100 or billing@maplestreetfp.example",
        "NPI 1497758544 | Tax ID 37-1234567",
        "72148 26 11/02/2026 $1,450.00 $0.00 CO-197, N54",
        "Sincerely, Dana Reyes Maple Street Family Practice",
        "Page 1 of 1",
    ):
        assert expected in text


def test_a_payer_without_an_appeals_address_is_written_to_its_appeals_department(
    templates: AppealTemplates, tmp_path: Path
) -> None:
    facts = dataclasses.replace(FACTS, payer=LetterParty("Acme Health Plan"))

    assert "November 20, 2026 Appeals Department Acme Health Plan RE:" in letter_text(facts, templates, tmp_path)


def test_the_body_is_worded_for_the_denial_category(templates: AppealTemplates, tmp_path: Path) -> None:
    authorisation = letter_text(FACTS, templates, tmp_path)
    necessity = letter_text(dataclasses.replace(FACTS, denial_category="medical_necessity"), templates, tmp_path)
    unknown = letter_text(dataclasses.replace(FACTS, denial_category="a_new_category"), templates, tmp_path)

    assert AUTHORISATION_WORDS in authorisation
    assert NECESSITY_WORDS not in authorisation
    assert NECESSITY_WORDS in necessity
    assert AUTHORISATION_WORDS not in necessity
    assert "We believe this claim was denied in error" in unknown


def test_every_category_has_a_template_of_its_own(templates: AppealTemplates) -> None:
    assert set(templates.by_category) == set(DENIAL_CATEGORIES)


def test_a_practice_template_replaces_the_packaged_one_of_its_category(tmp_path: Path) -> None:
    (tmp_path / "authorisation.txt").write_text(
        "Maple Street asks $payer_name to review claim $claim_number again.\n\n$argument\n", encoding="utf-8"
    )
    templates = load_appeal_templates(tmp_path)

    authorisation = letter_text(FACTS, templates, tmp_path)
    necessity = letter_text(dataclasses.replace(FACTS, denial_category="medical_necessity"), templates, tmp_path)

    assert "Maple Street asks Acme Health Plan to review claim 2026310045871 again." in authorisation
    assert AUTHORISATION_WORDS not in authorisation
    assert NECESSITY_WORDS in necessity


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("coding.txt", b"We appeal $claim_number for $patient_nmae.", r"unknown placeholder \$patient_nmae"),
        ("coding.txt", b"We ask $5 back.", "Invalid placeholder"),
        ("coding.txt", b"Caf\xe9 latin-1, not UTF-8", "cannot be read"),
        ("coding.txt", b" \n\n", "empty"),
        ("autorisation.txt", b"$argument", "names no denial category"),
    ],
)
def test_a_bad_practice_template_is_refused_when_loaded_naming_its_file(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    (tmp_path / name).write_bytes(content)

    with pytest.raises(AppealTemplateError, match=problem) as refused:
        load_appeal_templates(tmp_path)

    assert str(tmp_path / name) in str(refused.value)


def test_a_missing_template_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AppealTemplateError, match="not a directory"):
        load_appeal_templates(tmp_path / "absent")


def test_a_long_argument_runs_onto_a_second_numbered_page(templates: AppealTemplates, tmp_path: Path) -> None:
    argument = "\n\n".join(f"Paragraph {n}: {FACTS.argument} " * 3 for n in range(1, 8))

    pages = text_of(appeal_letter_pdf(dataclasses.replace(FACTS, argument=argument), templates), tmp_path)

    assert len(pages) == 2
    assert "Page 1 of 2" in pages[0]
    assert "Page 2 of 2" in pages[1]
    assert "Paragraph 1:" in pages[0]
    assert "Paragraph 7:" in pages[1]
    assert "Sincerely," in pages[1]


def test_the_letter_renders_as_a_page_with_ink_on_it(templates: AppealTemplates, tmp_path: Path) -> None:
    source = tmp_path / "letter.pdf"
    source.write_bytes(appeal_letter_pdf(FACTS, templates))

    subprocess.run([poppler("pdftoppm"), "-r", "60", "-png", str(source), str(tmp_path / "page")], check=True)

    with Image.open(tmp_path / "page-1.png") as page:
        assert page.size == (510, 660)  # US Letter at 60 dpi
        dark_pixels = sum(page.convert("L").histogram()[:192])
        assert dark_pixels > 5_000


def test_any_character_is_written_without_stopping_the_letter(templates: AppealTemplates, tmp_path: Path) -> None:
    curly_dashed_ligated = "\u201cQuoted\u201d \u2014 and \u2019tis \ufb01ne\u2026 \u2705"
    facts = dataclasses.replace(
        FACTS, patient_name="Zoë Łukasz-Nguyễn 李", argument=curly_dashed_ligated, practice_contact="Ødegård"
    )

    text = letter_text(facts, templates, tmp_path)

    assert "Zoë ?ukasz-Nguyen ?" in text  # Latin-1 has ë, not ễ (but its e), nor Ł or 李
    assert '"Quoted" - and \'tis fine... ?' in text
    assert "please contact Ødegård" in text


def test_the_same_facts_give_the_same_bytes_and_no_phi_in_the_metadata(
    templates: AppealTemplates, tmp_path: Path
) -> None:
    pdf = appeal_letter_pdf(FACTS, templates)
    source = tmp_path / "letter.pdf"
    source.write_bytes(pdf)

    info = subprocess.run(
        [poppler("pdfinfo"), "-isodates", str(source)], capture_output=True, check=True, text=True
    ).stdout

    assert appeal_letter_pdf(FACTS, templates) == pdf
    assert "Title:           Appeal of claim C7K3M9Q2X4T8B1N6R" in info
    assert "CreationDate:    2026-11-20T00:00:00Z" in info
    for phi in ("Jane", "Doe", "W123456789", "1980"):
        assert phi not in info
