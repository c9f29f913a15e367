"""`rcm demo`: drive the running stack the way a front desk would, then prove the events came out.

It registers synthetic patients and their primary coverage over HTTP and, with the charge service running,
loads the practice's chargemaster and contract rates and captures each patient's coded visit; with the
claim service running, it first gives claim the practice's providers and the simulator's payers. It then
reads `rcm.registration.events` back from the broker (and, with those services running, the
EligibilityVerified each new coverage leads to on `rcm.eligibility.events`, the ChargesCaptured of each
visit on `rcm.charge.events`, and the ClaimCreated, ClaimSubmitted and ClaimAccepted of each on
`rcm.claim.events`: the claim built, sent in an 837P batch and accepted by the payer's 277CA with its claim
number; with the remittance service running, the PaymentPosted of each on `rcm.remittance.events`: the
payer's 835 posted to the claim) and prints each event without PHI: type, subject, identifiers and amounts.
Idempotency keys derive from the seed, so running the demo twice on one stack registers nobody twice.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.service_layer.views import PayerDocument
from rcm_common.envelope import Envelope, InvalidMessage, decode_event, decode_headers
from rcm_common.events.base import UnknownEventType, event_model
from rcm_common.events.charge import ChargesCaptured
from rcm_common.events.claim import (
    ClaimAccepted,
    ClaimCreated,
    ClaimSubmitted,
)
from rcm_common.events.eligibility import EligibilityVerified
from rcm_common.events.registration import CoverageAdded, PatientRegistered
from rcm_common.events.remittance import PaymentPosted
from rcm_common.events.summaries import summarize
from rcm_common.topics import CHARGE_EVENTS, CLAIM_EVENTS, ELIGIBILITY_EVENTS, REGISTRATION_EVENTS, REMITTANCE_EVENTS
from rcm_tools import practice
from rcm_tools.errors import ToolError
from rcm_tools.progress import ProgressBar
from rcm_tools.synthetic import SyntheticPatient, synthetic_patients

DEFAULT_PATIENTS: Final = 5
DEFAULT_SEED: Final = 2026
READ_TIMEOUT_SECONDS: Final = 30.0
_IDEMPOTENCY_NAMESPACE: Final = uuid.UUID("5d0c4e0e-7f4b-4b7e-9a55-2f2b8f6a9d31")
_RETRYABLE_STATUSES: Final = frozenset({502, 503, 504})
_ATTEMPTS: Final = 3


class DemoError(ToolError):
    """The registration service refused or failed a request the demo made."""


@dataclass(frozen=True)
class DemoPlan:
    registration_url: str
    bootstrap_servers: str
    token: str
    patients: int = DEFAULT_PATIENTS
    seed: int = DEFAULT_SEED
    read_timeout: float = READ_TIMEOUT_SECONDS
    expect_eligibility: bool = False
    """The eligibility service runs: each new coverage must lead to an EligibilityVerified."""
    charge_url: str | None = None
    """The charge service runs here: each patient's visit is captured and must lead to a ChargesCaptured."""
    charge_token: str = ""
    """A token that may set the practice up (price lists, directories: an admin's) and capture charges."""
    claim_url: str | None = None
    """The claim service runs here: it gets the practice's directories, and each visit must lead to a
    ClaimCreated."""
    expect_remittance: bool = False
    """The remittance service runs: each claim's 835 must be posted (PaymentPosted)."""
    billing_npi: str = practice.BILLING_NPI


@dataclass(frozen=True)
class Registration:
    patient_id: str
    coverage_id: str


@dataclass(frozen=True)
class ReadBackEvent:
    event_id: str
    event_type: str
    subject: str
    summary: str
    about: str
    """The identifier the demo knows the event by: its subject, or the patient a claim's event names."""

    def line(self) -> str:
        return f"{self.event_type:<38} subject={self.subject}  {self.summary}".rstrip()


