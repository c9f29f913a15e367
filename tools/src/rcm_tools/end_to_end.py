"""What the end-to-end tests share: the practice set up in claim and charge, a front desk registering a patient
with coverage and a coder capturing a visit over HTTP on the running stack, a biller waiting for a claim's
state, a client of the clearinghouse simulator, reading one producer's events about one subject back from the
broker, and the stack from registration to collections that runs them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Final

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.service_layer.views import PayerDocument
from rcm_clearinghouse_sim.config import SimulatorConfig
from rcm_common.clearinghouse import API_KEY_HEADER, DEV_CLEARINGHOUSE_API_KEY
from rcm_common.types import utcnow
from rcm_tools import practice
from rcm_tools.net import free_port
from rcm_tools.processes import log_tail, spawn, stop_process
from rcm_tools.stack import CLEARINGHOUSE, SERVICES, LocalStack, ServiceSpec, all_checks_pass, service_environment
from rcm_tools.tokens import mint_local_token

CSV: Final = {"Content-Type": "text/csv"}
TODAY: Final = utcnow().date()  # the services' day: they date and scrub in UTC
# Batches go every second here, so a claim is sent as soon as it is ready.
PAYERS: Final = [
    PayerDocument.of(payer).model_dump(mode="json") | {"batch_interval_seconds": 1} for payer in default_payers()
]


def client(
    local: LocalStack, service: str, role: str, *, subject: str | None = None, **headers: str
) -> httpx.AsyncClient:
    """A client of one running service, with a token of the role (for `subject`, `e2e-<role>` by default) from
    the stack's own signing key."""
    token = mint_local_token(local.state_dir, role=role, subject=subject or f"e2e-{role}")
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{local.port_of(service)}",
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=20,
    )


def simulator(local: LocalStack) -> httpx.AsyncClient:
    """A client of the stack's clearinghouse simulator, with its development key (faults, mailbox, payment runs)."""
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{local.port_of(CLEARINGHOUSE)}",
        headers={API_KEY_HEADER: DEV_CLEARINGHOUSE_API_KEY},
        timeout=20,
    )


def _unique_surname(stem: str) -> str:
    """A surname no other test's patient has, so registration's duplicate detection never joins two tests."""
    return stem + uuid.uuid4().hex[:6].translate(str.maketrans("0123456789", "ghijklmnop"))


async def register(local: LocalStack, person: dict[str, Any], member_id: str) -> tuple[str, str]:
    """Register `person` (first name, surname stem, birth date, sex, address) with an ACME01 primary coverage
    starting this year; returns the patient and coverage ids."""
    async with client(local, "registration", "front_desk") as desk:
        created = await desk.post("/patients", json=person | {"last_name": _unique_surname(person["last_name"])})
        assert created.status_code == 201, created.text
        patient_id: str = created.json()["id"]
        coverage = await desk.post(
            f"/patients/{patient_id}/coverages",
            json={
                "payer_id": "ACME01",
                "payer_name": "Acme Health Plan",
                "member_id": member_id,
                "relationship": "self",
                "effective_date": f"{date.today().year}-01-01",
                "order": "primary",
            },
        )
        assert coverage.status_code == 201, coverage.text
    return patient_id, coverage.json()["id"]


async def events_until(
    servers: str,
    topic: str,
    subject: str,
    until: str | Callable[[list[dict[str, Any]]], bool],
    within: float = 30,
) -> list[dict[str, Any]]:
    """The events of `topic` about `subject`, in order, up to the first of type `until` (or, given a test of the
    events read so far, until it holds). A later event about the subject read in the same fetch (an
    UnderpaymentDetected right behind its PaymentPosted) is left out, as if read a moment later."""
    last_type = until if isinstance(until, str) else None

    def reached(found: list[dict[str, Any]]) -> bool:
        return any(event["type"] == last_type for event in found)

    done = reached if isinstance(until, str) else until
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        await consumer.topics()  # the cluster's metadata fetched now, so the topic's partitions are all known
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            raise AssertionError(f"the broker at {servers} has no topic {topic}")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(within):
            while not done(found):
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        headers = {k: v.decode() for k, v in record.headers}
                        if headers["ce_subject"] == subject:
                            found.append({"type": headers["ce_type"], **json.loads(record.value)})
    finally:
        await consumer.stop()
    if last_type is not None:
        return found[: [event["type"] for event in found].index(last_type) + 1]
    return found


