"""Eligibility's HTTP API and background worker, running for real over SQLite and PostgreSQL, with a
clearinghouse that answers as the test scripts it."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from rcm_common.clearinghouse import ClearinghouseUnavailable
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import sample_coverage_added, sample_patient_registered, wait_until
from rcm_common.types import utcnow
from rcm_eligibility.service_layer import handlers
from rcm_eligibility.testing import (
    EligibilityApi,
    ScriptedClearinghouse,
    commercial_benefits,
    envelope,
    reply_for,
    running_eligibility,
)
from rcm_x12.eligibility_response_writer import RequestRejection

TODAY = utcnow().date()


def active(request_270: str) -> str:
    return reply_for(request_270, benefits=commercial_benefits())


@pytest.fixture
def clearinghouse() -> ScriptedClearinghouse:
    return ScriptedClearinghouse([])


@pytest.fixture
async def api(
    tmp_path: Path, signing_keys: tuple[str, str], database_url: str, clearinghouse: ScriptedClearinghouse
) -> AsyncIterator[EligibilityApi]:
    async with running_eligibility(tmp_path / "state", signing_keys, clearinghouse, database_url) as running:
        yield running


async def feed(api: EligibilityApi, *events: IntegrationEvent) -> None:
    """Apply registration's events as the consumer does: in one unit of work."""
    async with api.eligibility.uow() as uow:
        for event in events:
            await handlers.event_handlers(utcnow)[type(event)](event, envelope(event), uow)
        await uow.commit()


async def known_coverage(api: EligibilityApi, **coverage: Any) -> tuple[str, str]:
    """A patient and coverage eligibility knows, with the check the coverage queued already answered."""
    patient = sample_patient_registered()
    added = sample_coverage_added(patient.patient_id, **coverage)
    await feed(api, patient, added)
    await wait_until(lambda: _no_pending(api), within=10)
    return str(patient.patient_id), str(added.coverage_id)


async def _no_pending(api: EligibilityApi) -> bool:
    return not await api.rows("SELECT id FROM eligibility_check WHERE status = 'pending'")


async def outbox_types(api: EligibilityApi) -> list[str]:
    return [row["event_type"] for row in await api.rows("SELECT event_type FROM outbox ORDER BY id")]


async def test_a_new_coverage_is_verified_by_the_worker(
    api: EligibilityApi, clearinghouse: ScriptedClearinghouse
) -> None:
    clearinghouse.steps.append(active)
    patient_id, coverage_id = await known_coverage(api)
    assert await outbox_types(api) == ["rcm.eligibility.eligibility_verified"]
    [payload] = [json.loads(row["payload"]) for row in await api.rows("SELECT payload FROM outbox")]
    assert payload["coverage_id"] == coverage_id
    assert payload["benefits"]["deductible"]["remaining"] == "1000.00"
    assert "ACM123456789" not in json.dumps(payload)

    response = await api.client.get(f"/patients/{patient_id}/eligibility", headers=api.auth())
    assert response.status_code == 200
    [latest] = response.json()
    assert (latest["status"], latest["trigger"], latest["coverage_id"]) == ("verified", "coverage_added", coverage_id)
    assert latest["benefits"]["copays"] == [{"service_type": "98", "amount": "25.00"}]


async def test_what_names_the_patient_is_encrypted_at_rest(
    api: EligibilityApi, clearinghouse: ScriptedClearinghouse
) -> None:
    clearinghouse.steps.append(active)
    await known_coverage(api)
    stored = json.dumps(
        [
            *(await api.rows("SELECT * FROM patient_copy")),
            *(await api.rows("SELECT * FROM coverage_copy")),
            *(await api.rows("SELECT response_271_encrypted FROM eligibility_check")),
        ],
        default=str,
    )
    for secret in ("ACM123456789", "Jane", "Doe", "1980-01-15", "19800115"):
        # as a word: a ciphertext's base64 may spell "Doe" by chance, but never stands beside it
        assert re.search(rf"(?<![A-Za-z0-9+/]){secret}(?![A-Za-z0-9+/])", stored) is None


