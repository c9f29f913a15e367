"""`rcm prove`: claims driven through the whole revenue cycle while faults are injected, then every claim and
every cent accounted for.

The stack runs on PostgreSQL (claim and remittance with a second replica each), reporting too, the simulator
paying every claim once a second. Patients with verified coverage are set up first, two poison records go onto
every topic, then the load driver publishes the visits' ChargesCaptured at a steady rate while, at random moments
of that window, each service is killed (SIGKILL) and restarted, failpoints crash services between a commit and
its acknowledgment, the broker is paused, 2% of the events are delivered twice, the clearinghouse is slow, fails,
hangs up and sends 835s twice, and each second replica is killed (a rebalance each way). Once every claim has had
time to finish: the verdict on every claim (lost, duplicated, out of order), the ledger of every account, the
dead-letter topics against the poison, each database's outbox and audit chain; then a full replay (every consumer
group back to offset zero) must change no table of any service, and reporting rebuilt from the first event must
equal the live one.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Final

from rcm_common.failpoints import FAILPOINT_NAMES, FIRED, FailpointName
from rcm_common.topics import ALL_TOPICS
from rcm_tools.benchmarks.cycle_load import VISITS_PER_PATIENT, EventPublisher, visits
from rcm_tools.benchmarks.cycle_watch import CycleWatch, watching
from rcm_tools.benchmarks.process_load import consumer_lag
from rcm_tools.benchmarks.revenue_cycle import SetUp, ledger_figures, running_stack, wait_for_cycles
from rcm_tools.benchmarks.runs import on_each_stack, positive, print_within, say, timeout_argument
from rcm_tools.end_to_end import REPORTING, REVENUE_CYCLE
from rcm_tools.net import free_port
from rcm_tools.reliability.checks import (
    changed_tables,
    database_verdict,
    dead_letter_verdict,
    fingerprint,
    publish_poison,
    reporting_rebuilt_equals_live,
    reset_to_the_first_offset,
)
from rcm_tools.reliability.faults import (
    READY_TIMEOUT_SECONDS,
    FaultLog,
    Supervisor,
    crash_at_failpoints,
    deliver_some_twice,
    kill_each_service,
    kill_replicas,
    pause_the_broker,
    trouble_the_clearinghouse,
)
from rcm_tools.stack import CLEARINGHOUSE, LocalStack

SERVICES: Final = tuple(name for name in (*REVENUE_CYCLE, REPORTING) if name != CLEARINGHOUSE)
"""The platform's services: each is killed, restarted and replayed (the simulator stands in for the outside)."""
REPLICATED: Final = ("claim", "remittance")
FAILPOINTS: Final[tuple[tuple[str, FailpointName], ...]] = (
    *((name, "consumer.after_commit") for name in ("claim", "remittance", "collections", "reporting")),
    *((name, "relay.after_publish") for name in ("claim", "remittance", "collections")),
)
"""Each service at each failpoint it passes while the claims flow: these consume and publish the cycle's events
(registration, eligibility and charge work only while the patients are set up, before the faults)."""
EVENT_TOPICS: Final = tuple(topic for topic in ALL_TOPICS if not topic.endswith(".dlq"))


@dataclass(frozen=True)
class ProofPlan:
    claims: int
    rate: int
    """Claims offered a second: their window is the time the faults are spread over."""
    kills_per_service: int
    broker_pauses: int
    clearinghouse_rounds: int
    failpoints: Sequence[tuple[str, FailpointName]] = FAILPOINTS
    duplicate_share: float = 0.02
    seed: int = 20

    @property
    def window_seconds(self) -> float:
        return self.claims / self.rate


SHORT: Final = ProofPlan(claims=200, rate=5, kills_per_service=1, broker_pauses=1, clearinghouse_rounds=1)
"""What `make test` runs: every kind of fault at least once, in a few minutes."""
FULL: Final = ProofPlan(claims=5_000, rate=15, kills_per_service=3, broker_pauses=3, clearinghouse_rounds=5)
"""What `make soak` runs by default."""
DRAIN_SECONDS: Final = 600.0


