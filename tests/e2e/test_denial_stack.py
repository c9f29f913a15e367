"""End to end: after the payer answers. Registration, eligibility, charge, claim, remittance and the clearinghouse
simulator run as their own processes beside the embedded broker; everything is driven over HTTP, and the broker is
read back for the events.

- An Acme MRI (72148) sent without its prior authorisation, under a biller's override, is denied CO-197: the claim
  is denied and waits in the denial queue under authorisation, CO-197 in words, with its appeal deadline. Once the
  authorisation is recorded in eligibility, the biller resolves the denial as corrected: the original is replaced
  by a frequency-7 claim naming the payer's claim number (REF*F8) and carrying the authorisation (REF*G1), which
  passes the authorisation rule on its own (no override), goes out and is adjudicated as payable (CLP02 1; the
  allowed amount goes to the new patient's deductible, so Acme pays 0.00 and the claim closes moved to the patient).
- Another MRI denied CO-197 is appealed: ClaimAppealed is published, and the letter (a PDF) names the payer, our
  claim number, the denial and the biller's argument; its first page is rendered to PNG (kept as
  /tmp/e2e_appeal_letter-1.png to be looked at). The payer overturns it (the simulator's appeal decision): its
  next 835 pays the claim as decided anew (CLP02 1, no CO-197; the allowed amount to the new patient's
  deductible), and the claim service decides the appeal overturned and closes the claim.
- A patient with Acme as primary and State Medicaid as secondary: Acme pays its part, the claim closes as
  next_payer_billed and a claim to Medicaid follows (SBR01 S) carrying Acme's adjudication (2320 SBR*P and AMT*D,
  2430 SVD, CAS and DTP*573), which pyx12 accepts; the simulator pays it as secondary (CLP02 2, OA-23) and it
  closes.

The simulator runs its default configuration without its seeded random denials, so each claim meets only the
payer's rules under test."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from rcm_clearinghouse_sim.testing import quiet_config
from rcm_common.topics import CLAIM_EVENTS, REMITTANCE_EVENTS
from rcm_tools.end_to_end import (
    TODAY,
    capture,
    change_claim,
    claim_of,
    client,
    events_until,
    member_id,
    register,
    revenue_cycle_stack,
    simulator,
)
from rcm_tools.stack import LocalStack
from rcm_x12 import read
from rcm_x12.testing import assert_accepted_by_pyx12

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

POLL_SECONDS: Final = 0.5
WAIT_SECONDS: Final = 60.0
MRI: Final = {"code": "72148", "units": 1, "diagnosis_pointers": [1]}
BACK_PAIN: Final = ["M54.16"]
# Where one rendering of the appeal letter is left for a person to look at.
LETTER_PNG: Final = Path(tempfile.gettempdir()) / "e2e_appeal_letter-1.png"
RUTH: Final = {
    "first_name": "Ruth",
    "last_name": "Alder",
    "birth_date": "1958-04-11",
    "sex": "F",
    "address": {"line1": "4 Quarry Rd", "city": "Barre", "state": "VT", "postal_code": "05641"},
}
SILAS: Final = {
    "first_name": "Silas",
    "last_name": "Penrose",
    "birth_date": "1962-10-27",
    "sex": "M",
    "address": {"line1": "77 Elm St", "city": "Burlington", "state": "VT", "postal_code": "05401"},
}
NORA: Final = {
    "first_name": "Nora",
    "last_name": "Wickham",
    "birth_date": "1980-01-19",
    "sex": "F",
    "address": {"line1": "31 Depot St", "city": "Bennington", "state": "VT", "postal_code": "05201"},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, str]]:
    # The packaged payers without their seeded random denials (3-4% of lines), which would fail a test now and then.
    with revenue_cycle_stack(tmp_path_factory.mktemp("stack"), simulator=quiet_config()) as running:
        yield running


# ---------------------------------------------------------------- helpers


async def settled_visit(
    local: LocalStack, patient_id: str, encounter_id: str, paid: Decimal, within: float = WAIT_SECONDS
) -> dict[str, Any]:
    """The visit as collections shows it once the payers' payments (`paid` in all) are posted and it is the
    patient's; else an AssertionError saying where it got to."""
    visit: dict[str, Any] = {}
    async with client(local, "collections", "collector") as collector:
        try:
            async with asyncio.timeout(within):
                while True:
                    found = (await collector.get("/accounts", params={"patient_id": patient_id})).json()
                    if found:
                        account = (await collector.get(f"/accounts/{found[0]['id']}")).json()
                        visit = next((v for v in account["visits"] if v["encounter_id"] == encounter_id), {})
                        if (
                            visit
                            and Decimal(visit["insurance_paid"]) == paid
                            and visit["status"] != "insurance_pending"
                        ):
                            return visit
                    await asyncio.sleep(POLL_SECONDS)
        except TimeoutError:
            raise AssertionError(
                f"visit {encounter_id} not settled with {paid} paid after {within} s: {visit}"
            ) from None


