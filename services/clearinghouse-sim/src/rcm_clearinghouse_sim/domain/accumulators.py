"""Members' accumulators: how much of the deductible and of the out-of-pocket maximum each has met, per
payer and plan (calendar) year. They grow with every adjudicated claim, and the 271 tells what remains."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rcm_clearinghouse_sim.domain.plans import ZERO, Plan


@dataclass(frozen=True, slots=True)
class Met:
    """What a member has met in a plan year."""

    deductible: Decimal = ZERO
    out_of_pocket: Decimal = ZERO

    def deductible_left(self, plan: Plan) -> Decimal:
        return max(plan.deductible - self.deductible, ZERO)

    def out_of_pocket_left(self, plan: Plan) -> Decimal | None:
        if plan.out_of_pocket_max is None:
            return None
        return max(plan.out_of_pocket_max - self.out_of_pocket, ZERO)

    def plus(self, deductible: Decimal, out_of_pocket: Decimal) -> Met:
        return Met(self.deductible + deductible, self.out_of_pocket + out_of_pocket)


class Accumulators:
    """Met amounts by (payer id, member id, plan year); a member never seen has met nothing."""

    def __init__(self) -> None:
        self._met: dict[tuple[str, str, int], Met] = {}

    def met(self, payer_id: str, member_id: str, year: int) -> Met:
        return self._met.get((payer_id, member_id, year), Met())

    def record(self, payer_id: str, member_id: str, year: int, met: Met) -> None:
        self._met[(payer_id, member_id, year)] = met
