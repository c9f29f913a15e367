"""The SQL repositories: claim copies, 835 files, remittances and claim payments.

Claim payments are written a batch at a time (one multi-row insert per batch of a file), and the copies they
match are read a batch at a time (one query by CLP01, one by CLP07), so a 10,000-claim 835 takes a few dozen
statements, not tens of thousands.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from rcm_common.crypto import FieldCipher, sealed_context
from rcm_common.errors import ConcurrentUpdate
from rcm_remittance.adapters.serialization import (
    copy_lines_json,
    copy_lines_of,
    payment_detail_json,
    payment_detail_of,
)
from rcm_remittance.adapters.tables import (
    ClaimCopyRow,
    ClaimPaymentRow,
    DepositRow,
    ProviderAdjustmentRow,
    RemittanceFileRow,
    RemittanceRow,
)
from rcm_remittance.domain.advice import ProviderAdjustmentAdvice, RemittanceAdvice
from rcm_remittance.domain.copies import ClaimCopy
from rcm_remittance.domain.deposits import Deposit
from rcm_remittance.domain.model import ClaimPayment, PaymentKey, PaymentState, Remittance, RemittanceState

_IN_CHUNK = 500  # values per IN list: well under SQLite's and PostgreSQL's limits


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


class SqlClaimCopies:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def get(self, claim_id: UUID) -> ClaimCopy | None:
        row = await self._session.get(ClaimCopyRow, str(claim_id))
        return self._copy(row) if row is not None else None

    async def save(self, copy: ClaimCopy, now: datetime) -> None:
        key = str(copy.claim_id)
        values: dict[str, Any] = {
            "claim_id": key,
            "patient_id": str(copy.patient_id),
            "payer_id": copy.payer_id,
            "coverage_id": str(copy.coverage_id),
            "patient_control_number": copy.patient_control_number,
            "payer_claim_number": copy.payer_claim_number,
            "replaces_payer_claim_number": copy.replaces_payer_claim_number,
            "frequency": copy.frequency,
            "state": copy.state,
            "total_charge": copy.total_charge,
            "lines_encrypted": self._cipher.encrypt(
                copy_lines_json(copy.lines), context=sealed_context("claim_copy", key, "lines")
            ),
            "updated_at": now,
        }
        row = await self._session.get(ClaimCopyRow, key)
        if row is None:
            self._session.add(ClaimCopyRow(**values))
            return
        for name, value in values.items():
            setattr(row, name, value)

    async def for_matching(
        self, control_numbers: Collection[str], payer_claim_numbers: Collection[str]
    ) -> list[ClaimCopy]:
        """The copies a batch of claim payments names, by CLP01 or by CLP07."""
        rows: dict[str, ClaimCopyRow] = {}
        for column, values in (
            (ClaimCopyRow.patient_control_number, sorted(control_numbers)),
            (ClaimCopyRow.payer_claim_number, sorted(v for v in payer_claim_numbers if v)),
        ):
            for chunk in _chunks(values):
                for row in (await self._session.scalars(select(ClaimCopyRow).where(col(column).in_(chunk)))).all():
                    rows[row.claim_id] = row
        return [self._copy(row) for row in rows.values()]

    async def with_charge(self, payer_id: str, charge: Any) -> list[ClaimCopy]:
        """The payer's claims with this total charge: candidates for a poster."""
        query = select(ClaimCopyRow).where(
            col(ClaimCopyRow.payer_id) == payer_id, col(ClaimCopyRow.total_charge) == charge
        )
        return [self._copy(row) for row in (await self._session.scalars(query.limit(50))).all()]

    def _copy(self, row: ClaimCopyRow) -> ClaimCopy:
        return ClaimCopy(
            claim_id=UUID(row.claim_id),
            patient_id=UUID(row.patient_id),
            payer_id=row.payer_id,
            coverage_id=UUID(row.coverage_id),
            patient_control_number=row.patient_control_number,
            frequency=row.frequency,
            total_charge=row.total_charge,
            lines=copy_lines_of(
                self._cipher.decrypt(row.lines_encrypted, context=sealed_context("claim_copy", row.claim_id, "lines"))
            ),
            state=row.state,  # type: ignore[arg-type]
            payer_claim_number=row.payer_claim_number,
            replaces_payer_claim_number=row.replaces_payer_claim_number,
        )


