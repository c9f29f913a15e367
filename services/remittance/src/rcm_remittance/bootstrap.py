"""The composition root: every concrete part of remittance is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from faststream.kafka import KafkaBroker

from rcm_common.audit import consumer_audit, system_audit
from rcm_common.clearinghouse import ClearinghouseClient, MailboxGateway
from rcm_common.kernel import Kernel, kernel_parts, periodic
from rcm_common.topics import CLAIM_EVENTS, REMITTANCE_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication
from rcm_remittance.adapters.code_lists import loaded_code_book
from rcm_remittance.adapters.remittance_835 import RecentReads
from rcm_remittance.adapters.unit_of_work import SqlRemittanceUnitOfWork
from rcm_remittance.config import RemittanceSettings
from rcm_remittance.domain.codes import CURATED
from rcm_remittance.domain.posting import Tolerance
from rcm_remittance.service_layer.handlers import claim_handlers
from rcm_remittance.service_layer.mailbox import MailboxReader
from rcm_remittance.service_layer.mapping import to_integration_event
from rcm_remittance.service_layer.posting import Poster, PostingRules


@dataclass
class Remittance(Kernel[RemittanceSettings, SqlRemittanceUnitOfWork]):
    """The running service: the kernel's parts, the rules posting decides with, and the workers that take 835s
    from the mailbox and post them."""

    rules: PostingRules
    poster: Poster
    mailbox: MailboxReader
    http_client: httpx.AsyncClient | None

    async def close(self) -> None:
        if self.http_client is not None:
            await self.http_client.aclose()


worker_audit = system_audit("system:remittance-worker")
"""Who the workers are in the audit log when they take 835s in and post them."""


def bootstrap(
    settings: RemittanceSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    gateway: MailboxGateway | None = None,
    clock: Clock = utcnow,
) -> Remittance:
    """The service; `gateway` stands in for the clearinghouse's mailbox where a test gives one."""
    settings = settings or RemittanceSettings()
    http_client = None
    if gateway is None:
        http_client = settings.http_client()
        gateway = ClearinghouseClient(http_client, **settings.client_options())
    codes = loaded_code_book(CURATED, settings.carc_list, settings.rarc_list)
    rules = PostingRules(
        codes, Tolerance(settings.underpayment_tolerance_amount, settings.underpayment_tolerance_share)
    )
    read = RecentReads()
    remittance: Remittance

    def worker_uow() -> SqlRemittanceUnitOfWork:
        return remittance.uow(audit=worker_audit())

    remittance = Remittance(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlRemittanceUnitOfWork,
        publishes=Publication(REMITTANCE_EVENTS, to_integration_event),
        clock=clock,
        rules=rules,
        poster=Poster(worker_uow, read, rules, clock, settings.posting_batch_size),
        mailbox=MailboxReader(worker_uow, gateway, read, clock),
        http_client=http_client,
    )
    remittance.subscribe({CLAIM_EVENTS: claim_handlers(clock)}, audit=consumer_audit("remittance"))
    if settings.run_workers:
        remittance.loops += [
            periodic("835 mailbox", settings.mailbox_poll_seconds, remittance.mailbox.run_once),
            periodic("remittance posting", settings.posting_poll_seconds, remittance.poster.run_once),
        ]
    remittance.closers.append(remittance.close)
    return remittance
