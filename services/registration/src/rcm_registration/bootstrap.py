"""The composition root: every concrete part of registration is built here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.kafka import KafkaBroker

from rcm_common.kernel import Kernel, kernel_parts
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_registration.adapters.unit_of_work import SqlRegistrationUnitOfWork
from rcm_registration.config import RegistrationSettings


@dataclass
class Registration(Kernel[RegistrationSettings, SqlRegistrationUnitOfWork]):
    """The running service: the kernel's parts; registration consumes nothing and runs no loop of its own."""


def bootstrap(settings: RegistrationSettings | None = None, *, broker: KafkaBroker | None = None) -> Registration:
    settings = settings or RegistrationSettings()
    return Registration(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlRegistrationUnitOfWork,
        publishes=REGISTRATION_EVENTS,
    )
