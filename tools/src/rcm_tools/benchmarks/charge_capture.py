"""How fast charge captures encounters: priced, validated against the real code sets, stored encrypted and
published through the outbox in one transaction each, on SQLite and on PostgreSQL.

Two figures set it in context, measured in the same run: validation alone in memory (the rules' own cost),
and the baseline of a bare unit of work committing one event per transaction on the same database (what a
transaction costs there), so the ratio is what charge's reads, pricing, encryption and rules add.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from datetime import date
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rcm_charge.adapters.price_csv import parse_chargemaster, parse_contract_rates
from rcm_charge.bootstrap import Charge, bootstrap, load_code_sets
from rcm_charge.config import ChargeSettings
from rcm_charge.domain.copies import CoverageCopy, PatientCopy
from rcm_charge.domain.model import EncounterDetails, ServiceLine
from rcm_charge.domain.pricing import PriceList, priced
from rcm_charge.domain.validation import CoverageFacts, PatientFacts, ValidationContext, validate
from rcm_charge.entrypoints.app import CHARGE_APP
from rcm_charge.service_layer import commands
from rcm_charge.service_layer.encounters import capture
from rcm_common.audit import AuditContext
from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import (
    announce,
    announcing,
    sample_patient_registered,
)
from rcm_common.uow import SqlUnitOfWork
from rcm_tools import practice
from rcm_tools.benchmarks.runs import on_each_database

DAY = date(2026, 9, 15)  # in FY2026, the edition shipped: nothing to warn of
NPI = "1234567893"
CODER = AuditContext("bench-coder", frozenset({"coder"}), "payment", "bench")


def _visit(index: int, patient_id: uuid.UUID, coverage_id: uuid.UUID) -> commands.CaptureEncounter:
    body = practice.visit_body(index, patient_id=str(patient_id), coverage_id=str(coverage_id), day=DAY, npi=NPI)
    return commands.CaptureEncounter.model_validate(body)


def validation_rate(encounters: int) -> float:
    """Encounters validated per second in memory, with the real code sets and the practice's prices."""
    code_sets = load_code_sets(None)
    prices = PriceList(
        tuple(parse_chargemaster(practice.CHARGEMASTER_CSV)), tuple(parse_contract_rates(practice.contract_rates_csv()))
    )
    patient_id, coverage_id = uuid.uuid4(), uuid.uuid4()
    context = ValidationContext(
        diagnoses=code_sets.diagnoses,
        edits=code_sets.edits,
        fees=code_sets.fees,
        prices=prices,
        today=DAY,
        patient=PatientFacts("F", date(1961, 5, 4)),
        coverage=CoverageFacts(coverage_id, patient_id, "ACME01", date(2026, 1, 1), None),
    )
    visits = [_visit(index, patient_id, coverage_id) for index in range(4)]
    details = [
        EncounterDetails(
            patient_id=patient_id,
            coverage_id=coverage_id,
            date_of_service=DAY,
            place_of_service="11",
            billing_provider_npi=NPI,
            diagnoses=visit.diagnoses,
            lines=priced(
                (ServiceLine(line.code, line.modifiers, line.units, line.diagnosis_pointers) for line in visit.lines),
                prices,
                code_sets.fees,
                location=None,
                payer_id="ACME01",
                date_of_service=DAY,
            ),
        )
        for visit in visits
    ]
    started = time.perf_counter()
    for index in range(encounters):
        if validate(details[index % len(details)], context):
            raise RuntimeError("the benchmark's visits must validate cleanly")
    return encounters / (time.perf_counter() - started)


async def baseline_rate(factory: async_sessionmaker[AsyncSession], transactions: int) -> float:
    """Transactions per second of a bare unit of work writing one event each: the baseline the services'
    benchmarks are read against."""
    started = time.perf_counter()
    for _ in range(transactions):
        async with SqlUnitOfWork(factory, producer="bench", publication=announcing("rcm.bench.events")) as uow:
            announce(uow, sample_patient_registered())
            await uow.commit()
    return transactions / (time.perf_counter() - started)


async def _registered(charge: Charge, patients: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    now = charge.clock()
    pairs = []
    async with charge.uow() as uow:
        await uow.prices.replace_chargemaster(parse_chargemaster(practice.CHARGEMASTER_CSV), now)
        await uow.prices.replace_rates({"ACME01"}, parse_contract_rates(practice.contract_rates_csv()), now)
        for index in range(patients):
            patient_id, coverage_id = uuid.uuid4(), uuid.uuid4()
            await uow.patients.save(PatientCopy(patient_id, "F", date(1961, 5, 4)), now)
            await uow.coverages.save(
                CoverageCopy(coverage_id, patient_id, "ACME01", f"ACM{index:09d}", date(2026, 1, 1)), now
            )
            pairs.append((patient_id, coverage_id))
        await uow.commit()
    return pairs


async def capture_rate(database_url: str, state_dir: Path, encounters: int) -> dict[str, float]:
    settings = ChargeSettings(
        environment="test",
        state_dir=state_dir,
        database_url=database_url,
        kafka_bootstrap_servers="127.0.0.1:1",
        jwt_public_key=SecretStr(generate_keypair()[1]),
    )
    await asyncio.to_thread(upgrade_to_head, CHARGE_APP.migrations, settings.resolved_database_url)
    charge = bootstrap(settings)
    try:
        baseline = await baseline_rate(charge.session_factory, encounters)
        pairs = await _registered(charge, 50)
        started = time.perf_counter()
        for index in range(encounters):
            patient_id, coverage_id = pairs[index % len(pairs)]
            view = await capture(_visit(index, patient_id, coverage_id), charge.uow(audit=CODER), charge.evaluator)
            if view.status != "captured":
                raise RuntimeError(f"encounter {index} was held: {[issue.code for issue in view.issues]}")
        rate = encounters / (time.perf_counter() - started)
    finally:
        await charge.engine.dispose()
    return {
        "encounters_per_s": round(rate),
        "baseline_transactions_per_s": round(baseline),
        "ratio_to_baseline": round(rate / baseline, 3),
    }


async def run(encounters: int) -> dict[str, object]:
    figures: dict[str, object] = {
        "benchmark": "charge_capture",
        "encounters": encounters,
        "validation_only_encounters_per_s": round(validation_rate(encounters * 10)),
    }
    return figures | await on_each_database(lambda url, scratch: capture_rate(url, scratch, encounters))


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench charge`, shared with `python -m rcm_tools.benchmarks.charge_capture`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--encounters", type=int, default=2_000, help="encounters to capture per database")
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(run(args.encounters))))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
