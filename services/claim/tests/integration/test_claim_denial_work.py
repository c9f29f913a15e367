"""Working denials over the running API, on SQLite and PostgreSQL: the denial queue grouped by category with the
appeal deadline; a resolution (a correction sent as a replacement, a write-off, a transfer refused without a
waiver); an appeal with its letter as a PDF; the deadline queue with an injected clock; the denial-risk warning
once the history shows the pattern; and bad input answered with problem+json, nothing changed."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import Claim
from rcm_claim.service_layer.views import PayerDocument, ProviderDirectoryDocument
from rcm_claim.testing import PRACTICE, ClaimApi, charges_captured, claim_denied, payment_posted, running_claim
from rcm_common.events.charge import ChargesVoided
from rcm_common.testing import sample_coverage_added, sample_patient_registered

PAYERS = [PayerDocument.of(payer).model_dump() for payer in default_payers()]
PROVIDERS = ProviderDirectoryDocument.of(PRACTICE).model_dump(mode="json") | {
    "billing": ProviderDirectoryDocument.of(PRACTICE).model_dump(mode="json")["billing"] | {"phone": "2175550100"}
}
TODAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = TODAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(
    tmp_path: Path, signing_keys: tuple[str, str], database_url: str, clock: Clock
) -> AsyncIterator[ClaimApi]:
    async with running_claim(tmp_path / "state", signing_keys, database_url, clock=clock) as running:
        admin = running.auth("admin")
        for path, document in (("/payers", PAYERS), ("/providers", PROVIDERS)):
            stored = await running.client.put(path, json=document, headers=admin)
            assert stored.status_code == 200, stored.text
        yield running


async def captured(api: ClaimApi, *codes: str) -> Claim:
    """The claim built and scrubbed for a new patient's encounter at ACME01, ten days ago."""
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)
    day = (TODAY - timedelta(days=10)).date()
    encounter = charges_captured(patient.patient_id, coverage.coverage_id, codes=codes or ("99214",), day=day)
    await api.feed(patient, coverage, encounter)
    async with api.claim.uow() as uow:
        [claim] = await uow.claims.for_encounter(encounter.encounter_id)
    return claim


async def accepted(api: ClaimApi, *codes: str) -> Claim:
    """A claim sent and accepted by the payer (how it is sent is the submission tests' concern: here one an
    authorisation rule holds is let through as if it had been overridden)."""
    built = await captured(api, *codes)
    async with api.claim.uow() as uow:
        claim = await uow.claims.get(built.id)
        assert claim is not None
        if claim.state != "ready":
            claim.scrubbed(ScrubRecord((), ()), TODAY, "test")
        claim.batch(claim.id, TODAY, "test")
        claim.submit("000000001", TODAY, "test")
        claim.accept(f"ACME{claim.patient_control_number[-6:]}", TODAY, "test")
        await uow.claims.save(claim)
        await uow.commit()
    return claim


async def denied(api: ClaimApi, *codes: str) -> Claim:
    claim = await accepted(api, *codes)
    posted = payment_posted(claim, denied=True)
    await api.feed(posted, claim_denied(posted))
    return claim


async def read(api: ClaimApi, claim_id: Any) -> tuple[dict[str, Any], str]:
    response = await api.client.get(f"/claims/{claim_id}", headers=api.auth())
    assert response.status_code == 200, response.text
    return response.json(), response.headers["ETag"]


async def test_the_denial_queue_groups_open_denials_with_their_deadline_and_words(api: ClaimApi) -> None:
    small, large = await denied(api, "99213"), await denied(api, "72148", "99214")

    queue = await api.client.get("/workqueues/denials", headers=api.auth())

    assert queue.status_code == 200, queue.text
    body = queue.json()
    assert (body["count"], body["amount_at_stake"]) == (2, "555.00")
    [group] = body["groups"]
    assert group["category"] == "authorisation"
    assert [item["claim_id"] for item in group["items"]] == [str(large.id), str(small.id)]
    item = group["items"][0]
    assert item["appeal_deadline"] == "2027-05-24"  # the 835 is dated 2026-11-25; ACME01 allows 180 days
    assert item["reasons"] == ["CO-197"]
    assert "CO-197: Precertification/authorization/notification/pre-treatment absent." in item["in_words"]
    assert any(words.startswith("N54: ") for words in item["in_words"])
    assert item["suggested_action"].startswith("Obtain")
    only_coding = await api.client.get("/workqueues/denials?category=coding", headers=api.auth())
    assert only_coding.json()["count"] == 0


