"""End to end: registration and charge as their own processes beside the embedded broker, on free loopback
ports. A front desk registers a patient over HTTP; charge hears of them on the broker; a coder captures the
visit, is held on a header code and an NCCI pair, corrects them, and ChargesCaptured comes out priced."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any, Final

import httpx
import pytest

from rcm_common.topics import CHARGE_EVENTS
from rcm_tools import practice
from rcm_tools.end_to_end import client, events_until, register
from rcm_tools.net import free_port
from rcm_tools.stack import LocalStack, ServiceSpec

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


RUTH: Final = {
    "first_name": "Ruth",
    "last_name": "Alder",
    "birth_date": "1957-08-21",
    "sex": "F",
    "address": {"line1": "40 Birch Rd", "city": "Burlington", "state": "VT", "postal_code": "05401"},
}


async def charge_events(servers: str, subject: str, until: str) -> list[dict[str, Any]]:
    return await events_until(servers, CHARGE_EVENTS, subject, until)


async def correct(coder: httpx.AsyncClient, encounter_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A coder's correction as a client makes it: on the encounter as just read, read again when registration's
    events changed it in between (412), as they may while the patient is still on the way."""
    for _attempt in range(5):
        read = await coder.get(f"/encounters/{encounter_id}")
        answer = await coder.patch(
            f"/encounters/{encounter_id}", json=changes, headers={"If-Match": read.headers["ETag"]}
        )
        if answer.status_code != 412:
            assert answer.status_code == 200, answer.text
            corrected: dict[str, Any] = answer.json()
            return corrected
    raise AssertionError("the encounter kept changing under the correction")


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
    patient_id, coverage_id = await register(local, RUTH, f"ACM{uuid.uuid4().hex[:9].upper()}")

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
        fixed = await correct(coder, held["id"], {"diagnoses": ["E11.9", "I10"]})
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
        passed = await correct(coder, therapy["id"], {"lines": pair})
        assert passed["status"] == "captured"
        [therapy_captured] = await charge_events(servers, therapy["id"], until="rcm.charge.charges_captured")
        assert therapy_captured["lines"][1]["modifiers"] == ["59"]