class SqlFiles:
    """The 835 files as they came, encrypted, known by their digest."""

    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def with_digest(self, digest: str) -> tuple[UUID, list[UUID]] | None:
        """The file with these bytes, and the remittances its sets were, new or known before."""
        query = select(col(RemittanceFileRow.id), col(RemittanceFileRow.remittance_ids)).where(
            col(RemittanceFileRow.digest) == digest
        )
        found = (await self._session.execute(query)).first()
        if found is None:
            return None
        return UUID(found[0]), [UUID(id_) for id_ in json.loads(found[1])]

    async def add(
        self, file_id: UUID, digest: str, source: str, content: bytes, remittance_ids: list[UUID], now: datetime
    ) -> None:
        key = str(file_id)
        text = content.decode("latin-1")  # X12 is ASCII; latin-1 keeps any byte as it came
        self._session.add(
            RemittanceFileRow(
                id=key,
                digest=digest,
                source=source,
                remittance_ids=json.dumps([str(id_) for id_ in remittance_ids]),
                content_encrypted=self._cipher.encrypt(text, context=sealed_context("remittance_file", key, "content")),
                received_at=now,
            )
        )

    async def content(self, file_id: UUID) -> bytes:
        row = await self._session.get(RemittanceFileRow, str(file_id))
        if row is None:
            raise LookupError(f"no file {file_id}")
        text = self._cipher.decrypt(row.content_encrypted, context=sealed_context("remittance_file", row.id, "content"))
        return text.encode("latin-1")


