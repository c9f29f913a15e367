"""The composition root: every concrete part of charge is built here and nowhere else."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from faststream.kafka import KafkaBroker

from rcm_charge.adapters.icd10cm import load_catalog
from rcm_charge.adapters.mpfs import load_fee_schedule
from rcm_charge.adapters.ncci import load_edit_tables
from rcm_charge.adapters.unit_of_work import SqlChargeUnitOfWork
from rcm_charge.config import ChargeSettings
from rcm_charge.domain.code_sets import CodeSets
from rcm_charge.service_layer.evaluation import EncounterEvaluator
from rcm_charge.service_layer.handlers import event_handlers
from rcm_charge.service_layer.mapping import event_mapper
from rcm_common.audit import consumer_audit
from rcm_common.kernel import Kernel, kernel_parts
from rcm_common.topics import CHARGE_EVENTS, REGISTRATION_EVENTS
from rcm_common.types import Clock, utcnow
from rcm_common.uow import Publication


@functools.cache
def load_code_sets(directory: Path | None) -> CodeSets:
    """The shipped code sets with the operator's official files over them; loaded once per process (the
    ICD-10-CM tabular takes a second or so)."""
    return CodeSets(
        diagnoses=load_catalog(directory), edits=load_edit_tables(directory), fees=load_fee_schedule(directory)
    )


@dataclass
class Charge(Kernel[ChargeSettings, SqlChargeUnitOfWork]):
    """The running service: the kernel's parts and the evaluator that prices and validates encounters with
    the service's code sets."""

    evaluator: EncounterEvaluator


def bootstrap(
    settings: ChargeSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    code_sets: CodeSets | None = None,
    clock: Clock = utcnow,
) -> Charge:
    settings = settings or ChargeSettings()
    evaluator = EncounterEvaluator(code_sets or load_code_sets(settings.code_set_dir), clock)
    charge = Charge(
        settings=settings,
        **kernel_parts(settings, broker=broker),
        unit_of_work=SqlChargeUnitOfWork,
        publishes=Publication(CHARGE_EVENTS, event_mapper(evaluator.code_sets.diagnoses)),
        clock=clock,
        evaluator=evaluator,
    )
    charge.subscribe({REGISTRATION_EVENTS: event_handlers(evaluator)}, audit=consumer_audit("charge"))
    return charge
