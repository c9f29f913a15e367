"""The daily cycle: for every account with something due or a plan or placement in force, in its own
transaction, count the plan's missed installments (defaulting it after too many), let a small balance go,
place a long-unpaid account with the agency, or else send the statement the cycle says is due.

Running it twice on one day does nothing the second time: a statement is never sent within 28 days of the
last, a missed installment is counted once, an account is placed once. One account that fails is logged and
left for the next run; the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from rcm_collections.adapters.unit_of_work import SqlCollectionsUnitOfWork
from rcm_collections.domain.policy import CollectionPolicy, HowToPay
from rcm_collections.service_layer.accounts import audit_change
from rcm_collections.service_layer.views import CycleReport
from rcm_common.audit import AuditContext
from rcm_common.types import Clock

logger = logging.getLogger(__name__)
CAUSE = "job:collections-cycle"


@dataclass
class Cycle:
    uow: Callable[[AuditContext | None], SqlCollectionsUnitOfWork]
    """A unit of work acting as the given person, or as the cycle itself when None."""
    policy: CollectionPolicy
    how_to_pay: HowToPay
    clock: Clock

    async def run_once(self, audit: AuditContext | None = None) -> CycleReport:
        """One run, in the audit log as `audit` (a collector who asked for it) or as the cycle."""
        today = self.clock().date()
        async with self.uow(audit) as uow:
            account_ids = await uow.accounts.with_patient_due()
        report = CycleReport(
            ran_on=today,
            accounts_looked_at=len(account_ids),
            statements_issued=0,
            plans_reviewed=0,
            plans_defaulted=0,
            small_balances_written_off=0,
            placed_with_agency=0,
            failed=0,
        )
        for account_id in account_ids:
            try:
                await self._run_for(account_id, report, audit)
            except Exception:
                report.failed += 1
                logger.exception("the collections cycle failed for an account; it is looked at again next run")
        if report.statements_issued or report.placed_with_agency or report.plans_defaulted:
            logger.info("collections cycle: %s", report.model_dump_json())
        return report

    async def _run_for(self, account_id: UUID, report: CycleReport, audit: AuditContext | None) -> None:
        now = self.clock()
        today = now.date()
        async with self.uow(audit) as uow:
            account = await uow.accounts.get(account_id, for_update=True)
            if account is None:
                return
            done: list[str] = []
            plan = account.plan
            if plan is not None:
                done.append("plans_reviewed")
                if account.review_plan(policy=self.policy, today=today):  # a miss, a default, a pause: stored
                    done += ["plans_defaulted"] if plan.state == "defaulted" else ["plan_changed"]
            if account.write_off_small_balance(
                write_off_id=uuid4(), policy=self.policy, today=today, cause=CAUSE, now=now
            ):
                done.append("small_balances_written_off")
            elif account.placement_due(policy=self.policy, today=today):
                placement_id = uuid4()
                placement = account.place_with_agency(placement_id=placement_id, policy=self.policy, today=today)
                if placement.id == placement_id:  # a new placement, not a later debt joining one in force
                    await uow.directory.add_item(placement.id, "placement", account.id)
                done.append("placed_with_agency")
            elif account.statement_due(policy=self.policy, today=today) and account.guarantor.address is not None:
                statement = account.issue_statement(
                    statement_id=uuid4(), policy=self.policy, how_to_pay=self.how_to_pay, today=today
                )
                await uow.statements.add(statement)
                done.append("statements_issued")
            if set(done) - {"plans_reviewed"}:
                await uow.accounts.save(account, now)
                audit_change(uow, account)
                await uow.commit()
        for figure in done:  # counted once committed
            if figure != "plan_changed":
                setattr(report, figure, getattr(report, figure) + 1)