class SqlRemittances:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, remittance: Remittance) -> None:
        advice = remittance.advice
        key = str(remittance.remittance_id)
        self._session.add(
            RemittanceRow(
                id=key,
                file_id=str(remittance.file_id),
                position=advice.position,
                payer_id=advice.payer_id,
                payer_name=advice.payer_name,
                trace_number=advice.trace_number,
                interchange_control_number=advice.interchange_control_number,
                figures=remittance.figures,
                handling_code=advice.handling_code,
                payment_method=advice.payment_method,
                payment_date=advice.payment_date,
                total_paid=advice.total_paid,
                credit_debit=advice.credit_debit,
                claim_count=remittance.claim_count,
                provider_adjustment_total=advice.provider_adjustment_total,
                state=remittance.state,
                claims_done=0,
                posted=0,
                unmatched=0,
                duplicates=0,
                balance_problems=json.dumps(list(advice.balance_problems)),
                findings=json.dumps(list(advice.findings)),
                received_at=remittance.received_at,
                repeats_id=str(remittance.repeats) if remittance.repeats else None,
            )
        )
        for position, adjustment in enumerate(advice.provider_adjustments):
            self._session.add(
                ProviderAdjustmentRow(
                    remittance_id=key,
                    position=position,
                    reason=adjustment.reason,
                    reference=adjustment.reference,
                    amount=adjustment.amount,
                    fiscal_period_date=adjustment.fiscal_period_date,
                )
            )

    async def with_keys(self, keys: Collection[tuple[str, str, str]]) -> dict[tuple[str, str, str], dict[str, UUID]]:
        """The remittances known already by payer, TRN02 and ISA13, each key's by their figures."""
        if not keys:
            return {}
        columns = (
            col(RemittanceRow.payer_id),
            col(RemittanceRow.trace_number),
            col(RemittanceRow.interchange_control_number),
        )
        query = select(col(RemittanceRow.id), col(RemittanceRow.figures), *columns).where(
            tuple_(*columns).in_(list(keys))
        )
        found: dict[tuple[str, str, str], dict[str, UUID]] = {}
        for id_, figures, payer, trace, isa13 in await self._session.execute(query):
            found.setdefault((payer, trace, isa13), {})[figures] = UUID(id_)
        return found

    async def first_with_traces(self, traces: Collection[tuple[str, str]]) -> dict[tuple[str, str], UUID]:
        """The first remittance received of each payer and TRN02 known already."""
        if not traces:
            return {}
        columns = (col(RemittanceRow.payer_id), col(RemittanceRow.trace_number))
        query = (
            select(col(RemittanceRow.id), *columns)
            .where(tuple_(*columns).in_(list(traces)), col(RemittanceRow.repeats_id).is_(None))
            .order_by(col(RemittanceRow.received_at))
        )
        found: dict[tuple[str, str], UUID] = {}
        for id_, payer, trace in await self._session.execute(query):
            found.setdefault((payer, trace), UUID(id_))
        return found

    async def adjustments_kept_before(self, remittance: Remittance) -> list[tuple[str, str, Decimal]]:
        """The PLB adjustments (reason, reference, amount) the other posted remittances of this payer and TRN02
        kept: a set sent again repeats them."""
        query = (
            select(
                col(ProviderAdjustmentRow.reason),
                col(ProviderAdjustmentRow.reference),
                col(ProviderAdjustmentRow.amount),
            )
            .join(RemittanceRow, col(RemittanceRow.id) == col(ProviderAdjustmentRow.remittance_id))
            .where(
                col(RemittanceRow.payer_id) == remittance.advice.payer_id,
                col(RemittanceRow.trace_number) == remittance.advice.trace_number,
                col(RemittanceRow.id) != str(remittance.remittance_id),
                col(RemittanceRow.state) == "posted",
            )
        )
        return [
            (reason, reference, Decimal(str(amount)))
            for reason, reference, amount in await self._session.execute(query)
        ]

    async def get(self, remittance_id: UUID, *, for_update: bool = False) -> Remittance | None:
        query = select(RemittanceRow).where(col(RemittanceRow.id) == str(remittance_id))
        if for_update:
            query = query.with_for_update()
        row = (await self._session.scalars(query.execution_options(populate_existing=True))).first()
        return (await self._remittances([row]))[0] if row is not None else None

    async def save(self, remittance: Remittance) -> None:
        key = str(remittance.remittance_id)
        await self._session.execute(
            update(RemittanceRow)
            .where(col(RemittanceRow.id) == key)
            .values(
                state=remittance.state,
                claims_done=remittance.claims_done,
                posted=remittance.posted,
                unmatched=remittance.unmatched,
                duplicates=remittance.duplicates,
                posted_at=remittance.posted_at,
                released_by=remittance.released_by,
                release_reason=remittance.release_reason,
                failure=remittance.failure,
            )
        )
        for position, claim_id in enumerate(remittance.adjustment_claims):
            if claim_id is not None:
                await self._session.execute(
                    update(ProviderAdjustmentRow)
                    .where(
                        col(ProviderAdjustmentRow.remittance_id) == key, col(ProviderAdjustmentRow.position) == position
                    )
                    .values(claim_id=str(claim_id))
                )

    async def postable(self) -> list[UUID]:
        """The remittances waiting to be posted, oldest first (a held one waits for a poster instead)."""
        query = (
            select(col(RemittanceRow.id))
            .where(col(RemittanceRow.state).in_(("received", "posting")))
            .order_by(col(RemittanceRow.received_at), col(RemittanceRow.position))
        )
        return [UUID(id_) for id_ in (await self._session.scalars(query)).all()]

    async def with_traces(self, traces: Collection[str]) -> list[Remittance]:
        """The remittances paid under these TRN02s (the traces deposits show)."""
        rows: list[RemittanceRow] = []
        for chunk in _chunks(sorted(traces)):
            rows += (
                await self._session.scalars(select(RemittanceRow).where(col(RemittanceRow.trace_number).in_(chunk)))
            ).all()
        return await self._remittances(rows)

    async def search(
        self,
        *,
        payer_id: str | None = None,
        state: RemittanceState | None = None,
        date_from: date | None = None,
        date_to: date | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Remittance]:
        query = select(RemittanceRow)
        if payer_id is not None:
            query = query.where(col(RemittanceRow.payer_id) == payer_id)
        if state is not None:
            query = query.where(col(RemittanceRow.state) == state)
        if date_from is not None:
            query = query.where(col(RemittanceRow.payment_date) >= date_from)
        if date_to is not None:
            query = query.where(col(RemittanceRow.payment_date) <= date_to)
        query = query.order_by(col(RemittanceRow.received_at).desc(), col(RemittanceRow.id)).limit(limit).offset(offset)
        return await self._remittances((await self._session.scalars(query)).all())

    async def _remittances(self, rows: Sequence[RemittanceRow]) -> list[Remittance]:
        """The remittances of these rows, their PLB adjustments read in one query for them all."""
        adjustments: dict[str, list[ProviderAdjustmentRow]] = {row.id: [] for row in rows}
        for chunk in _chunks(list(adjustments)):
            query = (
                select(ProviderAdjustmentRow)
                .where(col(ProviderAdjustmentRow.remittance_id).in_(chunk))
                .order_by(col(ProviderAdjustmentRow.remittance_id), col(ProviderAdjustmentRow.position))
            )
            for adjustment in (await self._session.scalars(query)).all():
                adjustments[adjustment.remittance_id].append(adjustment)
        return [self._remittance(row, adjustments[row.id]) for row in rows]

    def _remittance(self, row: RemittanceRow, adjustments: Sequence[ProviderAdjustmentRow]) -> Remittance:
        advice = RemittanceAdvice(
            position=row.position,
            payer_id=row.payer_id,
            payer_name=row.payer_name,
            trace_number=row.trace_number,
            interchange_control_number=row.interchange_control_number,
            handling_code=row.handling_code,
            total_paid=row.total_paid,
            credit_debit=row.credit_debit,
            payment_method=row.payment_method,
            payment_date=row.payment_date,
            claims=(),
            provider_adjustments=tuple(
                ProviderAdjustmentAdvice(a.reason, a.reference, a.amount, a.fiscal_period_date) for a in adjustments
            ),
            findings=tuple(json.loads(row.findings)),
            balance_problems=tuple(json.loads(row.balance_problems)),
        )
        return Remittance(
            remittance_id=UUID(row.id),
            file_id=UUID(row.file_id),
            advice=advice,
            figures=row.figures,
            claim_count=row.claim_count,
            received_at=row.received_at,
            state=row.state,  # type: ignore[arg-type]
            claims_done=row.claims_done,
            posted=row.posted,
            unmatched=row.unmatched,
            duplicates=row.duplicates,
            posted_at=row.posted_at,
            released_by=row.released_by,
            release_reason=row.release_reason,
            adjustment_claims=tuple(UUID(a.claim_id) if a.claim_id else None for a in adjustments),
            repeats=UUID(row.repeats_id) if row.repeats_id else None,
            failure=row.failure,
        )


