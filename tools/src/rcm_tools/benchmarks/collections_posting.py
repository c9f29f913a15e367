"""How fast collections turns the payers' payments into patient balances, on SQLite and on PostgreSQL.

The visits are set up first (each a patient registered, charges captured and a claim created, applied through
the service's own handlers). Then one PaymentPosted per visit (`--payments`, 5,000 by default: CO-45, a
deductible and coinsurance) goes through collections' real consumer of the remittance topic in batches of
`--batch` records (as a Kafka poll hands them over): the inbox, the account read and locked, the ledger's
entries chained, the account stored, PatientBalanceChanged written to the outbox, one transaction per batch.
Every balance change is counted in the outbox and every ledger verified afterwards.

The baseline, measured in the same run on the same database, is a bare unit of work committing one event per
transaction, so the ratio says how many one-event transactions' worth of time a payment costs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from rcm_collections.bootstrap import Collections, bootstrap
from rcm_collections.config import CollectionsSettings
from rcm_collections.entrypoints.app import COLLECTIONS_APP
from rcm_collections.entrypoints.ledger_check import verify_ledgers
from rcm_collections.service_layer.handlers import Posting
from rcm_common.audit import system_audit
from rcm_common.auth import generate_keypair
from rcm_common.migrations import upgrade_to_head
from rcm_common.sample_events import Visit, captured, claim_created, payment_posted, registered
from rcm_common.testing import UNREACHABLE_BROKER, query_rows, record_of
from rcm_common.topics import REMITTANCE_EVENTS
from rcm_tools.benchmarks.charge_capture import baseline_rate
from rcm_tools.benchmarks.runs import on_each_database, positive, print_within, timeout_argument

BENCH_AUDIT = system_audit("system:bench")
SET_UP_BATCH = 500  # visits set up per transaction
BALANCE_CHANGED = "rcm.collections.patient_balance_changed"


def _settings(database_url: str, state_dir: Path) -> CollectionsSettings:
    return CollectionsSettings(
        environment="test",
        state_dir=state_dir,
        database_url=database_url,
        kafka_bootstrap_servers=UNREACHABLE_BROKER,
        jwt_public_key=SecretStr(generate_keypair()[1]),
        run_cycle=False,
    )


async def _visits(collections: Collections, count: int) -> list[Visit]:
    """`count` visits, each of its own patient, billed to a payer and awaiting its answer."""
    posting = Posting(collections.clock)
    visits = []
    for first in range(0, count, SET_UP_BATCH):
        async with collections.uow(audit=BENCH_AUDIT()) as uow:
            for _ in range(first, min(first + SET_UP_BATCH, count)):
                patient = registered()
                visit = Visit(patient.patient_id)
                for event in (patient, captured(visit), claim_created(visit)):
                    await posting.apply(event, "bench", uow)
                visits.append(visit)
            await uow.commit()
    return visits


async def _balance_changes(collections: Collections) -> int:
    [row] = await query_rows(
        collections.session_factory, "SELECT count(*) AS n FROM outbox WHERE event_type = :t", t=BALANCE_CHANGED
    )
    return int(row["n"])


async def balance_rate(database_url: str, state_dir: Path, payments: int, batch: int) -> dict[str, float]:
    settings = _settings(database_url, state_dir)
    await asyncio.to_thread(upgrade_to_head, COLLECTIONS_APP.migrations, settings.resolved_database_url)
    collections = bootstrap(settings)
    try:
        baseline = await baseline_rate(collections.session_factory, min(payments, 2_000))
        visits = await _visits(collections, payments)
        records = [
            record_of(
                payment_posted(visit, paid="80.00", contractual="30.00", deductible="25.00", coinsurance="15.00"),
                REMITTANCE_EVENTS,
                offset,
                "remittance",
            )
            for offset, visit in enumerate(visits)
        ]
        consumer = collections.consumer_of(REMITTANCE_EVENTS)
        before = await _balance_changes(collections)

        started = time.perf_counter()
        for first in range(0, len(records), batch):
            report = await consumer.consume(records[first : first + batch])
            if report.dead_lettered or report.applied != len(records[first : first + batch]):
                raise RuntimeError(f"a batch was not applied whole: {report}")
        seconds = time.perf_counter() - started

        announced = await _balance_changes(collections) - before
        if announced != payments:
            raise RuntimeError(f"{payments} payments posted, {announced} balance changes announced")
        async with AsyncSession(collections.engine) as session:
            broken = [v for v in await verify_ledgers(session) if not v.ok]
        if broken:
            raise RuntimeError(f"{len(broken)} ledgers do not verify, the first: {broken[0]}")
    finally:
        await collections.engine.dispose()
    return {
        "payments_posted": payments,
        "balance_changes_out": announced,
        "payments_per_s": round(payments / seconds),
        "baseline_transactions_per_s": round(baseline),
        "ratio_to_baseline": round(payments / seconds / baseline, 3),
    }


async def run(payments: int, batch: int) -> dict[str, object]:
    figures: dict[str, object] = {"benchmark": "collections_posting", "payments": payments, "batch": batch}
    return figures | await on_each_database(lambda url, scratch: balance_rate(url, scratch, payments, batch))


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench collections`, shared with `python -m rcm_tools.benchmarks.collections_posting`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--payments", type=positive, default=5_000, help="PaymentPosted events in")
    parser.add_argument("--batch", type=positive, default=100, help="records per consumer batch")
    timeout_argument(parser)
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    return print_within(args.timeout, "collections", lambda: run(args.payments, args.batch))


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
