"""Posting a remittance's claim payments, a batch per transaction, resumable after a crash at any point.

Each batch locks its remittance, reads how far posting has gone, posts the next claim payments and moves the
mark in the same transaction: a crash loses at most the batch in flight, which is posted again from the same
mark. The natural key of each claim payment is unique as well, so a payment kept already (the same claim
payment in a file a payer sent again) is counted as a duplicate and posts nothing.

Within a batch the copies are read by CLP01 and CLP07 in one query each, the kept keys in one, and the claim
payments are inserted in one statement: a 10,000-claim 835 is 20 transactions of a few statements each.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from rcm_common.db import is_transient_database_error
from rcm_common.errors import ConcurrentUpdate
from rcm_common.types import Clock
from rcm_remittance.domain.advice import ClaimPaymentAdvice, RemittanceAdvice
from rcm_remittance.domain.codes import CodeBook
from rcm_remittance.domain.matching import (
    ClaimMatch,
    CopyIndex,
    NoMatch,
    by_hand,
    candidates,
    find_claim,
    match_lines,
)
from rcm_remittance.domain.model import ClaimPayment, Remittance, RemittanceError
from rcm_remittance.domain.posting import Tolerance
from rcm_remittance.service_layer.intake import Reader
from rcm_remittance.service_layer.unit_of_work import RemittanceUnitOfWork

logger = logging.getLogger(__name__)

ReversalKey = tuple[str, str, str]  # payer, CLP01, CLP07: what a reversal shares with the payment it takes back
WAITING_REVERSAL = "it negates no payment posted here: it waits for the payment it takes back"
REMATCHED_AT_ONCE = 500  # unmatched claim payments a round looks at again


@dataclass
class PostingRules:
    """What posting decides with: the code table (curated, plus any loaded lists) and the underpayment tolerance."""

    codes: CodeBook
    tolerance: Tolerance


@dataclass
class Poster:
    uow: Callable[[], RemittanceUnitOfWork]
    read: Reader
    rules: PostingRules
    clock: Clock
    batch_size: int = 500
    actor: str = "system:remittance-poster"

    async def run_once(self) -> int:
        """Post every remittance waiting, then what waited unmatched and can be posted now; returns how many
        claim payments were posted. A remittance that cannot be posted does not stop the others: one that fails
        for a reason trying again will not mend is marked failed, with the reason, for a person; one that met a
        passing conflict is tried again next round."""
        async with self.uow() as uow:
            waiting = await uow.remittances.postable()
        posted = 0
        for remittance_id in waiting:
            try:
                posted += await self.post(remittance_id)
            except Exception as error:
                if isinstance(error, ConcurrentUpdate) or is_transient_database_error(error):
                    logger.warning("remittance %s met a passing conflict; it is posted again next round", remittance_id)
                    continue
                logger.exception("remittance %s cannot be posted; it is marked failed", remittance_id)
                await self._mark_failed(remittance_id, error)
        return posted + await self.rematch()

    async def rematch(self) -> int:
        """Post the unmatched claim payments that can be now, in the order they came (their remittance's
        arrival, then the 835's): a payment whose claim has become known (an 835 may come before the claim
        service's events reach this service), a reversal whose payment has been posted (just now, by hand, or
        from a file released late), so a reversal always follows the payment it takes back. Each in a
        transaction of its own: one that cannot be posted holds up nothing, and stays."""
        async with self.uow() as uow:
            candidates = await uow.payments.rematchable(REMATCHED_AT_ONCE)
        posted = 0
        for payment_id in candidates:
            try:
                posted += await self._rematch(payment_id)
            except Exception:
                logger.exception("unmatched claim payment %s could not be posted; it stays unmatched", payment_id)
        return posted

    async def _rematch(self, payment_id: UUID) -> int:
        async with self.uow() as uow:
            payment = await uow.payments.get(payment_id, for_update=True)
            if payment is None or payment.state != "unmatched":
                return 0
            now, advice = self.clock(), payment.advice
            index = CopyIndex(
                await uow.copies.for_matching({advice.patient_control_number}, {advice.payer_claim_number})
            )
            if advice.is_reversal:
                original = _reversed_payment(payment, await self._reversible(uow, [payment]))
                if original is None or not await self._post_reversal(uow, payment, original, index, now):
                    return 0
                await uow.payments.save(payment)
                await uow.payments.mark_reversed(original)
            else:
                found = find_claim(advice, payment.payer_id, index)
                if not isinstance(found, ClaimMatch):
                    return 0
                payment.post(found, self.rules.codes, self.rules.tolerance, now, by=self.actor)
                await uow.payments.save(payment)
                uow.record_access("update", "claim_payment", payment.payment_id, payment.patient_id)
            await uow.commit()
        return 1

    async def _mark_failed(self, remittance_id: UUID, error: Exception) -> None:
        async with self.uow() as uow:
            remittance = await uow.remittances.get(remittance_id, for_update=True)
            if remittance is not None and remittance.postable:
                remittance.fail(f"{type(error).__name__}: {str(error)[:200]}")
                await uow.remittances.save(remittance)
                await uow.commit()

    async def post(self, remittance_id: UUID) -> int:
        """Post the remittance's claim payments from where posting stopped, a batch per transaction."""
        async with self.uow() as uow:
            remittance = await uow.remittances.get(remittance_id)
            if remittance is None or not remittance.postable:
                return 0
            content = await uow.files.content(remittance.file_id)
        advice = await self._advice_of(remittance, content)
        occurrences = _occurrences(advice.claims)
        posted = 0
        while True:
            async with self.uow() as uow:
                locked = await uow.remittances.get(remittance_id, for_update=True)
                if locked is None or not locked.postable:
                    return posted
                start = locked.claims_done
                batch = advice.claims[start : start + self.batch_size]
                if batch:
                    posted += await self._post_batch(uow, locked, batch, occurrences, start)
                if locked.claims_done == locked.claim_count:
                    kept_before = await _kept_before(uow, locked)
                    locked.finish(await self._adjustment_claims(uow, advice), kept_before, self.clock())
                await uow.remittances.save(locked)
                await uow.commit()
            if locked.state == "posted":
                logger.info(
                    "remittance %s posted: %d claim payments posted, %d unmatched, %d duplicates",
                    remittance_id,
                    locked.posted,
                    locked.unmatched,
                    locked.duplicates,
                )
                return posted

    async def _advice_of(self, remittance: Remittance, content: bytes) -> RemittanceAdvice:
        """The remittance's transaction set, read again from its file (which was read whole at intake)."""
        advices = await self.read(content)
        advice = advices[remittance.advice.position] if remittance.advice.position < len(advices) else None
        if advice is None or (advice.figures, len(advice.claims)) != (remittance.figures, remittance.claim_count):
            raise RemittanceError("its file no longer reads as it did when it was taken in")
        return advice

    async def _post_batch(
        self,
        uow: RemittanceUnitOfWork,
        remittance: Remittance,
        batch: Sequence[ClaimPaymentAdvice],
        occurrences: Sequence[int],
        start: int,
    ) -> int:
        advice, now = remittance.advice, self.clock()
        payments = [
            ClaimPayment(
                uuid.uuid4(),
                remittance.remittance_id,
                advice.payer_id,
                advice.trace_number,
                advice.payment_date,
                item,
                occurrences[position],
            )
            for position, item in enumerate(batch, start)
        ]
        kept = await uow.payments.posted_keys({payment.key for payment in payments})
        fresh = [payment for payment in payments if payment.key not in kept]
        positions = [position for position, payment in enumerate(payments, start) if payment.key not in kept]
        index = CopyIndex(
            await uow.copies.for_matching(
                {p.advice.patient_control_number for p in fresh}, {p.advice.payer_claim_number for p in fresh}
            )
        )
        reversible = await self._reversible(uow, [p for p in fresh if p.advice.is_reversal])
        taken_back: list[ClaimPayment] = []
        for payment in fresh:
            if payment.advice.is_reversal:
                original = _reversed_payment(payment, reversible)
                if original is not None and await self._post_reversal(uow, payment, original, index, now):
                    taken_back.append(original)
                else:
                    payment.leave_unmatched(WAITING_REVERSAL, ())
                continue
            found = find_claim(payment.advice, advice.payer_id, index)
            if isinstance(found, NoMatch):
                await self._leave_unmatched(uow, payment, found)
                continue
            payment.post(found, self.rules.codes, self.rules.tolerance, now, by=self.actor)
            reversible[_reversal_key(payment)].append(payment)
            uow.record_access("create", "claim_payment", payment.payment_id, payment.patient_id)
        await uow.payments.add_many(fresh, positions)
        fresh_ids = {payment.payment_id for payment in fresh}
        for original in taken_back:
            if original.payment_id not in fresh_ids:
                await uow.payments.mark_reversed(original)
        posted = sum(1 for payment in fresh if payment.state == "posted")
        remittance.worked(len(batch), posted, len(fresh) - posted, len(batch) - len(fresh))
        return posted

    async def _reversible(
        self, uow: RemittanceUnitOfWork, reversals: Sequence[ClaimPayment]
    ) -> defaultdict[ReversalKey, list[ClaimPayment]]:
        """The posted payments not yet taken back that these reversals may take back, locked until commit."""
        found: defaultdict[ReversalKey, list[ClaimPayment]] = defaultdict(list)
        for payment in await uow.payments.reversible({_reversal_key(p) for p in reversals}):
            found[_reversal_key(payment)].append(payment)
        return found

    async def _post_reversal(
        self,
        uow: RemittanceUnitOfWork,
        reversal: ClaimPayment,
        original: ClaimPayment,
        index: CopyIndex,
        now: datetime,
    ) -> bool:
        """A reversal goes to the claim its original was posted to, whoever matched that; its own lines are
        matched to the claim's (a payer may reverse at the claim level only). False when that claim is gone."""
        claim = index.by_control_number(reversal.advice.patient_control_number)
        if claim is None or claim.claim_id != original.claim_id:
            claim = await uow.copies.get(original.claim_id) if original.claim_id is not None else None
        if claim is None:
            return False
        match = ClaimMatch(
            claim, original.matched_by or "patient_control_number", match_lines(reversal.advice.lines, claim.lines)
        )
        reversal.post(match, self.rules.codes, self.rules.tolerance, now, by=self.actor, reverses=original)
        uow.record_access("create", "claim_payment", reversal.payment_id, reversal.patient_id)
        return True

    async def _leave_unmatched(self, uow: RemittanceUnitOfWork, payment: ClaimPayment, found: NoMatch) -> None:
        named = found.candidates
        if not named:
            copies = await uow.copies.with_charge(payment.payer_id, payment.advice.charge)
            named = candidates(payment.advice, payment.payer_id, copies)
        payment.leave_unmatched(found.reason, named)

    async def _adjustment_claims(self, uow: RemittanceUnitOfWork, advice: RemittanceAdvice) -> tuple[UUID | None, ...]:
        """The claim each PLB adjustment names in its reference (a claim's CLM01 or the payer's claim number)."""
        references = {adjustment.reference for adjustment in advice.provider_adjustments if adjustment.reference}
        index = CopyIndex(await uow.copies.for_matching(references, references))
        linked: list[UUID | None] = []
        for adjustment in advice.provider_adjustments:
            claim = index.by_control_number(adjustment.reference)
            named = [c for c in index.by_payer_claim_number(adjustment.reference) if c.payer_id == advice.payer_id]
            if claim is None and len(named) == 1:
                claim = named[0]
            linked.append(claim.claim_id if claim is not None else None)
        return tuple(linked)


