"""The composition root: every concrete part of claim is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker

from rcm_claim.adapters.unit_of_work import SqlClaimUnitOfWork
from rcm_claim.config import ClaimSettings
from rcm_claim.service_layer.mapping import to_integration_event
from rcm_common.kernel import Kernel, kernel_parts
from rcm_common.topics import events_topic
from rcm_common.uow import Publication


@dataclass
class Claim(Kernel[ClaimSettings, SqlClaimUnitOfWork]):
    """The running service: the kernel's parts, and (as they arrive) the service's own."""


def bootstrap(settings: ClaimSettings | None = None, *, broker: KafkaBroker | None = None) -> Claim:
    settings = settings or ClaimSettings()
    return Claim(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlClaimUnitOfWork,
        publishes=Publication(events_topic("claim"), to_integration_event),
    )
