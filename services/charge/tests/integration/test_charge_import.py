"""837P import through the running service: a practice's own file matched to registered coverages, the same
file imported once, refusals that change nothing, and the report over every must-read 837P of the corpus."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from rcm_charge.testing import (
    CHARGEMASTER_CSV,
    CONTRACT_RATES_CSV,
    PAYER,
    SUBSCRIBER,
    ChargeApi,
    claim,
    line,
    running_charge,
    text_of,
)
from rcm_common.testing import sample_coverage_added, sample_patient_registered
from rcm_x12.corpus import default_root, manifest

CORPUS = default_root()
X12 = {"Content-Type": "application/edi-x12"}


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[ChargeApi]:
    async with running_charge(tmp_path / "state", signing_keys, database_url) as running:
        await _prices(running)
        yield running


async def _prices(api: ChargeApi) -> None:
    admin = api.auth("admin") | {"Content-Type": "text/csv"}
    for path, text in (("/chargemaster", CHARGEMASTER_CSV), ("/contract-rates", CONTRACT_RATES_CSV)):
        assert (await api.client.put(path, content=text, headers=admin)).status_code == 200


async def test_a_practice_file_is_matched_priced_validated_and_imported_once(api: ChargeApi) -> None:
    patient = sample_patient_registered(birth_date=SUBSCRIBER.birth_date)
    coverage = sample_coverage_added(patient.patient_id, payer_id=PAYER.payer_id, member_id=SUBSCRIBER.member_id)
    await api.feed(patient, coverage)
    data = text_of(
        claim("PM-1001", diagnoses=("E119", "I10"), lines=(line("99214"),)),
        claim("PM-1002", diagnoses=("E11",), lines=(line("99213"),)),
        claim("PM-1003", diagnoses=("M5450",), lines=(line("97530"), line("97140"))),
    ).encode()

    answer = await api.client.post("/imports/837p", content=data, headers=api.auth() | X12)

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["claims"], report["lines"], report["captured"], report["held"]) == (3, 4, 1, 2)
    assert report["held_by_issue"] == {"ICD10_NOT_BILLABLE": 1, "NCCI_PAIR_MODIFIER_REQUIRED": 1}
    first = await api.client.get(f"/encounters/{report['results'][0]['encounter_id']}", headers=api.auth())
    assert first.json()["patient_id"] == str(patient.patient_id)
    assert first.json()["coverage_id"] == str(coverage.coverage_id)
    assert first.json()["source"]["claim_reference"] == "PM-1001"
    assert first.json()["diagnoses"] == ["E11.9", "I10"]
    assert first.json()["lines"][0]["charge"] == "185.00"
    assert "PM-100" not in json.dumps(report)

    again = await api.client.post("/imports/837p", content=data, headers=api.auth() | X12)
    assert again.json()["replayed"] is True
    assert again.json()["id"] == report["id"]
    assert len(await api.rows("SELECT id FROM encounter")) == 3
    assert [row["event_type"] for row in await api.rows("SELECT event_type FROM outbox")] == [
        "rcm.charge.charges_captured"
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"ISA*garbage", "body"),
        ((CORPUS / "LinuxForHealth-x12/demo-file/demo.835").read_bytes(), "body"),
        (b"   ", "body"),
    ],
)
async def test_a_file_that_cannot_be_imported_is_refused_and_changes_nothing(
    api: ChargeApi, content: bytes, reason: str
) -> None:
    answer = await api.client.post("/imports/837p", content=content, headers=api.auth() | X12)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == reason
    assert await api.rows("SELECT id FROM encounter") == []
    assert await api.rows("SELECT id FROM claim_import") == []


@pytest.fixture
async def sqlite_api(tmp_path: Path, signing_keys: tuple[str, str]) -> AsyncIterator[ChargeApi]:
    async with running_charge(tmp_path / "state", signing_keys) as running:
        await _prices(running)
        yield running


async def test_the_corpus_import_report(sqlite_api: ChargeApi) -> None:
    """Every must-read 837P of the shared corpus: each professional file imports with the manifest's claim
    count, each institutional one mislabelled 837P is refused, and the reports add up."""
    totals: Counter[str] = Counter()
    held_by_issue: Counter[str] = Counter()
    refused: list[str] = []
    for corpus_file in (f for f in manifest(CORPUS) if f.kind == "837P" and f.must_read):
        answer = await sqlite_api.client.post(
            "/imports/837p", content=(CORPUS / corpus_file.path).read_bytes(), headers=sqlite_api.auth() | X12
        )
        if answer.status_code == 422:
            assert "institutional" in answer.text, corpus_file.path
            refused.append(corpus_file.path)
            continue
        assert answer.status_code == 200, (corpus_file.path, answer.text)
        report: dict[str, Any] = answer.json()
        assert report["claims"] == corpus_file.clm, corpus_file.path
        assert report["captured"] + report["held"] + report["skipped"] + report["duplicates"] == report["claims"]
        assert report["lines_captured"] + report["lines_held"] == report["lines"]
        totals["files"] += 1
        if report["replayed"]:  # the corpus holds some files twice, from two sources: read once
            totals["replayed files"] += 1
            continue
        totals.update({key: report[key] for key in ("claims", "lines", "captured", "held", "skipped", "duplicates")})
        held_by_issue.update(report["held_by_issue"])

    assert totals["files"] == 54
    assert len(refused) == 5
    encounters = await sqlite_api.rows("SELECT status FROM encounter")
    assert len(encounters) == totals["captured"] + totals["held"]
    assert held_by_issue["PATIENT_UNMATCHED"] == totals["held"]  # none of the corpus's patients is registered here
    print(  # the report's figures, for the service's canvas
        "corpus 837P import:", dict(totals), "refused:", len(refused), "held by issue:", dict(held_by_issue)
    )
