"""Reporting's facts in its database: written by the consumers as the events come, read whole by the reports.

A consumer applies a batch of events in one transaction, and a later event of the batch reads what an earlier one
wrote (a claim's scrub failure its creation, a reversal the payment it undoes): appended facts go in with Core
inserts, executed at once, and the records a topic's consumer folds (visits, claims, accounts, work items,
patients) are merged by their key and written in one flush at commit; a row the batch created is read back from
the facts' own map until then (the sessions do not flush by themselves, and their get finds only written rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar, cast
from uuid import UUID

from sqlalchemy import func, insert, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from rcm_reporting.adapters.tables import (
    AccountRow,
    AnswerRow,
    ClaimRow,
    HoldRow,
    MovementRow,
    OpeningRow,
    PatientRow,
    ResolutionRow,
    ReversalRow,
    TimelineRow,
    VisitRow,
    VisitVersionRow,
    WorkItemRow,
)
from rcm_reporting.domain.claims import ClaimRecord, ClaimState, Decision
from rcm_reporting.domain.receivables import EventLog
from rcm_reporting.domain.records import (
    AccountBalance,
    Answer,
    Hold,
    Movement,
    MovementKind,
    Opening,
    Resolution,
    Reversal,
    Visit,
    VisitVersion,
)

R = TypeVar("R", bound=SQLModel)

FACT_TABLES = (
    VisitRow,
    VisitVersionRow,
    ClaimRow,
    MovementRow,
    HoldRow,
    AnswerRow,
    ResolutionRow,
    ReversalRow,
    OpeningRow,
    AccountRow,
    WorkItemRow,
    TimelineRow,
    PatientRow,
)
"""Every table of reporting's own: what a replay into an empty database must rebuild identically."""


