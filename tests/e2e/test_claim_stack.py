"""End to end: registration, eligibility, charge, claim and the clearinghouse simulator as their own processes
beside the embedded broker, on free loopback ports, the claims going out in real 837P batches over HTTP and
answered by the simulator's 999s and 277CAs from its mailbox.

- An Acme patient's 99214 is built, scrubbed, batched, submitted and accepted with the payer's claim number,
  each step on its timeline with its cause, and its 837P as sent is one pyx12 accepts.
- An MRI of the lumbar spine (72148, which Acme authorises in advance) is held naming PRIOR_AUTH; recording
  the authorisation in eligibility releases it by itself, and it goes out with REF*G1.
- The clearinghouse dropping the first send: the batch goes again with the same interchange control number,
  and the claim is submitted once.
- A member the payer does not know, sent with a biller's override of the eligibility rule, is rejected on the
  277CA and waits in the rejection queue with the STC codes in words.
- A drug line with its NDC goes with 2410 LIN/CTP, a visit at the hospital (POS 22) with 2310C.
- A correction after acceptance goes as a frequency-7 replacement naming the payer's claim number; a void
  before payment as frequency 8, and the simulator never pays the original."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Final

import httpx
import pytest

from rcm_tools.end_to_end import TODAY, capture, claim_of, client, member_id, register, set_up_practice, simulator
from rcm_tools.net import free_port
from rcm_tools.stack import CLEARINGHOUSE, LocalStack, ServiceSpec
from rcm_x12 import read
from rcm_x12.testing import assert_accepted_by_pyx12

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

# One call per send, so a dropped send is left to the stored batch's resend, which is what is shown here.
WORKERS: Final = {
    "RCM_SUBMISSION_POLL_SECONDS": "0.3", "RCM_MAILBOX_POLL_SECONDS": "0.3", "RCM_CLEARINGHOUSE_ATTEMPTS": "1",
}  # fmt: skip
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
    local.up(environ=dict(os.environ) | WORKERS, broker_port=free_port(), ready_timeout=90)
    try:
        asyncio.run(set_up_practice(local))
        yield local
    finally:
        local.down()


async def as_sent(biller: httpx.AsyncClient, claim: dict[str, Any]) -> list[tuple[str, ...]]:
    """The claim's 837P as its batch sent it, checked by pyx12, as segments."""
    sent = await biller.get(f"/claims/{claim['id']}/837")
    assert sent.status_code == 200, sent.text
    assert_accepted_by_pyx12(sent.text)
    [interchange] = read(sent.text)
    return [tuple(segment) for group in interchange.groups for t in group.transactions for segment in t.segments]


async def test_a_missing_authorisation_holds_the_claim_and_recording_it_releases_it(stack: LocalStack) -> None:
    patient_id, coverage_id = await register(stack, IVY, member_id())
    encounter_id = await capture(
        stack, patient_id, coverage_id, {"code": "72148", "units": 1, "diagnosis_pointers": [1]}, diagnoses=["M54.16"]
    )

    async with client(stack, "claim", "biller") as biller:
        # The visit may reach claim before the patient does: until then other rules hold it too.
        held = await claim_of(
            biller, encounter_id, "scrub_failed", where=lambda claim: claim["blocking_rules"] == ["PRIOR_AUTH"]
        )
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

        accepted = await claim_of(biller, encounter_id, "accepted")
        segments = await as_sent(biller, accepted)

    assert accepted["id"] == held["id"]
    assert accepted["scrub"]["authorization_number"] == "PA-E2E-72148"
    assert ("REF", "G1", "PA-E2E-72148") in segments
    steps = [(step["from_state"], step["to_state"]) for step in accepted["timeline"]]
    # Between the two, the blocking rules may have changed (the visit can reach claim before the patient does).
    assert steps[:2] == [(None, "draft"), ("draft", "scrub_failed")]
    released = steps.index(("scrub_failed", "ready"))
    assert set(steps[2:released]) <= {("scrub_failed", "scrub_failed")}
    assert steps[released:] == [("scrub_failed", "ready"), ("ready", "batched"), ("batched", "submitted"),
                                ("submitted", "accepted")]  # fmt: skip
    assert all(step["cause"].startswith("event:") for step in accepted["timeline"][: released + 1])


