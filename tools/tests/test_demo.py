"""The demo against a stand-in registration API that publishes real events through the embedded broker."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from rcm_common.envelope import Envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.events.registration import CoverageAdded, PatientRegistered
from rcm_common.topics import REGISTRATION_EVENTS
from rcm_tools.broker import EmbeddedBroker
from rcm_tools.demo import DemoError, DemoPlan, run_demo
from rcm_tools.synthetic import synthetic_patients

pytestmark = pytest.mark.broker


class FakeRegistration:
    """Answers like the registration service: idempotent creates, and one event per create on the topic."""

    def __init__(self, producer: AIOKafkaProducer, *, publish_coverages: bool = True, deliveries: int = 1) -> None:
        self.producer = producer
        self.publish_coverages = publish_coverages
        self.deliveries = deliveries  # above 1: the duplicates at-least-once delivery may bring
        self.requests: list[httpx.Request] = []
        self.created: dict[str, uuid.UUID] = {}  # Idempotency-Key -> id

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = request.headers["Idempotency-Key"]
        if key in self.created:
            return httpx.Response(201, json={"id": str(self.created[key])})
        body = json.loads(request.content)
        new_id = self.created[key] = uuid.uuid4()
        if request.url.path == "/patients":
            mrn = f"{len(self.created):09d}"
            event: IntegrationEvent = PatientRegistered.model_validate(
                {**body, "patient_id": new_id, "mrn": mrn, "guarantor": {"relationship": "self"}}
            )
            await self.publish(event)
        else:
            patient_id = request.url.path.split("/")[2]
            event = CoverageAdded.model_validate({**body, "patient_id": patient_id, "coverage_id": new_id})
            if self.publish_coverages:
                await self.publish(event)
        return httpx.Response(201, json={"id": str(new_id)})

    async def publish(self, event: IntegrationEvent) -> None:
        envelope = Envelope(
            event_id=uuid.uuid4(),
            event_type=event.event_type,
            event_version=event.event_version,
            occurred_at=datetime.now(UTC),
            producer="registration",
            subject=event.subject,
            correlation_id=uuid.uuid4().hex,
        )
        headers = [(name, value.encode()) for name, value in envelope.to_headers().items()]
        for _ in range(self.deliveries):
            await self.producer.send_and_wait(
                REGISTRATION_EVENTS, event.model_dump_json().encode(), key=event.subject.encode(), headers=headers
            )


@pytest.fixture
async def producer(embedded_broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=embedded_broker.bootstrap_servers)
    await producer.start()
    yield producer
    await producer.stop()


def plan(broker: EmbeddedBroker, *, patients: int, read_timeout: float = 20.0) -> DemoPlan:
    return DemoPlan(
        registration_url="http://registration.test",
        bootstrap_servers=broker.bootstrap_servers,
        token="token-for-tests",
        patients=patients,
        seed=11,
        read_timeout=read_timeout,
    )


async def test_demo_registers_patients_and_reads_their_events_back(
    embedded_broker: EmbeddedBroker, producer: AIOKafkaProducer, capsys: pytest.CaptureFixture[str]
) -> None:
    registration = FakeRegistration(producer, deliveries=2)
    # Someone else's patient on the same topic, and every event of ours delivered twice: none is counted.
    someone_else = synthetic_patients(1, seed=99, plan_year=2026)[0].registration_body()
    await registration.publish(
        PatientRegistered.model_validate(
            {**someone_else, "patient_id": uuid.uuid4(), "mrn": "999999999", "guarantor": {"relationship": "self"}}
        )
    )

    exit_code = await run_demo(plan(embedded_broker, patients=3), transport=httpx.MockTransport(registration))

    out = capsys.readouterr().out.splitlines()
    assert exit_code == 0
    assert out[-1] == "registered 3 patients, 3 coverages; read back 3 PatientRegistered and 3 CoverageAdded events"
    patient_ids = [str(registration.created[r.headers["Idempotency-Key"]]) for r in registration.requests[::2]]
    assert [line.split()[:2] for line in out[:-1]] == [
        [event_type, f"subject={patient_id}"]
        for patient_id in patient_ids
        for event_type in (PatientRegistered.event_type, CoverageAdded.event_type)
    ]
    # No PHI in what the demo prints: names and member ids stay out.
    for patient in synthetic_patients(3, seed=11, plan_year=2026):
        assert not any(patient.last_name in line or patient.member_id in line for line in out)


async def test_requests_carry_the_token_and_stable_idempotency_keys(
    embedded_broker: EmbeddedBroker, producer: AIOKafkaProducer
) -> None:
    first, second = FakeRegistration(producer), FakeRegistration(producer)

    assert await run_demo(plan(embedded_broker, patients=2), transport=httpx.MockTransport(first)) == 0
    assert await run_demo(plan(embedded_broker, patients=2), transport=httpx.MockTransport(second)) == 0

    assert [r.url.path for r in first.requests[:2]] == [
        "/patients",
        f"/patients/{next(iter(first.created.values()))}/coverages",
    ]
    assert {r.headers["Authorization"] for r in first.requests} == {"Bearer token-for-tests"}
    keys = [r.headers["Idempotency-Key"] for r in first.requests]
    assert len(set(keys)) == 4
    assert [r.headers["Idempotency-Key"] for r in second.requests] == keys


async def test_missing_events_fail_the_demo(
    embedded_broker: EmbeddedBroker, producer: AIOKafkaProducer, capsys: pytest.CaptureFixture[str]
) -> None:
    registration = FakeRegistration(producer, publish_coverages=False)

    exit_code = await run_demo(
        plan(embedded_broker, patients=2, read_timeout=3), transport=httpx.MockTransport(registration)
    )

    captured = capsys.readouterr()
    assert exit_code == 1
    assert captured.out.splitlines()[-1].endswith("read back 2 PatientRegistered and 0 CoverageAdded events")
    assert f"missing after 3 s: 2 {CoverageAdded.event_type}" in captured.err


async def test_a_refused_registration_stops_the_demo_with_the_problem(embedded_broker: EmbeddedBroker) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        problem = {"title": "Validation failed", "detail": "The request has invalid fields.", "status": 422}
        return httpx.Response(422, json=problem)

    with pytest.raises(DemoError, match="POST /patients answered 422: Validation failed: The request has invalid"):
        await run_demo(plan(embedded_broker, patients=1), transport=httpx.MockTransport(refuse))


async def test_an_unavailable_service_is_retried_with_the_same_key(
    embedded_broker: EmbeddedBroker, producer: AIOKafkaProducer
) -> None:
    registration = FakeRegistration(producer)
    keys: list[str] = []

    async def unavailable_once(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        if len(keys) == 1:
            return httpx.Response(503, json={"title": "Service unavailable"})
        return await registration(request)

    exit_code = await run_demo(plan(embedded_broker, patients=1), transport=httpx.MockTransport(unavailable_once))

    assert exit_code == 0
    assert len(keys) == 3
    assert keys[0] == keys[1] != keys[2]
