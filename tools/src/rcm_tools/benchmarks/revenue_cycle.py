"""How many claims a second the whole revenue cycle carries on this machine, and how long each takes.

`rcm bench e2e` starts every service (reporting too), the clearinghouse simulator paying every claim at its next
payment run and the embedded broker, on SQLite files and then on PostgreSQL databases. A load driver publishes
registered patients with verified coverage, then their visits' ChargesCaptured at a stepped rate, as the charge
service would; a watcher reads every topic. A claim's cycle is complete when collections' PatientBalanceChanged
applying the claim's PaymentPosted exists: built, scrubbed, submitted, accepted, adjudicated, remitted, posted,
balanced.

Each step offers one rate for a while, then waits for its claims to finish. A rate is sustained when the step's
claims all finish and the last of them took no longer than the first (the backlog did not grow); stepping stops
at the first rate that is not. Per step: the rate claims finished at, latency percentiles, events/s on the
broker and each process's CPU (a share of one core). Beside them, from the same run: the broker's raw
produce-and-consume rate with aiokafka and a bare database transaction per event, so the figures read as
ratios. At the end every claim's events are counted (none lost, none twice) and collections' ledgers verified.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from rcm_clearinghouse_sim.config import ClearinghouseSettings, SimulatorConfig, load_config
from rcm_collections.entrypoints.ledger_check import verify_ledgers_at
from rcm_common.testing import create_database
from rcm_common.topics import ALL_TOPICS, ELIGIBILITY_EVENTS, REGISTRATION_EVENTS
from rcm_tools.benchmarks.charge_capture import baseline_rate
from rcm_tools.benchmarks.cycle_load import (
    VISITS_PER_PATIENT,
    EventPublisher,
    HttpCapture,
    Offered,
    Patient,
    Visit,
    patients_with_coverage,
    visits,
)
from rcm_tools.benchmarks.cycle_watch import CycleWatch, watching
from rcm_tools.benchmarks.process_load import CpuMeter, consumer_lag, cpu_shares
from rcm_tools.benchmarks.runs import entered_in_thread, on_each_stack, positive, print_within, say, timeout_argument
from rcm_tools.broker import ensure_topics
from rcm_tools.end_to_end import REPORTING, REVENUE_CYCLE, client, denying_none_at_random, revenue_cycle_stack
from rcm_tools.stack import LocalStack

DEFAULT_RATES: Final = (10, 20, 30, 40, 50, 60, 80, 100, 150, 200, 300, 400, 500)
LATENCY_RATE: Final = 100
WORKERS: Final = {
    "RCM_SUBMISSION_POLL_SECONDS": "0.2", "RCM_MAILBOX_POLL_SECONDS": "0.2", "RCM_POSTING_POLL_SECONDS": "0.1",
}  # fmt: skip
"""The workers' polls, short: the cycle's latency is the platform's work, not its waits."""
BACKLOG_TOLERANCE_SECONDS: Final = 1.0
"""A step's last claims may take this much longer than its first and the rate still counts as sustained."""
RATE_KEPT: Final = 0.95
"""The driver must send at least this share of the rate offered for the step to count."""
RAW_MESSAGES: Final = 20_000
BASELINE_SECONDS: Final = 120.0
IDLE_SECONDS: Final = 5.0
"""How long the stack is watched doing nothing: what its polling workers and heartbeats cost by themselves."""
SETUP_SECONDS: Final = 900.0
FINAL_DRAIN_SECONDS: Final = 300.0
"""How long the claims still in flight after the last step may take before the unfinished count as lost."""
BARE_TRANSACTIONS: Final = 2_000
BENCH: Final = "bench (driver and watcher)"


def paying_every_claim(config: SimulatorConfig) -> SimulatorConfig:
    """The simulator's payers paying every claim at the next payment run, once a second, and denying none: every
    claim's cycle is the same length and ends with a payment. A run writes an 835 per payer, and an 835 costs
    remittance and claim a fixed amount whatever it carries: four runs a second gave about a fifth fewer claims a
    second than one, at the same latency."""
    return denying_none_at_random(config).model_copy(
        update={"payment_delay_seconds": 0, "payment_interval_seconds": 1.0}
    )