async def test_a_visit_is_submitted_and_accepted_with_the_payers_claim_number(stack: LocalStack) -> None:
    patient_id, coverage_id = await register(stack, IVY, member_id())
    encounter_id = await capture(stack, patient_id, coverage_id)

    async with client(stack, "claim", "biller") as biller:
        claim = await claim_of(biller, encounter_id, "accepted")
        segments = await as_sent(biller, claim)
        batch = (await biller.get(f"/batches/{claim['batch_id']}")).json()

    assert claim["payer_claim_number"].startswith("ACME01")
    steps = [(step["from_state"], step["to_state"], step["cause"].split(":")[0]) for step in claim["timeline"]]
    assert steps[0] == (None, "draft", "event")
    assert steps[-3:] == [("ready", "batched", "worker"), ("batched", "submitted", "batch"),
                          ("submitted", "accepted", "277ca")]  # fmt: skip
    assert claim["timeline"][0]["cause"] != claim["timeline"][-1]["cause"]
    assert [s[1] for s in segments if s[0] == "CLM"] == [claim["patient_control_number"]]
    assert (batch["state"], batch["payer_id"]) == ("acknowledged", "ACME01")
    assert claim["id"] in [c["id"] for c in batch["claim_states"]]


async def test_a_dropped_send_goes_again_with_the_same_interchange_and_the_claim_is_submitted_once(
    stack: LocalStack,
) -> None:
    async with simulator(stack) as sim:
        fault = {"endpoint": "claims", "kind": "drop", "times": 1}
        assert (await sim.put("/faults", json={"faults": [fault]})).status_code == 200
        try:
            patient_id, coverage_id = await register(stack, IVY, member_id())
            encounter_id = await capture(stack, patient_id, coverage_id)
            async with client(stack, "claim", "biller") as biller:
                claim = await claim_of(biller, encounter_id, "accepted")
                batch = (await biller.get(f"/batches/{claim['batch_id']}")).json()
            remaining = (await sim.get("/faults")).json()["faults"]
        finally:
            await sim.delete("/faults")

    assert remaining == []  # the drop was spent on this claim's batch
    assert (batch["state"], batch["attempts"]) == ("acknowledged", 2)
    submitted = [step for step in claim["timeline"] if step["to_state"] == "submitted"]
    assert len(submitted) == 1
    assert submitted[0]["note"] == f"interchange {batch['interchange_control_number']}"


async def test_a_member_the_payer_does_not_know_is_rejected_on_the_277ca_into_the_rejection_queue(
    stack: LocalStack,
) -> None:
    patient_id, coverage_id = await register(stack, IVY, f"NOTFOUND{uuid.uuid4().hex[:6].upper()}")
    encounter_id = await capture(stack, patient_id, coverage_id)

    async with client(stack, "claim", "biller") as biller:
        # The visit may reach claim before the patient's copy (PATIENT_SUBSCRIBER) or the payer's 271 does: the
        # claim is scrubbed again as each arrives, until the 271's inactive coverage is what blocks it.
        blocked = await claim_of(
            biller, encounter_id, "scrub_failed", where=lambda claim: "COVERAGE_INACTIVE" in claim["blocking_rules"]
        )
        read_back = await biller.get(f"/claims/{blocked['id']}")
        overridden = await biller.post(
            f"/claims/{blocked['id']}/overrides",
            json={"rule": "COVERAGE_INACTIVE", "reason": "member id confirmed by phone with the plan"},
            headers={"If-Match": read_back.headers["ETag"]},
        )
        assert overridden.status_code == 200, overridden.text
        rejected = await claim_of(biller, encounter_id, "rejected")
        queue = (await biller.get("/workqueues/rejections", params={"code": "A3:33"})).json()

    assert rejected["rejection"]["stage"] == "277CA"
    [problem] = rejected["rejection"]["problems"]
    assert problem["code"] == "A3:33"
    assert (
        problem["meaning"] == "Acknowledgement/Returned as unprocessable claim: Subscriber and subscriber id not found."
    )
    assert problem["suggested_fix"]
    assert rejected["id"] in [item["id"] for item in queue]


