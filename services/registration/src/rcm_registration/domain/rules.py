"""Field rules for registration data, each with a clear message that never repeats the value it refused.

Limits follow what the claim will have to carry in X12 5010 (names 35/60, address 55, city 30), and the
character sets keep X12 delimiters out of every stored field.
"""

from __future__ import annotations

import re
from datetime import date

from rcm_common.errors import Problems

# fmt: off
US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "PR", "GU", "VI", "AS", "MP",  # territories
    "AA", "AE", "AP",  # military
})
# fmt: on
_NAME = re.compile(r"^[A-Za-z][A-Za-z .'\-]*$")
_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .,#'/\-&]*$")
_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$")
_SSN = re.compile(r"^(\d{3})-?(\d{2})-?(\d{4})$")
_MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{1,79}$")
_PAYER_ID = re.compile(r"^[A-Za-z0-9]{2,80}$")
_GROUP = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{0,49}$")
OLDEST_BIRTH_DATE = date(1900, 1, 1)


def _words(
    problems: Problems,
    field: str,
    value: str | None,
    *,
    max_length: int,
    required: bool,
    allowed: re.Pattern[str],
    refusal: str,
) -> str | None:
    """Free text with runs of white space folded to one space, checked for length and characters."""
    if value is None or not value.strip():
        if required:
            problems.add(field, "is required")
        return None
    cleaned = " ".join(value.split())
    if len(cleaned) > max_length:
        problems.add(field, f"is longer than {max_length} characters")
    elif not allowed.match(cleaned):
        problems.add(field, refusal)
    return cleaned


def name(problems: Problems, field: str, value: str | None, *, max_length: int, required: bool = True) -> str | None:
    return _words(
        problems,
        field,
        value,
        max_length=max_length,
        required=required,
        allowed=_NAME,
        refusal="may hold only letters, spaces, hyphens, apostrophes and periods",
    )


def text(problems: Problems, field: str, value: str | None, *, max_length: int, required: bool = True) -> str | None:
    return _words(
        problems,
        field,
        value,
        max_length=max_length,
        required=required,
        allowed=_TEXT,
        refusal="holds characters that are not allowed",
    )


def state(problems: Problems, field: str, value: str) -> str:
    code = value.strip().upper()
    if code not in US_STATES:
        problems.add(field, "is not a US state, territory or military postal code")
    return code


def postal_code(problems: Problems, field: str, value: str) -> str:
    cleaned = value.strip()
    if not _ZIP.match(cleaned):
        problems.add(field, "must be a 5-digit ZIP code or ZIP+4")
        return cleaned
    digits = cleaned.replace("-", "")
    return digits if len(digits) == 5 else f"{digits[:5]}-{digits[5:]}"


def phone(problems: Problems, field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    digits = re.sub(r"[\s().\-+]", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if not (len(digits) == 10 and digits.isdigit() and digits[0] in "23456789" and digits[3] in "23456789"):
        problems.add(field, "must be a 10-digit US phone number")
    return digits


def email(problems: Problems, field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        problems.add(field, "is not a valid email address")
    return cleaned


def birth_date(problems: Problems, field: str, value: date, today: date) -> date:
    if value > today:
        problems.add(field, "is in the future")
    elif value < OLDEST_BIRTH_DATE:
        problems.add(field, "is before 1900-01-01")
    return value


def ssn(problems: Problems, field: str, value: str | None) -> str | None:
    """Accept AAA-GG-SSSS or nine digits; refuse numbers the SSA never issues (000, 666, 9xx, 00, 0000)."""
    if value is None or not value.strip():
        return None
    match = _SSN.match(value.strip())
    if not match:
        problems.add(field, "must be nine digits, written AAA-GG-SSSS or without hyphens")
        return None
    area, group, serial = match.groups()
    if area in ("000", "666") or area.startswith("9") or group == "00" or serial == "0000":
        problems.add(field, "is not a number the Social Security Administration issues")
        return None
    return f"{area}{group}{serial}"


def member_id(problems: Problems, field: str, value: str) -> str:
    cleaned = value.strip().upper()
    if not _MEMBER_ID.match(cleaned):
        problems.add(field, "must be 2 to 80 letters, digits or hyphens, starting with a letter or digit")
    return cleaned


def payer_id(problems: Problems, field: str, value: str) -> str:
    cleaned = value.strip().upper()
    if not _PAYER_ID.match(cleaned):
        problems.add(field, "must be 2 to 80 letters or digits")
    return cleaned


def group_number(problems: Problems, field: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip().upper()
    if not _GROUP.match(cleaned):
        problems.add(field, "must be up to 50 letters, digits or hyphens")
    return cleaned
