"""What the end-to-end tests share: a front desk registering a patient with coverage over HTTP on the running
stack, a client of the clearinghouse simulator, and reading one producer's events about one subject back from
the broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from rcm_common.clearinghouse import API_KEY_HEADER, DEV_CLEARINGHOUSE_API_KEY
from rcm_tools.stack import CLEARINGHOUSE, LocalStack
from rcm_tools.tokens import mint_local_token


def client(local: LocalStack, service: str, role: str, **headers: str) -> httpx.AsyncClient:
    """A client of one running service, with a token of the role from the stack's own signing key."""
    token = mint_local_token(local.state_dir, role=role, subject=f"e2e-{role}")
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


async def events_until(servers: str, topic: str, subject: str, until: str, within: float = 30) -> list[dict[str, Any]]:
    """The events of `topic` about `subject`, in order, up to the first of type `until`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(within):
            while not found or found[-1]["type"] != until:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        headers = {k: v.decode() for k, v in record.headers}
                        if headers["ce_subject"] == subject:
                            found.append({"type": headers["ce_type"], **json.loads(record.value)})
    finally:
        await consumer.stop()
    return found
