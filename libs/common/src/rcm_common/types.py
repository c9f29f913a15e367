"""Wire-safe value types shared by every contract: money and UTC timestamps.

Money is a Decimal with two places, serialised as a string so no float ever touches it; timestamps are
timezone-aware and normalised to UTC; dates of service stay plain dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Final

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")


MONEY_PATTERN: Final = r"^-?[0-9]+\.[0-9]{2}$"
MONEY_INPUT_PATTERN: Final = r"^-?[0-9]+(\.[0-9]{1,2})?$"
_MONEY_TEXT: Final = re.compile(MONEY_INPUT_PATTERN)
_CENTS_TEXT: Final = re.compile(r"-?[0-9]{1,25}\.[0-9]{2}")
"""Money as the wire writes it, short enough for a decimal context: exact to the cent as it stands."""


def to_money(value: object) -> Decimal:
    """Parse a money amount exactly; refuse floats and more than two decimal places rather than round silently."""
    if type(value) is str and _CENTS_TEXT.fullmatch(value):
        return Decimal(value)  # every event's amounts come this way: six times faster than the checks below
    if isinstance(value, float):
        raise ValueError("money must be given as a string or a decimal, not a float")
    if isinstance(value, bool):
        raise ValueError("money must be a number")
    if isinstance(value, str) and not _MONEY_TEXT.fullmatch(value):
        raise ValueError("money must be written as digits with at most two decimal places, such as 125.50")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("money must be a decimal number") from exc
    if not amount.is_finite():
        raise ValueError("money must be a finite number")
    try:
        cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than a decimal context holds: no ledger has such an amount
        raise ValueError("money is too large") from None
    if amount != cents:
        raise ValueError("money has at most two decimal places")
    return cents


def _money_to_wire(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _plain(amount: Decimal) -> str:
    """Plain notation (`1000`, never `1E+3`), as X12 numeric elements take it."""
    return format(amount, "f")


def _to_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


Money = Annotated[
    Decimal,
    BeforeValidator(to_money),
    PlainSerializer(_money_to_wire, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": MONEY_INPUT_PATTERN}, {"type": "integer"}],
            "description": "Money in US dollars: a decimal string of at most two places (a whole number too).",
        },
        mode="validation",
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_PATTERN,
            "description": "Money in US dollars: a decimal string with exactly two places, never a float.",
            "examples": ["125.00"],
        },
        mode="serialization",
    ),
]
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
# A quantity that is not money (units of service, say): exact, on the wire as a plain decimal string.
QUANTITY_PATTERN: Final = r"^-?[0-9]+(\.[0-9]+)?$"
Quantity = Annotated[
    Decimal,
    PlainSerializer(_plain, return_type=str, when_used="json"),
    WithJsonSchema(
        {"type": "string", "pattern": QUANTITY_PATTERN, "description": "An exact decimal in plain notation."},
        mode="serialization",
    ),
]


def utcnow() -> datetime:
    """The current moment, timezone-aware UTC (never a naive datetime)."""
    return datetime.now(UTC)


Clock = Callable[[], datetime]
"""Where a service reads the time: `utcnow` when it runs, a test's own clock in tests."""