class SqlClaimPayments:
    def __init__(self, session: AsyncSession, cipher: FieldCipher) -> None:
        self._session = session
        self._cipher = cipher

    async def posted_keys(self, keys: Collection[PaymentKey]) -> set[PaymentKey]:
        """Which of these claim payments are kept already (from this file or another)."""
        found: set[PaymentKey] = set()
        columns = (
            col(ClaimPaymentRow.payer_id),
            col(ClaimPaymentRow.trace_number),
            col(ClaimPaymentRow.patient_control_number),
            col(ClaimPaymentRow.payer_claim_number),
            col(ClaimPaymentRow.status),
            col(ClaimPaymentRow.occurrence),
        )
        for chunk in _chunks(sorted(keys)):
            rows = await self._session.execute(select(*columns).where(tuple_(*columns).in_(list(chunk))))
            found |= {PaymentKey(*row) for row in rows}
        return found

    async def add_many(self, payments: Sequence[ClaimPayment], positions: Sequence[int]) -> None:
        """Insert the batch's claim payments in one statement."""
        if payments:
            await self._session.execute(
                insert(ClaimPaymentRow.__table__),  # type: ignore[attr-defined]
                [self._values(payment, position) for payment, position in zip(payments, positions, strict=True)],
            )

    async def save(self, payment: ClaimPayment) -> None:
        values = self._values(payment, None)
        del values["id"], values["position"]
        await self._session.execute(
            update(ClaimPaymentRow).where(col(ClaimPaymentRow.id) == str(payment.payment_id)).values(**values)
        )

    async def get(self, payment_id: UUID, *, for_update: bool = False) -> ClaimPayment | None:
        query = select(ClaimPaymentRow).where(col(ClaimPaymentRow.id) == str(payment_id))
        if for_update:
            query = query.with_for_update()
        row = (await self._session.scalars(query.execution_options(populate_existing=True))).first()
        return self._payment(row) if row is not None else None

    async def reversible(self, keys: Collection[tuple[str, str, str]]) -> list[ClaimPayment]:
        """The posted, unreversed payments a reversal may take back: same payer, CLP01 and CLP07, not itself a
        reversal; the earliest first."""
        if not keys:
            return []
        columns = (
            col(ClaimPaymentRow.payer_id),
            col(ClaimPaymentRow.patient_control_number),
            col(ClaimPaymentRow.payer_claim_number),
        )
        query = (
            select(ClaimPaymentRow)
            .where(
                tuple_(*columns).in_(list(keys)),
                col(ClaimPaymentRow.state) == "posted",
                col(ClaimPaymentRow.status) != "22",
                col(ClaimPaymentRow.reversed_by_id).is_(None),
            )
            .order_by(col(ClaimPaymentRow.posted_at), col(ClaimPaymentRow.position), col(ClaimPaymentRow.id))
            .with_for_update()  # on PostgreSQL: no other transaction takes the same payment back meanwhile
            .execution_options(populate_existing=True)
        )
        return [self._payment(row) for row in (await self._session.scalars(query)).all()]

    async def mark_reversed(self, payment: ClaimPayment) -> None:
        """Record the reversal that took the payment back, unless another did first (then ConcurrentUpdate)."""
        written = await self._session.execute(
            update(ClaimPaymentRow)
            .where(col(ClaimPaymentRow.id) == str(payment.payment_id), col(ClaimPaymentRow.reversed_by_id).is_(None))
            .values(reversed_by_id=str(payment.reversed_by_id))
        )
        if written.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate("The claim payment was taken back by another reversal meanwhile.")

    async def patients_of_file(self, file_id: UUID) -> list[UUID]:
        """The patients the claim payments of a file were posted to: whom reading the file concerns."""
        query = (
            select(col(ClaimPaymentRow.patient_id))
            .join(RemittanceRow, col(RemittanceRow.id) == col(ClaimPaymentRow.remittance_id))
            .where(col(RemittanceRow.file_id) == str(file_id), col(ClaimPaymentRow.patient_id).is_not(None))
            .distinct()
        )
        return sorted(UUID(patient_id) for patient_id in (await self._session.scalars(query)).all() if patient_id)

    async def rematchable(self, limit: int) -> list[UUID]:
        """Unmatched claim payments that may be posted now, in the order they came: a payment whose CLP01 a
        claim copy has, or whose CLP07 a copy of this payer and charge has; a reversal of whose amounts a
        payment of the same claim numbers holds the negation (posted, or itself about to be)."""
        copy = ClaimCopyRow.__table__.alias("copy")  # type: ignore[attr-defined]
        original = ClaimPaymentRow.__table__.alias("original")  # type: ignore[attr-defined]
        payment = ClaimPaymentRow.__table__.c  # type: ignore[attr-defined]
        claim_known = (
            select(1)
            .select_from(copy)
            .where(
                or_(
                    copy.c.patient_control_number == payment.patient_control_number,
                    (copy.c.payer_claim_number == payment.payer_claim_number)
                    & (copy.c.payer_id == payment.payer_id)
                    & (copy.c.total_charge == payment.charge),
                )
            )
            .exists()
        )
        payment_known = (
            select(1)
            .select_from(original)
            .where(
                original.c.payer_id == payment.payer_id,
                original.c.patient_control_number == payment.patient_control_number,
                original.c.payer_claim_number == payment.payer_claim_number,
                original.c.status != "22",
                original.c.reversed_by_id.is_(None),
                original.c.charge == -payment.charge,
                original.c.paid == -payment.paid,
            )
            .exists()
        )
        query = (
            select(payment.id)
            .join(RemittanceRow, col(RemittanceRow.id) == payment.remittance_id)
            .where(
                payment.state == "unmatched",
                or_((payment.status != "22") & claim_known, (payment.status == "22") & payment_known),
            )
            .order_by(col(RemittanceRow.received_at), col(RemittanceRow.id), payment.position)
            .limit(limit)
        )
        return [UUID(id_) for id_ in (await self._session.scalars(query)).all()]

    async def search(
        self,
        *,
        claim_id: UUID | None = None,
        remittance_id: UUID | None = None,
        state: PaymentState | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ClaimPayment]:
        query = select(ClaimPaymentRow)
        if claim_id is not None:
            query = query.where(col(ClaimPaymentRow.claim_id) == str(claim_id))
        if remittance_id is not None:
            query = query.where(col(ClaimPaymentRow.remittance_id) == str(remittance_id))
        if state is not None:
            query = query.where(col(ClaimPaymentRow.state) == state)
        if remittance_id is not None:  # the 835's order
            query = query.order_by(col(ClaimPaymentRow.position))
        elif state == "unmatched":  # as they came: by their remittance's arrival, then the 835's order
            query = query.join(RemittanceRow, col(RemittanceRow.id) == col(ClaimPaymentRow.remittance_id)).order_by(
                col(RemittanceRow.received_at), col(RemittanceRow.id), col(ClaimPaymentRow.position)
            )
        else:  # posted first to last
            query = query.order_by(
                col(ClaimPaymentRow.posted_at).asc().nulls_last(),
                col(ClaimPaymentRow.remittance_id),
                col(ClaimPaymentRow.position),
            )
        return [self._payment(row) for row in (await self._session.scalars(query.limit(limit).offset(offset))).all()]

    def _values(self, payment: ClaimPayment, position: int | None) -> dict[str, Any]:
        advice, key = payment.advice, str(payment.payment_id)
        return {
            "id": key,
            "remittance_id": str(payment.remittance_id),
            "position": position,
            "payer_id": payment.payer_id,
            "trace_number": payment.trace_number,
            "patient_control_number": advice.patient_control_number,
            "payer_claim_number": advice.payer_claim_number,
            "status": advice.status,
            "occurrence": payment.occurrence,
            "payment_date": payment.payment_date,
            "charge": advice.charge,
            "paid": advice.paid,
            "patient_responsibility": advice.patient_responsibility,
            "state": payment.state,
            "claim_id": str(payment.claim_id) if payment.claim_id else None,
            "patient_id": str(payment.patient_id) if payment.patient_id else None,
            "matched_by": payment.matched_by,
            "unmatched_reason": payment.unmatched_reason,
            "candidates": json.dumps([str(claim_id) for claim_id in payment.candidates]),
            "reverses_id": str(payment.reverses_id) if payment.reverses_id else None,
            "reversed_by_id": str(payment.reversed_by_id) if payment.reversed_by_id else None,
            "posted_at": payment.posted_at,
            "posted_by": payment.posted_by,
            "detail_encrypted": self._cipher.encrypt(
                payment_detail_json(advice, payment.line_matches),
                context=sealed_context("claim_payment", key, "detail"),
            ),
        }

    def _payment(self, row: ClaimPaymentRow) -> ClaimPayment:
        detail = self._cipher.decrypt(row.detail_encrypted, context=sealed_context("claim_payment", row.id, "detail"))
        advice, line_matches = payment_detail_of(
            detail,
            patient_control_number=row.patient_control_number,
            status=row.status,
            charge=row.charge,
            paid=row.paid,
            patient_responsibility=row.patient_responsibility,
            payer_claim_number=row.payer_claim_number,
        )
        return ClaimPayment(
            payment_id=UUID(row.id),
            remittance_id=UUID(row.remittance_id),
            payer_id=row.payer_id,
            trace_number=row.trace_number,
            payment_date=row.payment_date,
            advice=advice,
            occurrence=row.occurrence,
            state=row.state,  # type: ignore[arg-type]
            claim_id=UUID(row.claim_id) if row.claim_id else None,
            patient_id=UUID(row.patient_id) if row.patient_id else None,
            matched_by=row.matched_by,  # type: ignore[arg-type]
            line_matches=line_matches,
            unmatched_reason=row.unmatched_reason,
            candidates=tuple(UUID(claim_id) for claim_id in json.loads(row.candidates)),
            reverses_id=UUID(row.reverses_id) if row.reverses_id else None,
            reversed_by_id=UUID(row.reversed_by_id) if row.reversed_by_id else None,
            posted_at=row.posted_at,
            posted_by=row.posted_by,
        )


