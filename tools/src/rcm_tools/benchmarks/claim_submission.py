"""How fast claim turns captured charges into submitted claims, on SQLite and on PostgreSQL.

ChargesCaptured go in through the service's real consumer, a batch of the consumer's size per transaction as
in production (each builds and scrubs its claims); then the submission worker's rounds batch the ready claims
per payer into 837Ps, store and send them to the clearinghouse simulator in process (real 999s and 277CAs),
and settle them by the 999 until every claim is submitted (ClaimSubmitted in the outbox). Only that phase is
timed; the directories, patients and coverages are set up before it through the same consumer.

The baseline, measured in the same run on the same database, is a bare unit of work committing one event per
transaction, so the ratio is what a claim costs in transactions' worth. The simulator's share of the
submission time is reported too: it is the clearinghouse's work, not claim's.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from pydantic import SecretStr

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.bootstrap import Claim, bootstrap
from rcm_claim.config import ClaimSettings
from rcm_claim.entrypoints.app import CLAIM_APP
from rcm_claim.service_layer.directories import replace_payers, replace_providers
from rcm_claim.testing import PRACTICE, charges_captured
from rcm_clearinghouse_sim.testing import Clock, InProcessClearinghouse
from rcm_common.audit import system_audit
from rcm_common.auth import generate_keypair
from rcm_common.envelope import new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.messaging import EventConsumer
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import (
    UNREACHABLE_BROKER,
    query_rows,
    sample_coverage_added,
    sample_patient_registered,
)
from rcm_common.topics import CHARGE_EVENTS, REGISTRATION_EVENTS
from rcm_tools.benchmarks.charge_capture import baseline_rate
from rcm_tools.benchmarks.runs import on_each_database, positive, print_within, timeout_argument

DAY = date(2026, 11, 2)  # the encounters' date of service, in the 2027 ICD-10-CM edition the events name
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the same day: every claim is ready the day it is built
PAYERS = {  # the simulator's four payers, with member ids it knows (not NOTFOUND, TERM or DOWN)
    "ACME01": ("Acme Health Plan", "ACM"),
    "SUMMT1": ("Summit Health", "SUM"),
    "MCARE1": ("Medicare Part B (simulated)", "MCR"),
    "MCAID1": ("State Medicaid (simulated)", "MCD"),
}
CODES = (("99213",), ("99214",))  # office visits: no payer asks a prior authorisation for them
ROUND_SECONDS = max(payer.batch_interval_seconds for payer in default_payers()) + 1
"""How far the clock moves before each submission round: past every payer's batch interval."""
BENCH_AUDIT = system_audit("system:bench")


def _records(topic: str, events: Sequence[IntegrationEvent], producer: str) -> list[ConsumerRecord[Any, Any]]:
    """The events as the Kafka records their producer sends: the payload, keyed by subject, envelope headers."""
    records: list[ConsumerRecord[Any, Any]] = []
    for offset, event in enumerate(events):
        headers = [(name, value.encode()) for name, value in new_envelope(event, producer).to_headers().items()]
        payload = event.model_dump_json().encode()
        records.append(ConsumerRecord(topic, 0, offset, 0, 0, event.subject.encode(), payload, None, 0, 0, headers))
    return records


async def _consume(consumer: EventConsumer[Any], records: Sequence[ConsumerRecord[Any, Any]], batch_size: int) -> None:
    """Every record through the consumer, `batch_size` a transaction; each must be applied."""
    for first in range(0, len(records), batch_size):
        batch = records[first : first + batch_size]
        report = await consumer.consume(batch)
        if report.applied != len(batch) or report.dead_lettered:
            raise RuntimeError(f"{consumer.topic}: {report.applied} of {len(batch)} applied, {report.dead_lettered}")


@dataclass
class _TimedGateway(InProcessClearinghouse):
    """The simulator, with the time spent in it kept, so its share of a submission round can be told."""

    seconds: float = 0.0

    async def submit_claims(self, batch_837: str) -> str:
        started = time.perf_counter()
        try:
            return await super().submit_claims(batch_837)
        finally:
            self.seconds += time.perf_counter() - started


def _settings(database_url: str, state_dir: Path) -> ClaimSettings:
    return ClaimSettings(
        environment="test",
        state_dir=state_dir,
        database_url=database_url,
        kafka_bootstrap_servers=UNREACHABLE_BROKER,
        jwt_public_key=SecretStr(generate_keypair()[1]),
        run_workers=False,
    )


