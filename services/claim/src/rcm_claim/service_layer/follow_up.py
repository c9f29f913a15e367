"""Follow-up: a claim the payer accepted and has not paid after the payer's follow-up days is asked about on a
276, one per payer and round, and the 277's statuses go on each claim's timeline (ClaimStatusUpdated). A claim
is asked about again only once another follow-up period has passed. The inquiry changes nothing at the
payer, so a call that goes unanswered is simply made again in the next round. Its ISA13 comes from the same
counter as the batches', and each claim asked about is audited as a disclosure to the clearinghouse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Protocol

from rcm_claim.domain.acknowledgments import ClaimStatusAnswer
from rcm_claim.domain.batches import INTERCHANGES
from rcm_claim.domain.directories import PayerProfile
from rcm_claim.service_layer.answers import apply_status_answers
from rcm_claim.service_layer.submission import ClaimsWriter, with_copies
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_common.clearinghouse import ClearinghouseRefused, ClearinghouseUnavailable
from rcm_common.offload import LARGE_X12_CLAIMS, off_the_loop
from rcm_common.types import Clock

logger = logging.getLogger(__name__)


class StatusGateway(Protocol):
    async def claim_status(self, request_276: str) -> str:
        """The 277 answering the 276."""
        ...


class StatusReader(Protocol):
    def __call__(self, response_277: str) -> list[ClaimStatusAnswer]: ...


@dataclass
class FollowUp:
    uow: Callable[[], ClaimUnitOfWork]
    gateway: StatusGateway
    write: ClaimsWriter  # the 276
    read_277: StatusReader
    clock: Clock
    batch_size: int = 50

    async def run_once(self) -> int:
        """Ask each payer about its claims due a follow-up; returns how many claims got a status."""
        async with self.uow() as uow:
            payers = await uow.directories.payers()
        return sum([await self.ask(payer) for payer in payers])

    async def ask(self, payer: PayerProfile) -> int:
        now = self.clock()
        accepted_before = now - timedelta(days=payer.follow_up_days)
        async with self.uow() as uow:
            providers = await uow.directories.providers()
            due = await uow.claims.status_due(payer.payer_id, accepted_before, limit=self.batch_size)
            billable = await with_copies(uow, due)
            for claim, _, _ in billable:
                uow.record_access("disclose", "claim", claim.id, claim.patient_id)
            if providers is None or not billable:
                return 0
            control_number = await uow.control_numbers.next(INTERCHANGES)
            await uow.commit()
        try:
            write = partial(self.write, reference=f"S{control_number:09d}", payer=payer, providers=providers,
                            interchange_control_number=control_number)  # fmt: skip
            request = await off_the_loop(write, billable, size=len(billable), large=LARGE_X12_CLAIMS)
            answer = await self.gateway.claim_status(request)
            answers = await off_the_loop(self.read_277, answer, size=len(answer))
        except (ClearinghouseUnavailable, ClearinghouseRefused, ValueError) as exc:
            logger.warning("the 276 to payer %s went unanswered (%s); it goes again next round", payer.payer_id, exc)
            return 0
        async with self.uow() as uow:
            changed = await apply_status_answers(uow, answers, self.clock(), f"277:{payer.payer_id}")
            await uow.commit()
        logger.info("follow-up of payer %s: %d claims asked about, %d answered", payer.payer_id, len(due), changed)
        return changed
