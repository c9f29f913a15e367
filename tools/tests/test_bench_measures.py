"""What the end-to-end and HTTP benchmarks measure with: CPU per process from /proc, latency percentiles, the
stepped rates, the simulator paying at once, and clients sending back to back."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from rcm_clearinghouse_sim.config import ClearinghouseSettings, load_config
from rcm_tools.benchmarks.cycle_load import HttpCapture, Offered, Patient, Visit
from rcm_tools.benchmarks.http_load import under_load
from rcm_tools.benchmarks.process_load import POSTGRESQL, CpuMeter, cpu_shares
from rcm_tools.benchmarks.revenue_cycle import latency_figures, parse_rates, paying_every_claim

BUSY_CHILD = (
    "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\nimport sys; sys.stdin.read()"
)


def test_a_named_child_is_counted_as_itself_and_not_in_its_parent() -> None:
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD], stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        meter = CpuMeter({"parent": os.getpid(), "child": child.pid})
        while meter()["child"] < 0.45 and time.monotonic() < deadline:
            time.sleep(0.05)
        used = meter()
        assert used["child"] >= 0.45
        alone = CpuMeter({"parent": os.getpid()})()["parent"]
        assert alone - used["parent"] >= 0.4  # unnamed, the child's time is its parent's
        assert POSTGRESQL not in used  # no database named: none of the machine's PostgreSQL is counted
    finally:
        child.communicate(b"")


def test_cpu_shares_are_seconds_used_per_second_of_the_interval() -> None:
    assert cpu_shares({"claim": 10.0}, {"claim": 11.5, "broker": 0.5}, 2.0) == {"claim": 0.75, "broker": 0.25}
    assert cpu_shares({"gone": 3.0}, {"gone": 0.0}, 1.0) == {"gone": 0.0}  # a process that ended reads as none


def test_latency_percentiles_are_nearest_rank() -> None:
    figures = latency_figures([float(n) for n in range(100, 0, -1)])
    assert figures == {"p50_s": 50.0, "p95_s": 95.0, "p99_s": 99.0, "max_s": 100.0}


def test_the_rates_go_up_each_once() -> None:
    assert parse_rates("25,50,100") == (25, 50, 100)
    for wrong in ("50,25", "25,25", "0,25"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_rates(wrong)


def test_the_simulator_pays_every_claim_at_its_next_run_and_denies_none() -> None:
    packaged = load_config(ClearinghouseSettings(environment="test"))
    paying = paying_every_claim(packaged)
    assert (paying.payment_delay_seconds, paying.payment_interval_seconds) == (0, 1.0)
    assert [payer.random_denial_rate for payer in paying.payers] == [0.0] * len(packaged.payers)
    assert [payer.id for payer in paying.payers] == [payer.id for payer in packaged.payers]
    assert any(payer.random_denial_rate > 0 for payer in packaged.payers)


def test_clients_send_back_to_back_over_every_item_and_a_refusal_stops_the_load() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(500 if request.url.path == "/items/7" else 200, text="refused")

    async def send(http: httpx.AsyncClient, index: int) -> httpx.Response:
        return await http.get(f"/items/{index}")

    async def load(items: int) -> dict[str, object]:
        clients = [httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://bench") for _ in range(4)]
        try:
            return await under_load(clients, send, items=items, meter=CpuMeter({"bench": os.getpid()}))
        finally:
            for http in clients:
                await http.aclose()

    figures = asyncio.run(load(6))
    assert sorted(seen) == sorted(f"/items/{n}" for n in range(6))
    assert figures["requests"] == 6
    assert set(figures) >= {"requests_per_s", "p50_s", "p99_s", "cpu_cores"}
    with pytest.raises(ExceptionGroup) as refused:
        asyncio.run(load(12))
    [error] = refused.value.exceptions
    assert str(error) == "GET /items/7: 500 refused"


def test_a_coder_captures_each_visit_over_http_at_the_rate_and_a_refusal_stops_the_capture() -> None:
    patient = Patient(uuid.uuid4(), uuid.uuid4(), "ACME01")
    day = date(2026, 12, 4)
    visits = [Visit(patient, day, index) for index in range(6)]
    bodies: list[dict[str, Any]] = []

    def charge(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if body["date_of_service"] == "2026-12-05":
            return httpx.Response(422, text="the patient has no coverage on file")
        return httpx.Response(201, json={"id": f"encounter-{len(bodies)}", "status": "captured"})

    async def capture(visits: list[Visit], rate: float) -> Offered:
        async with httpx.AsyncClient(transport=httpx.MockTransport(charge), base_url="http://charge") as coder:
            return await HttpCapture(coder).capture_at_rate(visits, rate)

    offered = asyncio.run(capture(visits, rate=20))
    assert sorted(offered.encounters) == [f"encounter-{n}" for n in range(1, 7)]
    assert offered.due.keys() == set(offered.encounters)  # each cycle timed from when its visit was due
    assert 0.25 <= offered.seconds < 2  # six at 20 a second: the last one due after 0.25 s
    assert {(body["patient_id"], body["date_of_service"]) for body in bodies} == {
        (str(patient.patient_id), "2026-12-04")
    }
    assert [body["lines"][0]["code"] for body in bodies] == ["99213", "99214"] * 3

    with pytest.raises(ExceptionGroup) as refused:
        asyncio.run(capture([*visits[:2], dataclasses.replace(visits[0], day=date(2026, 12, 5))], rate=50))
    [error] = refused.value.exceptions
    assert str(error) == "POST /encounters answered 422: the patient has no coverage on file"