async def prove(plan: ProofPlan, local: LocalStack, servers: str, database_urls: Mapping[str, str]) -> dict[str, Any]:
    draw = random.Random(plan.seed)  # noqa: S311 - when and where faults strike, not a secret
    log = FaultLog()
    say(f"starting a second replica of {', '.join(REPLICATED)}")
    replicas = [await asyncio.to_thread(local.add_replica, name, free_port()) for name in REPLICATED]
    supervisor = Supervisor(local, [*SERVICES, *replicas], log)
    broker_pid = local.run_dir.read("broker").pid  # type: ignore[union-attr]  # up recorded it
    started = time.monotonic()
    async with watching(servers, EVENT_TOPICS) as state, EventPublisher(servers) as publisher:
        patients = await SetUp(servers, publisher, state).patients(math.ceil(plan.claims / VISITS_PER_PATIENT))
        poison = await publish_poison(servers, EVENT_TOPICS)
        await quiet(state, seconds=2)
        await caught_up(servers, state)  # every group past the poison: a kill cannot make it dead-letter one twice
        say(f"offering {plan.claims} claims at {plan.rate}/s while the faults strike")
        stop = asyncio.Event()
        window = plan.window_seconds
        async with asyncio.TaskGroup() as background:
            background.create_task(supervisor.run(stop))
            background.create_task(deliver_some_twice(servers, EVENT_TOPICS, plan.duplicate_share, stop, draw, log))
            pauses = [draw.uniform(10, 30) for _ in range(plan.broker_pauses)]
            async with asyncio.TaskGroup() as striking:  # one failing cancels the others
                load = striking.create_task(
                    publisher.capture_at_rate(list(islice(visits(patients), plan.claims)), plan.rate)
                )
                striking.create_task(kill_each_service(local, SERVICES, plan.kills_per_service, window, draw, log))
                striking.create_task(crash_at_failpoints(local, supervisor, plan.failpoints, window, draw))
                striking.create_task(pause_the_broker(broker_pid, pauses, window, draw, log))
                striking.create_task(trouble_the_clearinghouse(local, plan.clearinghouse_rounds, window, draw, log))
                striking.create_task(kill_replicas(local, replicas, window, draw, log))
            driven = load.result().encounters  # as the driver sent them: one the watcher never reads counts as lost
            say(f"faults done after {time.monotonic() - started:.0f} s; waiting for {len(driven)} claims to finish")
            await wait_for_cycles(state, driven, within=DRAIN_SECONDS)
            await supervisor.settled()
            stop.set()
        await caught_up(servers, state)
        await quiet(state)  # what a late copy or a second 835 would set off has come out before the verdict
        log.failpoint_crashes.update(failpoint_crashes_in_logs(local))
        figures: dict[str, Any] = {
            "claims_offered": plan.claims,
            "offered_claims_per_s": plan.rate,
            "faults": log.as_figures(),
            "verdict": state.verdict(driven).as_figures(),
            "ledger": await ledger_figures(database_urls["collections"]),
            "dead_letters": await dead_letter_verdict(servers, poison),
            "databases": await database_verdict({name: database_urls[name] for name in SERVICES}),
        }
        say("full replay: every consumer group back to offset zero")
        figures["replay"] = await replay_everything(local, servers, state, database_urls, [*SERVICES, *replicas])
        say("reporting rebuilt from the first event beside the live one")
        figures["reporting_rebuilt"] = await reporting_rebuilt_equals_live(local, servers)
        figures["seconds"] = round(time.monotonic() - started)
    return figures


def failpoint_crashes_in_logs(local: LocalStack) -> dict[str, int]:
    """How often each failpoint killed each service, as the services' logs say (the line the failpoint writes
    just before the kill)."""
    crashes: dict[str, int] = {}
    for name in SERVICES:
        text = local.log_path(name).read_text(errors="replace")
        for point in sorted(FAILPOINT_NAMES):
            if count := text.count(FIRED % point):
                crashes[f"{name} {point}"] = count
    return crashes


