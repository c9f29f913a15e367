"""What the platform's printed documents (the claim service's appeal letters, collections' statements, reporting's
dashboard and `make run`'s report) write the same way: text in the only characters the PDF core fonts have, money
and dates as a US reader expects them."""

from __future__ import annotations

import unicodedata
from datetime import date
from decimal import Decimal
from typing import Final

# Typography a keyboard does not type (curly quotes, dashes, the bullet), spelled in Latin-1 before anything
# else is tried. Ligatures, the ellipsis and the like decompose to Latin-1 on their own.
TYPOGRAPHY: Final = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2022": "*"}
)


def latin1(text: str) -> str:
    """The text in Latin-1, the only characters the core fonts have: accents kept where Latin-1 has the
    letter, dropped where it has only the base letter ("ő" is "o"), and anything else a question mark."""
    return "".join(map(_latin1_character, unicodedata.normalize("NFC", text.translate(TYPOGRAPHY))))


def _latin1_character(character: str) -> str:
    if ord(character) < 256:
        return character
    decomposed = unicodedata.normalize("NFKD", character).encode("latin-1", "ignore").decode("latin-1")
    return decomposed or "?"


def dollars(amount: Decimal) -> str:
    """$1,234.56, and -$12.00 for a negative amount."""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def us_date(day: date | None) -> str:
    """03/15/2026; a dash for no date."""
    return f"{day:%m/%d/%Y}" if day is not None else "-"


def long_date(day: date) -> str:
    """March 15, 2026."""
    return f"{day:%B} {day.day}, {day.year}"