async def test_a_correction_sends_the_denied_claim_again_as_a_replacement(api: ClaimApi) -> None:
    claim = await denied(api, "72148")
    _, tag = await read(api, claim.id)

    resolved = await api.client.post(
        f"/claims/{claim.id}/denial-resolutions", headers=api.auth(**{"If-Match": tag}),
        json={"kind": "corrected", "reason": "authorisation obtained by phone", "prior_authorization_number": "A12345"},
    )  # fmt: skip

    assert resolved.status_code == 200, resolved.text
    view = resolved.json()
    assert view["state"] == "replaced"
    replacement_id = view["resolutions"][0]["replacement_id"]
    replacement, _ = await read(api, replacement_id)
    assert (replacement["frequency"], replacement["replaces_payer_claim_number"]) == ("7", claim.payer_claim_number)
    assert replacement["billing_notes"]["prior_authorization_number"] == "A12345"
    assert replacement["state"] in ("ready", "scrub_failed")
    assert (await api.client.get("/workqueues/denials", headers=api.auth())).json()["count"] == 0
    assert "rcm.claim.claim_replaced" in await api.outbox_types()


async def test_a_write_off_closes_the_claim_and_a_transfer_without_a_waiver_is_refused(api: ClaimApi) -> None:
    claim = await denied(api)
    _, tag = await read(api, claim.id)
    refused = await api.client.post(
        f"/claims/{claim.id}/denial-resolutions", headers=api.auth(**{"If-Match": tag}),
        json={"kind": "transferred_to_patient", "reason": "patient asked", "basis": "not_contractual"},
    )  # fmt: skip
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "may not be billed for CO-197" in refused.json()["detail"]
    unchanged, same_tag = await read(api, claim.id)
    assert (unchanged["state"], unchanged["resolutions"], same_tag) == ("denied", [], tag)

    written_off = await api.client.post(
        f"/claims/{claim.id}/denial-resolutions", headers=api.auth(**{"If-Match": tag}),
        json={"kind": "written_off", "reason": "no authorisation can be had after the fact"},
    )  # fmt: skip

    assert written_off.status_code == 200, written_off.text
    assert written_off.json()["state"] == "closed"
    types = await api.outbox_types()
    assert types.count("rcm.claim.claim_write_off_requested") == 1
    assert types[-1] == "rcm.claim.claim_closed"


async def test_an_appeal_is_recorded_and_its_letter_is_a_pdf_naming_the_denial(api: ClaimApi, tmp_path: Path) -> None:
    claim = await denied(api, "72148")
    _, tag = await read(api, claim.id)

    made = await api.client.post(
        f"/claims/{claim.id}/appeals", headers=api.auth(**{"If-Match": tag}),
        json={"level": 1, "reason": "authorisation on file", "argument": "The authorisation A12345 was obtained on "
              "20 November 2026, before the service.", "attachments": ["authorisation-A12345.pdf"]},
    )  # fmt: skip

    assert made.status_code == 201, made.text
    assert made.json()["outcome"] == "pending"
    assert made.headers["Location"] == f"/claims/{claim.id}/appeals/1/letter.pdf"
    letter = await api.client.get(made.headers["Location"], headers=api.auth())
    assert letter.status_code == 200
    assert letter.headers["content-type"] == "application/pdf"
    text, first_page = read_and_render(letter.content, tmp_path)
    for expected in ("Acme Health Plan", "PO BOX 3003", "HARTFORD, CT 06101", claim.patient_control_number,
                     "CO-197", "A12345", "authorisation-A12345.pdf", "(217) 555-0100"):  # fmt: skip
        assert expected in text, expected
    assert first_page.stat().st_size > 5_000
    assert "rcm.claim.claim_appealed" in await api.outbox_types()
    exports = await api.rows("SELECT action FROM audit_log WHERE resource_id = :id", id=str(claim.id))
    assert "export" in [row["action"] for row in exports]