async def replay_everything(
    local: LocalStack, servers: str, state: CycleWatch, database_urls: Mapping[str, str], processes: Sequence[str]
) -> dict[str, Any]:
    """Stop every service, put each of their consumer groups back at offset zero, start them, wait until they
    have read everything again: no table of any service may change, and no event may be published.

    Every service is first restarted once without the reset: a start does work of its own (collections' daily
    cycle sends the statements due by then), so the replay is then the only difference between the fingerprints."""
    await stop_all(local, processes)
    await start_all(local, processes)
    await caught_up(servers, state)
    await quiet(state)
    before = {name: await fingerprint(database_urls[name]) for name in SERVICES}
    events_before = state.events
    await stop_all(local, processes)
    groups = sum([await reset_to_the_first_offset(servers, name) for name in SERVICES])
    behind = await consumer_lag(servers, state.ends)
    on_topic = {topic: sum(end for tp, end in state.ends.items() if tp.topic == topic) for topic in EVENT_TOPICS}
    not_reset = [group for group, lag in behind.items() if lag != on_topic[_topic_of(group)]]
    started = time.monotonic()
    await start_all(local, processes)
    left_behind = await caught_up(servers, state)
    seconds = time.monotonic() - started
    await quiet(state)  # anything a replayed event wrongly set off has time to show
    after = {name: await fingerprint(database_urls[name]) for name in SERVICES}
    return {
        "consumer_groups_reset": groups,
        "records_to_read_again": sum(behind.values()),
        "groups_not_back_at_the_start": len(not_reset),
        "read_again_in_s": round(seconds, 1),
        "behind_at_the_end": left_behind,
        "tables_changed": {name: changed_tables(before[name], after[name]) for name in SERVICES},
        "events_published": state.events - events_before,
    }


def _topic_of(group: str) -> str:
    """The topic a consumer group reads: the services name theirs `<service>.<topic>`."""
    return next(topic for topic in EVENT_TOPICS if group.endswith(f".{topic}"))


async def stop_all(local: LocalStack, processes: Sequence[str]) -> None:
    await asyncio.gather(*(asyncio.to_thread(local.stop, name) for name in processes))


async def start_all(local: LocalStack, processes: Sequence[str]) -> None:
    """One after another, each ready before the next starts: nine started at once on two cores, replaying a whole
    run's topics, left a replica unready after a minute (a full run's replay stopped there)."""
    for name in processes:
        await asyncio.to_thread(local.start, name, ready_timeout=READY_TIMEOUT_SECONDS)


async def quiet(state: CycleWatch, seconds: float = 5.0) -> None:
    """Until no new event has been read for `seconds`."""
    seen = -1
    while seen != state.events:
        seen = state.events
        await asyncio.sleep(seconds)


async def caught_up(servers: str, state: CycleWatch, within: float = 600) -> int:
    """Until every consumer group has committed the end of what it reads; the records still behind after
    `within` (0 when caught up)."""
    deadline = time.monotonic() + within
    while True:
        lag = await consumer_lag(servers, state.ends)
        behind = sum(behind for group, behind in lag.items() if not group.startswith("reporting-rebuilt"))
        if behind == 0 or time.monotonic() > deadline:
            return behind
        await asyncio.sleep(1)


async def run(plan: ProofPlan) -> dict[str, object]:
    async def on_postgresql(state_dir: Path, urls: dict[str, str] | None) -> dict[str, object]:
        if urls is None:
            raise AssertionError("the proof runs on PostgreSQL only")
        async with running_stack(state_dir, urls) as (local, servers):
            return await prove(plan, local, servers, urls)

    figures = await on_each_stack(("postgresql",), SERVICES, on_postgresql)
    return {"proof": "reliability", "seed": plan.seed} | figures


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--claims", type=positive, default=FULL.claims, help="claims driven (default: %(default)s)")
    parser.add_argument("--rate", type=positive, default=FULL.rate, help="claims offered a second")
    parser.add_argument("--kills", type=positive, default=FULL.kills_per_service, help="SIGKILLs of each service")
    parser.add_argument("--broker-pauses", type=positive, default=FULL.broker_pauses, help="10 to 30 s each")
    parser.add_argument("--clearinghouse-rounds", type=positive, default=FULL.clearinghouse_rounds)
    parser.add_argument("--seed", type=int, default=FULL.seed, help="the same seed strikes at the same moments")
    timeout_argument(parser, default=7200)
    return parser


