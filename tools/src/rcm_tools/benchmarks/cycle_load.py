"""The end-to-end benchmark's load: registered patients with verified coverage, then their visits' captured
charges at a chosen rate, published as the services that own them would publish them.

Registration's PatientRegistered and CoverageAdded go out first, and the eligibility service verifies each
coverage with the simulated payer as it would for the front desk (the patients are set up before anything is
timed); then ChargesCaptured, as the charge service publishes it, keyed by the encounter with the envelope's
headers. Each patient has a few visits on different days, billed to one
of the simulator's four payers with a member id it enrols, so no claim is another's duplicate and each is
paid on its first submission.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

import httpx
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.structs import RecordMetadata

from rcm_claim.testing import charges_captured
from rcm_common.envelope import new_envelope
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import sample_coverage_added, sample_patient_registered
from rcm_common.topics import CHARGE_EVENTS, REGISTRATION_EVENTS
from rcm_common.types import utcnow
from rcm_tools import practice

VISITS_PER_PATIENT: Final = 5
PAYERS: Final = (  # the simulator's four payers, with a member id prefix it enrols
    ("ACME01", "Acme Health Plan", "ACM"),
    ("SUMMT1", "Summit Health", "SUM"),
    ("MCARE1", "Medicare Part B (simulated)", "MCR"),
    ("MCAID1", "State Medicaid (simulated)", "MCD"),
)
CODES: Final = ("99213", "99214")  # office visits: no payer asks a prior authorisation for them
_TICK_SECONDS: Final = 0.01


@dataclass(frozen=True, slots=True)
class Patient:
    patient_id: uuid.UUID
    coverage_id: uuid.UUID
    payer_id: str


@dataclass(frozen=True, slots=True)
class Published:
    topic: str
    event: IntegrationEvent
    producer: str


def patients_with_coverage(count: int, first: int = 0) -> Iterator[tuple[Patient, list[Published]]]:
    """`count` patients, each with the registration events that set them up: the eligibility service verifies
    each coverage with the simulated payer when it reads its CoverageAdded, as it does for the front desk."""
    today = utcnow().date()
    for index in range(first, first + count):
        payer_id, payer_name, prefix = PAYERS[index % len(PAYERS)]
        registered = sample_patient_registered()
        coverage = sample_coverage_added(
            registered.patient_id,
            payer_id=payer_id,
            payer_name=payer_name,
            member_id=f"{prefix}{index:09d}",
            effective_date=date(today.year - 1, 1, 1),
        )
        yield (
            Patient(registered.patient_id, coverage.coverage_id, payer_id),
            [
                Published(REGISTRATION_EVENTS, registered, "registration"),
                Published(REGISTRATION_EVENTS, coverage, "registration"),
            ],
        )


@dataclass(frozen=True, slots=True)
class Visit:
    """One patient's visit on one day: an office visit of one of two levels, coded cleanly."""

    patient: Patient
    day: date
    index: int

    def charges_captured(self) -> Published:
        """The visit as the charge service publishes it once captured."""
        day = self.day
        captured = charges_captured(
            self.patient.patient_id,
            self.patient.coverage_id,
            codes=(CODES[self.index % len(CODES)],),
            payer_id=self.patient.payer_id,
            day=day,
            icd10cm_edition=str(day.year + (day.month >= 10)),  # the fiscal year's edition, from 1 October
            billing_provider_npi=practice.BILLING_NPI,
            rendering_provider_npi=practice.RENDERING_NPI,
        )
        return Published(CHARGE_EVENTS, captured, "charge")

    def encounter_body(self) -> dict[str, Any]:
        """The visit as a coder captures it: charge's `POST /encounters` body."""
        return {
            "patient_id": str(self.patient.patient_id),
            "coverage_id": str(self.patient.coverage_id),
            "date_of_service": self.day.isoformat(),
            "place_of_service": "11",
            "billing_provider_npi": practice.BILLING_NPI,
            "rendering_provider_npi": practice.RENDERING_NPI,
            "diagnoses": ["I10"],
            "lines": [{"code": CODES[self.index % len(CODES)], "units": 1, "diagnosis_pointers": [1]}],
        }


