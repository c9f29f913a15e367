"""The reports, computed on request from the facts stored: read them in one transaction, then let the domain
count. Nothing is cached, so a figure is always the events' figure at the moment asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from rcm_common.errors import NotFound
from rcm_reporting.adapters.unit_of_work import SqlReportingUnitOfWork
from rcm_reporting.domain import coding_pattern, kpis
from rcm_reporting.domain.receivables import BUCKETS, PATIENT, UNAPPLIED, EventLog, aging_rows, receivables
from rcm_reporting.domain.records import ZERO, AccountBalance, MovementKind
from rcm_reporting.domain.workqueues import work_queues
from rcm_reporting.service_layer.views import (
    AgingPublic,
    AgingRowPublic,
    ClaimEventsPublic,
    CodingPatternPublic,
    CountedPublic,
    DenialGroupPublic,
    DrillDownPublic,
    KpiPublic,
    KpisPublic,
    ProviderPatternPublic,
    ServiceWeekPublic,
    TimelineStepPublic,
    Volumes,
    WorkQueuePublic,
    WorkQueuesPublic,
)

AGING_BASIS = (
    "each visit's balance on the date, aged from its date of service, owed by the payer of a claim still open "
    "with them on that date, else by the patient; what is on an account but on no visit (credit) is unapplied"
)
CODING_NOTE = (
    "A signal for a chart review, never a finding: a high share of level 4-5 visits may reflect the patients seen."
)


@dataclass(frozen=True)
class Snapshot:
    """Every fact, read in one transaction at `taken_at`: the moment the reports are computed for."""

    log: EventLog
    accounts: list[AccountBalance]
    open_items: dict[str, int]
    patients: int
    coverages: int
    taken_at: datetime


class KpiUnknown(NotFound):
    pass


@dataclass
class Reports:
    uow: Callable[[], SqlReportingUnitOfWork]
    clock: Callable[[], datetime]

    async def snapshot(self) -> Snapshot:
        async with self.uow() as uow:
            facts = uow.facts
            taken_at = self.clock()
            patients, coverages = await facts.patients()
            return Snapshot(
                await facts.event_log(), await facts.accounts(), await facts.open_items(), patients, coverages, taken_at
            )

    async def kpis(self, snapshot: Snapshot | None = None) -> KpisPublic:
        snapshot = snapshot or await self.snapshot()
        log, now = snapshot.log, snapshot.taken_at
        figures = kpis.compute_figures(log, snapshot.accounts, receivables(log, now), now)
        movements = log.movements_until(now)
        charges = sum((m.amount for m in movements if m.kind is MovementKind.CHARGE), ZERO)
        payments = -sum((m.amount for m in movements if m.kind in kpis.PAYMENTS), ZERO)
        return KpisPublic(
            as_of=now,
            volumes=Volumes(
                patients=snapshot.patients,
                coverages=snapshot.coverages,
                visits=sum(1 for v in log.visits.values() if not v.voided),
                claims=sum(1 for c in log.claims.values() if not c.is_void),
                charges=charges,
                payments=payments,
            ),
            kpis=[KpiPublic.of(figure) for figure in figures.values()],
            claims_by_state=kpis.claims_by_state(log.claims.values()),
            denials_by_category=[DenialGroupPublic.of(g) for g in kpis.denials_by(log.claims.values(), "category")],
            denials_by_payer=[DenialGroupPublic.of(g) for g in kpis.denials_by(log.claims.values(), "payer")],
            denials_by_reason=[DenialGroupPublic.of(g) for g in kpis.denials_by(log.claims.values(), "reason")],
            coding_pattern=CodingPatternPublic(
                test=coding_pattern.TEST,
                note=CODING_NOTE,
                providers=[ProviderPatternPublic.of(p) for p in coding_pattern.coding_patterns(log.visits.values())],
            ),
            by_service_week=[ServiceWeekPublic.of(week) for week in kpis.by_service_week(log, now)],
        )

    async def drill_down(self, name: str, *, payer_id: str | None, category: str | None) -> DrillDownPublic:
        if name not in kpis.DEFINITIONS:
            raise KpiUnknown(f"There is no KPI named {name!r}; the KPIs are {', '.join(kpis.DEFINITIONS)}.")
        snapshot = await self.snapshot()
        log, now = snapshot.log, snapshot.taken_at
        figure = kpis.compute_figures(log, snapshot.accounts, receivables(log, now), now)[name]
        if payer_id is not None or category is not None:
            counted = kpis.matching(figure.counted, log, payer_id=payer_id, category=category)
            figure = kpis.Figure(figure.definition, tuple(counted))
        return DrillDownPublic(kpi=KpiPublic.of(figure), items=[CountedPublic.of(item) for item in figure.counted])

    async def aging(self, as_of: datetime | None, snapshot: Snapshot | None = None) -> AgingPublic:
        snapshot = snapshot or await self.snapshot()
        moment = as_of or snapshot.taken_at
        items = receivables(snapshot.log, moment)
        by_payer = aging_rows(items, "owed_by")
        total = sum((item.balance for item in items), ZERO)
        patient = sum((row.total for row in by_payer if row.key == PATIENT), ZERO)
        return AgingPublic(
            as_of=moment,
            basis=AGING_BASIS,
            buckets=[bucket.label for bucket in BUCKETS] + [UNAPPLIED],
            total=total,
            insurance=total - patient,
            patient=patient,
            by_payer=[AgingRowPublic.of(row) for row in by_payer],
            by_patient=[AgingRowPublic.of(row) for row in aging_rows(items, "patient_id")],
        )

    async def claim_events(self, claim_id: UUID) -> ClaimEventsPublic:
        async with self.uow() as uow:
            claim = await uow.facts.claim(claim_id)
            if claim is None:
                raise NotFound(f"No claim {claim_id} has been reported.")
            steps = await uow.facts.timeline(claim)
        return ClaimEventsPublic(
            claim_id=claim.claim_id,
            encounter_id=claim.encounter_id,
            payer_id=claim.payer_id,
            state=claim.state.value,
            events=[
                TimelineStepPublic(
                    occurred_at=s.occurred_at,
                    producer=s.producer,
                    event_type=s.event_type,
                    event_id=s.event_id,
                    summary=s.summary,
                )
                for s in steps
            ],
        )

    async def work_queues(self, snapshot: Snapshot | None = None) -> WorkQueuesPublic:
        snapshot = snapshot or await self.snapshot()
        log = snapshot.log
        queues = work_queues(log.visits.values(), log.claims.values(), snapshot.accounts, snapshot.open_items)
        return WorkQueuesPublic(as_of=snapshot.taken_at, queues=[WorkQueuePublic.of(queue) for queue in queues])