async def set_up_practice(stack: LocalStack) -> None:
    """The practice's providers, facilities and payers in claim; its prices, with the MRI and a drug, in charge."""
    async with client(stack, "claim", "admin") as admin:
        for path, document in (("/providers", practice.PROVIDER_DIRECTORY), ("/payers", PAYERS)):
            assert (await admin.put(path, json=document)).status_code == 200
    prices = practice.CHARGEMASTER_CSV + "72148,,,900.00,MRI lumbar spine\nJ1100,,,12.00,Dexamethasone 1 mg\n"
    async with client(stack, "charge", "admin") as practice_admin:
        for path, text in (("/chargemaster", prices), ("/contract-rates", practice.contract_rates_csv())):
            assert (await practice_admin.put(path, content=text, headers=CSV)).status_code == 200


async def capture(stack: LocalStack, patient_id: str, coverage_id: str, *lines: dict[str, Any], **fields: Any) -> str:
    """A coder captures a visit today at the office; returns the encounter id."""
    body = {
        "patient_id": patient_id, "coverage_id": coverage_id, "date_of_service": TODAY.isoformat(),
        "place_of_service": "11", "billing_provider_npi": practice.BILLING_NPI,
        "rendering_provider_npi": practice.RENDERING_NPI, "diagnoses": ["I10"],
        "lines": list(lines) or [{"code": "99214", "units": 1, "diagnosis_pointers": [1]}],
    } | fields  # fmt: skip
    async with client(stack, "charge", "coder") as coder:
        captured = await coder.post("/encounters", json=body)
    assert captured.status_code == 201, captured.text
    encounter_id: str = captured.json()["id"]
    return encounter_id


def denying_none_at_random(config: SimulatorConfig) -> SimulatorConfig:
    """The simulator's payers without their seeded share of random denials (drawn from the member id, which a
    test draws afresh): a visit a test expects paid is paid, whatever member it drew."""
    return config.model_copy(
        update={"payers": [payer.model_copy(update={"random_denial_rate": 0.0}) for payer in config.payers]}
    )


def member_id() -> str:
    return f"ACM{uuid.uuid4().hex[:9].upper()}"


async def claim_of(
    biller: httpx.AsyncClient,
    encounter_id: str,
    want: str,
    *,
    frequency: str | None = None,
    where: Callable[[dict[str, Any]], bool] = lambda _claim: True,
    within: float = 45,
) -> dict[str, Any]:
    """The encounter's claim in state `want` (of `frequency`, when given) once `where` holds of it, read over
    HTTP; when none comes in time, an AssertionError naming the states the encounter's claims are in."""
    try:
        async with asyncio.timeout(within):
            while True:
                for listed in (await biller.get("/claims", params={"state": want, "limit": 500})).json():
                    if listed["encounter_id"] == encounter_id and frequency in (None, listed["frequency"]):
                        found: dict[str, Any] = (await biller.get(f"/claims/{listed['id']}")).json()
                        if where(found):
                            return found
                await asyncio.sleep(0.2)
    except TimeoutError:
        listed = (await biller.get("/claims", params={"limit": 500})).json()
        states = [(c["state"], c["frequency"], c["blocking_rules"], c["held"]) for c in listed
                  if c["encounter_id"] == encounter_id]  # fmt: skip
        raise AssertionError(f"no {want} claim of the encounter after {within} s: {states}") from None


