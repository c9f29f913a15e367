"""Faults on demand and the payment timer: slow, error and drop answers for the endpoints named, the 835s
of one run put in the mailbox twice, faults refused outside development and test, and claims paid by the
timer once their delay has passed. The drop is also watched through a real server, where the client sees
the connection end without an answer."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest
import uvicorn

from rcm_clearinghouse_sim.bootstrap import Simulator, bootstrap
from rcm_clearinghouse_sim.config import ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints.api import ConnectionDropped
from rcm_clearinghouse_sim.entrypoints.app import create_app
from rcm_clearinghouse_sim.testing import API_HEADERS, X12, Clock, quiet_config


async def _set(client: httpx.AsyncClient, *faults: dict[str, object]) -> httpx.Response:
    body = json.dumps({"faults": list(faults)})
    return await client.put("/faults", content=body, headers={"Content-Type": "application/json"})


async def test_an_error_fault_answers_its_status_for_as_many_requests_as_asked(
    client: httpx.AsyncClient, x12: X12
) -> None:
    response = await _set(client, {"endpoint": "eligibility", "kind": "error", "times": 2, "status": 502})
    assert response.json()["faults"][0]["times"] == 2

    statuses = [(await client.post("/x12/eligibility", content=x12.inquiry())).status_code for _ in range(3)]

    assert statuses == [502, 502, 200]
    assert (await client.get("/faults")).json() == {"faults": []}


async def test_a_fault_for_one_endpoint_spares_the_others(client: httpx.AsyncClient, x12: X12) -> None:
    await _set(client, {"endpoint": "mailbox", "kind": "error"})

    assert (await client.post("/x12/claims", content=x12.batch())).status_code == 200
    failed = await client.get("/mailbox")
    assert (failed.status_code, failed.headers["content-type"]) == (503, "application/problem+json")
    assert (await client.get("/mailbox")).status_code == 200


async def test_a_slow_fault_delays_the_answer(client: httpx.AsyncClient, x12: X12) -> None:
    await _set(client, {"endpoint": "*", "kind": "slow", "delay_seconds": 0.3})

    started = time.monotonic()
    response = await client.post("/x12/claim-status", content=x12.status("PCN1"))

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


async def test_a_drop_fault_gives_no_answer_and_changes_nothing(client: httpx.AsyncClient, x12: X12) -> None:
    await _set(client, {"endpoint": "claims", "kind": "drop"})

    with pytest.raises(ConnectionDropped):
        await client.post("/x12/claims", content=x12.batch())

    assert (await client.get("/mailbox")).json() == {"files": []}


async def test_a_duplicate_835_fault_puts_each_835_in_twice(client: httpx.AsyncClient, x12: X12) -> None:
    await _set(client, {"kind": "duplicate_835"})
    await client.post("/x12/claims", content=x12.batch())

    files = (await client.post("/payment-runs")).json()["files"]

    assert len(files) == 2
    first, second = [(await client.get(f"/mailbox/{file_id}")).text for file_id in files]
    assert first == second
    assert (await client.delete("/faults")).status_code == 204


# The simulator has no database, broker or tokens (PHI only in memory): in production only its API key must be real.
PRODUCTION = {"environment": "production"}


async def test_faults_are_refused_outside_development_and_test(clock: Clock) -> None:
    sim = bootstrap(
        ClearinghouseSettings.model_validate(PRODUCTION | {"api_key": "a-real-key"}), config=quiet_config(), clock=clock
    )
    transport = httpx.ASGITransport(app=create_app(simulator=sim))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers={"X-Api-Key": "a-real-key"}) as c:
        assert (await _set(c, {"kind": "error"})).status_code == 403


def test_the_development_key_is_refused_outside_development() -> None:
    with pytest.raises(ValueError, match="RCM_API_KEY"):
        ClearinghouseSettings.model_validate(PRODUCTION)


async def test_the_timer_pays_claims_once_their_delay_has_passed(x12: X12, clock: Clock) -> None:
    config = quiet_config(payment_delay_seconds=30, payment_interval_seconds=0.05)
    sim = bootstrap(ClearinghouseSettings(environment="test"), config=config, clock=clock)
    app = create_app(simulator=sim)
    async with app.router.lifespan_context(app):
        sim.clearinghouse.submit(x12.batch().encode())
        await asyncio.sleep(0.2)
        assert [f.kind for f in sim.clearinghouse.mailbox.files()] == ["277CA"]
        clock.advance(31)
        for _ in range(100):
            if len(sim.clearinghouse.mailbox.files()) == 2:
                break
            await asyncio.sleep(0.02)
    assert [f.kind for f in sim.clearinghouse.mailbox.files()] == ["277CA", "835"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_a_dropped_connection_is_what_a_real_client_sees(simulator: Simulator, x12: X12) -> None:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(simulator=simulator), port=port, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(250):
            if server.started:
                break
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=API_HEADERS) as client:
            await _set(client, {"endpoint": "eligibility", "kind": "drop"})
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/x12/eligibility", content=x12.inquiry())
            assert (await client.post("/x12/eligibility", content=x12.inquiry())).status_code == 200
    finally:
        server.should_exit = True
        await serving
