"""The 835 mailbox worker: each 835 the clearinghouse leaves in the mailbox is taken in (stored encrypted, its
remittances kept, in one transaction) and deleted from the mailbox only after that commit. A file taken before
(the same bytes, or a payer's duplicate) is taken in as nothing new and deleted. A file that cannot be read
stays in the mailbox for a person to look at, and the files after it are taken all the same."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from rcm_common.clearinghouse import MailboxFile, MailboxGateway
from rcm_common.errors import ValidationFailed
from rcm_common.types import Clock
from rcm_remittance.service_layer.intake import Reader, take_in
from rcm_remittance.service_layer.unit_of_work import RemittanceUnitOfWork

logger = logging.getLogger(__name__)


@dataclass
class MailboxReader:
    uow: Callable[[], RemittanceUnitOfWork]
    gateway: MailboxGateway
    read: Reader
    clock: Clock

    async def run_once(self) -> int:
        """Take every 835 waiting; returns how many new remittances they held."""
        taken = 0
        for file in await self.gateway.mailbox():
            if file.kind != "835":
                continue
            try:
                taken += await self.take(file)
            except Exception:
                logger.exception("835 %s could not be taken; it stays in the mailbox for the next round", file.id)
        return taken

    async def take(self, file: MailboxFile) -> int:
        content = (await self.gateway.mailbox_file(file.id)).encode()
        try:
            intake = await take_in(self.uow(), content, f"mailbox:{file.id}", self.read, self.clock)
        except ValidationFailed as refusal:
            logger.error("835 %s is refused (%s); it stays in the mailbox for a person to look at", file.id, refusal)
            return 0
        await self.gateway.delete_mailbox_file(file.id)
        logger.info("835 %s taken: %d new remittances", file.id, len(intake.new))
        return len(intake.new)
