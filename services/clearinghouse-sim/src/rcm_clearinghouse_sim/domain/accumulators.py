"""Patients' accumulators: how much of the deductible and of the out-of-pocket maximum each has met, per
payer and plan (calendar) year. They grow with every adjudicated claim, and the 271 tells what remains.
They are the patient's own (individual), so a dependant's claims never spend the subscriber's deductible."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rcm_clearinghouse_sim.domain.claims import Patient
from rcm_clearinghouse_sim.domain.plans import ZERO, Plan


@dataclass(frozen=True, slots=True)
class Met:
    """What a patient has met in a plan year."""

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
    """Met amounts by (payer id, patient, plan year); a patient never seen has met nothing."""

    def __init__(self, met: dict[tuple[str, Patient, int], Met] | None = None) -> None:
        self._met = dict(met or {})

    def met(self, payer_id: str, patient: Patient, year: int) -> Met:
        return self._met.get((payer_id, patient, year), Met())

    def record(self, payer_id: str, patient: Patient, year: int, met: Met) -> None:
        self._met[(payer_id, patient, year)] = met

    def copy(self) -> Accumulators:
        return Accumulators(self._met)