async def test_a_drug_line_goes_with_its_ndc_and_a_hospital_visit_with_its_facility(stack: LocalStack) -> None:
    patient_id, coverage_id = await register(stack, IVY, member_id())
    drug = await capture(
        stack, patient_id, coverage_id,
        {"code": "99214", "units": 1, "diagnosis_pointers": [1]},
        {"code": "J1100", "units": 4, "diagnosis_pointers": [1], "ndc": "00009047413"},
    )  # fmt: skip
    inpatient, inpatient_coverage = await register(stack, IVY, member_id())
    hospital = await capture(stack, inpatient, inpatient_coverage, place_of_service="22", location="HOSP")

    async with client(stack, "claim", "biller") as biller:
        drug_lines = await as_sent(biller, await claim_of(biller, drug, "accepted"))
        at_hospital = await as_sent(biller, await claim_of(biller, hospital, "accepted"))

    assert ("LIN", "", "N4", "00009047413") in drug_lines
    assert ("CTP", "", "", "", "4", "UN") in drug_lines
    [facility] = [s for s in at_hospital if s[:2] == ("NM1", "77")]
    assert facility[3] == "SPRINGFIELD MEMORIAL HOSPITAL"
    assert not any(s[:2] == ("NM1", "77") for s in drug_lines)


async def test_a_correction_after_acceptance_replaces_and_a_void_before_payment_is_never_paid(
    stack: LocalStack,
) -> None:
    patient_id, coverage_id = await register(stack, IVY, member_id())
    corrected_visit = await capture(stack, patient_id, coverage_id)
    voided_visit = await capture(
        stack, patient_id, coverage_id, {"code": "99213", "units": 1, "diagnosis_pointers": [1]}
    )
    async with client(stack, "claim", "biller") as biller:
        first = await claim_of(biller, corrected_visit, "accepted")
        doomed = await claim_of(biller, voided_visit, "accepted")

    async with client(stack, "charge", "coder") as coder:
        for encounter_id, change in (
            (corrected_visit, ("PATCH", f"/encounters/{corrected_visit}", {"diagnoses": ["I10", "E11.9"]})),
            (voided_visit, ("POST", f"/encounters/{voided_visit}/void", {"reason": "entered_in_error"})),
        ):
            read_back = await coder.get(f"/encounters/{encounter_id}")
            method, path, body = change
            done = await coder.request(method, path, json=body, headers={"If-Match": read_back.headers["ETag"]})
            assert done.status_code == 200, done.text

    async with client(stack, "claim", "biller") as biller:
        replaced = await claim_of(biller, corrected_visit, "replaced")
        voided = await claim_of(biller, voided_visit, "voided")
        replacement = await claim_of(biller, corrected_visit, "accepted", frequency="7")
        void = await claim_of(biller, voided_visit, "accepted", frequency="8")
        replacement_sent = await as_sent(biller, replacement)
        void_sent = await as_sent(biller, void)

    assert (replaced["id"], voided["id"]) == (first["id"], doomed["id"])
    assert replacement["frequency"] == "7"
    assert ("REF", "F8", first["payer_claim_number"]) in replacement_sent
    assert void["frequency"] == "8"
    assert ("REF", "F8", doomed["payer_claim_number"]) in void_sent
    async with simulator(stack) as sim:
        paid = (await sim.post("/payment-runs")).json()["files"]
        remittances = [(await sim.get(f"/mailbox/{file_id}")).text for file_id in paid]
    assert remittances  # the others' claims were paid
    assert not any(doomed["patient_control_number"] in text for text in remittances)
    assert not any(void["patient_control_number"] in text for text in remittances)