@dataclass(frozen=True)
class Plan:
    rates: Sequence[int]
    step_seconds: int
    mode: Literal["events", "http"] = "events"
    """Publish ChargesCaptured as charge would, or capture each visit over charge's HTTP API."""


class Driver(Protocol):
    async def capture_at_rate(self, visits: Sequence[Visit], rate: float) -> Offered: ...


def _percentile(ordered: Sequence[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def latency_figures(seconds: Sequence[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "p50_s": round(_percentile(ordered, 0.50), 3),
        "p95_s": round(_percentile(ordered, 0.95), 3),
        "p99_s": round(_percentile(ordered, 0.99), 3),
        "max_s": round(ordered[-1], 3),
    }


async def broker_raw_rate(servers: str, messages: int) -> float:
    """Messages a second through the broker with aiokafka alone: produced (acks=all) and consumed back by one
    reader at the same time, with a payload and headers the size of a ChargesCaptured's."""
    topic = f"rcm.bench.raw.{uuid.uuid4().hex[:8]}"
    await ensure_topics(servers, [topic], partitions=6)
    payload, headers = b"x" * 900, [(f"ce_{n}", b"y" * 40) for n in range(9)]
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, max_poll_records=2000)
    await producer.start()
    await consumer.start()
    try:
        async with asyncio.timeout(BASELINE_SECONDS):
            partitions: list[TopicPartition] = []
            while not partitions:  # the new topic's metadata may take a moment to reach the client
                await consumer.topics()
                partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)

            async def read_all() -> None:
                read = 0
                while read < messages:
                    read += sum(len(batch) for batch in (await consumer.getmany(timeout_ms=200)).values())

            started = time.perf_counter()
            reading = asyncio.create_task(read_all())
            sent = [await producer.send(topic, payload, key=str(n).encode(), headers=headers) for n in range(messages)]
            await asyncio.gather(*sent)
            await reading
            return messages / (time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()


async def bare_transaction_rate(database_url: str, transactions: int) -> float:
    """One event committed per transaction through a bare unit of work, on the kind of database the stack uses."""
    engine, factory = await create_database(database_url)
    try:
        return await baseline_rate(factory, transactions)
    finally:
        await engine.dispose()


async def wait_for_consumers(
    servers: str, state: CycleWatch, written: Mapping[TopicPartition, int], within: float
) -> None:
    """Until every consumer group of the partitions `written` has committed up to those offsets."""
    deadline = time.monotonic() + within
    while True:
        state.raise_if_stopped()
        lag = await consumer_lag(servers, written)
        if lag and not any(lag.values()):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the consumers did not catch up within {within:.0f} s: {lag}")
        await asyncio.sleep(0.5)


async def wait_for_answers(state: CycleWatch, coverages: Sequence[str], within: float) -> None:
    """Until eligibility has answered for each of `coverages` and the watcher has read the answers."""
    deadline = time.monotonic() + within
    while not state.checked_coverages.issuperset(coverages):
        state.raise_if_stopped()
        if time.monotonic() > deadline:
            missing = len(set(coverages) - state.checked_coverages)
            raise RuntimeError(f"eligibility answered for {len(coverages) - missing} of {len(coverages)} coverages")
        await asyncio.sleep(0.5)


class SetUp:
    """Registers each step's patients before the step, and waits until every consumer of registration's topic has
    applied them, eligibility has verified each coverage with the payer, and every consumer of eligibility's topic
    has applied the answers: none of it is timed, and none of it runs into the step."""

    def __init__(self, servers: str, publisher: EventPublisher, state: CycleWatch) -> None:
        self._servers, self._publisher, self._state = servers, publisher, state
        self._registered = self._events = 0
        self._seconds = 0.0

    async def patients(self, count: int) -> list[Patient]:
        patients: list[Patient] = []
        events: list[Any] = []
        for patient, setting_up in patients_with_coverage(count, first=self._registered):
            patients.append(patient)
            events += setting_up
        say(f"setting up {count} patients ({len(events)} events) and waiting for the consumers")
        started = time.perf_counter()
        await self._publisher.send_all(events)
        self._registered, self._events = self._registered + count, self._events + len(events)
        registered = {tp: end for tp, end in self._publisher.written.items() if tp.topic == REGISTRATION_EVENTS}
        await wait_for_consumers(self._servers, self._state, registered, within=SETUP_SECONDS)
        await wait_for_answers(self._state, [str(p.coverage_id) for p in patients], within=SETUP_SECONDS)
        answered = {tp: end for tp, end in self._state.ends.items() if tp.topic == ELIGIBILITY_EVENTS}
        await wait_for_consumers(self._servers, self._state, answered, within=SETUP_SECONDS)
        self._seconds += time.perf_counter() - started
        return patients

    def events_per_s(self) -> float:
        return self._events / self._seconds if self._seconds else 0.0


@dataclass
class StepResult:
    rate: int
    sent_per_s: float
    claims: int
    sustained: bool
    finished_per_s: float
    events_per_s: float
    events_per_claim: float
    latency: dict[str, float]
    cpu: dict[str, float]
    unfinished: int

    def as_figures(self) -> dict[str, Any]:
        busiest = sorted(self.cpu.items(), key=lambda item: -item[1])
        return {
            "offered_claims_per_s": self.rate,
            "sent_claims_per_s": round(self.sent_per_s, 1),
            "claims": self.claims,
            "sustained": self.sustained,
            "finished_claims_per_s": round(self.finished_per_s, 1),
            "unfinished": self.unfinished,
            "events_per_s": round(self.events_per_s),
            "events_per_claim": round(self.events_per_claim, 1),
            **self.latency,
            "cpu_cores": dict(busiest),
        }


async def run_step(
    rate: int,
    visits: Sequence[Visit],
    *,
    driver: Driver,
    state: CycleWatch,
    meter: CpuMeter,
    drain_seconds: float,
) -> StepResult:
    """Capture `visits` at `rate` a second, then wait for their cycles to finish. The step counts as sustained
    when the driver kept the rate, every claim finished, and the last claims took no longer than the first
    (within a tolerance): the backlog did not grow."""
    cpu_before, records_before, started = meter(), state.records, time.perf_counter()
    offered = await driver.capture_at_rate(visits, rate)
    encounters, sending = offered.encounters, offered.seconds
    deadline = time.perf_counter() + max(drain_seconds, sending)
    while time.perf_counter() < deadline:
        state.raise_if_stopped()
        done = state.cycles()
        if all(encounter in done for encounter in encounters):
            break
        await asyncio.sleep(0.25)
    elapsed = time.perf_counter() - started
    cpu = cpu_shares(cpu_before, meter(), elapsed)
    done = state.cycles()
    finished = sorted(
        ((offered.due.get(e, done[e][0]), done[e][1]) for e in encounters if e in done), key=lambda cycle: cycle[0]
    )
    if len(finished) < 2:
        reached = state.stages_reached(encounters)
        raise RuntimeError(f"{len(finished)} of {len(encounters)} claims finished their cycle at {rate}/s: {reached}")
    latencies = [(balanced - captured).total_seconds() for captured, balanced in finished]
    tenth = max(1, len(latencies) // 10)
    growth = statistics.median(latencies[-tenth:]) - statistics.median(latencies[:tenth])
    balanced_times = sorted(balanced for _, balanced in finished)
    span = (balanced_times[-1] - balanced_times[0]).total_seconds() or sending
    unfinished, sent_per_s, records = len(encounters) - len(finished), len(visits) / sending, state.records
    return StepResult(
        rate=rate,
        sent_per_s=sent_per_s,
        claims=len(encounters),
        sustained=unfinished == 0 and growth <= BACKLOG_TOLERANCE_SECONDS and sent_per_s >= RATE_KEPT * rate,
        finished_per_s=len(finished) / span,
        events_per_s=(records - records_before) / elapsed,
        events_per_claim=(records - records_before) / len(finished),
        latency=latency_figures(latencies) | {"backlog_growth_s": round(growth, 3)},
        cpu=cpu,
        unfinished=unfinished,
    )


async def wait_for_cycles(state: CycleWatch, encounters: Sequence[str], within: float) -> None:
    """Until each of `encounters` finished its cycle, or `within` seconds passed (the verdict names the rest)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and not state.cycles().keys() >= set(encounters):
        state.raise_if_stopped()
        await asyncio.sleep(0.5)


async def ledger_figures(database_url: str) -> dict[str, Any]:
    verdicts = await verify_ledgers_at(database_url)
    return {
        "accounts": len(verdicts),
        "entries": sum(v.entries for v in verdicts),
        "broken": sum(not v.ok for v in verdicts),
    }


async def measure(local: LocalStack, servers: str, plan: Plan, database_urls: Mapping[str, str]) -> dict[str, Any]:
    """The figures of one stack: baselines, setup, the steps, and the verdict on every claim driven."""
    say("baselines: the broker's raw rate and a bare transaction per event")
    figures: dict[str, Any] = {
        "broker_raw_messages_per_s": round(await broker_raw_rate(servers, RAW_MESSAGES)),
        "bare_transactions_per_s": round(await bare_transaction_rate(database_urls["baseline"], BARE_TRANSACTIONS)),
    }
    processes = {record.name: record.pid for record in local.run_dir.records()} | {BENCH: os.getpid()}
    databases = [url.rsplit("/", 1)[1] for url in database_urls.values() if url.startswith("postgresql")]
    meter = CpuMeter(processes, databases)
    idle, idle_from = meter(), time.perf_counter()
    await asyncio.sleep(IDLE_SECONDS)
    figures["idle_cpu_cores"] = cpu_shares(idle, meter(), time.perf_counter() - idle_from)
    events_topics = [topic for topic in ALL_TOPICS if not topic.endswith(".dlq")]
    async with watching(servers, events_topics) as state:
        async with EventPublisher(servers) as publisher, client(local, "charge", "coder") as coder:
            setup = SetUp(servers, publisher, state)
            driver: Driver = publisher if plan.mode == "events" else HttpCapture(coder)
            steps: list[StepResult] = []
            for rate in plan.rates:
                claims = rate * plan.step_seconds
                patients = await setup.patients(math.ceil(claims / VISITS_PER_PATIENT))
                say(f"offering {rate} claims/s for {plan.step_seconds} s ({plan.mode})")
                step = await run_step(
                    rate,
                    list(islice(visits(patients), claims)),
                    driver=driver,
                    state=state,
                    meter=meter,
                    drain_seconds=max(60.0, 4.0 * plan.step_seconds),
                )
                say(
                    f"  {step.finished_per_s:.0f} claims/s finished, p50 {step.latency['p50_s']} s, "
                    f"p99 {step.latency['p99_s']} s, {'sustained' if step.sustained else 'NOT sustained'}"
                )
                steps.append(step)
                if not step.sustained:
                    break
            figures["setup_events_per_s"] = round(setup.events_per_s())
        driven = list(state.captured_at)
        await wait_for_cycles(state, driven, within=FINAL_DRAIN_SECONDS)
        figures |= _summary(steps, figures)
        figures["verdict"] = state.verdict(driven).as_figures()
        figures["ledger"] = await ledger_figures(database_urls["collections"])
        lag = await consumer_lag(servers, state.ends)
        figures["reporting_lag_at_end"] = sum(behind for group, behind in lag.items() if group.startswith("reporting."))
    return figures


def _summary(steps: Sequence[StepResult], baselines: Mapping[str, Any]) -> dict[str, Any]:
    sustained = [step for step in steps if step.sustained]
    best = max((step.rate for step in sustained), default=0)
    limit = next((step for step in steps if not step.sustained), None)
    top = limit or steps[-1]
    at_latency_rate = next((step for step in steps if step.rate == LATENCY_RATE), None)
    at_best = next((step for step in steps if step.rate == best), None)
    peak = max(step.finished_per_s for step in steps)
    busiest = max((item for item in top.cpu.items() if item[0] != BENCH), key=lambda item: item[1])
    return {
        "sustained_claims_per_s": best,
        "peak_finished_claims_per_s": round(peak, 1),
        f"latency_at_{LATENCY_RATE}_per_s": (
            at_latency_rate.latency | {"sustained": at_latency_rate.sustained} if at_latency_rate else "not reached"
        ),
        "latency_at_sustained_rate": at_best.latency if at_best else "no rate sustained",
        "saturates_first": (
            {"process": busiest[0], "cpu_cores": busiest[1], "at_claims_per_s": top.rate}
            if limit
            else f"nothing: every rate offered was sustained (busiest at the top rate: {busiest[0]})"
        ),
        "events_per_claim": round(top.events_per_claim, 1),
        "peak_vs_broker_raw": round(peak / baselines["broker_raw_messages_per_s"], 4),
        "peak_vs_bare_transactions": round(peak / baselines["bare_transactions_per_s"], 4),
        "steps": [step.as_figures() for step in steps],
    }


@contextlib.asynccontextmanager
async def running_stack(
    state_dir: Path, database_urls: Mapping[str, str] | None
) -> AsyncIterator[tuple[LocalStack, str]]:
    """The stack with reporting, the simulator paying every claim and short worker polls (entered in a thread: it
    sets the practice up with a loop of its own)."""
    simulator = paying_every_claim(load_config(ClearinghouseSettings(environment="test")))
    manager = revenue_cycle_stack(
        state_dir, simulator=simulator, reporting=True, database_urls=database_urls, workers=WORKERS
    )
    with contextlib.redirect_stdout(sys.stderr):  # what the stack says of its processes: stdout is the figures'
        async with entered_in_thread(manager) as entered:
            yield entered


async def run(plan: Plan, databases: Sequence[str]) -> dict[str, object]:
    figures: dict[str, object] = {
        "benchmark": "revenue_cycle",
        "step_seconds": plan.step_seconds,
        "mode": plan.mode,
        "cpu_count": len(os.sched_getaffinity(0)),
    }
    services = [*REVENUE_CYCLE, REPORTING, "baseline"]

    async def measure_stack(state_dir: Path, urls: dict[str, str] | None) -> dict[str, object]:
        files = {name: f"sqlite+aiosqlite:///{state_dir / name}.db" for name in services}
        async with running_stack(state_dir, urls) as (local, servers):
            return await measure(local, servers, plan, urls or files)

    return figures | await on_each_stack(databases, services, measure_stack)


def parse_rates(text: str) -> tuple[int, ...]:
    rates = tuple(positive(part) for part in text.split(","))
    if list(rates) != sorted(set(rates)):
        raise argparse.ArgumentTypeError("the rates go up, each once")
    return rates


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench e2e`, shared with `python -m rcm_tools.benchmarks.revenue_cycle`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(
        "--rates", type=parse_rates, default=DEFAULT_RATES, help="claims/s offered, step by step (default: %(default)s)"
    )
    parser.add_argument("--step-seconds", type=positive, default=15, help="how long each rate is offered")
    parser.add_argument(
        "--mode",
        choices=("events", "http"),
        default="events",
        help="publish ChargesCaptured as charge would (events), or capture each visit over charge's HTTP API",
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), action="append", help="only this database (repeatable)"
    )
    timeout_argument(parser, default=3600)
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    plan = Plan(args.rates, args.step_seconds, args.mode)
    return print_within(args.timeout, "e2e", lambda: run(plan, args.database or ("sqlite", "postgresql")))


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
