"""End to end: registration and charge as their own processes beside the embedded broker, on free loopback
ports. A front desk registers a patient over HTTP; charge hears of them on the broker; a coder captures the
visit, is held on a header code and an NCCI pair, corrects them, and ChargesCaptured comes out priced."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from rcm_common.topics import CHARGE_EVENTS
from rcm_tools import practice
from rcm_tools.net import free_port
from rcm_tools.stack import LocalStack, ServiceSpec
from rcm_tools.tokens import mint_local_token

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

CSV = {"Content-Type": "text/csv"}
NPI = "1234567893"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, str]]:
    services = [
        ServiceSpec("registration", "rcm_registration", free_port()),
        ServiceSpec("charge", "rcm_charge", free_port()),
    ]
    local = LocalStack(tmp_path_factory.mktemp("stack"), services)
    broker_port = free_port()
    local.up(environ=dict(os.environ), broker_port=broker_port, ready_timeout=60)
    try:
        yield local, f"127.0.0.1:{broker_port}"
    finally:
        local.down()


def client(local: LocalStack, service: str, role: str) -> httpx.AsyncClient:
    token = mint_local_token(local.state_dir, role=role, subject=f"e2e-{role}")
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{local.port_of(service)}", headers={"Authorization": f"Bearer {token}"}, timeout=20
    )


async def register(local: LocalStack) -> tuple[str, str]:
    async with client(local, "registration", "front_desk") as desk:
        created = await desk.post(
            "/patients",
            json={
                "first_name": "Ruth",
                "last_name": f"Alder{uuid.uuid4().hex[:6].translate(str.maketrans('0123456789', 'ghijklmnop'))}",
                "birth_date": "1957-08-21",
                "sex": "F",
                "address": {"line1": "40 Birch Rd", "city": "Burlington", "state": "VT", "postal_code": "05401"},
            },
        )
        assert created.status_code == 201, created.text
        patient_id: str = created.json()["id"]
        coverage = await desk.post(
            f"/patients/{patient_id}/coverages",
            json={
                "payer_id": "ACME01",
                "payer_name": "Acme Health Plan",
                "member_id": f"ACM{uuid.uuid4().hex[:9].upper()}",
                "relationship": "self",
                "effective_date": f"{date.today().year}-01-01",
                "order": "primary",
            },
        )
        assert coverage.status_code == 201, coverage.text
    return patient_id, coverage.json()["id"]


async def charge_events(servers: str, subject: str, until: str, within: float = 30) -> list[dict[str, Any]]:
    """Charge's events about encounter `subject`, in order, up to the first of type `until`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        partitions = [TopicPartition(CHARGE_EVENTS, p) for p in consumer.partitions_for_topic(CHARGE_EVENTS) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with asyncio.timeout(within):
            while not found or found[-1]["type"] != until:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for record in records:
                        headers = {k: v.decode() for k, v in record.headers}
                        if headers["subject"] == subject:
                            found.append({"type": headers["event_type"], **json.loads(record.value)})
    finally:
        await consumer.stop()
    return found


def visit(patient_id: str, coverage_id: str, diagnoses: list[str], lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "coverage_id": coverage_id,
        "date_of_service": date.today().isoformat(),
        "place_of_service": "11",
        "billing_provider_npi": NPI,
        "rendering_provider_npi": NPI,
        "diagnoses": diagnoses,
        "lines": lines,
    }


async def test_a_coded_visit_is_held_corrected_and_published_priced(stack: tuple[LocalStack, str]) -> None:
    local, servers = stack
    prices = (("/chargemaster", practice.CHARGEMASTER_CSV), ("/contract-rates", practice.contract_rates_csv()))
    async with client(local, "charge", "admin") as admin:
        for path, text in prices:
            assert (await admin.put(path, content=text, headers=CSV)).status_code == 200
    patient_id, coverage_id = await register(local)

    async with client(local, "charge", "coder") as coder:
        e11 = visit(patient_id, coverage_id, ["E11", "I10"], [{"code": "99214", "diagnosis_pointers": [1, 2]}])
        held = (await coder.post("/encounters", json=e11)).json()
        codes = {issue["code"] for issue in held["issues"]}
        assert held["status"] == "held"
        assert "ICD10_NOT_BILLABLE" in codes
        [header] = [issue for issue in held["issues"] if issue["code"] == "ICD10_NOT_BILLABLE"]
        assert header["message"].startswith("E11 (Type 2 diabetes mellitus) is a header")
        assert "E11.9" in header["codes"]

        # The patient may still be on the way from registration: the encounter then waits for them too.
        as_read = {"If-Match": f'"v{held["revision"]}"'}
        fixed = (
            await coder.patch(f"/encounters/{held['id']}", json={"diagnoses": ["E11.9", "I10"]}, headers=as_read)
        ).json()
        assert fixed["status"] in ("captured", "held")
        blocking = {issue["code"] for issue in fixed["issues"] if issue["severity"] != "warning"}
        assert blocking <= {"PATIENT_UNKNOWN", "COVERAGE_UNKNOWN"}
        [captured] = await charge_events(servers, held["id"], until="rcm.charge.charges_captured")
        assert captured["lines"][0]["charge"] == "185.00"
        assert captured["lines"][0]["expected_allowed"] == "133.20"
        assert captured["patient_id"] == patient_id
        assert captured["payer_id"] == "ACME01"

        pair = [
            {"code": "97530", "diagnosis_pointers": [1]},
            {"code": "97140", "diagnosis_pointers": [1]},
        ]
        therapy_prices = "97530,,,75.00,Therapeutic activities\n97140,,,60.00,Manual therapy\n"
        admin_prices = practice.CHARGEMASTER_CSV + therapy_prices
        async with client(local, "charge", "admin") as admin:
            assert (await admin.put("/chargemaster", content=admin_prices, headers=CSV)).status_code == 200
        therapy = (await coder.post("/encounters", json=visit(patient_id, coverage_id, ["M54.50"], pair))).json()
        assert [(i["code"], i["line"]) for i in therapy["issues"] if i["severity"] != "warning"] == [
            ("NCCI_PAIR_MODIFIER_REQUIRED", 2)
        ]
        pair[1]["modifiers"] = ["59"]
        as_read = {"If-Match": f'"v{therapy["revision"]}"'}
        passed = (await coder.patch(f"/encounters/{therapy['id']}", json={"lines": pair}, headers=as_read)).json()
        assert passed["status"] == "captured"
        [therapy_captured] = await charge_events(servers, therapy["id"], until="rcm.charge.charges_captured")
        assert therapy_captured["lines"][1]["modifiers"] == ["59"]