def _id(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    occurred_at: datetime
    producer: str
    event_type: str
    event_id: str
    summary: str


class SqlFacts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._added: dict[tuple[type[SQLModel], object], SQLModel] = {}
        """Rows this transaction created, by their key: the session writes them at commit, and until then they are
        read back from here (the session's get finds only rows it has written)."""

    async def _get(self, model: type[R], key: object) -> R | None:
        added = self._added.get((model, key))
        return cast(R, added) if added is not None else await self.session.get(model, key)

    async def _keep(self, row: SQLModel, key: object) -> None:
        """Keep a folded record's row: the session writes every kept row in one flush at commit, rather than one
        statement per event of the batch."""
        added = self._added.get((type(row), key))
        if added is None:
            merged = await self.session.merge(row)
            if inspect(merged).pending:
                self._added[(type(row), key)] = merged
        elif added is not row:
            for attribute in inspect(type(row)).column_attrs:
                setattr(added, attribute.key, getattr(row, attribute.key))

    # Visits ----------------------------------------------------------------------------------------------
    async def visit(self, encounter_id: UUID) -> Visit | None:
        row = await self._get(VisitRow, str(encounter_id))
        return None if row is None else _visit_of(row)

    async def save_visit(self, visit: Visit) -> None:
        await self._keep(
            VisitRow(
                encounter_id=str(visit.encounter_id),
                version=visit.version,
                patient_id=str(visit.patient_id),
                payer_id=visit.payer_id,
                self_pay=visit.self_pay,
                date_of_service=visit.date_of_service,
                captured_at=visit.captured_at,
                rendering_npi=visit.rendering_npi,
                total_charge=visit.total_charge,
                procedure_codes=",".join(visit.procedure_codes),
                voided=visit.voided,
                held=visit.held,
            ),
            str(visit.encounter_id),
        )

    async def add_visit_version(self, visit: Visit, at: datetime) -> None:
        await self.session.execute(
            insert(VisitVersionRow).values(
                encounter_id=str(visit.encounter_id),
                version=visit.version,
                occurred_at=at,
                patient_id=str(visit.patient_id),
                self_pay=visit.self_pay,
                date_of_service=visit.date_of_service,
            )
        )

    # Claims ----------------------------------------------------------------------------------------------
    async def claim(self, claim_id: UUID) -> ClaimRecord | None:
        row = await self._get(ClaimRow, str(claim_id))
        return None if row is None else _claim_of(row)

    async def save_claim(self, claim: ClaimRecord) -> None:
        await self._keep(
            ClaimRow(
                claim_id=str(claim.claim_id),
                encounter_id=str(claim.encounter_id),
                patient_id=str(claim.patient_id),
                payer_id=claim.payer_id,
                responsibility=claim.responsibility,
                frequency=claim.frequency,
                total_charge=claim.total_charge,
                created_at=claim.created_at,
                state=claim.state.value,
                submissions=claim.submissions,
                first_submitted_at=claim.first_submitted_at,
                scrub_failures=claim.scrub_failures,
                rejections=claim.rejections,
                first_payment_id=_id(claim.first_payment_id),
                first_decided_at=claim.first_decided_at,
                first_decision=claim.first_decision.value if claim.first_decision else None,
                initial_denial_amount=claim.initial_denial_amount,
                initial_denial_category=claim.initial_denial_category,
                initial_denial_reasons=",".join(claim.initial_denial_reasons),
                denied_amount=claim.denied_amount,
                closed_reason=claim.closed_reason,
            ),
            str(claim.claim_id),
        )

    # Appended facts --------------------------------------------------------------------------------------
    async def add_movements(self, event_id: UUID, movements: Sequence[Movement]) -> None:
        if not movements:
            return
        await self.session.execute(
            insert(MovementRow),
            [
                {
                    "event_id": str(event_id),
                    "seq": seq,
                    "occurred_at": m.occurred_at,
                    "kind": m.kind.value,
                    "amount": m.amount,
                    "encounter_id": _id(m.encounter_id),
                    "claim_id": _id(m.claim_id),
                    "account_id": _id(m.account_id),
                    "payment_id": _id(m.payment_id),
                    "payer_id": m.payer_id,
                    "at_visit": m.at_visit,
                }
                for seq, m in enumerate(movements)
            ],
        )

    async def movements_of_payment(self, payment_id: UUID) -> list[Movement]:
        rows = await self.session.scalars(
            select(MovementRow)
            .where(col(MovementRow.payment_id) == str(payment_id))
            .order_by(col(MovementRow.event_id), col(MovementRow.seq))
        )
        return [_movement_of(row) for row in rows]

    async def add_holds(self, event_id: UUID, holds: Sequence[Hold]) -> None:
        if holds:
            await self.session.execute(
                insert(HoldRow),
                [
                    {
                        "event_id": str(event_id),
                        "line": h.line,
                        "payment_id": str(h.payment_id),
                        "claim_id": str(h.claim_id),
                        "amount": h.amount,
                        "held_at": h.held_at,
                    }
                    for h in holds
                ],
            )

    async def add_answer(self, answer: Answer) -> None:
        lines = None if answer.lines is None else ",".join(answer.lines)
        await self.session.execute(
            insert(AnswerRow).values(
                payment_id=str(answer.payment_id),
                claim_id=str(answer.claim_id),
                lines=lines,
                answered_at=answer.answered_at,
            )
        )

    async def add_resolution(self, event_id: UUID, resolution: Resolution) -> None:
        await self.session.execute(
            insert(ResolutionRow).values(
                event_id=str(event_id),
                payment_id=str(resolution.payment_id),
                kind=resolution.kind,
                amount=resolution.amount,
                occurred_at=resolution.occurred_at,
            )
        )

    async def add_reversal(self, event_id: UUID, reversal: Reversal) -> None:
        await self.session.execute(
            insert(ReversalRow).values(
                event_id=str(event_id), payment_id=str(reversal.payment_id), occurred_at=reversal.occurred_at
            )
        )

    async def add_opening(self, event_id: UUID, opening: Opening) -> None:
        await self.session.execute(
            insert(OpeningRow).values(
                event_id=str(event_id),
                claim_id=str(opening.claim_id),
                occurred_at=opening.occurred_at,
                open=opening.open,
                reason=opening.reason,
            )
        )

    async def add_timeline(
        self,
        event_id: UUID,
        entries: Iterable[tuple[UUID | None, UUID | None]],
        *,
        occurred_at: datetime,
        producer: str,
        event_type: str,
        summary: str,
    ) -> None:
        """The event as a step of each (claim, visit) it concerns."""
        rows = [
            {
                "event_id": str(event_id),
                "seq": seq,
                "occurred_at": occurred_at,
                "producer": producer,
                "event_type": event_type,
                "claim_id": _id(claim_id),
                "encounter_id": _id(encounter_id),
                "summary": summary,
            }
            for seq, (claim_id, encounter_id) in enumerate(entries)
        ]
        if rows:
            await self.session.execute(insert(TimelineRow), rows)

    # Patients --------------------------------------------------------------------------------------------
    async def patient_registered(self, patient_id: UUID, at: datetime) -> None:
        row = await self._patient(patient_id)
        row.registered_at = at
        await self._keep(row, str(patient_id))

    async def coverage_added(self, patient_id: UUID) -> None:
        row = await self._patient(patient_id)
        row.coverages += 1
        await self._keep(row, str(patient_id))

    async def patient_merged_away(self, patient_id: UUID) -> None:
        row = await self._patient(patient_id)
        row.merged_away = True
        await self._keep(row, str(patient_id))

    async def _patient(self, patient_id: UUID) -> PatientRow:
        row = await self._get(PatientRow, str(patient_id))
        return row or PatientRow(patient_id=str(patient_id), coverages=0, merged_away=False)

    async def patients(self) -> tuple[int, int]:
        """Patients registered (less those merged into another) and the coverages registered for them."""
        counted = await self.session.execute(
            select(func.count(), func.coalesce(func.sum(col(PatientRow.coverages)), 0)).where(
                col(PatientRow.registered_at).is_not(None), ~col(PatientRow.merged_away)
            )
        )
        patients, coverages = counted.one()
        return int(patients), int(coverages)

    # Accounts and work items -----------------------------------------------------------------------------
    async def account(self, account_id: UUID) -> AccountBalance | None:
        row = await self._get(AccountRow, str(account_id))
        return None if row is None else _account_of(row)

    async def save_account(self, account: AccountBalance) -> None:
        await self._keep(
            AccountRow(
                account_id=str(account.account_id),
                insurance_pending=account.insurance_pending,
                patient_due=account.patient_due,
                credit=account.credit,
                balance=account.balance,
                placed=account.placed,
                on_plan=account.on_plan,
                plan_defaulted=account.plan_defaulted,
                statements=account.statements,
            ),
            str(account.account_id),
        )

    async def mark_item(self, queue: str, key: UUID, *, open: bool | None = None, settle: bool = False) -> None:
        """Open or close a queue's item (the latest of its own topic's events says which), or settle it for good
        (another topic's event resolved it)."""
        row = await self._get(WorkItemRow, (queue, str(key)))
        if row is None:
            row = WorkItemRow(queue=queue, item_key=str(key), open=False, settled=False)
        if open is not None:
            row.open = open
        row.settled = row.settled or settle
        await self._keep(row, (queue, str(key)))

    # Reads for the reports -------------------------------------------------------------------------------
    async def event_log(self) -> EventLog:
        session = self.session
        visits = [_visit_of(row) for row in await session.scalars(select(VisitRow))]
        claims = [_claim_of(row) for row in await session.scalars(select(ClaimRow))]
        return EventLog(
            visits={v.encounter_id: v for v in visits},
            claims={c.claim_id: c for c in claims},
            movements=[_movement_of(row) for row in await session.scalars(select(MovementRow))],
            holds=[
                Hold(UUID(r.payment_id), UUID(r.claim_id), r.line, r.amount, r.held_at)
                for r in await session.scalars(select(HoldRow))
            ],
            answers=[
                Answer(
                    UUID(r.payment_id), UUID(r.claim_id), None if r.lines is None else _split(r.lines), r.answered_at
                )
                for r in await session.scalars(select(AnswerRow))
            ],
            resolutions=[
                Resolution(UUID(r.payment_id), r.kind, r.amount, r.occurred_at)
                for r in await session.scalars(select(ResolutionRow))
            ],
            reversals=[Reversal(UUID(r.payment_id), r.occurred_at) for r in await session.scalars(select(ReversalRow))],
            openings=[
                Opening(UUID(r.claim_id), r.occurred_at, r.open, r.reason)
                for r in await session.scalars(
                    select(OpeningRow).order_by(col(OpeningRow.occurred_at), col(OpeningRow.event_id))
                )
            ],
            versions=[
                VisitVersion(
                    UUID(r.encounter_id), r.version, r.occurred_at, UUID(r.patient_id), r.self_pay, r.date_of_service
                )
                for r in await session.scalars(select(VisitVersionRow))
            ],
        )

    async def accounts(self) -> list[AccountBalance]:
        return [_account_of(row) for row in await self.session.scalars(select(AccountRow))]

    async def open_items(self) -> dict[str, int]:
        counted = await self.session.execute(
            select(col(WorkItemRow.queue), func.count())
            .where(col(WorkItemRow.open), ~col(WorkItemRow.settled))
            .group_by(col(WorkItemRow.queue))
        )
        return {queue: count for queue, count in counted.all()}

    async def timeline(self, claim: ClaimRecord) -> list[TimelineEntry]:
        """The claim's own events and its visit's (charges, patient payments), in the order they happened."""
        rows = await self.session.scalars(
            select(TimelineRow)
            .where(
                or_(
                    col(TimelineRow.claim_id) == str(claim.claim_id),
                    (col(TimelineRow.encounter_id) == str(claim.encounter_id)) & col(TimelineRow.claim_id).is_(None),
                )
            )
            .order_by(col(TimelineRow.occurred_at), col(TimelineRow.event_id), col(TimelineRow.seq))
        )
        return [TimelineEntry(r.occurred_at, r.producer, r.event_type, r.event_id, r.summary) for r in rows]


def _split(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def _visit_of(row: VisitRow) -> Visit:
    return Visit(
        encounter_id=UUID(row.encounter_id),
        version=row.version,
        patient_id=UUID(row.patient_id),
        payer_id=row.payer_id,
        self_pay=row.self_pay,
        date_of_service=row.date_of_service,
        captured_at=row.captured_at,
        rendering_npi=row.rendering_npi,
        total_charge=row.total_charge,
        procedure_codes=_split(row.procedure_codes),
        voided=row.voided,
        held=row.held,
    )


def _claim_of(row: ClaimRow) -> ClaimRecord:
    return ClaimRecord(
        claim_id=UUID(row.claim_id),
        encounter_id=UUID(row.encounter_id),
        patient_id=UUID(row.patient_id),
        payer_id=row.payer_id,
        responsibility=row.responsibility,
        frequency=row.frequency,
        total_charge=row.total_charge,
        created_at=row.created_at,
        state=ClaimState(row.state),
        submissions=row.submissions,
        first_submitted_at=row.first_submitted_at,
        scrub_failures=row.scrub_failures,
        rejections=row.rejections,
        first_payment_id=_uuid(row.first_payment_id),
        first_decided_at=row.first_decided_at,
        first_decision=Decision(row.first_decision) if row.first_decision else None,
        initial_denial_amount=row.initial_denial_amount,
        initial_denial_category=row.initial_denial_category,
        initial_denial_reasons=_split(row.initial_denial_reasons),
        denied_amount=row.denied_amount,
        closed_reason=row.closed_reason,
    )


def _movement_of(row: MovementRow) -> Movement:
    return Movement(
        occurred_at=row.occurred_at,
        kind=MovementKind(row.kind),
        amount=row.amount,
        encounter_id=_uuid(row.encounter_id),
        claim_id=_uuid(row.claim_id),
        account_id=_uuid(row.account_id),
        payment_id=_uuid(row.payment_id),
        payer_id=row.payer_id,
        at_visit=row.at_visit,
    )


def _account_of(row: AccountRow) -> AccountBalance:
    return AccountBalance(
        account_id=UUID(row.account_id),
        insurance_pending=row.insurance_pending,
        patient_due=row.patient_due,
        credit=row.credit,
        balance=row.balance,
        placed=row.placed,
        on_plan=row.on_plan,
        plan_defaulted=row.plan_defaulted,
        statements=row.statements,
    )