async def test_an_on_demand_check_answers_with_the_outcome(
    api: EligibilityApi, clearinghouse: ScriptedClearinghouse
) -> None:
    clearinghouse.steps.append(active)
    patient_id, coverage_id = await known_coverage(api)
    clearinghouse.steps.append(active)
    body = {
        "patient_id": patient_id,
        "coverage_id": coverage_id,
        "date_of_service": TODAY.isoformat(),
        "service_type": "98",
    }
    response = await api.client.post("/eligibility-checks", json=body, headers=api.auth(idempotency_key="chk-1"))
    assert response.status_code == 201, response.text
    check = response.json()
    assert (check["status"], check["service_type"], check["trigger"]) == ("verified", "98", "on_demand")
    assert response.headers["Location"] == f"/eligibility-checks/{check['id']}"

    replay = await api.client.post("/eligibility-checks", json=body, headers=api.auth(idempotency_key="chk-1"))
    assert (replay.status_code, replay.json()["id"], replay.headers["Idempotent-Replayed"]) == (
        201,
        check["id"],
        "true",
    )
    assert len(clearinghouse.asked) == 2  # the coverage's own check and this one; the replay asked nothing

    raw = await api.client.get(f"/eligibility-checks/{check['id']}/271", headers=api.auth("biller"))
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("application/edi-x12")
    assert raw.text.startswith("ISA*")
    actions = {(r["action"], r["resource_type"]) for r in await api.rows("SELECT action, resource_type FROM audit_log")}
    assert {
        ("create", "eligibility_check"),
        ("disclose", "eligibility_check"),
        ("export", "eligibility_response"),
    } <= actions


async def test_an_invalid_member_id_fails_naming_aaa_72(
    api: EligibilityApi, clearinghouse: ScriptedClearinghouse
) -> None:
    clearinghouse.steps.append(lambda text: reply_for(text, errors=(RequestRejection("72", "C"),)))
    patient_id, _ = await known_coverage(api, member_id="NOTFOUND01")
    [latest] = (await api.client.get(f"/patients/{patient_id}/eligibility", headers=api.auth())).json()
    assert (latest["status"], latest["failure_kind"]) == ("failed", "payer_rejected")
    assert latest["errors"] == [
        {
            "level": "subscriber",
            "code": "72",
            "meaning": "Invalid/Missing Subscriber/Insured ID",
            "follow_up": "C",
            "follow_up_meaning": "Please Correct and Resubmit",
        }
    ]
    assert await outbox_types(api) == ["rcm.eligibility.eligibility_check_failed"]


async def test_an_outage_is_retried_and_then_reported(
    api: EligibilityApi, clearinghouse: ScriptedClearinghouse
) -> None:
    down = ClearinghouseUnavailable("the clearinghouse answered 503, after 4 attempts")
    clearinghouse.steps += [down, down]
    patient_id, _ = await known_coverage(api)
    [latest] = (await api.client.get(f"/patients/{patient_id}/eligibility", headers=api.auth())).json()
    assert (latest["status"], latest["failure_kind"], latest["attempts"]) == ("failed", "clearinghouse_unavailable", 2)
    payloads = [json.loads(r["payload"]) for r in await api.rows("SELECT payload FROM outbox ORDER BY id")]
    assert [(p["attempts"], p["retry_scheduled"]) for p in payloads] == [(1, True), (2, False)]


async def test_estimates_and_prior_authorisations(api: EligibilityApi, clearinghouse: ScriptedClearinghouse) -> None:
    clearinghouse.steps.append(active)
    patient_id, coverage_id = await known_coverage(api)
    put = await api.client.put(
        "/allowed-amounts",
        json={"amounts": [{"payer_id": "ACME01", "procedure_code": "99214", "amount": "145.00"}]},
        headers=api.auth(),
    )
    assert put.json() == {"stored": 1}
    estimate = await api.client.post(
        "/estimates",
        json={"patient_id": patient_id, "coverage_id": coverage_id, "procedure_code": "99214", "service_type": "98"},
        headers=api.auth(),
    )
    assert estimate.status_code == 200, estimate.text
    assert (estimate.json()["patient_responsibility"], estimate.json()["plan_payment"]) == ("25.00", "120.00")

    record = {
        "patient_id": patient_id,
        "coverage_id": coverage_id,
        "authorization_number": "PA-2026-114",
        "procedure_codes": ["72148"],
        "units_authorized": 1,
        "start_date": TODAY.isoformat(),
        "end_date": (TODAY + timedelta(days=60)).isoformat(),
        "service_type": "62",
    }
    created = await api.client.post("/prior-authorizations", json=record, headers=api.auth())
    assert created.status_code == 201, created.text
    authorization = created.json()
    assert (authorization["status"], authorization["units_remaining"], authorization["payer_id"]) == (
        "active",
        1,
        "ACME01",
    )
    again = await api.client.post("/prior-authorizations", json=record, headers=api.auth())
    assert again.status_code == 409
    use = {"procedure_code": "72148", "units": 1, "date_of_service": TODAY.isoformat()}
    used = await api.client.post(f"/prior-authorizations/{authorization['id']}/uses", json=use, headers=api.auth())
    assert (used.json()["status"], used.json()["units_remaining"]) == ("exhausted", 0)
    refused = await api.client.post(f"/prior-authorizations/{authorization['id']}/uses", json=use, headers=api.auth())
    assert refused.status_code == 409
    listed = await api.client.get(f"/patients/{patient_id}/prior-authorizations", headers=api.auth())
    assert [a["units_used"] for a in listed.json()] == [1]
    assert "rcm.eligibility.prior_authorization_recorded" in await outbox_types(api)