async def test_bad_appeals_are_refused_and_change_nothing(api: ClaimApi) -> None:
    paid = await accepted(api)
    await api.feed(payment_posted(paid))
    paid_view, paid_tag = await read(api, paid.id)
    on_paid = await api.client.post(
        f"/claims/{paid.id}/appeals", headers=api.auth(**{"If-Match": paid_tag}),
        json={"level": 1, "reason": "try", "argument": "This claim was paid in full."},
    )  # fmt: skip
    assert on_paid.status_code == 409
    assert "no denial" in on_paid.json()["detail"]
    assert (await read(api, paid.id))[0] == paid_view

    claim = await denied(api)
    _, tag = await read(api, claim.id)
    body = {"level": 1, "reason": "first", "argument": "The service was authorised."}
    first = await api.client.post(f"/claims/{claim.id}/appeals", headers=api.auth(**{"If-Match": tag}), json=body)
    assert first.status_code == 201
    view, tag = await read(api, claim.id)
    second = await api.client.post(f"/claims/{claim.id}/appeals", headers=api.auth(**{"If-Match": tag}), json=body)
    assert second.status_code == 409
    assert (await read(api, claim.id))[0] == view
    no_level = await api.client.post(
        f"/claims/{claim.id}/appeals", headers=api.auth(**{"If-Match": tag}), json={**body, "level": 4}
    )
    assert no_level.status_code == 422
    missing = await api.client.get(f"/claims/{claim.id}/appeals/7/letter.pdf", headers=api.auth())
    assert missing.status_code == 404


async def test_a_timely_filing_deadline_is_a_work_item_before_it_passes(api: ClaimApi, clock: Clock) -> None:
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id)
    day = (TODAY - timedelta(days=70)).date()  # ACME01 takes claims for 90 days after the service
    captured = charges_captured(patient.patient_id, coverage.coverage_id, day=day, codes=("70551",))  # unauthorised
    await api.feed(patient, coverage, captured)

    before = await api.client.get("/workqueues/deadlines", headers=api.auth())
    clock.now = TODAY + timedelta(days=7)
    coming = await api.client.get("/workqueues/deadlines", headers=api.auth())
    clock.now = TODAY + timedelta(days=21)
    passed = await api.client.get("/workqueues/deadlines", headers=api.auth())

    assert before.json() == []
    [item] = coming.json()
    assert (item["kind"], item["due"], item["days_left"], item["passed"]) == ("timely_filing", "2026-12-21", 13, False)
    assert item["likely_write_off"] is None
    [late] = passed.json()
    assert (late["passed"], late["likely_write_off"]) == (True, "185.00")


async def test_the_denial_risk_warning_appears_once_the_history_shows_it(api: ClaimApi) -> None:
    for _ in range(4):  # four MRIs denied CO-197: fewer than the five claims a warning needs
        await denied(api, "72148")
    before = await captured(api, "72148")
    assert not [f for f in (await read(api, before.id))[0]["scrub"]["findings"] if f["rule"] == "DENIAL_RISK"]

    fifth = await denied(api, "72148")
    claim = await captured(api, "72148")

    findings = (await read(api, claim.id))[0]["scrub"]["findings"]
    [warning] = [finding for finding in findings if finding["rule"] == "DENIAL_RISK"]
    assert warning["severity"] == "warning"
    assert "ACME01 denied 5 of 5 claims for 72148" in warning["message"]
    assert "CO-197" in warning["message"]
    assert str(fifth.id) in warning["evidence_claim_ids"]
    assert len(warning["evidence_claim_ids"]) == 5


def read_and_render(pdf: bytes, folder: Path) -> tuple[str, Path]:
    """The letter's text (pdftotext) and its first page rendered to PNG (pdftoppm)."""
    source = folder / "letter.pdf"
    source.write_bytes(pdf)
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(source), "-"], capture_output=True, check=True, text=True
    ).stdout
    subprocess.run([_tool("pdftoppm"), "-r", "50", "-png", str(source), str(folder / "letter")], check=True)
    return text, folder / "letter-1.png"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: install poppler-utils (`make test` does, as root)")
    return path