async def change_claim(biller: httpx.AsyncClient, claim_id: str, action: str, body: dict[str, Any]) -> httpx.Response:
    """`POST /claims/{id}/{action}` with If-Match the claim's ETag as just read, read again and sent again while the
    claim changes in between (412): the consumers scrub it again as eligibility's and registration's events come."""
    for _ in range(5):
        read_back = await biller.get(f"/claims/{claim_id}")
        answer = await biller.post(
            f"/claims/{claim_id}/{action}", json=body, headers={"If-Match": read_back.headers["ETag"]}
        )
        if answer.status_code != 412:
            return answer
        await asyncio.sleep(0.5)
    return answer


# The simulator pays a claim 5 s after accepting it (its default configuration); the mailboxes are read often.
FAST_WORKERS: Final = {
    "RCM_SUBMISSION_POLL_SECONDS": "0.3", "RCM_MAILBOX_POLL_SECONDS": "0.3", "RCM_POSTING_POLL_SECONDS": "0.2",
}  # fmt: skip
REVENUE_CYCLE: Final = ("registration", "eligibility", "charge", "claim", "remittance", "collections", CLEARINGHOUSE)
REPORTING: Final = "reporting"


@contextlib.contextmanager
def revenue_cycle_stack(
    state_dir: Path,
    *,
    simulator: SimulatorConfig | None = None,
    reporting: bool = False,
    database_urls: Mapping[str, str] | None = None,
    workers: Mapping[str, str] = FAST_WORKERS,
) -> Iterator[tuple[LocalStack, str]]:
    """The services from registration to collections and the simulator (and reporting, when asked: it reads every
    topic, which a test that does not look at it need not pay for), each a process on a free port, beside the
    embedded broker, their workers fast and the practice set up; yields the stack and the broker's address, and
    stops them all. `simulator` replaces the simulator's packaged configuration (its payers' denials, say); a
    service named in `database_urls` uses that database rather than a SQLite file."""
    wanted = (*REVENUE_CYCLE, REPORTING) if reporting else REVENUE_CYCLE
    services = [ServiceSpec(spec.name, spec.module, free_port()) for spec in SERVICES if spec.name in wanted]
    environ = practice.PRACTICE_SETTINGS | dict(os.environ) | dict(workers)
    if simulator is not None:
        config = state_dir.parent / f"{state_dir.name}-simulator.json"
        config.write_text(simulator.model_dump_json())
        environ["RCM_CLEARINGHOUSE_CONFIG"] = str(config)
    local = LocalStack(state_dir, services)
    broker_port = free_port()
    local.up(environ=environ, broker_port=broker_port, ready_timeout=90, database_urls=database_urls)
    try:
        asyncio.run(set_up_practice(local))
        yield local, f"127.0.0.1:{broker_port}"
    finally:
        local.down()


@contextlib.contextmanager
def replaying_reporting(local: LocalStack, servers: str, *, name: str = "reporting-replay") -> Iterator[httpx.Client]:
    """A second reporting service started now, beside the stack's, in consumer groups and a database of its own
    (`name`): it reads every topic from the first offset into an empty database. Yields a client of it with a
    biller's token once it answers as ready, and stops it."""
    port = free_port()
    spec = ServiceSpec("reporting", "rcm_reporting", port)
    environment = service_environment(
        spec, state_dir=local.state_dir, broker_port=int(servers.rsplit(":", 1)[1]),
        inherited=dict(os.environ) | {"RCM_SERVICE_NAME": name},
    )  # fmt: skip
    process = spawn([sys.executable, "-m", spec.module], log_path=local.log_path(name), env=environment, detached=False)
    token = mint_local_token(local.state_dir, role="biller", subject=f"e2e-{name}")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as http:
            deadline = time.monotonic() + 60
            while not _ready(http):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(f"{name} did not get ready: {log_tail(local.log_path(name))}")
                time.sleep(0.3)
            yield http
    finally:
        stop_process(process.pid)


def kpi_figures(kpis: dict[str, Any]) -> dict[str, Any]:
    """Reporting's KPIs answer but the moment it was computed at: what a replay must reach to equal the live one."""
    return {key: value for key, value in kpis.items() if key != "as_of"}


def _ready(http: httpx.Client) -> bool:
    try:
        return all_checks_pass(http.get("/readyz"))
    except httpx.TransportError:
        return False
