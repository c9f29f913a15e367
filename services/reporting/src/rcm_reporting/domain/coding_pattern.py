"""A coding-pattern signal: does a rendering provider bill the higher office-visit levels much more often than
the practice's other providers do?

Upcoding (billing a higher E/M level than the visit supports) is among the red flags compliance reviews watch
for; a high share of level 4 and 5 visits can also mean sicker patients, so this is a signal for a chart review,
never a finding. The test is a one-sided two-proportion z-test of the provider's share of level 4 and 5 office
visits (99204, 99205, 99214, 99215) against the pooled share of all other providers' office visits. It speaks
only with enough visits on both sides (MINIMUM_VISITS each) and flags a z of FLAG_Z or more (a one-sided p of
about 0.0013: by chance, one provider in some 740 would be flagged).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from rcm_reporting.domain.records import Visit

EM_LEVELS: Final = {
    "99202": 2,
    "99203": 3,
    "99204": 4,
    "99205": 5,
    "99211": 1,
    "99212": 2,
    "99213": 3,
    "99214": 4,
    "99215": 5,
}
"""Office or other outpatient visits, new (9920x) and established (9921x) patients, by level."""
HIGH_LEVELS: Final = frozenset({4, 5})
MINIMUM_VISITS: Final = 30
FLAG_Z: Final = 3.0
TEST: Final = (
    f"one-sided two-proportion z-test of the provider's share of level 4-5 office visits against all other "
    f"providers' pooled share; flagged at z >= {FLAG_Z:g} with at least {MINIMUM_VISITS} office visits on each side"
)


@dataclass(frozen=True, slots=True)
class ProviderPattern:
    npi: str
    visits: int
    by_level: dict[int, int]
    high_share: float
    others_visits: int
    others_high_share: float
    z: float | None
    """None until both sides have the minimum volume: the test does not speak on fewer visits."""
    flagged: bool


def em_level(visit: Visit) -> int | None:
    """The office-visit level the visit billed (its highest, if a line of each kind was billed), or None."""
    levels = [EM_LEVELS[code] for code in visit.procedure_codes if code in EM_LEVELS]
    return max(levels) if levels else None


def coding_patterns(visits: Iterable[Visit]) -> list[ProviderPattern]:
    """Each rendering provider's E/M level distribution and the test against the others; flagged ones first."""
    levels: dict[str, list[int]] = defaultdict(list)
    for visit in visits:
        level = em_level(visit)
        if level is not None and not visit.voided and visit.rendering_npi:
            levels[visit.rendering_npi].append(level)
    total = sum(len(v) for v in levels.values())
    total_high = sum(1 for v in levels.values() for level in v if level in HIGH_LEVELS)
    patterns = []
    for npi, own in levels.items():
        high = sum(1 for level in own if level in HIGH_LEVELS)
        others, others_high = total - len(own), total_high - high
        z = _z(high, len(own), others_high, others)
        patterns.append(
            ProviderPattern(
                npi=npi,
                visits=len(own),
                by_level=dict(sorted(Counter(own).items())),
                high_share=high / len(own),
                others_visits=others,
                others_high_share=others_high / others if others else 0.0,
                z=None if z is None else round(z, 2),
                flagged=z is not None and z >= FLAG_Z,
            )
        )
    patterns.sort(key=lambda p: (not p.flagged, -(p.z if p.z is not None else -math.inf), p.npi))
    return patterns


def _z(high: int, visits: int, others_high: int, others: int) -> float | None:
    if visits < MINIMUM_VISITS or others < MINIMUM_VISITS:
        return None
    pooled = (high + others_high) / (visits + others)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / visits + 1 / others))
    if spread == 0:
        return 0.0
    return (high / visits - others_high / others) / spread
