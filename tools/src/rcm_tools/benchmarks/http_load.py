"""How the front desk's and the coder's HTTP paths hold under 16 concurrent clients, on SQLite and PostgreSQL.

`rcm bench http` starts the broker, registration and charge as the local stack runs them, then 16 clients,
each on its own connection, send as fast as they are answered: `GET /healthz` for a few seconds (what a
request costs with nothing behind it), `POST /patients` for synthetic patients, then, once charge has every
patient's coverage, `POST /encounters` for one visit each. Per path: requests/s, latency percentiles, and each
process's CPU (a share of one core) while it ran; the clients share the machine and are counted too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import httpx

from rcm_common.topics import REGISTRATION_EVENTS
from rcm_common.types import utcnow
from rcm_tools import practice
from rcm_tools.benchmarks.cycle_watch import CycleWatch, watching
from rcm_tools.benchmarks.process_load import CpuMeter, cpu_shares
from rcm_tools.benchmarks.revenue_cycle import BENCH, latency_figures, wait_for_consumers
from rcm_tools.benchmarks.runs import entered_in_thread, on_each_stack, positive, print_within, say, timeout_argument
from rcm_tools.end_to_end import CSV, client
from rcm_tools.net import free_port
from rcm_tools.stack import SERVICES, LocalStack, ServiceSpec
from rcm_tools.synthetic import synthetic_patients

CLIENTS: Final = 16
HTTP_SERVICES: Final = ("registration", "charge")
HEALTHZ_SECONDS: Final = 5.0
Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
"""One request of a load: the client it goes on and the index of the item it is for."""


async def under_load(
    clients: Sequence[httpx.AsyncClient],
    request: Request,
    *,
    items: int | None = None,
    seconds: float | None = None,
    meter: CpuMeter,
) -> dict[str, Any]:
    """`clients` sending `request` back to back, over `items` items or for `seconds`: requests/s, latency
    percentiles and CPU. Any answer but a 2xx stops the load with its status and body."""
    latencies: list[float] = []
    next_item = 0
    deadline = time.perf_counter() + seconds if seconds is not None else None

    async def keep_sending(http: httpx.AsyncClient) -> None:
        nonlocal next_item
        while (items is None or next_item < items) and (deadline is None or time.perf_counter() < deadline):
            index, next_item = next_item, next_item + 1
            sent = time.perf_counter()
            answer = await request(http, index)
            latencies.append(time.perf_counter() - sent)
            if not answer.is_success:
                where = f"{answer.request.method} {answer.request.url.path}"
                raise RuntimeError(f"{where}: {answer.status_code} {answer.text}")

    before, started = meter(), time.perf_counter()
    async with asyncio.TaskGroup() as clients_sending:  # one refused request stops the others
        for http in clients:
            clients_sending.create_task(keep_sending(http))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        **latency_figures(latencies),
        "cpu_cores": dict(sorted(cpu_shares(before, meter(), elapsed).items(), key=lambda i: -i[1])),
    }


@contextlib.asynccontextmanager
async def _clients(local: LocalStack, service: str, role: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with contextlib.AsyncExitStack() as opened:
        yield [await opened.enter_async_context(client(local, service, role)) for _ in range(CLIENTS)]


async def measure(local: LocalStack, servers: str, patients: int, databases: Sequence[str]) -> dict[str, Any]:
    processes = {record.name: record.pid for record in local.run_dir.records()} | {BENCH: os.getpid()}
    meter = CpuMeter(processes, databases)
    people = synthetic_patients(patients, seed=2026, plan_year=utcnow().year)
    patient_ids: list[str] = [""] * patients
    coverage_ids: list[str] = [""] * patients

    async def healthz(http: httpx.AsyncClient, _: int) -> httpx.Response:
        return await http.get("/healthz")

    async def register(http: httpx.AsyncClient, index: int) -> httpx.Response:
        answer = await http.post("/patients", json=people[index].registration_body())
        if answer.is_success:
            patient_ids[index] = answer.json()["id"]
        return answer

    async def add_coverage(http: httpx.AsyncClient, index: int) -> httpx.Response:
        answer = await http.post(f"/patients/{patient_ids[index]}/coverages", json=people[index].coverage_body())
        if answer.is_success:
            coverage_ids[index] = answer.json()["id"]
        return answer

    async def capture(http: httpx.AsyncClient, index: int) -> httpx.Response:
        body = practice.visit_body(
            index,
            patient_id=patient_ids[index],
            coverage_id=coverage_ids[index],
            day=utcnow().date(),  # the services' day: they date in UTC
            npi=practice.BILLING_NPI,
        )
        answer = await http.post("/encounters", json=body)
        if answer.is_success and answer.json()["status"] != "captured":  # held for review: nothing was captured
            raise RuntimeError(f"POST /encounters held the visit: {answer.text}")
        return answer

    figures: dict[str, Any] = {}
    async with watching(servers, [REGISTRATION_EVENTS]) as state:
        async with _clients(local, "registration", "front_desk") as desks:
            say("healthz")
            figures["healthz"] = await under_load(desks, healthz, seconds=HEALTHZ_SECONDS, meter=meter)
            say(f"registering {patients} patients")
            figures["register_patient"] = await under_load(desks, register, items=patients, meter=meter)
            figures["add_coverage"] = await under_load(desks, add_coverage, items=patients, meter=meter)
        await _wait_for_registrations(state, 2 * patients)  # each patient's PatientRegistered and CoverageAdded
        await wait_for_consumers(servers, state, state.ends, within=300)
        async with _clients(local, "charge", "coder") as coders:
            say(f"capturing {patients} encounters")
            figures["capture_encounter"] = await under_load(coders, capture, items=patients, meter=meter)
    return figures


async def _wait_for_registrations(state: CycleWatch, events: int) -> None:
    """Until the watcher has read `events` of registration's events: their offsets are what charge must reach."""
    async with asyncio.timeout(300):
        while state.records < events:
            state.raise_if_stopped()
            await asyncio.sleep(0.2)


