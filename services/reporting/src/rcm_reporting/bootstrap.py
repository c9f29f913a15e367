"""The composition root: every concrete part of reporting is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker

from rcm_common.kernel import Kernel, kernel_parts
from rcm_common.types import Clock, utcnow
from rcm_reporting.adapters.dashboard import Dashboard
from rcm_reporting.adapters.unit_of_work import SqlReportingUnitOfWork
from rcm_reporting.config import ReportingSettings
from rcm_reporting.service_layer.projection import subscriptions
from rcm_reporting.service_layer.reports import Reports


@dataclass
class Reporting(Kernel[ReportingSettings, SqlReportingUnitOfWork]):
    """The running service: the kernel's parts and the reports over the facts its consumers keep."""

    reports: Reports

    async def dashboard(self) -> Dashboard:
        """The dashboard's figures, all from one reading of the facts."""
        snapshot = await self.reports.snapshot()
        kpis, aging = await self.reports.kpis(snapshot), await self.reports.aging(None, snapshot)
        queues = await self.reports.work_queues(snapshot)
        return Dashboard(kpis, aging, queues, title=self.settings.dashboard_title)


def bootstrap(
    settings: ReportingSettings | None = None, *, broker: KafkaBroker | None = None, clock: Clock = utcnow
) -> Reporting:
    settings = settings or ReportingSettings()
    reporting: Reporting

    def read_uow() -> SqlReportingUnitOfWork:
        return reporting.uow()

    reporting = Reporting(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlReportingUnitOfWork,
        publishes=None,
        clock=clock,
        reports=Reports(read_uow, clock),
    )
    reporting.subscribe(subscriptions())
    return reporting
