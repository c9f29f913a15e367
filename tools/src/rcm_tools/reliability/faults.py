"""The faults a reliability run injects while its claims flow through the stack, each counting what it did.

Every fault acts on the running processes as the world would: a SIGKILL, a SIGSTOP of the broker, a record the
broker hands out twice, a clearinghouse that is slow, fails or hangs up, a crash at a failpoint. A `Supervisor`
brings back whatever died, as Kubernetes restarts a container, and each fault finishes its harm (a paused broker
is always resumed) however the run ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiokafka import AIOKafkaProducer

from rcm_common.failpoints import FailpointName
from rcm_common.testing import wait_until
from rcm_tools.benchmarks.cycle_watch import reading_from_the_first_offset
from rcm_tools.end_to_end import simulator
from rcm_tools.stack import LocalStack, StackError

READY_TIMEOUT_SECONDS: Final = 120.0
"""A service restarted while the broker is paused is ready only once the broker is back."""
DISARMED: Final = {"RCM_FAILPOINTS": "{}"}


@dataclass
class FaultLog:
    """What the faults did, as the run's figures say it."""

    kills: Counter[str] = field(default_factory=Counter)
    restarts: Counter[str] = field(default_factory=Counter)
    failpoint_crashes: Counter[str] = field(default_factory=Counter)
    broker_pauses: list[float] = field(default_factory=list)
    duplicated_records: int = 0
    clearinghouse_faults: Counter[str] = field(default_factory=Counter)
    replica_kills: Counter[str] = field(default_factory=Counter)

    def as_figures(self) -> dict[str, Any]:
        return {
            "kills": dict(sorted(self.kills.items())),
            "restarts_by_the_supervisor": dict(sorted(self.restarts.items())),
            "failpoint_crashes": dict(sorted(self.failpoint_crashes.items())),
            "broker_pauses_s": [round(seconds, 1) for seconds in self.broker_pauses],
            "records_delivered_twice_on_purpose": self.duplicated_records,
            "clearinghouse_faults_set": dict(sorted(self.clearinghouse_faults.items())),
            "replicas_killed_for_a_rebalance": dict(sorted(self.replica_kills.items())),
        }


class Supervisor:
    """Restarts any supervised service found dead, with its failpoints disarmed, as a container runtime would.
    A fault that restarts a service itself holds that service's lock, so two never start it at once."""

    def __init__(self, local: LocalStack, services: Sequence[str], log: FaultLog) -> None:
        self._local, self._log = local, log
        self.locks = {name: asyncio.Lock() for name in services}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            for name, lock in self.locks.items():
                if lock.locked() or await asyncio.to_thread(self._local.is_alive, name):
                    continue
                async with lock:
                    if not await asyncio.to_thread(self._local.is_alive, name):
                        with contextlib.suppress(StackError):  # killed again while starting: tried next round
                            await asyncio.to_thread(
                                self._local.start, name, settings=DISARMED, ready_timeout=READY_TIMEOUT_SECONDS
                            )
                            self._log.restarts[name] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    async def settled(self, within: float = READY_TIMEOUT_SECONDS) -> None:
        """Until every supervised service runs again."""

        async def all_alive() -> bool:
            return all([await asyncio.to_thread(self._local.is_alive, name) for name in self.locks])

        await wait_until(all_alive, within=within, every=0.5)


async def at_random_moments(count: int, window: float, draw: random.Random) -> AsyncIterator[int]:
    """Yield 0 to `count - 1`, each at a random moment of the next `window` seconds, in order."""
    moments = sorted(draw.uniform(0, window) for _ in range(count))
    started = asyncio.get_running_loop().time()
    for index, moment in enumerate(moments):
        await asyncio.sleep(max(0.0, started + moment - asyncio.get_running_loop().time()))
        yield index


async def kill_each_service(
    local: LocalStack, services: Sequence[str], times: int, window: float, draw: random.Random, log: FaultLog
) -> None:
    """SIGKILL each of `services` `times` times at random moments of the window; the supervisor restarts them. A
    moment that finds its service down already (a failpoint's crash, an earlier kill) waits for it to be back."""
    victims = [name for name in services for _ in range(times)]
    draw.shuffle(victims)
    async for index in at_random_moments(len(victims), window, draw):
        name = victims[index]

        async def alive(name: str = name) -> bool:
            return await asyncio.to_thread(local.is_alive, name)

        with contextlib.suppress(TimeoutError, StackError):  # still down after a while: this kill is not counted
            await wait_until(alive, within=READY_TIMEOUT_SECONDS, every=0.2)
            await asyncio.to_thread(local.kill, name)
            log.kills[name] += 1