@contextlib.contextmanager
def _stack_up(local: LocalStack, broker_port: int, database_urls: Mapping[str, str] | None) -> Iterator[None]:
    local.up(
        environ=practice.PRACTICE_SETTINGS | dict(os.environ),
        broker_port=broker_port,
        ready_timeout=90,
        database_urls=database_urls,
    )
    try:
        yield
    finally:
        local.down()


@contextlib.asynccontextmanager
async def _stack(state_dir: Path, database_urls: Mapping[str, str] | None) -> AsyncIterator[tuple[LocalStack, str]]:
    """The broker, registration and charge as the local stack runs them, with the practice's prices in charge."""
    services = [ServiceSpec(spec.name, spec.module, free_port()) for spec in SERVICES if spec.name in HTTP_SERVICES]
    local, broker_port = LocalStack(state_dir, services), free_port()
    with contextlib.redirect_stdout(sys.stderr):  # what the stack says of its processes: stdout is the figures'
        async with entered_in_thread(_stack_up(local, broker_port, database_urls)):
            async with client(local, "charge", "admin") as admin:
                rates = practice.contract_rates_csv()
                for path, text in (("/chargemaster", practice.CHARGEMASTER_CSV), ("/contract-rates", rates)):
                    (await admin.put(path, content=text, headers=CSV)).raise_for_status()
            yield local, f"127.0.0.1:{broker_port}"


async def run(patients: int, databases: Sequence[str]) -> dict[str, object]:
    figures: dict[str, object] = {
        "benchmark": "http_load",
        "clients": CLIENTS,
        "cpu_count": len(os.sched_getaffinity(0)),
    }

    async def measure_stack(state_dir: Path, urls: dict[str, str] | None) -> dict[str, object]:
        databases = [url.rsplit("/", 1)[1] for url in (urls or {}).values()]
        async with _stack(state_dir, urls) as (local, servers):
            return await measure(local, servers, patients, databases)

    return figures | await on_each_stack(databases, HTTP_SERVICES, measure_stack)


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench http`, shared with `python -m rcm_tools.benchmarks.http_load`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--patients", type=positive, default=800, help="patients registered, and visits captured")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), action="append", help="only this database (repeatable)"
    )
    timeout_argument(parser)
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    return print_within(args.timeout, "http", lambda: run(args.patients, args.database or ("sqlite", "postgresql")))


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
