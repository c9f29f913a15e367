"""What the processes of a benchmark cost and how far behind their consumers are.

CPU is read from `/proc/<pid>/stat` (user and system time, the process and everything it started), so a
service's share of the machine is measured the same way whatever it runs; the PostgreSQL backends serving the
benchmark's databases are summed as one. Consumer lag comes from the broker: each consumer group's committed
offsets against the offsets given.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

POSTGRESQL: Final = "postgresql"
_TICKS_PER_SECOND: Final = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: the fields start after its closing one.
    return text[text.rindex(")") + 2 :].split()


def _cpu_seconds(fields: Sequence[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND  # utime, stime


def _process_table() -> dict[int, tuple[int, str, float]]:
    """Every process: its parent, its command line and the CPU seconds it has used."""
    table: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None:
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        table[int(entry.name)] = (int(fields[1]), command, _cpu_seconds(fields))
    return table


class CpuMeter:
    """Reads the CPU seconds used so far by each named process and its descendants (but for those named
    themselves: the benchmark started the services), and by the PostgreSQL backends serving `databases`
    (a backend's command line names its database)."""

    def __init__(self, processes: Mapping[str, int], databases: Sequence[str] = ()) -> None:
        self._processes = dict(processes)
        self._databases = tuple(databases)

    def __call__(self) -> dict[str, float]:
        table = _process_table()
        children: defaultdict[int, list[int]] = defaultdict(list)
        for pid, (parent, _, _) in table.items():
            children[parent].append(pid)
        named = set(self._processes.values())
        used: dict[str, float] = {}
        for name, root in self._processes.items():
            total, stack = 0.0, [root]
            while stack:
                pid = stack.pop()
                if pid in table:
                    total += table[pid][2]
                    stack.extend(child for child in children[pid] if child not in named)
            used[name] = total
        if self._databases:
            used[POSTGRESQL] = sum(
                seconds
                for _, command, seconds in table.values()
                if command.startswith("postgres:") and any(f" {name} " in command for name in self._databases)
            )
        return used


def cpu_shares(before: Mapping[str, float], after: Mapping[str, float], seconds: float) -> dict[str, float]:
    """Each process's CPU over an interval, as a share of one core (1.0 is a core kept busy); a process gone
    meanwhile reads as none."""
    return {name: round(max(after[name] - before.get(name, 0.0), 0.0) / seconds, 3) for name in after}


async def consumer_lag(servers: str, ends: Mapping[TopicPartition, int]) -> dict[str, int]:
    """For each consumer group reading a topic of `ends` (the services name theirs `<service>.<topic>`), the
    records it has yet to commit up to those offsets; a group that has committed nothing lags by all of them.

    The ends come from a reader that has read the topics (the embedded broker's ListOffsets answers the first
    offset of the last batch, not the end)."""
    topics = {tp.topic for tp in ends}
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        lag: dict[str, int] = {}
        for group_id, _protocol in await admin.list_consumer_groups():
            topic = next((t for t in topics if group_id.endswith(f".{t}")), None)
            if topic is None:
                continue
            partitions = [tp for tp in ends if tp.topic == topic]
            committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
            lag[group_id] = sum(
                max(ends[tp] - max(committed[tp].offset, 0), 0) if tp in committed else ends[tp] for tp in partitions
            )
        return lag
    finally:
        await admin.close()
