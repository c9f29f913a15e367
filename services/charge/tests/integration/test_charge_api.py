"""Charge's HTTP API running for real over SQLite and PostgreSQL, with the real code sets (the
simple-icd-10-cm FY2026 edition and the shipped NCCI-style tables)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from rcm_charge.adapters.repository import CHARGEMASTER, CONTRACT_RATES
from rcm_charge.testing import CHARGEMASTER_CSV, CONTRACT_RATES_CSV, ChargeApi, encounter_body, running_charge
from rcm_common.errors import ConcurrentUpdate
from rcm_common.testing import sample_coverage_added, sample_patient_registered

CSV = {"Content-Type": "text/csv"}


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[ChargeApi]:
    async with running_charge(tmp_path / "state", signing_keys, database_url) as running:
        admin = running.auth("admin")
        for path, text in (("/chargemaster", CHARGEMASTER_CSV), ("/contract-rates", CONTRACT_RATES_CSV)):
            stored = await running.client.put(path, content=text, headers=admin | CSV)
            assert stored.status_code == 200, stored.text
        yield running


async def registered(api: ChargeApi, **patient: Any) -> tuple[str, str]:
    registration = sample_patient_registered(**patient)
    coverage = sample_coverage_added(registration.patient_id)
    await api.feed(registration, coverage)
    return str(registration.patient_id), str(coverage.coverage_id)


def blocking(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issues that hold an encounter: a date of service after FY2026 is also warned of, as no newer
    ICD-10-CM edition is loaded here."""
    return [issue for issue in issues if issue["severity"] != "warning"]


async def outbox_payloads(api: ChargeApi) -> list[tuple[str, dict[str, Any]]]:
    rows = await api.rows("SELECT event_type, payload FROM outbox ORDER BY id")
    return [(row["event_type"], json.loads(row["payload"])) for row in rows]


async def test_e11_is_held_naming_its_children_and_e11_9_is_captured_with_priced_lines(api: ChargeApi) -> None:
    patient_id, coverage_id = await registered(api)

    held = await api.client.post(
        "/encounters", json=encounter_body(patient_id, coverage_id, diagnoses=["E11", "I10"]), headers=api.auth()
    )
    assert held.status_code == 201, held.text
    body = held.json()
    assert body["status"] == "held"
    (issue,) = blocking(body["issues"])
    assert issue["code"] == "ICD10_NOT_BILLABLE"
    assert issue["message"].startswith("E11 (Type 2 diabetes mellitus) is a header, not billable")
    assert "E11.9" in issue["codes"]
    assert "E11.65" in issue["codes"]
    assert "E11.9" in issue["message"] or "more" in issue["message"]
    assert await outbox_payloads(api) == []

    captured = await api.client.post("/encounters", json=encounter_body(patient_id, coverage_id), headers=api.auth())
    assert captured.status_code == 201, captured.text
    assert captured.headers["Location"] == f"/encounters/{captured.json()['id']}"
    view = captured.json()
    assert view["status"] == "captured", view["issues"]
    assert [issue["code"] for issue in view["issues"]] == ["ICD10_EDITION_STALE"]
    assert view["lines"][0]["charge"] == "185.00"
    ((event_type, payload),) = await outbox_payloads(api)
    assert event_type == "rcm.charge.charges_captured"
    assert payload["encounter_id"] == view["id"]
    assert payload["lines"][0]["charge"] == "185.00"
    assert payload["lines"][0]["expected_allowed"] == "131.20"
    assert payload["expected_reimbursement"] == "131.20"
    assert payload["diagnoses"][0] == {
        "pointer": 1,
        "code": "E11.9",
        "description": "Type 2 diabetes mellitus without complications",
    }
    assert payload["icd10cm_edition"].startswith("ICD-10-CM FY2026")