async def crash_at_failpoints(
    local: LocalStack,
    supervisor: Supervisor,
    armed: Sequence[tuple[str, FailpointName]],
    window: float,
    draw: random.Random,
    probability: float = 0.5,
) -> None:
    """Restart each (service, failpoint) of `armed` at a random moment of the first half of the window, while
    events flow, with that failpoint armed, and let it fire: the service dies there and is started again disarmed
    (restarted disarmed after `FIRE_WITHIN_SECONDS` if it never passed there). The crashes are counted from the
    services' logs, where each failpoint says it fired."""
    async with asyncio.TaskGroup() as crashing:
        async for index in at_random_moments(len(armed), window / 2, draw):
            name, point = armed[index]
            crashing.create_task(_crash_once(local, supervisor.locks[name], name, point, probability))


FIRE_WITHIN_SECONDS: Final = 60.0


async def _crash_once(
    local: LocalStack, lock: asyncio.Lock, name: str, point: FailpointName, probability: float
) -> None:
    async with lock:
        with contextlib.suppress(StackError):  # it may fire before the service is ready: the crash wanted
            settings = {"RCM_FAILPOINTS": json.dumps({point: probability})}
            await asyncio.to_thread(local.restart, name, settings=settings, ready_timeout=READY_TIMEOUT_SECONDS)

        async def dead() -> bool:
            return not await asyncio.to_thread(local.is_alive, name)

        with contextlib.suppress(TimeoutError):
            await wait_until(dead, within=FIRE_WITHIN_SECONDS, every=0.2)
        with contextlib.suppress(StackError):  # killed again while starting: the supervisor takes over
            await asyncio.to_thread(local.restart, name, settings=DISARMED, ready_timeout=READY_TIMEOUT_SECONDS)


async def pause_the_broker(
    broker_pid: int, pauses: Sequence[float], window: float, draw: random.Random, log: FaultLog
) -> None:
    """SIGSTOP the broker for each of `pauses` seconds at random moments (the embedded broker keeps its records in
    memory: paused, not restarted); it is always resumed."""
    async for index in at_random_moments(len(pauses), window, draw):
        os.kill(broker_pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(pauses[index])
        finally:
            os.kill(broker_pid, signal.SIGCONT)
        log.broker_pauses.append(pauses[index])


async def deliver_some_twice(
    servers: str, topics: Sequence[str], share: float, stop: asyncio.Event, draw: random.Random, log: FaultLog
) -> None:
    """Copy `share` of the platform's events, as they appear, back onto their partition with the same key,
    headers and payload: the same record delivered twice, as a producer's retry or a replayed batch delivers it."""
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        async with reading_from_the_first_offset(servers, topics) as consumer:
            copied: set[str] = set()
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        event_id = dict(record.headers).get("ce_id")
                        if event_id is None or event_id in copied or draw.random() >= share:
                            continue  # not an event, a copy of one, or not drawn
                        copied.add(event_id)
                        await producer.send_and_wait(
                            record.topic, record.value, key=record.key, headers=list(record.headers),
                            partition=record.partition,
                        )  # fmt: skip
                        log.duplicated_records += 1
    finally:
        await producer.stop()


CLEARINGHOUSE_FAULTS: Final[tuple[dict[str, Any], ...]] = (
    {"endpoint": "claims", "kind": "slow", "delay_seconds": 3.0, "times": 3},
    {"endpoint": "claims", "kind": "error", "status": 503, "times": 2},
    {"endpoint": "claims", "kind": "drop", "times": 2},
    {"endpoint": "mailbox", "kind": "slow", "delay_seconds": 3.0, "times": 3},
    {"endpoint": "mailbox", "kind": "error", "status": 500, "times": 3},
    {"endpoint": "mailbox", "kind": "drop", "times": 3},
    {"endpoint": "eligibility", "kind": "error", "status": 502, "times": 2},
    {"kind": "duplicate_835", "times": 3},
)
"""Each set once per round: slow answers, server errors and dropped connections on submissions, the mailbox and
eligibility, and payment runs that put every 835 in the mailbox twice."""


async def trouble_the_clearinghouse(
    local: LocalStack, rounds: int, window: float, draw: random.Random, log: FaultLog
) -> None:
    """Set every kind of clearinghouse fault at `rounds` random moments, each to be spent by the next requests."""
    async with simulator(local) as clearinghouse:
        async for _ in at_random_moments(rounds, window, draw):
            answer = await clearinghouse.put("/faults", json={"faults": list(CLEARINGHOUSE_FAULTS)})
            answer.raise_for_status()
            for fault in CLEARINGHOUSE_FAULTS:
                log.clearinghouse_faults[f"{fault.get('endpoint', '*')} {fault['kind']}"] += int(fault["times"])


async def kill_replicas(
    local: LocalStack, replicas: Sequence[str], window: float, draw: random.Random, log: FaultLog
) -> None:
    """SIGKILL each second replica once, mid-run: its partitions move to the first replica when its session
    lapses, and back to a share when the supervisor's restart joins the group again (two rebalances)."""
    async for index in at_random_moments(len(replicas), window, draw):
        with contextlib.suppress(StackError):
            await asyncio.to_thread(local.kill, replicas[index])
            log.replica_kills[replicas[index]] += 1
