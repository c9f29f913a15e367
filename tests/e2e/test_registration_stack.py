"""End to end: the registration service as its own process beside the embedded broker, on free loopback
ports, driven over HTTP the way an integrator would, with its events read back from the broker."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from cloudevents.core.bindings import kafka as cloudevents_kafka

from rcm_common.topics import REGISTRATION_EVENTS
from rcm_tools.net import free_port
from rcm_tools.stack import LocalStack, ServiceSpec
from rcm_tools.tokens import mint_local_token

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

PATIENT = {
    "first_name": "Grace",
    "last_name": "Whitfield",
    "birth_date": "1975-06-30",
    "sex": "F",
    "address": {"line1": "40 Harbor Rd", "city": "Lewes", "state": "DE", "postal_code": "19958"},
    "phone": "3025550142",
    "ssn": "219-09-9999",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, str]]:
    state = tmp_path_factory.mktemp("stack")
    service = ServiceSpec("registration", "rcm_registration", free_port())
    local = LocalStack(state, [service])
    broker_port = free_port()
    local.up(environ=os.environ, broker_port=broker_port, ready_timeout=60)
    try:
        yield local, f"127.0.0.1:{broker_port}"
    finally:
        local.down()


def client_for(local: LocalStack, role: str | None) -> httpx.AsyncClient:
    """A client of the running service, with a token for `role`, or none at all."""
    headers = {}
    if role is not None:
        headers["Authorization"] = f"Bearer {mint_local_token(local.state_dir, role=role, subject=f'e2e-{role}')}"
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{local.port_of('registration')}", headers=headers, timeout=10)


async def events_about(servers: str, subject: str, expected: int) -> list[tuple[dict[str, str], dict[str, Any]]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    found: list[tuple[dict[str, str], dict[str, Any]]] = []
    try:
        partitions = [
            TopicPartition(REGISTRATION_EVENTS, p) for p in consumer.partitions_for_topic(REGISTRATION_EVENTS) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(20):
            while len(found) < expected:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        headers = {k: v.decode() for k, v in record.headers}
                        if headers["ce_subject"] == subject:
                            found.append((headers, json.loads(record.value)))
    finally:
        await consumer.stop()
    return found


async def test_a_patient_registered_over_http_comes_out_on_the_broker(stack: tuple[LocalStack, str]) -> None:
    local, servers = stack
    async with client_for(local, "front_desk") as desk:
        created = await desk.post("/patients", json=PATIENT, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert created.status_code == 201, created.text
        patient = created.json()
        coverage = await desk.post(
            f"/patients/{patient['id']}/coverages",
            json={
                "payer_id": "ACME01",
                "payer_name": "Acme Health Plan",
                "member_id": f"E2E{uuid.uuid4().hex[:8]}",
                "relationship": "self",
                "effective_date": "2026-01-01",
                "order": "primary",
            },
        )
        assert coverage.status_code == 201, coverage.text

    events = await events_about(servers, patient["id"], expected=2)

    assert [headers["ce_type"] for headers, _ in events] == [
        "rcm.registration.patient_registered",
        "rcm.registration.coverage_added",
    ]
    registered_headers, registered = events[0]
    assert registered["mrn"] == patient["mrn"]
    assert registered_headers["ce_source"] == "/rcm/registration"
    assert "ssn" not in registered

    # A generic CloudEvents reader (the SDK's Kafka binding, binary mode) takes the record as it came.
    cloud_event = cloudevents_kafka.from_binary_event(
        cloudevents_kafka.KafkaMessage(
            headers={name: value.encode() for name, value in registered_headers.items()},
            key=patient["id"].encode(),
            value=json.dumps(registered).encode(),
        )
    )
    assert (cloud_event.get_type(), cloud_event.get_subject()) == ("rcm.registration.patient_registered", patient["id"])
    assert cloud_event.get_source() == "/rcm/registration"
    assert cloud_event.get_data() == registered
    record = json.dumps(registered) + json.dumps(registered_headers)
    assert all(spelling not in record for spelling in ("219-09-9999", "219099999", '"9999"'))  # nor its last four


async def test_the_running_service_refuses_missing_and_insufficient_tokens(stack: tuple[LocalStack, str]) -> None:
    local, _ = stack
    async with client_for(local, None) as anonymous, client_for(local, "coder") as coder:
        assert (await anonymous.get("/patients", params={"last_name": "Whitfield"})).status_code == 401
        refused = await coder.post("/patients", json=PATIENT)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"


async def test_a_malformed_ssn_is_refused_without_echoing_it_in_the_answer_or_the_log(
    stack: tuple[LocalStack, str],
) -> None:
    local, _ = stack
    async with client_for(local, "front_desk") as desk:
        refused = await desk.post("/patients", json=PATIENT | {"first_name": "Ada", "ssn": "987-65-432"})

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["ssn"]
    # What the service wrote, without the random hex ids every line carries (they can hold any digits).
    random_ids = {"ts", "correlation_id", "trace_id", "span_id"}
    logged = "\n".join(
        json.dumps({k: v for k, v in json.loads(line).items() if k not in random_ids}) if line.startswith("{") else line
        for line in (local.log_dir / "registration.log").read_text().splitlines()
    )
    answer = json.dumps({k: v for k, v in refused.json().items() if k not in random_ids})
    for part in ("987-65-432", "98765432", "987-65", "65-432"):
        assert part not in answer
        assert part not in logged
    for group in ("987", "432"):
        assert group not in answer