async def test_an_ncci_pair_is_held_without_a_modifier_and_passes_with_one(api: ChargeApi) -> None:
    patient_id, coverage_id = await registered(api)
    pair = [
        {"code": "97530", "units": 1, "diagnosis_pointers": [1]},
        {"code": "97140", "units": 1, "diagnosis_pointers": [1]},
    ]
    held = await api.client.post(
        "/encounters",
        json=encounter_body(patient_id, coverage_id, diagnoses=["M54.50"], lines=pair),
        headers=api.auth(),
    )
    assert held.json()["status"] == "held"
    assert [(i["code"], i["line"]) for i in blocking(held.json()["issues"])] == [("NCCI_PAIR_MODIFIER_REQUIRED", 2)]

    pair[1]["modifiers"] = ["59"]
    as_read = api.auth(**{"If-Match": held.headers["ETag"]})
    fixed = await api.client.patch(f"/encounters/{held.json()['id']}", json={"lines": pair}, headers=as_read)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "captured"
    assert [event_type for event_type, _ in await outbox_payloads(api)] == ["rcm.charge.charges_captured"]


async def test_review_queue_correction_and_void_publish_in_order(api: ChargeApi) -> None:
    patient_id, coverage_id = await registered(api)
    flagged = await api.client.post(
        "/encounters",
        json=encounter_body(
            patient_id, coverage_id, diagnoses=["J06.9"], lines=[{"code": "99215", "diagnosis_pointers": [1]}]
        ),
        headers=api.auth(),
    )
    encounter_id = flagged.json()["id"]
    queue = await api.client.get("/review-queue", headers=api.auth())
    assert queue.status_code == 200
    (item,) = queue.json()
    assert item["encounter_id"] == encounter_id
    assert [issue["code"] for issue in item["issues"]] == ["REVIEW_HIGH_LEVEL_VISIT"]
    assert (await api.client.get("/review-queue?issue_code=ICD10_UNKNOWN", headers=api.auth())).json() == []

    resolved = await api.client.post(
        f"/review-queue/{item['id']}/resolve",
        json={
            "decision": "approve",
            "note": "time-based: 45 minutes documented",
            "revision": item["encounter"]["revision"],
        },
        headers=api.auth(),
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "captured"
    read = await api.client.get(f"/encounters/{encounter_id}", headers=api.auth())
    assert read.headers["ETag"] == f'"v{read.json()["revision"]}"'
    unnamed = await api.client.patch(f"/encounters/{encounter_id}", json={"place_of_service": "22"}, headers=api.auth())
    assert unnamed.status_code == 422  # a correction names the revision it was made on
    lines = {"lines": [{"code": "99213", "diagnosis_pointers": [1]}]}
    as_read = api.auth(**{"If-Match": read.headers["ETag"]})
    corrected = await api.client.patch(f"/encounters/{encounter_id}", json=lines, headers=as_read)
    assert corrected.json()["version"] == 2
    stale = await api.client.patch(f"/encounters/{encounter_id}", json={"place_of_service": "22"}, headers=as_read)
    assert stale.status_code == 412  # the encounter changed since that read: nobody's correction is lost
    now_read = api.auth(**{"If-Match": corrected.headers["ETag"]})
    voided = await api.client.post(
        f"/encounters/{encounter_id}/void", json={"reason": "wrong_date", "note": "seen on the 3rd"}, headers=now_read
    )
    assert voided.json()["status"] == "voided"
    again_read = api.auth(**{"If-Match": voided.headers["ETag"]})
    again = await api.client.post(f"/encounters/{encounter_id}/void", json={"reason": "duplicate"}, headers=again_read)
    assert again.status_code == 409

    published = await outbox_payloads(api)
    assert [(t, p["version"]) for t, p in published] == [
        ("rcm.charge.charges_captured", 1),
        ("rcm.charge.charges_corrected", 2),
        ("rcm.charge.charges_voided", 3),
    ]
    assert {row["key"] for row in await api.rows("SELECT key FROM outbox")} == {encounter_id}


async def test_bad_input_is_refused_whole_and_never_echoed(api: ChargeApi) -> None:
    patient_id, coverage_id = await registered(api)
    bad = encounter_body(patient_id, coverage_id, diagnoses=["E11.9"] * 13, lines=[])
    bad["lines"] = [{"code": "99214", "modifiers": ["25", "59", "XU", "GA", "GY"], "diagnosis_pointers": [1]}]
    answer = await api.client.post("/encounters", json=bad | {"secret_note": "Jane Doe"}, headers=api.auth())
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "Jane Doe" not in answer.text
    fields = {error["field"] for error in answer.json()["errors"]}
    assert {"diagnoses", "lines.0.modifiers", "secret_note"} <= fields
    assert await api.rows("SELECT id FROM encounter") == []


async def test_scopes_and_idempotent_create(api: ChargeApi) -> None:
    patient_id, coverage_id = await registered(api)
    body = encounter_body(patient_id, coverage_id)
    front_desk = await api.client.post("/encounters", json=body, headers=api.auth("front_desk"))
    assert front_desk.status_code == 403
    coder_prices = await api.client.put("/chargemaster", content=CHARGEMASTER_CSV, headers=api.auth() | CSV)
    assert coder_prices.status_code == 403

    headers = api.auth(**{"Idempotency-Key": "enc-1"})
    first = await api.client.post("/encounters", json=body, headers=headers)
    second = await api.client.post("/encounters", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len(await api.rows("SELECT id FROM encounter")) == 1


async def test_price_lists_round_trip_and_a_bad_file_changes_nothing(api: ChargeApi) -> None:
    exported = await api.client.get("/chargemaster", headers=api.auth())
    assert exported.headers["content-type"].startswith("text/csv")
    assert "99214,,HOSP,210.00" in exported.text
    admin = api.auth("admin")
    bad = await api.client.put("/chargemaster", content="code,charge\n99214,abc\nBAD,1.00\n", headers=admin | CSV)
    assert bad.status_code == 422
    assert len(bad.json()["errors"]) == 2
    assert (await api.client.get("/chargemaster", headers=api.auth())).text == exported.text

    rates = await api.client.get("/contract-rates?payer_id=ACME01", headers=api.auth())
    assert "ACME01,99214,,131.20" in rates.text
    replaced = await api.client.put(
        "/contract-rates", content="payer_id,code,allowed\nSUMMT1,99214,140.00\n", headers=admin | CSV
    )
    assert replaced.json() == {"stored": 1, "payers": ["SUMMT1"]}
    everything = (await api.client.get("/contract-rates", headers=api.auth())).text
    assert "ACME01,99214" in everything
    assert "SUMMT1,99214" in everything


async def test_a_capture_prices_its_lines_from_the_price_lists_as_last_replaced(api: ChargeApi) -> None:
    """Captures read the price lists from the process's copies; replacing either list reaches the next one."""
    patient_id, coverage_id = await registered(api)

    async def captured_prices(day: int) -> tuple[str, str]:
        body = encounter_body(patient_id, coverage_id, date_of_service=f"2026-11-0{day}")
        captured = await api.client.post("/encounters", json=body, headers=api.auth())
        assert captured.status_code == 201, captured.text
        (_, payload) = (await outbox_payloads(api))[-1]
        return payload["lines"][0]["charge"], payload["lines"][0]["expected_allowed"]

    assert await captured_prices(2) == ("185.00", "131.20")
    assert await captured_prices(3) == ("185.00", "131.20")
    admin = api.auth("admin")
    chargemaster = CHARGEMASTER_CSV.replace("99214,,,185.00", "99214,,,190.00")
    assert chargemaster != CHARGEMASTER_CSV
    assert (await api.client.put("/chargemaster", content=chargemaster, headers=admin | CSV)).status_code == 200
    assert await captured_prices(4) == ("190.00", "131.20")
    rates = "payer_id,code,allowed\nACME01,99214,133.40\n"
    assert (await api.client.put("/contract-rates", content=rates, headers=admin | CSV)).status_code == 200
    assert await captured_prices(5) == ("190.00", "133.40")


async def test_only_codes_the_chargemaster_lists_are_kept_in_the_process(api: ChargeApi) -> None:
    """An imported file may name any number of unknown codes: reading them keeps nothing of them."""
    async with api.charge.uow() as uow:
        assert [entry.code for entry in await uow.prices.chargemaster(["99214", "ZZ001", "ZZ002"])] == ["99214"] * 2
        assert [rate.code for rate in await uow.prices.rates("ACME01", ["99214", "ZZ001", "MPFS"])] == ["99214"]
    async with api.charge.uow() as uow:
        assert set(await uow.reference.kept(CHARGEMASTER)) == {"99214"}
        assert set(await uow.reference.kept(CONTRACT_RATES)) == {"99214", "MPFS"}


async def test_reads_and_changes_are_audited(api: ChargeApi) -> None:
    patient_id, coverage_id = await registered(api)
    created = await api.client.post("/encounters", json=encounter_body(patient_id, coverage_id), headers=api.auth())
    await api.client.get(f"/encounters/{created.json()['id']}", headers=api.auth())
    rows = await api.rows("SELECT actor, action, resource_type, patient_id FROM audit_log ORDER BY id")
    assert [(row["actor"], row["action"], row["resource_type"]) for row in rows] == [
        ("admin-1", "update", "chargemaster"),  # the price lists the fixture loaded
        ("admin-1", "update", "contract_rates"),
        ("coder-1", "create", "encounter"),
        ("coder-1", "read", "encounter"),
    ]
    assert {row["patient_id"] for row in rows[2:]} == {patient_id}
    stored = await api.rows("SELECT content_encrypted FROM encounter")
    assert "E11.9" not in stored[0]["content_encrypted"]


async def test_a_stale_copy_is_never_saved_over_a_newer_one(api: ChargeApi) -> None:
    """The store itself refuses a save made on an older revision, whatever path the save comes by."""
    patient_id, coverage_id = await registered(api)
    created = await api.client.post("/encounters", json=encounter_body(patient_id, coverage_id), headers=api.auth())
    encounter_id = UUID(created.json()["id"])
    async with api.charge.uow() as uow:
        stale = await uow.encounters.get(encounter_id)  # read, then kept while someone else saves
    async with api.charge.uow() as uow:
        fresh = await uow.encounters.get(encounter_id)
        assert fresh is not None
        await uow.encounters.save(fresh)
        await uow.commit()
    assert stale is not None
    async with api.charge.uow() as uow:
        with pytest.raises(ConcurrentUpdate):
            await uow.encounters.save(stale)
    rows = await api.rows("SELECT revision FROM encounter")
    assert [row["revision"] for row in rows] == [2]


async def test_a_file_too_large_empty_or_not_text_is_refused_before_it_is_read(
    tmp_path: Path, signing_keys: tuple[str, str]
) -> None:
    async with running_charge(tmp_path / "state", signing_keys, max_import_bytes=1_000) as small:
        admin = small.auth("admin") | CSV
        too_large = await small.client.post("/imports/837p", content=b"ISA*" * 500, headers=small.auth())
        not_text = await small.client.put("/chargemaster", content=b"code,charge\n\xff\xfe,1.00\n", headers=admin)
        empty = await small.client.put("/contract-rates", content=b"  \n", headers=admin)
        assert [answer.status_code for answer in (too_large, not_text, empty)] == [422, 422, 422]
        assert [answer.json()["errors"][0]["message"] for answer in (too_large, not_text, empty)] == [
            "the 837P file is larger than 1000 bytes",
            "the chargemaster file is not UTF-8 text",
            "the contract rates file is empty",
        ]
        assert await small.rows("SELECT code FROM chargemaster_entry") == []
