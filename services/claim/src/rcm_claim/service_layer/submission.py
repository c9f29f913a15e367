"""Submission: ready claims gathered per payer into 837P batches, stored, sent, and settled by the 999.

A round builds every batch that is due (`domain.batches.claims_due`) in one transaction: the claims become
`batched` and the batch is stored, its X12 encrypted, with its interchange control number, before anything
is sent. Each unanswered batch is then sent with no transaction open; a send that goes unanswered leaves the
batch to be sent again as the same bytes, and the clearinghouse answers a known interchange with its first
999, so no claim reaches the payer twice. The 999 settles the batch in one transaction: the claims of an
accepted transaction set are `submitted` (ClaimSubmitted), those of a rejected one `rejected` with the
IK3/IK4 problems in words. A batch the clearinghouse refuses to read at all is refused, its claims rejected.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final, Protocol
from uuid import UUID

from rcm_claim.domain.acknowledgments import SetVerdict
from rcm_claim.domain.batches import INTERCHANGES, TRANSACTION_SET_CONTROL_NUMBER, Batch, claims_due
from rcm_claim.domain.copies import CoverageCopy, PatientCopy
from rcm_claim.domain.directories import PayerProfile, ProviderDirectory
from rcm_claim.domain.events import Problem
from rcm_claim.domain.model import Claim
from rcm_claim.service_layer.answers import followers_of, settle_followers
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_common.clearinghouse import ClearinghouseRefused, ClearinghouseUnavailable
from rcm_common.offload import LARGE_X12_CLAIMS, off_the_loop
from rcm_common.types import Clock

logger = logging.getLogger(__name__)

BATCH_CAUSE: Final = "worker:submission"
REFUSING_THE_FILE: Final = frozenset({400, 413, 422})  # the file itself cannot be taken; other 4xx are not its fault
REFUSED: Final = Problem(
    "REFUSED",
    "The clearinghouse refused the batch file itself and sent no 999",
    "Check the clearinghouse key and the submitter settings, then rescrub the claim to send it again.",
)


Billable = tuple[Claim, PatientCopy, CoverageCopy]
"""A claim with the copies of the patient and coverage it is billed with."""


class ClaimsWriter(Protocol):
    """Writes claims to one payer as X12 with the interchange control number given: the 837P batch, or the
    276 asking about them."""

    def __call__(
        self,
        claims: Sequence[Billable],
        *,
        reference: str,
        interchange_control_number: int,
        payer: PayerProfile,
        providers: ProviderDirectory,
    ) -> str:
        """The X12; ValueError naming segments and elements when it cannot be written."""
        ...


class AcknowledgmentReader(Protocol):
    def __call__(
        self, acknowledgment_999: str, group_control_number: str, control_numbers: list[str]
    ) -> list[SetVerdict]:
        """The 999's verdict on each of the group's transaction sets; ValueError when the answer holds no 999
        for that group (a TA1 alone, a 999 for another interchange)."""
        ...


class ClaimsGateway(Protocol):
    async def submit_claims(self, batch_837: str) -> str:
        """The 999 answering the batch."""
        ...


async def with_copies(uow: ClaimUnitOfWork, claims: list[Claim]) -> list[Billable]:
    """Each claim with the patient and coverage copies its X12 names, read at once. A claim missing one is
    left out (the scrub holds such a claim, so this is a copy lost since) and stays as it is."""
    await uow.patients.read_many([claim.patient_id for claim in claims])
    await uow.coverages.read_many([claim.coverage_id for claim in claims])
    billable = []
    for claim in claims:
        patient = await uow.patients.get(claim.patient_id)
        coverage = await uow.coverages.get(claim.coverage_id)
        if patient is None or coverage is None:
            logger.warning("claim %s left out: its patient or coverage copy is missing", claim.id)
            continue
        billable.append((claim, patient, coverage))
    return billable


def refused_alone(write: Callable[[Sequence[Billable]], str], billable: list[Billable]) -> list[tuple[Billable, str]]:
    """The claims the writer refuses when each is written alone, with the writer's reason."""
    refused = []
    for item in billable:
        try:
            write([item])
        except ValueError as exc:
            refused.append((item, str(exc)))
    return refused