async def _set_up(claim: Claim, patients: int) -> list[ConsumerRecord[Any, Any]]:
    """The directories and the patients with their coverages, spread over the four payers; returns a
    ChargesCaptured record per patient, not yet consumed."""
    await replace_providers(PRACTICE, claim.uow(audit=BENCH_AUDIT()), claim.scrubber, by="bench")
    await replace_payers(default_payers(), claim.uow(audit=BENCH_AUDIT()), claim.scrubber, by="bench")
    registrations: list[IntegrationEvent] = []
    charges: list[IntegrationEvent] = []
    for index in range(patients):
        payer_id = tuple(PAYERS)[index % len(PAYERS)]
        payer_name, prefix = PAYERS[payer_id]
        patient = sample_patient_registered()
        coverage = sample_coverage_added(
            patient.patient_id, payer_id=payer_id, payer_name=payer_name, member_id=f"{prefix}{index:09d}"
        )
        registrations += [patient, coverage]
        codes = CODES[index % len(CODES)]
        charges.append(
            charges_captured(patient.patient_id, coverage.coverage_id, codes=codes, payer_id=payer_id, day=DAY)
        )
    registered = _records(REGISTRATION_EVENTS, registrations, "registration")
    await _consume(claim.consumer_of(REGISTRATION_EVENTS), registered, claim.settings.consumer_batch_size)
    return _records(CHARGE_EVENTS, charges, "charge")


async def _states(claim: Claim) -> dict[str, int]:
    rows = await query_rows(claim.session_factory, "SELECT state, count(*) AS n FROM claim GROUP BY state")
    return {row["state"]: int(row["n"]) for row in rows}


async def _all_ready(claim: Claim, claims: int) -> None:
    """Every claim built and scrubbed clean, or the rules that held some named."""
    states = await _states(claim)
    if states != {"ready": claims}:
        held = await query_rows(
            claim.session_factory,
            "SELECT blocking_rules, count(*) AS n FROM claim WHERE state = 'scrub_failed' GROUP BY blocking_rules",
        )
        raise RuntimeError(f"claims not all ready after the charges: {states}, held by {held}")


async def submission_rate(database_url: str, state_dir: Path, claims: int) -> dict[str, float]:
    settings = _settings(database_url, state_dir)
    await asyncio.to_thread(upgrade_to_head, CLAIM_APP.migrations, settings.resolved_database_url)
    clock = Clock(START)
    gateway = _TimedGateway.quiet(clock)
    claim = bootstrap(settings, gateway=gateway, clock=clock)
    try:
        baseline = await baseline_rate(claim.session_factory, claims)
        charges = await _set_up(claim, claims)

        started = time.perf_counter()
        await _consume(claim.consumer_of(CHARGE_EVENTS), charges, settings.consumer_batch_size)
        consume_seconds = time.perf_counter() - started
        await _all_ready(claim, claims)  # not timed
        submitting = time.perf_counter()
        submitted = rounds = 0
        most_rounds = math.ceil(claims / min(payer.batch_size for payer in default_payers())) + 2
        while submitted < claims and rounds < most_rounds:
            clock.advance(ROUND_SECONDS)
            outcome = await claim.submitter.run_once()
            if outcome.claims_rejected:
                raise RuntimeError(f"the 999s rejected {outcome.claims_rejected} claims")
            submitted += outcome.claims_submitted
            rounds += 1
        submit_seconds = time.perf_counter() - submitting

        states = await _states(claim)
        [announced] = await query_rows(
            claim.session_factory, "SELECT count(*) AS n FROM outbox WHERE event_type = 'rcm.claim.claim_submitted'"
        )
        if submitted != claims or states != {"submitted": claims} or announced["n"] != claims:
            raise RuntimeError(f"{submitted} of {claims} claims submitted in {rounds} rounds; states {states}")
    finally:
        await claim.close()
        await claim.engine.dispose()
    seconds = consume_seconds + submit_seconds
    return {
        "claims_submitted": submitted,
        "claims_per_s": round(claims / seconds),
        "charges_in_claims_per_s": round(claims / consume_seconds),
        "submission_claims_per_s": round(claims / submit_seconds),
        "submission_rounds": rounds,
        "clearinghouse_share_of_submission": round(gateway.seconds / submit_seconds, 3),
        "baseline_transactions_per_s": round(baseline),
        "ratio_to_baseline": round(claims / seconds / baseline, 3),
    }


async def run(claims: int) -> dict[str, object]:
    figures: dict[str, object] = {"benchmark": "claim_submission", "claims": claims}
    return figures | await on_each_database(lambda url, scratch: submission_rate(url, scratch, claims))


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench claim`, shared with `python -m rcm_tools.benchmarks.claim_submission`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--claims", type=positive, default=2_000, help="encounters to bill per database")
    timeout_argument(parser)
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    return print_within(args.timeout, "claim", lambda: run(args.claims))


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
