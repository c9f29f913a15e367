"""Identifier rules every service checks the same way."""

from __future__ import annotations


def npi_valid(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit over 80840 and the first nine (CMS's rule)."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    total = 0
    for index, digit in enumerate(reversed("80840" + npi)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0
