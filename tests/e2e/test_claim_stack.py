"""End to end: registration, eligibility, charge, claim and the clearinghouse simulator as their own processes
beside the embedded broker, on free loopback ports. A front desk registers an Acme patient, eligibility
verifies the coverage with the simulator, a coder captures an MRI of the lumbar spine (72148, which Acme
authorises in advance): claim builds the claim and holds it naming PRIOR_AUTH; the front desk records the
authorisation in eligibility, and claim releases the claim by itself, carrying the number for REF*G1."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Final

import httpx
import pytest

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.service_layer.views import PayerDocument
from rcm_common.types import utcnow
from rcm_tools import practice
from rcm_tools.end_to_end import client, register
from rcm_tools.net import free_port
from rcm_tools.stack import CLEARINGHOUSE, LocalStack, ServiceSpec

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

CSV = {"Content-Type": "text/csv"}
TODAY: Final = utcnow().date()  # the services' day: they date and scrub in UTC
PAYERS: Final = [PayerDocument.of(payer).model_dump(mode="json") for payer in default_payers()]
IVY: Final = {
    "first_name": "Ivy",
    "last_name": "Marsh",
    "birth_date": "1971-03-14",
    "sex": "F",
    "address": {"line1": "9 Ledge Rd", "city": "Rutland", "state": "VT", "postal_code": "05701"},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    services = [
        ServiceSpec("registration", "rcm_registration", free_port()),
        ServiceSpec("eligibility", "rcm_eligibility", free_port()),
        ServiceSpec("charge", "rcm_charge", free_port()),
        ServiceSpec("claim", "rcm_claim", free_port()),
        ServiceSpec(CLEARINGHOUSE, "rcm_clearinghouse_sim", free_port()),
    ]
    local = LocalStack(tmp_path_factory.mktemp("stack"), services)
    local.up(environ=dict(os.environ), broker_port=free_port(), ready_timeout=90)
    try:
        yield local
    finally:
        local.down()


async def claim_of(biller: httpx.AsyncClient, encounter_id: str, want: str, within: float = 30) -> dict[str, Any]:
    """The encounter's claim once it is in state `want`, read over HTTP."""
    async with asyncio.timeout(within):
        while True:
            for listed in (await biller.get("/claims", params={"state": want})).json():
                if listed["encounter_id"] == encounter_id:
                    read = await biller.get(f"/claims/{listed['id']}")
                    found: dict[str, Any] = read.json()
                    return found
            await asyncio.sleep(0.2)


async def test_a_missing_authorisation_holds_the_claim_and_recording_it_releases_it(stack: LocalStack) -> None:
    async with client(stack, "claim", "admin") as admin:
        for path, document in (("/providers", practice.PROVIDER_DIRECTORY), ("/payers", PAYERS)):
            assert (await admin.put(path, json=document)).status_code == 200
    async with client(stack, "charge", "admin") as practice_admin:
        for path, text in (("/chargemaster", practice.CHARGEMASTER_CSV + "72148,,,900.00,MRI lumbar spine\n"),
                           ("/contract-rates", practice.contract_rates_csv())):  # fmt: skip
            assert (await practice_admin.put(path, content=text, headers=CSV)).status_code == 200
    patient_id, coverage_id = await register(stack, IVY, f"ACM{uuid.uuid4().hex[:9].upper()}")

    async with client(stack, "charge", "coder") as coder:
        captured = await coder.post(
            "/encounters",
            json={
                "patient_id": patient_id, "coverage_id": coverage_id, "date_of_service": TODAY.isoformat(),
                "place_of_service": "11", "billing_provider_npi": practice.BILLING_NPI,
                "rendering_provider_npi": practice.RENDERING_NPI, "diagnoses": ["M54.16"],
                "lines": [{"code": "72148", "units": 1, "diagnosis_pointers": [1]}],
            },
        )  # fmt: skip
        assert captured.status_code == 201, captured.text
        encounter_id = captured.json()["id"]

    async with client(stack, "claim", "biller") as biller:
        held = await claim_of(biller, encounter_id, "scrub_failed")
        assert held["blocking_rules"] == ["PRIOR_AUTH"]
        [finding] = [f for f in held["scrub"]["findings"] if f["rule"] == "PRIOR_AUTH"]
        assert finding["message"] == f"72148 needs a prior authorisation on file for {TODAY.isoformat()}"
        queue = await biller.get("/workqueues/scrub", params={"rule": "PRIOR_AUTH"})
        assert held["id"] in [item["id"] for item in queue.json()]

        async with client(stack, "eligibility", "front_desk") as desk:
            recorded = await desk.post(
                "/prior-authorizations",
                json={
                    "patient_id": patient_id, "coverage_id": coverage_id, "authorization_number": "PA-E2E-72148",
                    "procedure_codes": ["72148"], "units_authorized": 1, "start_date": TODAY.isoformat(),
                    "end_date": (TODAY + timedelta(days=30)).isoformat(),
                },
            )  # fmt: skip
            assert recorded.status_code == 201, recorded.text

        released = await claim_of(biller, encounter_id, "ready")

    assert released["id"] == held["id"]
    assert released["scrub"]["authorization_number"] == "PA-E2E-72148"
    steps = [(step["from_state"], step["to_state"]) for step in released["timeline"]]
    # Between the two, the blocking rules may have changed (the visit can reach claim before the patient does).
    assert steps[:2] == [(None, "draft"), ("draft", "scrub_failed")]
    assert set(steps[2:-1]) <= {("scrub_failed", "scrub_failed")}
    assert steps[-1] == ("scrub_failed", "ready")
    assert all(step["cause"].startswith("event:") for step in released["timeline"])