async def run_demo(plan: DemoPlan, *, transport: httpx.AsyncBaseTransport | None = None) -> int:
    """Register, read back, print; the exit code is 1 when fewer events came back than were caused."""
    patients = synthetic_patients(plan.patients, seed=plan.seed, plan_year=date.today().year)
    async with httpx.AsyncClient(
        base_url=plan.registration_url,
        headers={"Authorization": f"Bearer {plan.token}"},
        timeout=10.0,
        transport=transport,
    ) as client:
        with ProgressBar(len(patients), label="registering patients") as progress:
            registrations = await register_patients(client, patients, seed=plan.seed, progress=progress)

    caused = len(registrations)
    expected = {PatientRegistered.event_type: caused, CoverageAdded.event_type: caused}
    topics = [REGISTRATION_EVENTS]
    if plan.expect_eligibility:
        expected[EligibilityVerified.event_type] = caused
        topics.append(ELIGIBILITY_EVENTS)
    position = {registration.patient_id: index for index, registration in enumerate(registrations)}
    if plan.charge_url is not None:
        if plan.claim_url is not None:
            await set_up_claims(plan, transport=transport)
        encounters = await capture_visits(plan, registrations, transport=transport)
        position |= {encounter_id: index for index, encounter_id in enumerate(encounters)}
        expected[ChargesCaptured.event_type] = caused
        topics.append(CHARGE_EVENTS)
        if plan.claim_url is not None:
            for event_type in (ClaimCreated, ClaimSubmitted, ClaimAccepted):
                expected[event_type.event_type] = caused
            topics.append(CLAIM_EVENTS)
            if plan.expect_remittance:
                expected[PaymentPosted.event_type] = caused
                topics.append(REMITTANCE_EVENTS)
    events = await read_back(plan.bootstrap_servers, topics, position.keys(), expected, within=plan.read_timeout)
    # Partitions interleave patients; a stable sort keeps each patient's own events in their order.
    events.sort(key=lambda event: position[event.about])
    for event in events:
        print(event.line())

    counts = Counter(event.event_type for event in events)
    told = [f"{counts[event_type]} {event_model(event_type, 1).__name__}" for event_type in expected]
    read = f"{', '.join(told[:-1])} and {told[-1]}"
    visits = f", {caused} visits" if plan.charge_url is not None else ""
    print(f"registered {caused} patients, {caused} coverages{visits}; read back {read} events")
    missing = {event_type: n - counts[event_type] for event_type, n in expected.items()}
    if any(n > 0 for n in missing.values()):
        shortfall = ", ".join(f"{n} {event_type}" for event_type, n in missing.items() if n > 0)
        print(f"missing after {plan.read_timeout:.0f} s: {shortfall}", file=sys.stderr)
        return 1
    return 0


async def register_patients(
    client: httpx.AsyncClient, patients: Sequence[SyntheticPatient], *, seed: int, progress: ProgressBar
) -> list[Registration]:
    """Register each patient, then their coverage, one patient at a time."""
    registrations = []
    for index, patient in enumerate(patients):
        patient_id = await _create(
            client, "/patients", patient.registration_body(), key=_idempotency_key(seed, index, "patient")
        )
        coverage_id = await _create(
            client,
            f"/patients/{patient_id}/coverages",
            patient.coverage_body(),
            key=_idempotency_key(seed, index, "coverage"),
        )
        registrations.append(Registration(patient_id=patient_id, coverage_id=coverage_id))
        progress.advance()
    return registrations


async def capture_visits(
    plan: DemoPlan, registrations: Sequence[Registration], *, transport: httpx.AsyncBaseTransport | None = None
) -> list[str]:
    """Load the practice's price lists, then capture each patient's visit of today; returns the encounter ids.

    A visit may reach charge before registration's events do: it is held for its patient and released when
    they arrive, so its ChargesCaptured still follows."""
    async with httpx.AsyncClient(
        base_url=plan.charge_url or "",
        headers={"Authorization": f"Bearer {plan.charge_token}"},
        timeout=10.0,
        transport=transport,
    ) as client:
        for path, text in (
            ("/chargemaster", practice.CHARGEMASTER_CSV),
            ("/contract-rates", practice.contract_rates_csv()),
        ):
            response = await client.put(path, content=text, headers={"Content-Type": "text/csv"})
            if not response.is_success:
                raise DemoError(f"PUT {path} answered {response.status_code}: {_problem(response)}")
        encounters = []
        with ProgressBar(len(registrations), label="capturing visits") as progress:
            for index, registration in enumerate(registrations):
                body = practice.visit_body(
                    index,
                    patient_id=registration.patient_id,
                    coverage_id=registration.coverage_id,
                    day=date.today(),
                    npi=plan.billing_npi,
                )
                encounters.append(
                    await _create(client, "/encounters", body, key=_idempotency_key(plan.seed, index, "visit"))
                )
                progress.advance()
    return encounters