async def test_the_sweep_checks_tomorrows_appointment(
    tmp_path: Path, signing_keys: tuple[str, str], clearinghouse: ScriptedClearinghouse
) -> None:
    clearinghouse.steps += [active, active]
    async with running_eligibility(tmp_path / "sweep", signing_keys, clearinghouse, sweep_interval_seconds=0.1) as api:
        patient_id, coverage_id = await known_coverage(api)
        visit = {
            "patient_id": patient_id,
            "coverage_id": coverage_id,
            "date_of_service": (TODAY + timedelta(days=1)).isoformat(),
            "service_type": "98",
        }
        created = await api.client.post("/appointments", json=visit, headers=api.auth())
        assert created.status_code == 201, created.text

        async def swept() -> bool:
            found = await api.client.get(f"/appointments/{created.json()['id']}", headers=api.auth())
            return found.json()["check_id"] is not None

        await wait_until(swept, within=10)
        await wait_until(lambda: _no_pending(api), within=10)
        checks = await api.rows("SELECT trigger, status FROM eligibility_check ORDER BY created_at")
        assert checks[-1] == {"trigger": "appointment_sweep", "status": "verified"}


async def test_bad_input_and_missing_rights_change_nothing(api: EligibilityApi) -> None:
    no_token = await api.client.post("/eligibility-checks", json={})
    assert no_token.status_code == 401
    coder = await api.client.get(
        "/patients/00000000-0000-0000-0000-000000000000/eligibility", headers=api.auth("coder")
    )
    assert coder.status_code == 403
    secret = "NOTFOUND-SECRET-123"
    bad = await api.client.post(
        "/eligibility-checks",
        json={"patient_id": secret, "coverage_id": "x", "date_of_service": "yesterday"},
        headers=api.auth(),
    )
    assert bad.status_code == 422
    assert secret not in bad.text
    unknown = await api.client.post(
        "/eligibility-checks",
        json={
            "patient_id": "00000000-0000-0000-0000-000000000001",
            "coverage_id": "00000000-0000-0000-0000-000000000002",
            "date_of_service": TODAY.isoformat(),
        },
        headers=api.auth(),
    )
    assert unknown.status_code == 404
    assert await api.rows("SELECT id FROM eligibility_check") == []
    assert await api.rows("SELECT id FROM outbox") == []


async def test_an_impossible_answer_fails_the_check_once_on_the_real_database(
    api: EligibilityApi, clearinghouse: ScriptedClearinghouse
) -> None:
    clearinghouse.steps.append(lambda text: active(text).replace("EB*A*IND*30*****0.2*", "EB*A*IND*30*****20*"))
    patient_id, _ = await known_coverage(api)
    [latest] = (await api.client.get(f"/patients/{patient_id}/eligibility", headers=api.auth())).json()
    assert (latest["status"], latest["failure_kind"], latest["attempts"]) == ("failed", "unreadable_response", 1)
    assert await outbox_types(api) == ["rcm.eligibility.eligibility_check_failed"]
    assert len(clearinghouse.asked) == 1


async def test_money_out_of_range_is_refused_and_a_retried_use_draws_units_once(
    api: EligibilityApi, clearinghouse: ScriptedClearinghouse
) -> None:
    clearinghouse.steps.append(active)
    patient_id, coverage_id = await known_coverage(api)
    for amount in ("-5.00", "1e30", "123456789012345.00"):
        put = await api.client.put(
            "/allowed-amounts",
            json={"amounts": [{"payer_id": "ACME01", "procedure_code": "99214", "amount": amount}]},
            headers=api.auth(),
        )
        estimate = await api.client.post(
            "/estimates",
            json={
                "patient_id": patient_id,
                "coverage_id": coverage_id,
                "procedure_code": "99214",
                "allowed_amount": amount,
            },
            headers=api.auth(),
        )
        assert (put.status_code, estimate.status_code) == (422, 422), amount
    assert await api.rows("SELECT * FROM allowed_amount") == []

    record = {
        "patient_id": patient_id,
        "coverage_id": coverage_id,
        "authorization_number": "PA-9",
        "procedure_codes": ["97110"],
        "units_authorized": 4,
        "start_date": TODAY.isoformat(),
        "end_date": (TODAY + timedelta(days=30)).isoformat(),
    }
    authorization = (await api.client.post("/prior-authorizations", json=record, headers=api.auth())).json()
    use = {"procedure_code": "97110", "units": 1, "date_of_service": TODAY.isoformat()}
    path = f"/prior-authorizations/{authorization['id']}/uses"
    first = await api.client.post(path, json=use, headers=api.auth(idempotency_key="use-1"))
    again = await api.client.post(path, json=use, headers=api.auth(idempotency_key="use-1"))
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (200, 200, "true")
    assert again.json()["units_remaining"] == 3
