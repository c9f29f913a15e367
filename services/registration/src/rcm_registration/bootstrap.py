"""The composition root: every concrete part of registration is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker

from rcm_common.kernel import Kernel, kernel_parts
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication
from rcm_registration.adapters.unit_of_work import SqlRegistrationUnitOfWork
from rcm_registration.config import RegistrationSettings
from rcm_registration.service_layer.mapping import to_integration_event


@dataclass
class Registration(Kernel[RegistrationSettings, SqlRegistrationUnitOfWork]):
    """The running service: the kernel's parts; registration consumes nothing and runs no loop of its own."""


def bootstrap(
    settings: RegistrationSettings | None = None, *, broker: KafkaBroker | None = None, clock: Clock = utcnow
) -> Registration:
    settings = settings or RegistrationSettings()
    return Registration(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlRegistrationUnitOfWork,
        publishes=Publication(REGISTRATION_EVENTS, to_integration_event),
        clock=clock,
    )
