"""The coding-pattern signal flags a provider who bills levels 4 and 5 far more often than the others, stays silent
below the minimum volume, and flags none of a practice whose providers code alike."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from rcm_reporting.domain.coding_pattern import MINIMUM_VISITS, coding_patterns, em_level
from rcm_reporting.domain.records import Visit


def visits(npi: str, levels: dict[str, int]) -> list[Visit]:
    """`levels` office visits by code, for one rendering provider."""
    codes = itertools.chain.from_iterable(itertools.repeat(code, n) for code, n in levels.items())
    return [
        Visit(uuid.uuid4(), 1, uuid.uuid4(), "ACME01", False, date(2026, 11, 2), datetime(2026, 11, 2, tzinfo=UTC),
              npi, Decimal("150.00"), (code, "36415"))
        for code in codes
    ]  # fmt: skip


TYPICAL = {"99212": 6, "99213": 20, "99214": 12, "99215": 2}  # 35% at levels 4-5


def test_a_provider_billing_far_more_level_4_and_5_visits_is_flagged_and_no_other() -> None:
    practice = visits("1111111111", TYPICAL) + visits("2222222222", TYPICAL) + visits("3333333333", TYPICAL)
    practice += visits("4444444444", {"99213": 10, "99214": 22, "99215": 8})  # 75%

    patterns = {p.npi: p for p in coding_patterns(practice)}

    assert [npi for npi, p in patterns.items() if p.flagged] == ["4444444444"]
    upcoder = patterns["4444444444"]
    assert upcoder.high_share == 0.75
    assert upcoder.z is not None
    assert upcoder.z >= 3
    assert upcoder.by_level == {3: 10, 4: 22, 5: 8}
    assert all(p.z is not None and p.z < 3 for npi, p in patterns.items() if npi != "4444444444")


def test_the_test_does_not_speak_below_the_minimum_volume() -> None:
    few = visits("4444444444", {"99215": MINIMUM_VISITS - 1})
    patterns = {p.npi: p for p in coding_patterns(visits("1111111111", TYPICAL) + few)}

    assert patterns["4444444444"].z is None
    assert not patterns["4444444444"].flagged


def test_the_level_is_the_office_visit_billed_and_other_visits_have_none() -> None:
    [new_patient, no_visit] = visits("1", {"99204": 1}) + visits("1", {"93000": 1})
    assert em_level(new_patient) == 4
    assert em_level(no_visit) is None