def visits(patients: Sequence[Patient]) -> Iterator[Visit]:
    """Each patient's visits, one a day going back from yesterday, patient after patient."""
    yesterday = utcnow().date() - timedelta(days=1)
    for visit in range(VISITS_PER_PATIENT):
        for index, patient in enumerate(patients):
            yield Visit(patient, yesterday - timedelta(days=visit), index)


@dataclass(frozen=True, slots=True)
class Offered:
    """What a driver offered: the encounters, in order, the seconds it took until all were taken, and, where a
    visit was due before charge captured it, when it was due (its cycle is timed from then)."""

    encounters: list[str]
    seconds: float
    due: dict[str, datetime] = field(default_factory=dict)


async def at_rate(count: int, rate: float, offer: Callable[[int], Awaitable[None]]) -> float:
    """Call `offer` for 0 to `count - 1`, spread evenly at `rate` a second; returns the seconds it took."""
    started = time.perf_counter()
    offered = 0
    while offered < count:
        due = min(count, int((time.perf_counter() - started) * rate) + 1)
        while offered < due:
            await offer(offered)
            offered += 1
        await asyncio.sleep(_TICK_SECONDS)
    return time.perf_counter() - started


class EventPublisher:
    """An aiokafka producer sending events with their envelopes, as the services' outbox relays do."""

    def __init__(self, servers: str) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
        self._pending: list[asyncio.Future[RecordMetadata]] = []
        self.written: dict[TopicPartition, int] = {}
        """The next offset after the last record the broker acknowledged, per partition written."""

    async def __aenter__(self) -> EventPublisher:
        await self._producer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._producer.stop()

    async def send(self, message: Published) -> None:
        envelope = new_envelope(message.event, message.producer)
        headers = [(name, value.encode()) for name, value in envelope.to_headers().items()]
        self._pending.append(
            await self._producer.send(
                message.topic,
                message.event.model_dump_json().encode(),
                key=envelope.subject.encode(),
                headers=headers,
            )
        )

    async def acknowledged(self) -> None:
        """Wait until the broker acknowledged everything sent so far."""
        pending, self._pending = self._pending, []
        for metadata in await asyncio.gather(*pending):
            partition = TopicPartition(metadata.topic, metadata.partition)
            self.written[partition] = max(self.written.get(partition, 0), metadata.offset + 1)

    async def send_all(self, messages: Sequence[Published]) -> None:
        for message in messages:
            await self.send(message)
        await self.acknowledged()

    async def capture_at_rate(self, visits: Sequence[Visit], rate: float) -> Offered:
        """Publish each visit's ChargesCaptured at `rate` a second, as the charge service would."""
        messages = [visit.charges_captured() for visit in visits]

        async def send(index: int) -> None:
            await self.send(messages[index])

        started = time.perf_counter()
        await at_rate(len(messages), rate, send)
        await self.acknowledged()
        return Offered([message.event.subject for message in messages], time.perf_counter() - started)


class HttpCapture:
    """A coder capturing visits over charge's HTTP API at a rate, up to `in_flight` requests at a time: charge
    prices, validates and stores each one and publishes its ChargesCaptured through its outbox."""

    def __init__(self, coder: httpx.AsyncClient, in_flight: int = 16) -> None:
        self._coder = coder
        self._slots = asyncio.Semaphore(in_flight)

    async def capture_at_rate(self, visits: Sequence[Visit], rate: float) -> Offered:
        """Each visit is due at its moment of the rate; its cycle is timed from then, so a visit that waited for a
        free request slot (charge not keeping up) counts the wait."""
        encounters = [""] * len(visits)
        due: dict[str, datetime] = {}

        async def capture(index: int) -> None:
            offered_at = utcnow()
            async with self._slots:
                answer = await self._coder.post("/encounters", json=visits[index].encounter_body())
            if answer.status_code != 201 or answer.json()["status"] != "captured":
                raise RuntimeError(f"POST /encounters answered {answer.status_code}: {answer.text}")
            encounters[index] = answer.json()["id"]
            due[encounters[index]] = offered_at

        started = time.perf_counter()
        async with asyncio.TaskGroup() as capturing:

            async def start(index: int) -> None:
                capturing.create_task(capture(index))
                await asyncio.sleep(0)

            await at_rate(len(visits), rate, start)
        return Offered(encounters, time.perf_counter() - started, due)