def failures(figures: Mapping[str, Any], plan: ProofPlan) -> list[str]:
    """What a run's figures show went wrong: empty when every claim, cent, dead letter and replay is accounted
    for and every fault struck as planned."""
    found: list[str] = []

    def expect(holds: bool, what: str) -> None:
        if not holds:
            found.append(what)

    faults, verdict, letters, replay = figures["faults"], figures["verdict"], figures["dead_letters"], figures["replay"]
    expect(faults["kills"] == dict.fromkeys(sorted(SERVICES), plan.kills_per_service), "a service was not killed")
    expect(bool(faults["failpoint_crashes"]), "no failpoint fired")
    expect(len(faults["broker_pauses_s"]) == plan.broker_pauses, "a broker pause did not happen")
    expect(faults["records_delivered_twice_on_purpose"] > 0, "no event was delivered twice")
    expect(sum(faults["replicas_killed_for_a_rebalance"].values()) == len(REPLICATED), "a replica was not killed")
    expect(verdict["claims_driven"] == verdict["claims_complete"] == plan.claims, "a claim did not finish")
    for figure in ("claims_lost", "duplicate_effects", "claims_out_of_order"):
        expect(verdict[figure] == 0, f"{figure}: {verdict[figure]}")
    expect(figures["ledger"]["accounts"] > 0 and figures["ledger"]["broken"] == 0, "a ledger is broken")
    expect(letters["dead_letters"] == letters["dead_letters_expected"] > 0, "the dead letters are not the poison")
    for figure in ("poison_not_dead_lettered", "dead_lettered_twice", "dead_letters_not_poison"):
        expect(letters[figure] == 0, f"{figure}: {letters[figure]}")
    for service, database in figures["databases"].items():
        expect(database["outbox_unsent"] == 0, f"{service}'s outbox holds unsent rows")
        expect(database["audit_broken"] == 0, f"{service}'s audit chain is broken")
    expect(replay["records_to_read_again"] > plan.claims, "the consumer groups were not put back to the start")
    expect(replay.get("groups_not_back_at_the_start", 0) == 0, "a consumer group was not put back to the start")
    expect(replay["behind_at_the_end"] == 0, "the replay did not catch up")
    expect(not any(replay["tables_changed"].values()), f"the replay changed {replay['tables_changed']}")
    expect(replay["events_published"] == 0, f"the replay published {replay['events_published']} events")
    expect(all(figures["reporting_rebuilt"][key] for key in ("kpis_equal", "aging_equal", "workqueues_equal")),
           "reporting rebuilt differs from the live one")  # fmt: skip
    return found


def run_proof(args: argparse.Namespace) -> int:
    plan = ProofPlan(
        claims=args.claims,
        rate=args.rate,
        kills_per_service=args.kills,
        broker_pauses=args.broker_pauses,
        clearinghouse_rounds=args.clearinghouse_rounds,
        seed=args.seed,
    )
    return print_within(
        args.timeout, "reliability proof", lambda: run(plan), failures=lambda figures: verdict_of(figures, plan)
    )


def verdict_of(figures: Mapping[str, Any], plan: ProofPlan) -> list[str]:
    """The failures of a whole run: PostgreSQL unreachable is one, since the proof runs on nothing else."""
    on_postgresql = figures["postgresql"]
    if isinstance(on_postgresql, str):
        return [f"PostgreSQL {on_postgresql}"]
    return failures(on_postgresql, plan)
