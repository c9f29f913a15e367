"""Interchange control numbers count up from 1 and wrap after nine digits; the in-memory sequences count as
the SQL ones do (the SQL ones are tested with each service's repository, over SQLite and PostgreSQL)."""

from __future__ import annotations

from rcm_common.control_numbers import next_control_number
from rcm_common.testing import InMemoryControlNumbers


def test_control_numbers_count_up_from_one_and_wrap_after_nine_digits() -> None:
    assert [next_control_number(n) for n in (0, 1, 416, 999_999_998, 999_999_999)] == [1, 2, 417, 999_999_999, 1]


async def test_each_named_sequence_counts_on_its_own() -> None:
    sequences = InMemoryControlNumbers()

    taken = [await sequences.next(name) for name in ("ISA13", "ISA13", "270", "ISA13")]

    assert taken == [1, 2, 1, 3]