async def set_up_claims(plan: DemoPlan, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
    """Give the claim service the practice's providers and the simulator's four payers, replacing what it had."""
    payers = [PayerDocument.of(payer).model_dump(mode="json") for payer in default_payers()]
    async with httpx.AsyncClient(
        base_url=plan.claim_url or "",
        headers={"Authorization": f"Bearer {plan.charge_token}"},
        timeout=10.0,
        transport=transport,
    ) as client:
        for path, document in (("/providers", practice.PROVIDER_DIRECTORY), ("/payers", payers)):
            response = await client.put(path, json=document)
            if not response.is_success:
                raise DemoError(f"PUT {path} answered {response.status_code}: {_problem(response)}")


async def read_back(
    servers: str, topics: Sequence[str], subjects: Collection[str], expected: Mapping[str, int], *, within: float
) -> list[ReadBackEvent]:
    """The events about `subjects` from the start of the topics, until `expected` counts are met or time's up.

    The consumer takes every partition itself from the earliest offset instead of joining a consumer group:
    it disturbs no one's offsets, and skips the seconds a group join takes on the embedded broker. Duplicates
    that at-least-once delivery may bring are dropped by event id.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False)
    events: dict[str, ReadBackEvent] = {}
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + within
    await consumer.start()
    try:
        assigned = []
        for topic in topics:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                raise DemoError(f"the broker at {servers} has no topic {topic}")
            assigned += [TopicPartition(topic, partition) for partition in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning()
        while any(counts[t] < n for t, n in expected.items()) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    event = _about(record, subjects)
                    if event is not None and event.event_id not in events:
                        events[event.event_id] = event
                        counts[event.event_type] += 1
    finally:
        await consumer.stop()
    return list(events.values())


def _about(record: ConsumerRecord[bytes, bytes], subjects: Collection[str]) -> ReadBackEvent | None:
    try:
        envelope = Envelope.from_headers(decode_headers(record.headers))
    except InvalidMessage:
        return None  # not an enveloped event: nothing the demo caused
    try:
        event = decode_event(envelope, record.value or b"")
    except (UnknownEventType, InvalidMessage) as exc:
        if envelope.subject not in subjects:
            return None
        return ReadBackEvent(str(envelope.event_id), envelope.event_type, envelope.subject,
                             f"(unreadable: {type(exc).__name__})", envelope.subject)  # fmt: skip
    # A claim's events are keyed by the claim, which the demo never saw: they are known by their patient.
    about = envelope.subject if envelope.subject in subjects else str(getattr(event, "patient_id", ""))
    if about not in subjects:
        return None
    return ReadBackEvent(str(envelope.event_id), envelope.event_type, envelope.subject, summarize(event), about)


async def _create(client: httpx.AsyncClient, path: str, body: Mapping[str, Any], *, key: str) -> str:
    """POST with an Idempotency-Key, retrying transient failures with the same key; returns the new id."""
    failure = ""
    for attempt in range(_ATTEMPTS):
        if attempt:
            await asyncio.sleep(0.2 * 2**attempt)
        try:
            response = await client.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError as exc:
            failure = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code in _RETRYABLE_STATUSES:
            failure = f"{response.status_code} {_problem(response)}"
            continue
        if not response.is_success:
            raise DemoError(f"POST {path} answered {response.status_code}: {_problem(response)}")
        return _created_id(response, path)
    raise DemoError(f"POST {path} failed {_ATTEMPTS} times; the last time with {failure}")


def _created_id(response: httpx.Response, path: str) -> str:
    try:
        created = response.json()["id"]
    except (ValueError, KeyError, TypeError):
        raise DemoError(f"POST {path} answered {response.status_code} without an `id`") from None
    return str(created)


def _problem(response: httpx.Response) -> str:
    """Title and detail of a problem+json body, which by design carry no PHI; never the raw body."""
    try:
        problem = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(problem, dict):
        return response.reason_phrase
    return ": ".join(str(problem[field]) for field in ("title", "detail") if problem.get(field))


def _idempotency_key(seed: int, index: int, what: str) -> str:
    return str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"rcm-demo:{seed}:{index}:{what}"))
