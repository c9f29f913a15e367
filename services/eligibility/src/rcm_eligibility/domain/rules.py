"""Input rules shared by eligibility's domain objects. Each problem names the field and the rule, never the
value, so an error can be shown and logged without leaking PHI."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

from rcm_common.errors import Problems

_SERVICE_TYPE: Final = re.compile(r"[A-Z0-9]{1,2}")
_PROCEDURE_CODE: Final = re.compile(r"(?:\d{4}[0-9FTU]|[A-V]\d{4})")
_AUTHORIZATION_NUMBER: Final = re.compile(r"[A-Za-z0-9-]{1,50}")
_PAYER_ID: Final = re.compile(r"[A-Za-z0-9]{2,80}")
# Payers answer 270s for dates up to about a year back, and not far ahead (AAA 62, 63).
MAX_DAYS_BACK: Final = 366
MAX_DAYS_AHEAD: Final = 180
MAX_UNITS: Final = 9999


def service_type(problems: Problems, field_name: str, value: str) -> str:
    """An X12 service type code (EQ01/EB03), such as 30 (health benefit plan coverage) or 98 (office visit)."""
    code = value.strip().upper()
    if not _SERVICE_TYPE.fullmatch(code):
        problems.add(field_name, "must be an X12 service type code of one or two letters or digits, such as 30")
    return code


def procedure_code(problems: Problems, field_name: str, value: str) -> str:
    """A CPT (five digits, or four and F, T or U) or HCPCS Level II (a letter A-V and four digits) code."""
    code = value.strip().upper()
    if not _PROCEDURE_CODE.fullmatch(code):
        problems.add(field_name, "must be a CPT or HCPCS code such as 99213 or J3301")
    return code


def payer_id(problems: Problems, field_name: str, value: str) -> str:
    code = value.strip()
    if not _PAYER_ID.fullmatch(code):
        problems.add(field_name, "must be a payer id of 2 to 80 letters or digits")
    return code


def authorization_number(problems: Problems, field_name: str, value: str) -> str:
    number = value.strip()
    if not _AUTHORIZATION_NUMBER.fullmatch(number):
        problems.add(field_name, "must be 1 to 50 letters, digits or hyphens")
    return number


def units(problems: Problems, field_name: str, value: int) -> int:
    if not 1 <= value <= MAX_UNITS:
        problems.add(field_name, f"must be a whole number from 1 to {MAX_UNITS}")
    return value


def date_of_service(problems: Problems, field_name: str, value: date, today: date) -> date:
    """A date a payer will answer a 270 for: not more than a year back, not more than six months ahead."""
    if value < today - timedelta(days=MAX_DAYS_BACK):
        problems.add(field_name, f"must be within the last {MAX_DAYS_BACK} days: payers do not answer for older dates")
    elif value > today + timedelta(days=MAX_DAYS_AHEAD):
        problems.add(field_name, f"must be at most {MAX_DAYS_AHEAD} days ahead")
    return value
