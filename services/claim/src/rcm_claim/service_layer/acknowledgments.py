"""The 277CA mailbox worker: each 277CA the clearinghouse leaves in the mailbox is read, stored encrypted and
applied once, in one transaction, then deleted from the mailbox. A file seen before (by its content's digest)
is only deleted; 835s are left for the remittance service. A 277CA naming a claim whose batch's 999 is not
applied yet is left in the mailbox for the next round, so an answer is never lost to an ordering race. A
large 277CA is read off the event loop (`rcm_common.offload`), before its unit of work begins.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from rcm_claim.domain.acknowledgments import AcknowledgmentFile, ClaimAnswer
from rcm_claim.service_layer.answers import apply_claim_answers
from rcm_claim.service_layer.next_payers import NextPayers
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_common.clearinghouse import MailboxFile, MailboxGateway
from rcm_common.offload import off_the_loop
from rcm_common.types import Clock

logger = logging.getLogger(__name__)


class AnswerReader(Protocol):
    def __call__(self, acknowledgment_277ca: str) -> list[ClaimAnswer]: ...


@dataclass
class Acknowledger:
    uow: Callable[[], ClaimUnitOfWork]
    gateway: MailboxGateway
    read_277ca: AnswerReader
    clock: Clock
    next_payers: NextPayers  # bills the next payer of a claim its payments, posted before the 277CA, now close

    async def run_once(self) -> int:
        """Apply every 277CA waiting in the mailbox; returns how many claims they answered. A file that fails
        is logged and left for the next round, and the files after it are taken all the same."""
        answered = 0
        for file in await self.gateway.mailbox():
            if file.kind != "277CA":
                continue
            try:
                answered += await self.take(file)
            except Exception:
                logger.exception("277CA %s could not be applied; it stays in the mailbox for the next round", file.id)
        return answered

    async def take(self, file: MailboxFile) -> int:
        content = await self.gateway.mailbox_file(file.id)
        digest = hashlib.sha256(content.encode()).hexdigest()
        try:
            answers = await off_the_loop(self.read_277ca, content, size=len(content))
        except ValueError:
            logger.error("277CA %s could not be read; it stays in the mailbox for a person to look at", file.id)
            return 0
        now = self.clock()
        async with self.uow() as uow:
            if await uow.acknowledgment_files.seen(digest):
                await uow.commit()
                await self.gateway.delete_mailbox_file(file.id)
                return 0
            numbers = [answer.patient_control_number for answer in answers]
            if any(claim.state == "batched" for claim in await uow.claims.by_patient_control_numbers(numbers)):
                logger.info("277CA %s names claims whose 999 is not applied yet; it waits", file.id)
                return 0
            changed = await apply_claim_answers(uow, answers, now, f"277ca:{file.id}", self.next_payers)
            await uow.acknowledgment_files.add(
                AcknowledgmentFile(digest, file.id, file.payer_id, len(answers), content, now)
            )
            await uow.commit()
        await self.gateway.delete_mailbox_file(file.id)
        logger.info("277CA %s applied: %d claims answered, %d changed", file.id, len(answers), changed)
        return changed
