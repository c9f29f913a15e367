"""The composition root: every concrete part of collections is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker

from rcm_collections.adapters.unit_of_work import SqlCollectionsUnitOfWork
from rcm_collections.config import CollectionsSettings
from rcm_collections.domain.policy import CollectionPolicy, HowToPay
from rcm_collections.service_layer.cycle import Cycle
from rcm_collections.service_layer.handlers import Posting, read_ahead, subscriptions
from rcm_collections.service_layer.mapping import to_integration_event
from rcm_common.audit import AuditContext, consumer_audit, system_audit
from rcm_common.kernel import Kernel, kernel_parts, periodic
from rcm_common.topics import COLLECTIONS_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication


@dataclass
class Collections(Kernel[CollectionsSettings, SqlCollectionsUnitOfWork]):
    """The running service: the kernel's parts, the practice's collection policy, and its daily cycle."""

    policy: CollectionPolicy
    how_to_pay: HowToPay
    cycle: Cycle


cycle_audit = system_audit("system:collections-cycle")
"""Who the daily cycle is in the audit log when it sends statements and places accounts."""


def bootstrap(
    settings: CollectionsSettings | None = None, *, broker: KafkaBroker | None = None, clock: Clock = utcnow
) -> Collections:
    settings = settings or CollectionsSettings()
    policy = settings.policy()
    how_to_pay = settings.how_to_pay()
    collections: Collections

    def cycle_uow(audit: AuditContext | None) -> SqlCollectionsUnitOfWork:
        return collections.uow(audit=audit or cycle_audit())

    collections = Collections(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlCollectionsUnitOfWork,
        publishes=Publication(COLLECTIONS_EVENTS, to_integration_event),
        clock=clock,
        policy=policy,
        how_to_pay=how_to_pay,
        cycle=Cycle(cycle_uow, policy, how_to_pay, clock),
    )
    topics = subscriptions(Posting(clock))
    collections.subscribe(topics, audit=consumer_audit("collections"), prepare=dict.fromkeys(topics, read_ahead))
    if settings.run_cycle:
        collections.loops.append(
            periodic("collections cycle", settings.cycle_interval_seconds, collections.cycle.run_once)
        )
    return collections
