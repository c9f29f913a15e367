"""The composition root: every concrete part of claim is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker

from rcm_claim.adapters.unit_of_work import SqlClaimUnitOfWork
from rcm_claim.config import ClaimSettings
from rcm_claim.domain.rules import RULES
from rcm_claim.service_layer.handlers import charge_handlers, eligibility_handlers, registration_handlers
from rcm_claim.service_layer.mapping import to_integration_event
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_common.audit import consumer_audit
from rcm_common.kernel import Kernel, kernel_parts
from rcm_common.topics import CHARGE_EVENTS, CLAIM_EVENTS, ELIGIBILITY_EVENTS, REGISTRATION_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication


@dataclass
class Claim(Kernel[ClaimSettings, SqlClaimUnitOfWork]):
    """The running service: the kernel's parts and the scrubber with the service's rules."""

    scrubber: Scrubber


def bootstrap(
    settings: ClaimSettings | None = None, *, broker: KafkaBroker | None = None, clock: Clock = utcnow
) -> Claim:
    settings = settings or ClaimSettings()
    scrubber = Scrubber(RULES, clock)
    claim = Claim(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlClaimUnitOfWork,
        publishes=Publication(CLAIM_EVENTS, to_integration_event),
        clock=clock,
        scrubber=scrubber,
    )
    claim.subscribe(
        {
            REGISTRATION_EVENTS: registration_handlers(scrubber),
            ELIGIBILITY_EVENTS: eligibility_handlers(scrubber),
            CHARGE_EVENTS: charge_handlers(scrubber),
        },
        audit=consumer_audit("claim"),
    )
    return claim
