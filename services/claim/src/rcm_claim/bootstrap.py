"""The composition root: every concrete part of claim is built here and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from faststream.kafka import KafkaBroker

from rcm_claim.adapters.acknowledgment_x12 import claim_answers, set_verdicts, status_answers
from rcm_claim.adapters.appeal_letter import AppealTemplates, load_appeal_templates
from rcm_claim.adapters.claim_837 import BillableClaim, Sender, write_batch
from rcm_claim.adapters.clearinghouse import HttpClearinghouse
from rcm_claim.adapters.status_276 import write_status_request
from rcm_claim.adapters.unit_of_work import SqlClaimUnitOfWork
from rcm_claim.config import ClaimSettings
from rcm_claim.domain.copies import CoverageCopy, PatientCopy
from rcm_claim.domain.model import Claim as ClaimAggregate
from rcm_claim.domain.rules import RULES
from rcm_claim.service_layer.acknowledgments import Acknowledger
from rcm_claim.service_layer.follow_up import FollowUp, StatusGateway
from rcm_claim.service_layer.handlers import (
    charge_handlers,
    eligibility_handlers,
    prepare_charges,
    registration_handlers,
    remittance_handlers,
    take_patients_named,
)
from rcm_claim.service_layer.mapping import to_integration_event
from rcm_claim.service_layer.next_payers import NextPayers
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.submission import ClaimsGateway, Submitter
from rcm_common.audit import consumer_audit, system_audit
from rcm_common.clearinghouse import MailboxGateway
from rcm_common.kernel import Kernel, kernel_parts, periodic
from rcm_common.topics import CHARGE_EVENTS, CLAIM_EVENTS, ELIGIBILITY_EVENTS, REGISTRATION_EVENTS, REMITTANCE_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication


class ClearinghouseGateway(ClaimsGateway, MailboxGateway, StatusGateway, Protocol):
    """All the workers ask of the clearinghouse: the 837P's 999, the mailbox's 277CAs, the 276's 277."""


@dataclass
class Claim(Kernel[ClaimSettings, SqlClaimUnitOfWork]):
    """The running service: the kernel's parts, the scrubber with the service's rules, and the workers that
    submit claims, read the 277CAs and follow unpaid claims up."""

    scrubber: Scrubber
    next_payers: NextPayers
    appeal_templates: AppealTemplates  # the practice's appeal letters, checked when the service starts
    submitter: Submitter
    acknowledger: Acknowledger
    follow_up: FollowUp
    http_client: httpx.AsyncClient | None

    async def close(self) -> None:
        if self.http_client is not None:
            await self.http_client.aclose()


worker_audit = system_audit("system:claim-worker")
"""Who the workers are in the audit log when they send claims to the clearinghouse and apply its answers."""


def sender_of(settings: ClaimSettings) -> Sender:
    return Sender(
        submitter_id=settings.submitter_id,
        submitter_name=settings.submitter_name,
        contact=settings.submitter_contact,
        phone=settings.submitter_phone,
        receiver_id=settings.clearinghouse_receiver_id,
        receiver_name=settings.clearinghouse_name,
        usage=settings.x12_usage,
    )


def _billable(claims: Sequence[tuple[ClaimAggregate, PatientCopy, CoverageCopy]]) -> list[BillableClaim]:
    return [BillableClaim(claim, patient, coverage) for claim, patient, coverage in claims]


def bootstrap(
    settings: ClaimSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    gateway: ClearinghouseGateway | None = None,
    clock: Clock = utcnow,
) -> Claim:
    """The service; `gateway` stands in for the clearinghouse's HTTP API where a test gives one."""
    settings = settings or ClaimSettings()
    scrubber = Scrubber(RULES, clock, settings.risk_settings())
    http_client = None
    if gateway is None:
        http_client = settings.http_client()
        gateway = HttpClearinghouse(http_client, **settings.client_options())
    sender = sender_of(settings)
    claim: Claim

    def worker_uow() -> SqlClaimUnitOfWork:
        return claim.uow(audit=worker_audit())

    def write(claims: Any, **kwargs: Any) -> str:
        return write_batch(_billable(claims), sender=sender, now=clock(), **kwargs)

    def write_276(claims: Any, **kwargs: Any) -> str:
        return write_status_request(_billable(claims), sender=sender, now=clock(), **kwargs)

    claim = Claim(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlClaimUnitOfWork,
        publishes=Publication(CLAIM_EVENTS, to_integration_event),
        clock=clock,
        scrubber=scrubber,
        next_payers=NextPayers(scrubber),
        submitter=Submitter(worker_uow, gateway, write, set_verdicts, scrubber, clock),
        acknowledger=Acknowledger(worker_uow, gateway, claim_answers, clock, NextPayers(scrubber)),
        follow_up=FollowUp(worker_uow, gateway, write_276, status_answers, clock, settings.status_batch_size),
        http_client=http_client,
        appeal_templates=load_appeal_templates(settings.appeal_templates_dir),
    )
    claim.subscribe(
        {
            REGISTRATION_EVENTS: registration_handlers(scrubber),
            ELIGIBILITY_EVENTS: eligibility_handlers(scrubber),
            CHARGE_EVENTS: charge_handlers(scrubber),
            REMITTANCE_EVENTS: remittance_handlers(scrubber),
        },
        audit=consumer_audit("claim"),
        prepare={
            REGISTRATION_EVENTS: take_patients_named,
            ELIGIBILITY_EVENTS: take_patients_named,
            CHARGE_EVENTS: prepare_charges,
            REMITTANCE_EVENTS: take_patients_named,
        },
    )
    if settings.run_workers:
        claim.loops += [
            periodic("claim submission", settings.submission_poll_seconds, claim.submitter.run_once),
            periodic("277CA mailbox", settings.mailbox_poll_seconds, claim.acknowledger.run_once),
            periodic("claim follow-up", settings.follow_up_poll_seconds, claim.follow_up.run_once),
        ]
    claim.closers.append(claim.close)
    return claim