class SqlDeposits:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, deposit: Deposit) -> None:
        self._session.add(
            DepositRow(
                id=str(deposit.deposit_id),
                deposit_date=deposit.deposit_date,
                amount=deposit.amount,
                trace_number=deposit.trace_number,
                recorded_at=deposit.recorded_at,
                recorded_by=deposit.recorded_by,
            )
        )
        await self._session.flush()  # the same line twice fails here, in the caller's transaction

    async def get(self, deposit_id: UUID) -> Deposit | None:
        row = await self._session.get(DepositRow, str(deposit_id))
        return _deposit(row) if row is not None else None

    async def between(self, date_from: date, date_to: date) -> list[Deposit]:
        query = select(DepositRow).where(
            col(DepositRow.deposit_date) >= date_from, col(DepositRow.deposit_date) <= date_to
        )
        return [_deposit(row) for row in (await self._session.scalars(query)).all()]

    async def with_traces(self, traces: Collection[str]) -> list[Deposit]:
        found = []
        for chunk in _chunks(sorted(traces)):
            query = select(DepositRow).where(col(DepositRow.trace_number).in_(chunk))
            found += [_deposit(row) for row in (await self._session.scalars(query)).all()]
        return found


def _deposit(row: DepositRow) -> Deposit:
    return Deposit(UUID(row.id), row.deposit_date, row.amount, row.trace_number, row.recorded_at, row.recorded_by)