async def _kept_before(uow: RemittanceUnitOfWork, remittance: Remittance) -> tuple[bool, ...]:
    """Which of the remittance's PLB adjustments another posted remittance of the same payer and TRN02 kept
    already (each earlier adjustment answers for one repeat), whichever of the two was received first."""
    earlier = Counter(await uow.remittances.adjustments_kept_before(remittance))
    flags = []
    for adjustment in remittance.advice.provider_adjustments:
        key = (adjustment.reason, adjustment.reference, adjustment.amount)
        flags.append(earlier[key] > 0)
        earlier[key] -= 1
    return tuple(flags)


def _occurrences(claims: Sequence[ClaimPaymentAdvice]) -> list[int]:
    """Each claim payment's occurrence: how many before it in the remittance carry the same numbers."""
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    found = []
    for claim in claims:
        numbers = (claim.patient_control_number, claim.payer_claim_number, claim.status)
        found.append(seen[numbers])
        seen[numbers] += 1
    return found


def _reversal_key(payment: ClaimPayment) -> ReversalKey:
    return (payment.payer_id, payment.advice.patient_control_number, payment.advice.payer_claim_number)


def _reversed_payment(
    reversal: ClaimPayment, reversible: defaultdict[ReversalKey, list[ClaimPayment]]
) -> ClaimPayment | None:
    """The payment a reversal takes back: the earliest of the claim's payments not taken back whose charge,
    payment and patient responsibility it negates exactly. Another would be a guess; the reversal waits."""
    waiting = reversible.get(_reversal_key(reversal), [])
    chosen = next((p for p in waiting if p.reversed_by_id is None and negates(reversal.advice, p.advice)), None)
    if chosen is not None:
        waiting.remove(chosen)
    return chosen


def negates(reversal: ClaimPaymentAdvice, original: ClaimPaymentAdvice) -> bool:
    return (reversal.charge, reversal.paid, reversal.patient_responsibility) == (
        -original.charge,
        -original.paid,
        -original.patient_responsibility,
    )


async def match_by_hand(
    uow: RemittanceUnitOfWork, payment: ClaimPayment, claim_id: UUID, rules: PostingRules, now: datetime, by: str
) -> ClaimPayment | None:
    """Post an unmatched claim payment to the claim a poster chose; None when there is no such claim."""
    claim = await uow.copies.get(claim_id)
    if claim is None:
        return None
    original = None
    if payment.advice.is_reversal:
        waiting = await uow.payments.reversible({_reversal_key(payment)})
        original = next((p for p in waiting if p.claim_id == claim_id and negates(payment.advice, p.advice)), None)
    payment.post(by_hand(payment.advice, claim), rules.codes, rules.tolerance, now, by=by, reverses=original)
    if original is not None:
        await uow.payments.mark_reversed(original)
    return payment