@dataclass(frozen=True, slots=True)
class SubmissionRound:
    built: int
    sent: int
    claims_submitted: int
    claims_rejected: int


@dataclass
class Submitter:
    uow: Callable[[], ClaimUnitOfWork]
    gateway: ClaimsGateway
    write: ClaimsWriter  # the 837P
    read_999: AcknowledgmentReader
    scrubber: Scrubber
    clock: Clock

    async def run_once(self) -> SubmissionRound:
        """Build what is due, then send every batch not yet answered, the oldest first."""
        built = await self.build_batches()
        async with self.uow() as uow:
            waiting = await uow.batches.unanswered()
        submitted = rejected = sent = 0
        for batch in waiting:
            try:
                outcome = await self.send(batch)
            except Exception:
                logger.exception("batch %s could not be sent or settled; it goes again next round", batch.id)
                continue
            if outcome is not None:
                sent += 1
                submitted += outcome[0]
                rejected += outcome[1]
        return SubmissionRound(len(built), sent, submitted, rejected)

    async def build_batches(self) -> list[UUID]:
        """Store a batch for every payer whose ready claims are due, in one transaction."""
        now = self.clock()
        built: list[UUID] = []
        async with self.uow() as uow:
            providers = await uow.directories.providers()
            if providers is None:
                return []
            for payer in await uow.directories.payers():
                ready = await self._still_ready(uow, await uow.claims.ready_to_batch(payer.payer_id, payer.batch_size))
                due = claims_due(ready, payer, now)
                billable = await with_copies(uow, due)
                if not billable:
                    continue
                control_number = await uow.control_numbers.next(INTERCHANGES)
                batch_id = uuid.uuid4()
                text = await self._written(billable, batch_id, control_number, payer, providers)
                if text is None:
                    await uow.claims.save_many([claim for claim, _, _ in billable if claim.held is not None])
                    continue
                for claim, _, _ in billable:
                    claim.batch(batch_id, now, BATCH_CAUSE)
                    uow.record_access("disclose", "claim", claim.id, claim.patient_id)
                await uow.claims.save_many([claim for claim, _, _ in billable])
                batch = Batch(batch_id, payer.payer_id, control_number, tuple(c.id for c, _, _ in billable), text, now)
                await uow.batches.add(batch)
                built.append(batch_id)
                logger.info("built batch %s for payer %s: %d claims", batch_id, payer.payer_id, len(billable))
            await uow.commit()
        return built

    async def _still_ready(self, uow: ClaimUnitOfWork, ready: list[Claim]) -> list[Claim]:
        """The claims still ready once those that became ready on an earlier day are scrubbed again (a day
        later a filing window may have closed or an eligibility answer grown stale)."""
        today = self.clock().date()
        stale = [claim for claim in ready if claim.in_state_since.date() < today]
        await self.scrubber.rescrub(uow, stale, BATCH_CAUSE)
        return [claim for claim in ready if claim.state == "ready" and not claim.kept_back]

    async def _written(
        self,
        billable: list[Billable],
        batch_id: UUID,
        control_number: int,
        payer: PayerProfile,
        providers: ProviderDirectory,
    ) -> str | None:
        """The batch's X12, or None after holding each claim the writer refuses (found by writing each
        alone), so one unwritable claim never stops its payer's others: they go in the next round. A large
        batch is written off the event loop: the writer only reads the claims and copies it is given, and
        the claims are held here, on the loop, after it."""
        write = partial(self.write, reference=batch_id.hex, interchange_control_number=control_number,
                        payer=payer, providers=providers)  # fmt: skip
        try:
            return await off_the_loop(write, billable, size=len(billable), large=LARGE_X12_CLAIMS)
        except ValueError as exc:
            logger.error("the batch for payer %s could not be written (%s); its claims are written one by one",
                         payer.payer_id, exc)  # fmt: skip
        refused = await off_the_loop(refused_alone, write, billable, size=len(billable), large=LARGE_X12_CLAIMS)
        now = self.clock()
        for item, reason in refused:
            item[0].hold(f"the 837P cannot be written: {reason}", now, BATCH_CAUSE)
            logger.warning("claim %s held: the 837P writer refused it", item[0].id)
        return None

    async def send(self, batch: Batch) -> tuple[int, int] | None:
        """Send the stored batch (again, if it went unanswered) and settle it by its 999. Returns the claims
        submitted and rejected, or None while the clearinghouse does not answer."""
        batch_id = batch.id
        try:
            acknowledgment = await self.gateway.submit_claims(batch.x12)
        except ClearinghouseUnavailable as exc:
            logger.warning("batch %s unanswered (%s): it goes again with the same ISA13", batch_id, exc)
            await self._attempted(batch_id)
            return None
        except ClearinghouseRefused as exc:
            if exc.status not in REFUSING_THE_FILE:
                # The key, the address or the clearinghouse is wrong, not the file: the batch waits for a fix.
                logger.error("batch %s: the clearinghouse answered %d; it goes again next round", batch_id, exc.status)
                await self._attempted(batch_id)
                return None
            logger.error("batch %s refused by the clearinghouse (%s)", batch_id, exc)
            return await self._settle(batch, None)
        return await self._settle(batch, acknowledgment)

    async def _attempted(self, batch_id: UUID) -> None:
        async with self.uow() as uow:
            batch = await uow.batches.get(batch_id)
            if batch is not None and batch.state in ("built", "sent"):
                batch.attempted(self.clock())
                await uow.batches.save(batch)
                await uow.commit()

    async def _settle(self, sent: Batch, acknowledgment: str | None) -> tuple[int, int]:
        """The batch answered: its claims submitted or rejected as the 999 says (all rejected when refused).
        A 999 that cannot be read is kept unapplied: the batch is sent again and the answer read again. The
        batch is read again to settle it, so a batch another round settled meanwhile is left as it is."""
        batch_id = sent.id
        now = self.clock()
        cause = f"batch:{batch_id}"
        verdicts: list[SetVerdict] | None = None
        if acknowledgment is not None:
            group = str(sent.interchange_control_number)
            try:
                sets = [f"{TRANSACTION_SET_CONTROL_NUMBER:04d}"]
                verdicts = await off_the_loop(self.read_999, acknowledgment, group, sets, size=len(acknowledgment))
            except ValueError as exc:
                logger.error("batch %s: no 999 for it in the answer (%s); the batch goes again", batch_id, exc)
                await self._attempted(batch_id)
                return (0, 0)
        submitted = rejected = 0
        async with self.uow() as uow:
            batch = await uow.batches.get(batch_id)
            if batch is None or batch.state not in ("built", "sent"):
                return (0, 0)
            if acknowledgment is None:
                batch.refused(now)
            else:
                batch.answered(acknowledgment, now)
            verdict = verdicts[0] if verdicts else SetVerdict("", False, (REFUSED,))
            carried = [claim for claim in await uow.claims.in_batch(batch_id) if claim.state == "batched"]
            followers = await followers_of(uow, carried)
            for claim in carried:
                if verdict.accepted:
                    claim.submit(f"{batch.interchange_control_number:09d}", now, cause)
                    submitted += 1
                else:
                    claim.reject("999", verdict.problems or (REFUSED,), now, cause)
                    rejected += 1
                    await settle_followers(uow, claim, followers.get(claim.id, []), now, cause)
            await uow.claims.save_many(carried)
            await uow.batches.save(batch)
            await uow.commit()
        logger.info("batch %s answered: %d submitted, %d rejected", batch_id, submitted, rejected)
        return (submitted, rejected)
