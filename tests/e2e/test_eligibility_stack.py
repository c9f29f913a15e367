"""End to end: registration, eligibility and the clearinghouse simulator as their own processes beside the
embedded broker, on free loopback ports. A front desk registers patients over HTTP; eligibility hears of
each new coverage on the broker, asks the simulator with a real 270, and publishes what the 271 said."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, Final

import pytest

from rcm_common.topics import ELIGIBILITY_EVENTS
from rcm_tools import end_to_end
from rcm_tools.end_to_end import client, events_until, simulator
from rcm_tools.net import free_port
from rcm_tools.stack import CLEARINGHOUSE, LocalStack, ServiceSpec

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

# Quick deferred retries, so an outage's second attempt comes within the test's patience.
ENVIRONMENT = {"RCM_RETRY_DELAYS_SECONDS": "[1.0, 1.0]", "RCM_CLEARINGHOUSE_BACKOFF_SECONDS": "0.05"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, str]]:
    services = [
        ServiceSpec("registration", "rcm_registration", free_port()),
        ServiceSpec("eligibility", "rcm_eligibility", free_port()),
        ServiceSpec(CLEARINGHOUSE, "rcm_clearinghouse_sim", free_port()),
    ]
    local = LocalStack(tmp_path_factory.mktemp("stack"), services)
    broker_port = free_port()
    local.up(environ={**os.environ, **ENVIRONMENT}, broker_port=broker_port, ready_timeout=60)
    try:
        yield local, f"127.0.0.1:{broker_port}"
    finally:
        local.down()


OPAL: Final = {
    "first_name": "Opal",
    "last_name": "Vance",
    "birth_date": "1968-04-09",
    "sex": "F",
    "address": {"line1": "7 Quarry Ln", "city": "Montpelier", "state": "VT", "postal_code": "05602"},
}


async def register(local: LocalStack, member_id: str) -> str:
    patient_id, _coverage_id = await end_to_end.register(local, OPAL, member_id)
    return patient_id


async def eligibility_events(servers: str, subject: str, until: str, within: float = 30) -> list[dict[str, Any]]:
    return await events_until(servers, ELIGIBILITY_EVENTS, subject, until, within)


async def test_registering_a_patient_with_coverage_leads_to_eligibility_verified(stack: tuple[LocalStack, str]) -> None:
    local, servers = stack
    patient_id = await register(local, f"ACM{uuid.uuid4().hex[:9].upper()}")
    started = asyncio.get_running_loop().time()

    [verified] = await eligibility_events(servers, patient_id, until="rcm.eligibility.eligibility_verified", within=10)

    print(f"EligibilityVerified {asyncio.get_running_loop().time() - started:.2f} s after the coverage was added")
    assert (verified["payer_id"], verified["trigger"]) == ("ACME01", "coverage_added")
    assert verified["benefits"]["active"] is True
    async with client(local, "eligibility", "front_desk") as desk:
        [latest] = (await desk.get(f"/patients/{patient_id}/eligibility")).json()
    assert (latest["status"], latest["id"]) == ("verified", verified["check_id"])


async def test_a_member_id_starting_notfound_fails_naming_aaa_72(stack: tuple[LocalStack, str]) -> None:
    local, servers = stack
    patient_id = await register(local, "NOTFOUND12345")

    [failed] = await eligibility_events(servers, patient_id, until="rcm.eligibility.eligibility_check_failed")

    assert (failed["kind"], failed["retry_scheduled"]) == ("payer_rejected", False)
    assert [(e["code"], e["meaning"]) for e in failed["errors"]] == [("72", "Invalid/Missing Subscriber/Insured ID")]


async def test_a_clearinghouse_outage_is_retried_then_reported_and_never_lost(stack: tuple[LocalStack, str]) -> None:
    local, servers = stack
    # Four answers of 503: every call of the first attempt (its in-call retries included) fails.
    async with simulator(local) as sim:
        fault = {"endpoint": "eligibility", "kind": "error", "status": 503, "times": 4}
        assert (await sim.put("/faults", json={"faults": [fault]})).status_code == 200
        try:
            patient_id = await register(local, f"ACM{uuid.uuid4().hex[:9].upper()}")
            events = await eligibility_events(servers, patient_id, until="rcm.eligibility.eligibility_verified")
        finally:
            await sim.delete("/faults")

    failed, verified = events
    assert failed["type"] == "rcm.eligibility.eligibility_check_failed"
    assert (failed["kind"], failed["attempts"], failed["retry_scheduled"]) == ("clearinghouse_unavailable", 1, True)
    assert "503" in failed["reason"]
    assert verified["check_id"] == failed["check_id"]


async def test_ended_coverage_and_a_payer_that_cannot_answer_are_reported_as_such(
    stack: tuple[LocalStack, str],
) -> None:
    local, servers = stack
    ended = await register(local, "TERM0000001")
    down = await register(local, "DOWN0000001")

    [inactive] = await eligibility_events(servers, ended, until="rcm.eligibility.eligibility_check_failed")
    unavailable = await eligibility_events(servers, down, until="rcm.eligibility.eligibility_check_failed")

    assert (inactive["kind"], inactive["retry_scheduled"]) == ("coverage_inactive", False)
    assert inactive["benefits"]["active"] is False
    assert inactive["benefits"]["plan_end"] < date.today().isoformat()
    first = unavailable[0]
    assert (first["kind"], first["retry_scheduled"]) == ("payer_rejected", True)
    assert [(e["level"], e["code"], e["follow_up"]) for e in first["errors"]] == [("source", "42", "R")]