async def test_an_underpayment_waits_in_its_queue_until_a_biller_accepts_it(api: ClaimApi) -> None:
    claim = await accepted(api)
    await api.feed(payment_posted(claim).model_copy(update={"underpaid_by": Decimal("12.00")}))

    queue = await api.client.get("/workqueues/underpayments", headers=api.auth())
    [item] = queue.json()
    assert (item["claim_id"], item["underpaid_by"]) == (str(claim.id), "12.00")
    _, tag = await read(api, claim.id)
    accepted_ = await api.client.post(
        f"/claims/{claim.id}/underpayment-acceptance", headers=api.auth(**{"If-Match": tag}),
        json={"reason": "the payer's 2026 fee schedule"},
    )  # fmt: skip
    assert accepted_.status_code == 200, accepted_.text
    assert accepted_.json()["state"] == "closed"
    assert (await api.client.get("/workqueues/underpayments", headers=api.auth())).json() == []
    again = await api.client.post(
        f"/claims/{claim.id}/underpayment-acceptance", headers=api.auth(**{"If-Match": accepted_.headers["ETag"]}),
        json={"reason": "again"},
    )  # fmt: skip
    assert again.status_code == 409


async def test_a_next_payer_is_not_billed_before_the_payer_decides_and_nothing_changes(api: ClaimApi) -> None:
    claim = await accepted(api)
    view, tag = await read(api, claim.id)

    refused = await api.client.post(f"/claims/{claim.id}/next-payer", headers=api.auth(**{"If-Match": tag}))

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "has not decided it on an 835" in refused.json()["detail"]
    assert (await read(api, claim.id))[0] == view


async def test_an_appeal_upheld_by_letter_puts_the_denial_back_in_the_queue(api: ClaimApi) -> None:
    claim = await denied(api)
    _, tag = await read(api, claim.id)
    body = {"level": 1, "reason": "first", "argument": "The service was authorised."}
    made = await api.client.post(f"/claims/{claim.id}/appeals", headers=api.auth(**{"If-Match": tag}), json=body)
    assert made.status_code == 201
    missing = await api.client.post(
        f"/claims/{claim.id}/appeals/9/answer", headers=api.auth(**{"If-Match": made.headers["ETag"]}),
        json={"outcome": "upheld", "note": "letter of 2026-12-20"},
    )  # fmt: skip
    assert missing.status_code == 404

    answered = await api.client.post(
        f"/claims/{claim.id}/appeals/1/answer", headers=api.auth(**{"If-Match": made.headers["ETag"]}),
        json={"outcome": "upheld", "note": "letter of 2026-12-20"},
    )  # fmt: skip

    assert answered.status_code == 200, answered.text
    assert answered.json()["appeals"][0]["outcome"] == "upheld"
    queue = (await api.client.get("/workqueues/denials", headers=api.auth())).json()
    assert [item["claim_id"] for group in queue["groups"] for item in group["items"]] == [str(claim.id)]
    wrong = await api.client.get("/workqueues/denials?category=authorization", headers=api.auth())
    assert wrong.status_code == 422


async def test_a_correction_of_a_voided_claim_is_refused_and_changes_nothing(api: ClaimApi) -> None:
    claim = await denied(api)
    await api.feed(ChargesVoided(encounter_id=claim.encounter_id, version=1, patient_id=claim.patient_id,
                                 reason="entered_in_error"))  # fmt: skip
    view, tag = await read(api, claim.id)
    assert view["state"] == "voided"

    refused = await api.client.post(
        f"/claims/{claim.id}/denial-resolutions", headers=api.auth(**{"If-Match": tag}),
        json={"kind": "corrected", "reason": "authorisation obtained", "prior_authorization_number": "A1"},
    )  # fmt: skip

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "a voided claim has no denial" in refused.json()["detail"]
    assert (await read(api, claim.id))[0] == view