async def claim_in(
    biller: httpx.AsyncClient, claim_id: str, states: set[str], within: float = WAIT_SECONDS
) -> dict[str, Any]:
    """The claim read over HTTP once it is in one of `states`; else an AssertionError naming where it got to."""
    claim: dict[str, Any] = {}
    try:
        async with asyncio.timeout(within):
            while True:
                claim = (await biller.get(f"/claims/{claim_id}")).json()
                if claim["state"] in states:
                    return claim
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        steps = [(step["from_state"], step["to_state"], step["note"]) for step in claim.get("timeline", [])]
        raise AssertionError(f"claim {claim_id} not in {sorted(states)} after {within} s: {steps}") from None


async def denial_item(biller: httpx.AsyncClient, claim_id: str, within: float = WAIT_SECONDS) -> dict[str, Any]:
    """The claim's item in the denial queue, with its category, once remittance's word on the denial has come."""
    async with asyncio.timeout(within):
        while True:
            queue = (await biller.get("/workqueues/denials", params={"limit": 500})).json()
            for group in queue["groups"]:
                for item in group["items"]:
                    if item["claim_id"] == claim_id and item["reasons"]:
                        return {"group": group["category"], **item}
            await asyncio.sleep(POLL_SECONDS)


async def mri_denied_for_want_of_authorisation(local: LocalStack, person: dict[str, Any]) -> tuple[str, str, str]:
    """A new Acme patient's lumbar MRI, sent under a biller's override of PRIOR_AUTH with no authorisation on file,
    denied by the payer: the patient, coverage and claim ids, once the claim is `denied`."""
    patient_id, coverage_id = await register(local, person, member_id())
    encounter_id = await capture(local, patient_id, coverage_id, MRI, diagnoses=BACK_PAIN)
    async with client(local, "claim", "biller") as biller:
        held = await claim_of(
            biller, encounter_id, "scrub_failed", where=lambda claim: claim["blocking_rules"] == ["PRIOR_AUTH"]
        )
        overridden = await change_claim(
            biller, held["id"], "overrides", {"rule": "PRIOR_AUTH", "reason": "retro-authorisation requested by phone"}
        )
        assert overridden.status_code == 200, overridden.text
        await claim_in(biller, held["id"], {"denied"})
    return patient_id, coverage_id, held["id"]


def segments_as_sent(text: str) -> list[tuple[str, ...]]:
    """A claim's 837P as its batch sent it, checked by pyx12, as segments."""
    assert_accepted_by_pyx12(text)
    [interchange] = read(text)
    return [tuple(segment) for group in interchange.groups for t in group.transactions for segment in t.segments]


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install poppler-utils (apt-get install poppler-utils)")
    return path


