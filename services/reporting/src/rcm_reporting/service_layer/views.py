"""What reporting's API answers: the KPIs with their formulas, A/R aging, drill-downs, a claim's history, the
coding-pattern signal and the work queues. Ids, codes, dates and amounts only."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from rcm_common.types import Money
from rcm_reporting.domain.coding_pattern import ProviderPattern
from rcm_reporting.domain.kpis import Counted, DenialGroup, Figure, ServiceWeek
from rcm_reporting.domain.receivables import AgingRow
from rcm_reporting.domain.workqueues import WorkQueue


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class KpiPublic(_View):
    name: str
    title: str
    formula: str
    unit: Literal["percent", "days", "money"]
    value: Decimal | None
    """None when nothing is counted yet (no claims adjudicated, say)."""
    numerator: Decimal
    denominator: Decimal
    target: Decimal | None
    better: Literal["higher", "lower"]
    on_target: bool | None
    counts: str
    drill_down: str

    @classmethod
    def of(cls, figure: Figure) -> KpiPublic:
        d = figure.definition
        return cls(
            name=d.name,
            title=d.title,
            formula=d.formula,
            unit=d.unit.value,
            value=figure.value,
            numerator=figure.numerator,
            denominator=figure.denominator,
            target=d.target,
            better=d.better,
            on_target=figure.on_target,
            counts=d.counts,
            drill_down=f"/kpis/{d.name}/claims",
        )


class DenialGroupPublic(_View):
    key: str
    adjudicated: int
    denied: int
    rate: Decimal | None
    denied_amount: Money
    charges: Money

    @classmethod
    def of(cls, group: DenialGroup) -> DenialGroupPublic:
        return cls(
            key=group.key,
            adjudicated=group.adjudicated,
            denied=group.denied,
            rate=group.rate,
            denied_amount=group.denied_amount,
            charges=group.charges,
        )


class ProviderPatternPublic(_View):
    npi: str
    office_visits: int
    by_level: dict[int, int]
    high_share: float
    others_visits: int
    others_high_share: float
    z: float | None
    flagged: bool

    @classmethod
    def of(cls, pattern: ProviderPattern) -> ProviderPatternPublic:
        return cls(
            npi=pattern.npi,
            office_visits=pattern.visits,
            by_level=pattern.by_level,
            high_share=round(pattern.high_share, 4),
            others_visits=pattern.others_visits,
            others_high_share=round(pattern.others_high_share, 4),
            z=pattern.z,
            flagged=pattern.flagged,
        )


class CodingPatternPublic(_View):
    test: str
    note: str
    providers: list[ProviderPatternPublic]


class Volumes(_View):
    patients: int
    coverages: int
    visits: int
    claims: int
    charges: Money
    payments: Money


class ServiceWeekPublic(_View):
    week_of: date
    charges: Money
    insurance_paid: Money
    patient_paid: Money

    @classmethod
    def of(cls, week: ServiceWeek) -> ServiceWeekPublic:
        return cls(
            week_of=week.week_of,
            charges=week.charges,
            insurance_paid=week.insurance_paid,
            patient_paid=week.patient_paid,
        )


class KpisPublic(_View):
    as_of: datetime
    volumes: Volumes
    kpis: list[KpiPublic]
    claims_by_state: dict[str, int]
    denials_by_category: list[DenialGroupPublic]
    denials_by_payer: list[DenialGroupPublic]
    denials_by_reason: list[DenialGroupPublic]
    coding_pattern: CodingPatternPublic
    by_service_week: list[ServiceWeekPublic]


class CountedPublic(_View):
    claim_id: UUID | None
    encounter_id: UUID | None
    account_id: UUID | None
    payer_id: str | None
    numerator: Decimal
    denominator: Decimal
    note: str

    @classmethod
    def of(cls, item: Counted) -> CountedPublic:
        return cls(
            claim_id=item.claim_id,
            encounter_id=item.encounter_id,
            account_id=item.account_id,
            payer_id=item.payer_id,
            numerator=item.numerator,
            denominator=item.denominator,
            note=item.note,
        )


class DrillDownPublic(_View):
    kpi: KpiPublic
    """The figure over the items listed (narrowed to a payer or a category when asked)."""
    items: list[CountedPublic]


class AgingRowPublic(_View):
    key: str
    buckets: dict[str, Money]
    total: Money

    @classmethod
    def of(cls, row: AgingRow) -> AgingRowPublic:
        return cls(key=row.key, buckets=row.buckets, total=row.total)


class AgingPublic(_View):
    as_of: datetime
    basis: str
    buckets: list[str]
    total: Money
    insurance: Money
    """What payers owe on claims open with them, and what covered visits owe before their claim is built."""
    patient: Money
    by_payer: list[AgingRowPublic]
    by_patient: list[AgingRowPublic]


class TimelineStepPublic(_View):
    occurred_at: datetime
    producer: str
    event_type: str
    event_id: str
    summary: str


class ClaimEventsPublic(_View):
    claim_id: UUID
    encounter_id: UUID
    payer_id: str
    state: str
    events: list[TimelineStepPublic]


class WorkQueuePublic(_View):
    service: str
    name: str
    description: str
    size: int
    amount: Money | None

    @classmethod
    def of(cls, queue: WorkQueue) -> WorkQueuePublic:
        return cls(
            service=queue.service,
            name=queue.name,
            description=queue.description,
            size=queue.size,
            amount=queue.amount,
        )


class WorkQueuesPublic(_View):
    as_of: datetime
    queues: list[WorkQueuePublic]
