"""The end-to-end benchmark's load: registered patients with verified coverage, then their visits' captured
charges at a chosen rate, published as the services that own them would publish them.

Registration's PatientRegistered and CoverageAdded go out first, and the eligibility service verifies each
coverage with the simulated payer as it would for the front desk (the patients are set up before anything is
timed); then ChargesCaptured, as the charge service publishes it, keyed
by the encounter with the envelope's headers. Each patient has a few visits on different days, billed to one
of the simulator's four payers with a member id it enrols, so no claim is another's duplicate and each is
paid on its first submission.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

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


def visits(patients: Sequence[Patient]) -> Iterator[Published]:
    """Each patient's visits, one a day going back from yesterday, patient after patient."""
    yesterday = utcnow().date() - timedelta(days=1)
    for visit in range(VISITS_PER_PATIENT):
        day = yesterday - timedelta(days=visit)
        for index, patient in enumerate(patients):
            captured = charges_captured(
                patient.patient_id,
                patient.coverage_id,
                codes=(CODES[index % len(CODES)],),
                payer_id=patient.payer_id,
                day=day,
                icd10cm_edition=str(day.year + (day.month >= 10)),  # the fiscal year's edition, from 1 October
                billing_provider_npi=practice.BILLING_NPI,
                rendering_provider_npi=practice.RENDERING_NPI,
            )
            yield Published(CHARGE_EVENTS, captured, "charge")


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

    async def send_at_rate(self, messages: Sequence[Published], rate: float) -> float:
        """Send `messages` at `rate` a second, spread evenly; returns the seconds it took."""
        started = time.perf_counter()
        sent = 0
        while sent < len(messages):
            due = min(len(messages), int((time.perf_counter() - started) * rate) + 1)
            while sent < due:
                await self.send(messages[sent])
                sent += 1
            await asyncio.sleep(_TICK_SECONDS)
        await self.acknowledged()
        return time.perf_counter() - started
