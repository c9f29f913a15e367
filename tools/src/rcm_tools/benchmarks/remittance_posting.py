"""How fast remittance posts a large 835, on SQLite and on PostgreSQL.

The claims are set up first (their copies, as ClaimSubmitted and ClaimAccepted leave them); then one 835
paying all of them (`--claims`, 10,000 by default, each with two lines, CO-45 and a coinsurance) is taken in
as an upload is (read whole, stored encrypted, its remittance kept) and posted by the service's poster, a batch
of claim payments per transaction, each matched to its claim and lines, posted, and announced (PaymentPosted in
the outbox). Intake and posting are timed together and apart.

The baseline, measured in the same run on the same database, is a bare unit of work committing one event per
transaction, so the ratio says how many one-event transactions' worth of time a claim payment costs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from decimal import Decimal
from pathlib import Path

from pydantic import SecretStr

from rcm_common.audit import system_audit
from rcm_common.auth import generate_keypair
from rcm_common.envelope import new_envelope
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import UNREACHABLE_BROKER, query_rows
from rcm_remittance.bootstrap import Remittance, bootstrap
from rcm_remittance.config import RemittanceSettings
from rcm_remittance.entrypoints.app import REMITTANCE_APP
from rcm_remittance.service_layer.handlers import claim_handlers
from rcm_remittance.service_layer.intake import take_in
from rcm_remittance.testing import accepted_event, paid_claim, remittance_835, submitted
from rcm_tools.benchmarks.charge_capture import baseline_rate
from rcm_tools.benchmarks.runs import on_each_database, positive, print_within, timeout_argument

BENCH_AUDIT = system_audit("system:bench")
SET_UP_BATCH = 1_000  # claim copies written per transaction while setting up


def _settings(database_url: str, state_dir: Path) -> RemittanceSettings:
    return RemittanceSettings(
        environment="test",
        state_dir=state_dir,
        database_url=database_url,
        kafka_bootstrap_servers=UNREACHABLE_BROKER,
        jwt_public_key=SecretStr(generate_keypair()[1]),
        run_workers=False,
    )


async def _claims_835(remittance: Remittance, claims: int) -> bytes:
    """The claims' copies, kept through the service's own handlers; returns the 835 that pays them all."""
    handlers = claim_handlers(remittance.clock)
    paid = []
    for first in range(0, claims, SET_UP_BATCH):
        async with remittance.uow(audit=BENCH_AUDIT()) as uow:
            for _ in range(first, min(first + SET_UP_BATCH, claims)):
                claim = submitted()
                accepted = accepted_event(claim)
                for event in (claim, accepted):
                    await handlers[type(event)](event, new_envelope(event, "claim"), uow)
                paid.append(paid_claim(claim, payer_claim_number=accepted.payer_claim_number))
            await uow.commit()
    return remittance_835(paid, trace="BENCH000001")


async def posting_rate(database_url: str, state_dir: Path, claims: int) -> dict[str, float]:
    settings = _settings(database_url, state_dir)
    await asyncio.to_thread(upgrade_to_head, REMITTANCE_APP.migrations, settings.resolved_database_url)
    remittance = bootstrap(settings)
    try:
        baseline = await baseline_rate(remittance.session_factory, min(claims, 2_000))
        content = await _claims_835(remittance, claims)

        started = time.perf_counter()
        intake = await take_in(
            remittance.uow(audit=BENCH_AUDIT()), content, "bench", remittance.poster.read, remittance.clock
        )
        taken = time.perf_counter()
        posted = await remittance.poster.run_once()
        finished = time.perf_counter()

        [announced] = await query_rows(
            remittance.session_factory,
            "SELECT count(*) AS n FROM outbox WHERE event_type = 'rcm.remittance.payment_posted'",
        )
        [total] = await query_rows(remittance.session_factory, "SELECT sum(paid) AS paid FROM claim_payment")
        [bpr] = await query_rows(remittance.session_factory, "SELECT total_paid FROM remittance")
        if posted != claims or announced["n"] != claims or len(intake.new) != 1:
            raise RuntimeError(f"{posted} of {claims} claim payments posted, {announced['n']} announced")
        if Decimal(str(total["paid"])) != Decimal(str(bpr["total_paid"])):
            raise RuntimeError(f"the postings sum to {total['paid']}, not the 835's {bpr['total_paid']}")
    finally:
        await remittance.close()
        await remittance.engine.dispose()
    seconds = finished - started
    return {
        "claim_payments_posted": posted,
        "file_bytes": len(content),
        "claim_payments_per_s": round(claims / seconds),
        "intake_seconds": round(taken - started, 3),
        "posting_claim_payments_per_s": round(claims / (finished - taken)),
        "baseline_transactions_per_s": round(baseline),
        "ratio_to_baseline": round(claims / seconds / baseline, 3),
    }


async def run(claims: int) -> dict[str, object]:
    figures: dict[str, object] = {"benchmark": "remittance_posting", "claims": claims}
    return figures | await on_each_database(lambda url, scratch: posting_rate(url, scratch, claims))


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench remittance`, shared with `python -m rcm_tools.benchmarks.remittance_posting`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--claims", type=positive, default=10_000, help="claim payments in the 835")
    timeout_argument(parser)
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    return print_within(args.timeout, "remittance", lambda: run(args.claims))


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
