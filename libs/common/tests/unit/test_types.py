"""Money as the contracts read it: exact, two places, and refused (not rounded) otherwise."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rcm_common.types import to_money


@pytest.mark.parametrize(
    ("given", "expected"), [("12.5", Decimal("12.50")), (Decimal("-3"), Decimal("-3.00")), (7, Decimal("7.00"))]
)
def test_amounts_are_read_exactly_to_the_cent(given: object, expected: Decimal) -> None:
    assert to_money(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (0.1, "not a float"),
        (True, "must be a number"),
        ("ten", "digits with at most two decimal places"),
        ("NaN", "digits with at most two decimal places"),
        ("1.005", "digits with at most two decimal places"),
        ("12.500", "digits with at most two decimal places"),  # as the schema's pattern says
        ("1e2", "digits with at most two decimal places"),
        (" 12.50", "digits with at most two decimal places"),
        (Decimal("NaN"), "finite"),
        (Decimal("1.005"), "two decimal places"),
        (Decimal("1e30"), "too large"),
    ],
)
def test_anything_else_is_refused_with_a_reason(given: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_money(given)
