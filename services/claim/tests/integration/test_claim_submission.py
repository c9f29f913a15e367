"""Submission and acknowledgment over real SQLite and PostgreSQL against the clearinghouse simulator in process:
ready claims go out in a stored batch, the 999 submits them, the 277CA in the mailbox accepts or rejects them
once, a lost answer is sent again as the same interchange, corrections wait for the payer's answer, and an
accepted claim unpaid past the payer's follow-up days is asked about on a 276."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.service_layer.views import PayerDocument, ProviderDirectoryDocument
from rcm_claim.testing import PRACTICE, ClaimApi, charges_captured, running_claim
from rcm_clearinghouse_sim.testing import Clock, InProcessClearinghouse
from rcm_common.events.charge import ChargesCorrected, ChargesVoided
from rcm_common.testing import sample_coverage_added, sample_patient_registered
from rcm_common.types import utcnow
from rcm_x12 import read

PAYERS = [PayerDocument.of(payer).model_dump() for payer in default_payers()]
PROVIDERS = ProviderDirectoryDocument.of(PRACTICE).model_dump()
BATCH_INTERVAL = 61  # seconds: the default payers wait 60 for a batch to fill


@dataclass
class Cycle:
    api: ClaimApi
    clearinghouse: InProcessClearinghouse
    clock: Clock

    async def claim(self, claim_id: str) -> dict[str, Any]:
        found = await self.api.client.get(f"/claims/{claim_id}", headers=self.api.auth())
        assert found.status_code == 200, found.text
        return dict(found.json())

    async def submit_and_acknowledge(self) -> None:
        """A batch interval later: the submission round, then the mailbox round."""
        self.clock.advance(BATCH_INTERVAL)
        await self.api.claim.submitter.run_once()
        await self.api.claim.acknowledger.run_once()


@pytest.fixture
async def cycle(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[Cycle]:
    clock = Clock(utcnow())
    clearinghouse = InProcessClearinghouse.quiet(clock)
    async with running_claim(tmp_path / "state", signing_keys, database_url, gateway=clearinghouse,
                             clock=clock) as api:  # fmt: skip
        admin = api.auth("admin")
        for path, document in (("/payers", PAYERS), ("/providers", PROVIDERS)):
            assert (await api.client.put(path, json=document, headers=admin)).status_code == 200
        yield Cycle(api, clearinghouse, clock)


async def an_encounter(cycle: Cycle, *codes: str, member_id: str = "ACM123456789", **changes: Any) -> str:
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id, member_id=member_id)
    captured = charges_captured(patient.patient_id, coverage.coverage_id, codes=codes or ("99214",),
                                day=cycle.clock.now.date(), **changes)  # fmt: skip
    await cycle.api.feed(patient, coverage, captured)
    [row] = await cycle.api.rows("SELECT id FROM claim WHERE encounter_id = :id", id=str(captured.encounter_id))
    return str(row["id"])


async def test_a_ready_claim_is_batched_submitted_and_accepted_with_the_payers_claim_number(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle)
    await cycle.api.claim.submitter.run_once()
    assert (await cycle.claim(claim_id))["state"] == "ready"  # the payer's batch interval has not passed

    await cycle.submit_and_acknowledge()

    claim = await cycle.claim(claim_id)
    assert claim["state"] == "accepted"
    assert claim["payer_claim_number"].startswith("ACME01")
    steps = [(step["from_state"], step["to_state"], step["cause"].split(":")[0]) for step in claim["timeline"]]
    assert steps == [
        (None, "draft", "event"),
        ("draft", "ready", "event"),
        ("ready", "batched", "worker"),
        ("batched", "submitted", "batch"),
        ("submitted", "accepted", "277ca"),
    ]
    [batch] = await cycle.api.rows("SELECT state, interchange_control_number, attempts FROM claim_batch")
    assert (batch["state"], batch["attempts"]) == ("acknowledged", 1)
    assert claim["batch_id"] is not None
    assert await cycle.clearinghouse.mailbox() == []  # the 277CA was deleted once applied
    assert (await cycle.api.outbox_types())[-2:] == ["rcm.claim.claim_submitted", "rcm.claim.claim_accepted"]


async def test_a_lost_answer_sends_the_same_interchange_again_and_the_claim_is_submitted_once(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle)
    cycle.clearinghouse.lose_answers = 1
    cycle.clock.advance(BATCH_INTERVAL)

    first = await cycle.api.claim.submitter.run_once()
    [unanswered] = await cycle.api.rows("SELECT state, attempts, x12_encrypted FROM claim_batch")
    second = await cycle.api.claim.submitter.run_once()
    await cycle.api.claim.acknowledger.run_once()

    assert (first.built, first.claims_submitted, unanswered["state"], unanswered["attempts"]) == (1, 0, "sent", 1)
    assert (second.built, second.sent, second.claims_submitted) == (0, 1, 1)
    assert cycle.clearinghouse.uploads == 2
    assert len(cycle.clearinghouse.clearinghouse._ledger.batches) == 1  # the simulator holds one batch
    assert (await cycle.claim(claim_id))["state"] == "accepted"
    submitted = [t for t in await cycle.api.outbox_types() if t == "rcm.claim.claim_submitted"]
    assert submitted == ["rcm.claim.claim_submitted"]


async def test_a_claim_the_payer_rejects_waits_in_the_rejection_queue_with_the_codes_in_words(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle, member_id="NOTFOUND123")

    await cycle.submit_and_acknowledge()

    claim = await cycle.claim(claim_id)
    assert claim["state"] == "rejected"
    assert claim["rejection"]["stage"] == "277CA"
    [problem] = claim["rejection"]["problems"]
    assert problem["code"] == "A3:33"
    assert problem["meaning"] == (
        "Acknowledgement/Returned as unprocessable claim: Subscriber and subscriber id not found."
    )
    assert "member id" in problem["suggested_fix"]
    queue = await cycle.api.client.get("/workqueues/rejections?code=A3:33", headers=cycle.api.auth())
    assert [item["id"] for item in queue.json()] == [claim_id]
    other = await cycle.api.client.get("/workqueues/rejections?code=A7:562", headers=cycle.api.auth())
    assert other.json() == []


async def test_a_277ca_seen_again_changes_nothing(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle)
    cycle.clock.advance(BATCH_INTERVAL)
    await cycle.api.claim.submitter.run_once()
    [file] = await cycle.clearinghouse.mailbox()
    content = await cycle.clearinghouse.mailbox_file(file.id)

    await cycle.api.claim.acknowledger.run_once()
    cycle.clearinghouse.clearinghouse.mailbox.put("277CA", "ACME01", content, cycle.clock.now)
    again = await cycle.api.claim.acknowledger.run_once()

    assert again == 0
    assert await cycle.clearinghouse.mailbox() == []
    [taken] = await cycle.api.rows("SELECT claims FROM acknowledgment_file")
    assert taken["claims"] == 1
    assert [step["to_state"] for step in (await cycle.claim(claim_id))["timeline"]][-1] == "accepted"


async def test_a_correction_while_the_payer_has_the_claim_goes_as_a_replacement_once_it_is_accepted(
    cycle: Cycle,
) -> None:
    claim_id = await an_encounter(cycle)
    cycle.clock.advance(BATCH_INTERVAL)
    await cycle.api.claim.submitter.run_once()  # submitted, its 277CA not read yet
    original = await cycle.claim(claim_id)
    corrected = ChargesCorrected.model_validate(
        charges_captured(original["patient_id"], original["coverage_id"], codes=("99213",),
                         day=cycle.clock.now.date()).model_dump()
        | {"encounter_id": original["encounter_id"], "version": 2, "replaces_version": 1}
    )  # fmt: skip
    await cycle.api.feed(corrected)
    [row] = await cycle.api.rows("SELECT id, held FROM claim WHERE encounter_version = 2")
    assert row["held"]

    await cycle.api.claim.acknowledger.run_once()  # the original accepted: the replacement goes
    await cycle.submit_and_acknowledge()

    replaced = await cycle.claim(claim_id)
    replacement = await cycle.claim(str(row["id"]))
    assert replaced["state"] == "replaced"
    assert (replacement["frequency"], replacement["state"]) == ("7", "accepted")
    assert replacement["replaces_payer_claim_number"] == replaced["payer_claim_number"]
    assert replacement["batch_id"] != replaced["batch_id"]


async def test_a_void_before_payment_goes_as_frequency_8_and_the_payer_never_pays_the_original(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle)
    await cycle.submit_and_acknowledge()
    original = await cycle.claim(claim_id)
    voided = ChargesVoided(
        encounter_id=original["encounter_id"], version=1, patient_id=original["patient_id"], reason="entered_in_error"
    )

    await cycle.api.feed(voided)
    await cycle.submit_and_acknowledge()

    assert (await cycle.claim(claim_id))["state"] == "voided"
    [void] = await cycle.api.rows("SELECT id, state, frequency FROM claim WHERE frequency = '8'")
    assert (void["state"], void["frequency"]) == ("accepted", "8")
    assert cycle.clearinghouse.clearinghouse.run_payments(due_only=False) == []  # nothing left to pay


async def test_an_accepted_claim_unpaid_past_the_follow_up_days_is_asked_about_on_a_276(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle)
    await cycle.submit_and_acknowledge()
    assert await cycle.api.claim.follow_up.run_once() == 0  # not due yet

    cycle.clock.advance(31 * 86400)
    answered = await cycle.api.claim.follow_up.run_once()

    claim = await cycle.claim(claim_id)
    assert answered == 1
    assert claim["state"] == "accepted"
    assert claim["status_checked_at"] is not None
    assert claim["timeline"][-1]["note"].startswith("277 status ")
    assert "rcm.claim.claim_status_updated" in await cycle.api.outbox_types()
    assert await cycle.api.claim.follow_up.run_once() == 0  # asked again only after another period


async def test_the_batch_as_sent_is_an_837p_with_the_claims_control_numbers(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle, "99214", "81002")
    await cycle.submit_and_acknowledge()
    claim = await cycle.claim(claim_id)

    sent = await cycle.api.client.get(f"/claims/{claim_id}/837", headers=cycle.api.auth())

    assert sent.status_code == 200
    assert sent.headers["content-type"].startswith("application/edi-x12")
    [interchange] = read(sent.text)
    segments = [segment for group in interchange.groups for t in group.transactions for segment in t.segments]
    assert [s[1] for s in segments if s[0] == "CLM"] == [claim["patient_control_number"]]
    assert [s[2] for s in segments if s[0] == "REF" and s[1] == "6R"] == [
        line["control_number"] for line in claim["lines"]
    ]


async def test_a_biller_sets_the_claims_notes_for_the_payer_and_they_go_on_the_837p(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle)
    read = await cycle.api.client.get(f"/claims/{claim_id}", headers=cycle.api.auth())
    body = {"prior_authorization_number": "PA-PHONE-77", "delay_reason_code": "3", "note": "AUTH BY PHONE"}

    patched = await cycle.api.client.patch(
        f"/claims/{claim_id}", json=body, headers=cycle.api.auth(**{"If-Match": read.headers["ETag"]})
    )
    cleared = await cycle.api.client.patch(
        f"/claims/{claim_id}", json={"note": None}, headers=cycle.api.auth(**{"If-Match": patched.headers["ETag"]})
    )
    await cycle.submit_and_acknowledge()
    sent = await cycle.api.client.get(f"/claims/{claim_id}/837", headers=cycle.api.auth())
    late = await cycle.api.client.patch(
        f"/claims/{claim_id}", json={"note": "TOO LATE"}, headers=cycle.api.auth(**{"If-Match": '"v9"'})
    )

    assert patched.status_code == 200, patched.text
    assert cleared.json()["timeline"][-1]["note"] == "set note"
    assert "REF*G1*PA-PHONE-77~" in sent.text
    assert "NTE*" not in sent.text
    assert late.status_code in (409, 412)


async def test_a_bad_patch_is_refused_whole_and_echoes_nothing(cycle: Cycle) -> None:
    claim_id = await an_encounter(cycle)
    read = await cycle.api.client.get(f"/claims/{claim_id}", headers=cycle.api.auth())
    headers = cycle.api.auth(**{"If-Match": read.headers["ETag"]})

    refused = await cycle.api.client.patch(
        f"/claims/{claim_id}", json={"delay_reason_code": "99", "note": "JANE*DOE~"}, headers=headers
    )
    unknown = await cycle.api.client.patch(
        "/claims/00000000-0000-4000-8000-000000000000", json={"note": "X"}, headers=headers
    )

    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "JANE" not in refused.text
    assert unknown.status_code == 404
    assert (await cycle.claim(claim_id))["revision"] == read.json()["revision"]


async def test_batches_list_newest_first_and_one_reads_with_its_claims_states(cycle: Cycle) -> None:
    first = await an_encounter(cycle)
    await cycle.submit_and_acknowledge()
    second = await an_encounter(cycle)
    await cycle.submit_and_acknowledge()

    listed = await cycle.api.client.get("/batches", params={"payer_id": "ACME01"}, headers=cycle.api.auth())
    [newest, oldest] = listed.json()
    one = await cycle.api.client.get(f"/batches/{oldest['id']}", headers=cycle.api.auth())
    missing = await cycle.api.client.get("/batches/00000000-0000-4000-8000-000000000000", headers=cycle.api.auth())

    assert int(newest["interchange_control_number"]) == int(oldest["interchange_control_number"]) + 1
    assert (oldest["state"], oldest["claims"], oldest["attempts"]) == ("acknowledged", 1, 1)
    assert [(c["id"], c["state"]) for c in one.json()["claim_states"]] == [(first, "accepted")]
    assert second != first
    assert missing.status_code == 404


async def test_claims_with_no_answer_after_the_acknowledgment_wait_are_follow_up_work(cycle: Cycle) -> None:
    unacknowledged = await an_encounter(cycle)
    cycle.clock.advance(BATCH_INTERVAL)
    await cycle.api.claim.submitter.run_once()
    [lost] = await cycle.clearinghouse.mailbox()
    await cycle.clearinghouse.delete_mailbox_file(lost.id)  # its 277CA never comes
    unanswered = await an_encounter(cycle, "99213")
    cycle.clearinghouse.lose_answers = 99  # nor does this one's 999
    await cycle.submit_and_acknowledge()

    early = await cycle.api.client.get("/workqueues/follow-up", headers=cycle.api.auth())
    cycle.clock.advance(49 * 3600)
    late = await cycle.api.client.get("/workqueues/follow-up", headers=cycle.api.auth())
    elsewhere = await cycle.api.client.get("/workqueues/follow-up?payer_id=SUMMT1", headers=cycle.api.auth())

    assert early.json() == []
    assert [(item["id"], item["state"]) for item in late.json()] == [
        (unacknowledged, "submitted"),
        (unanswered, "batched"),
    ]
    assert elsewhere.json() == []