def read_and_render(pdf: bytes, folder: Path) -> tuple[str, Path]:
    """The letter's text as laid out (whitespace collapsed, so a wrapped sentence reads whole) and its first page
    rendered to PNG at 80 dpi."""
    source = folder / "letter.pdf"
    source.write_bytes(pdf)
    laid_out = subprocess.run(
        [poppler("pdftotext"), "-layout", str(source), "-"], capture_output=True, check=True, text=True
    ).stdout
    page = folder / "letter-1"
    render = [poppler("pdftoppm"), "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(source), str(page)]
    subprocess.run(render, check=True)
    return " ".join(laid_out.split()), page.with_suffix(".png")


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


# ---------------------------------------------------------------- tests


async def test_a_co_197_denial_is_corrected_with_the_authorisation_and_the_replacement_is_paid(
    stack: tuple[LocalStack, str],
) -> None:
    local, _servers = stack
    patient_id, coverage_id, claim_id = await mri_denied_for_want_of_authorisation(local, RUTH)
    authorisation = f"PA{uuid.uuid4().hex[:8].upper()}"

    async with client(local, "claim", "biller") as biller:
        item = await denial_item(biller, claim_id)
        async with client(local, "eligibility", "front_desk") as desk:
            recorded = await desk.post(
                "/prior-authorizations",
                json={
                    "patient_id": patient_id, "coverage_id": coverage_id, "authorization_number": authorisation,
                    "procedure_codes": ["72148"], "units_authorized": 1,
                    "start_date": (TODAY - timedelta(days=7)).isoformat(),
                    "end_date": (TODAY + timedelta(days=30)).isoformat(),
                },
            )  # fmt: skip
            assert recorded.status_code == 201, recorded.text
        correction = {"kind": "corrected", "reason": "retro-authorisation granted"}
        resolved = await change_claim(
            biller, claim_id, "denial-resolutions", correction | {"prior_authorization_number": authorisation}
        )
        assert resolved.status_code == 200, resolved.text
        [resolution] = resolved.json()["resolutions"]
        replacement = await claim_in(biller, resolution["replacement_id"], {"paid", "closed"})
        sent = await biller.get(f"/claims/{replacement['id']}/837")
        assert sent.status_code == 200, sent.text
        original = (await biller.get(f"/claims/{claim_id}")).json()

    assert (item["group"], item["category"], item["state"]) == ("authorisation", "authorisation", "denied")
    assert item["reasons"] == ["CO-197"]
    assert any(words.startswith("CO-197") and len(words) > len("CO-197: ") for words in item["in_words"])
    assert item["suggested_action"]
    assert Decimal(item["amount_at_stake"]) == Decimal("900.00")
    assert item["appeal_deadline"] > item["denied_on"]  # ISO dates: Acme's window, 180 days from the denial

    assert (resolution["kind"], resolution["payment_id"]) == ("corrected", item["payment_id"])
    assert original["state"] == "replaced"
    assert ("denied", "replaced") in [(step["from_state"], step["to_state"]) for step in original["timeline"]]
    assert replacement["frequency"] == "7"
    assert replacement["replaces_payer_claim_number"] == original["payer_claim_number"]
    assert replacement["payer_claim_number"] not in (None, original["payer_claim_number"])
    # The authorisation rule passed because the authorisation is on file now: no finding, no override.
    assert replacement["scrub"]["authorization_number"] == authorisation
    assert not [f for f in replacement["scrub"]["findings"] if f["rule"] == "PRIOR_AUTH"]
    assert replacement["scrub"]["overrides"] == []
    segments = segments_as_sent(sent.text)
    assert ("REF", "F8", original["payer_claim_number"]) in segments
    assert ("REF", "G1", authorisation) in segments
    # Adjudicated as payable (CLP02 1, nothing denied); the allowed amount may all go to the patient's deductible.
    [payment] = replacement["adjudications"]
    assert (payment["claim_status"], payment["denied_lines"], payment["reversed"]) == ("1", [], False)
    assert Decimal(payment["allowed"]) > 0
    assert Decimal(payment["paid"]) + Decimal(payment["patient_responsibility"]) == Decimal(payment["allowed"])
    steps = [(step["from_state"], step["to_state"]) for step in replacement["timeline"]]
    assert ("accepted", "paid") in steps


async def test_an_appeal_letter_goes_out_and_the_payer_overturns_the_denial_on_a_later_835(
    stack: tuple[LocalStack, str], tmp_path: Path
) -> None:
    local, servers = stack
    _patient_id, _coverage_id, claim_id = await mri_denied_for_want_of_authorisation(local, SILAS)
    argument = (
        "The MRI was ordered after six weeks of conservative care failed and a new foot drop was found; "
        "the plan's imaging policy exempts such red-flag findings from prior authorisation."
    )

    async with client(local, "claim", "biller") as biller:
        await denial_item(biller, claim_id)
        claim = (await biller.get(f"/claims/{claim_id}")).json()
        appealed = await change_claim(
            biller, claim_id, "appeals",
            {
                "level": 1, "reason": "red-flag findings exempt the MRI from authorisation", "argument": argument,
                "attachments": ["progress-notes-2026-03.pdf", "neurology-consult.pdf"],
            },
        )  # fmt: skip
        assert appealed.status_code == 201, appealed.text
        letter = await biller.get(appealed.headers["Location"])
        queue = (await biller.get("/workqueues/denials", params={"limit": 500})).json()
    events = await events_until(servers, CLAIM_EVENTS, claim_id, "rcm.claim.claim_appealed", within=WAIT_SECONDS)

    appeal = appealed.json()
    assert appealed.headers["Location"] == f"/claims/{claim_id}/appeals/{appeal['number']}/letter.pdf"
    assert (appeal["level"], appeal["outcome"], appeal["reasons"]) == (1, "pending", ["CO-197"])
    assert appeal["deadline"] is not None
    assert claim_id not in [item["claim_id"] for group in queue["groups"] for item in group["items"]]
    announced = events[-1]
    assert (announced["appeal_number"], announced["level"], announced["reasons"]) == (appeal["number"], 1, ["CO-197"])
    assert announced["category"] == "authorisation"
    assert "argument" not in announced  # the argument stays with the claim service

    assert (letter.status_code, letter.headers["content-type"]) == (200, "application/pdf")
    text, page = read_and_render(letter.content, tmp_path)
    for expected in ("Acme Health Plan", claim["patient_control_number"], "CO-197", argument):
        assert expected in text, f"{expected!r} not in the letter"
    png = page.read_bytes()
    assert png_size(png) == (680, 880)  # US Letter at 80 dpi
    shutil.copyfile(page, LETTER_PNG)

    # The payer overturns the denial on appeal: its next 835 pays the claim as decided anew.
    async with simulator(local) as sim:
        overturned = await sim.post(
            f"/claims/{claim['payer_claim_number']}/appeal-decisions",
            json={"decision": "overturned", "reason": "red-flag findings"},
        )
    assert overturned.status_code == 202, overturned.text
    async with client(local, "claim", "biller") as biller:
        paid = await claim_in(biller, claim_id, {"closed"})
    [decided] = paid["appeals"]
    assert decided["outcome"] == "overturned"
    assert decided["decided_by_payment_id"] != appeal["payment_id"]
    assert Decimal(decided["recovered"]) >= 0  # the allowed amount went to the new patient's deductible
    assert ("denied", "paid") in [(step["from_state"], step["to_state"]) for step in paid["timeline"]]

    # Collections: the denial it held is answered by the payment that won the appeal (no reversal came between),
    # so the patient owes what that payment left them, the denied amount adjusted off only once.
    [winning] = [p for p in paid["adjudications"] if p["payment_id"] == decided["decided_by_payment_id"]]
    visit = await settled_visit(local, paid["patient_id"], paid["encounter_id"], Decimal(winning["paid"]))
    assert Decimal(visit["balance"]) == Decimal(winning["patient_responsibility"])


async def test_the_secondary_payer_is_billed_with_the_primarys_adjudication_and_pays_as_secondary(
    stack: tuple[LocalStack, str],
) -> None:
    local, servers = stack
    patient_id, acme_coverage = await register(local, NORA, member_id())
    async with client(local, "registration", "front_desk") as desk:
        medicaid = await desk.post(
            f"/patients/{patient_id}/coverages",
            json={
                "payer_id": "MCAID1", "payer_name": "State Medicaid", "member_id": f"MCD{uuid.uuid4().hex[:9].upper()}",
                "relationship": "self", "effective_date": f"{TODAY.year}-01-01", "order": "secondary",
            },
        )  # fmt: skip
        assert medicaid.status_code == 201, medicaid.text
    encounter_id = await capture(local, patient_id, acme_coverage)

    async with client(local, "claim", "biller") as biller:
        primary = await claim_of(
            biller, encounter_id, "closed", where=lambda claim: claim["payer_id"] == "ACME01", within=WAIT_SECONDS
        )
        listed = (await biller.get("/claims", params={"patient_id": patient_id})).json()
        [following] = [claim for claim in listed if claim["payer_id"] == "MCAID1"]
        secondary = await claim_in(biller, following["id"], {"closed"})
        sent = await biller.get(f"/claims/{secondary['id']}/837")
        assert sent.status_code == 200, sent.text
    closed = await events_until(servers, CLAIM_EVENTS, primary["id"], "rcm.claim.claim_closed", within=WAIT_SECONDS)
    remitted = await events_until(
        servers, REMITTANCE_EVENTS, secondary["id"], "rcm.remittance.payment_posted", within=WAIT_SECONDS
    )
    posted = remitted[-1]
    secondary_closed = await events_until(
        servers, CLAIM_EVENTS, secondary["id"], "rcm.claim.claim_closed", within=WAIT_SECONDS
    )

    [acme_payment] = primary["adjudications"]
    assert (primary["responsibility"], acme_payment["claim_status"]) == ("P", "1")
    assert closed[-1]["reason"] == "next_payer_billed"
    assert (secondary["responsibility"], secondary["coverage_id"]) == ("S", medicaid.json()["id"])
    assert (secondary["encounter_id"], secondary["frequency"]) == (encounter_id, "1")

    segments = segments_as_sent(sent.text)
    subscribers = [segment[1] for segment in segments if segment[0] == "SBR"]
    assert subscribers == ["S", "P"]  # 2000B: Medicaid pays second; 2320: Acme paid first
    [amt_d] = [segment for segment in segments if segment[:2] == ("AMT", "D")]
    assert Decimal(amt_d[2]) == Decimal(acme_payment["paid"])
    [svd] = [segment for segment in segments if segment[0] == "SVD"]
    assert (svd[1], Decimal(svd[2])) == ("ACME01", Decimal(acme_payment["paid"]))
    assert any(segment[:2] == ("DTP", "573") for segment in segments)
    copays = [Decimal(segment[3]) for segment in segments if segment[:3] == ("CAS", "PR", "3")]
    assert copays == [Decimal(acme_payment["patient_responsibility"])]  # Acme's copay, what it left the patient

    assert (posted["claim_status"], posted["payer_id"]) == ("2", "MCAID1")
    assert any((a["group"], a["reason"]) == ("OA", "23") for a in posted["adjustments"])
    assert Decimal(posted["paid"]) > 0
    assert secondary_closed[-1]["reason"] in ("moved_to_patient", "paid_in_full")
    [medicaid_payment] = secondary["adjudications"]
    assert medicaid_payment["payment_id"] == posted["payment_id"]

    # Collections: both payers' money posted (Medicaid's OA-23 restating Acme's is not posted again), and the
    # patient owes what the last payer left.
    paid_by_both = Decimal(acme_payment["paid"]) + Decimal(medicaid_payment["paid"])
    visit = await settled_visit(local, patient_id, encounter_id, paid_by_both)
    owed = Decimal(medicaid_payment["patient_responsibility"])
    assert (Decimal(visit["balance"]), visit["status"]) == (owed, "patient_due" if owed else "settled")
