"""End to end: registration, eligibility, charge, claim, remittance and the clearinghouse simulator as their own
processes beside the embedded broker. A visit captured over HTTP becomes a claim, the simulator adjudicates it
and, a few seconds later, leaves an 835 in its mailbox; remittance takes it, posts it to the claim and each of
its lines, and says so on the broker.

- An Acme patient's 99214 is paid: PaymentPosted with the patient's share split, matched to the claim and
  each line; the claim hears it and is paid, then closed with the copay moved to the patient.
- An MRI (72148, which Acme authorises in advance) sent under a biller's override of the authorisation rule is
  denied by the payer: ClaimDenied, CO-197, category authorisation, with the step to take; the claim is
  denied with the denial in words on it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Final

import pytest

from rcm_clearinghouse_sim.config import ClearinghouseSettings, load_config
from rcm_common.topics import REMITTANCE_EVENTS
from rcm_tools.end_to_end import (
    capture,
    change_claim,
    claim_of,
    client,
    denying_none_at_random,
    events_until,
    member_id,
    register,
    revenue_cycle_stack,
)
from rcm_tools.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

OLIVE: Final = {
    "first_name": "Olive",
    "last_name": "Thorne",
    "birth_date": "1966-09-02",
    "sex": "F",
    "address": {"line1": "12 Mill St", "city": "Montpelier", "state": "VT", "postal_code": "05602"},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, str]]:
    # The payer denies nothing at random: the first test's visit is paid, whatever member id it draws.
    paying = denying_none_at_random(load_config(ClearinghouseSettings(environment="test")))
    with revenue_cycle_stack(tmp_path_factory.mktemp("stack"), simulator=paying) as running:
        yield running


async def payments_of(local: LocalStack, claim_id: str, within: float = 45) -> list[dict[str, Any]]:
    """The claim's payments as remittance posted them, once there is one."""
    async with client(local, "remittance", "biller") as biller, asyncio.timeout(within):
        while True:
            payments: list[dict[str, Any]] = (await biller.get("/payments", params={"claim_id": claim_id})).json()
            if payments:
                return payments
            await asyncio.sleep(0.3)


async def claim_once(local: LocalStack, claim_id: str, states: set[str], within: float = 30) -> dict[str, Any]:
    """The claim as the claim service shows it, once it is in one of `states`."""
    async with client(local, "claim", "biller") as biller, asyncio.timeout(within):
        while True:
            claim: dict[str, Any] = (await biller.get(f"/claims/{claim_id}")).json()
            if claim["state"] in states:
                return claim
            await asyncio.sleep(0.3)


async def test_a_paid_visit_is_posted_to_its_claim_and_lines_with_the_patients_share(
    stack: tuple[LocalStack, str],
) -> None:
    local, servers = stack
    patient_id, coverage_id = await register(local, OLIVE, member_id())
    encounter_id = await capture(local, patient_id, coverage_id)
    async with client(local, "claim", "biller") as biller:
        claim = await claim_of(biller, encounter_id, "accepted")

    [payment] = await payments_of(local, claim["id"])
    events = await events_until(servers, REMITTANCE_EVENTS, claim["id"], "rcm.remittance.payment_posted", within=60)
    [posted] = events

    assert (payment["state"], payment["matched_by"]) == ("posted", "patient_control_number")
    assert payment["payer_claim_number"] == claim["payer_claim_number"]
    assert posted["payment_id"] == payment["id"]
    assert posted["patient_id"] == patient_id
    assert [line["line_control_number"] for line in posted["lines"]] == [
        line["control_number"] for line in claim["lines"]
    ]
    share = posted["patient_share"]
    assert sum(Decimal(v) for v in share.values()) == Decimal(posted["patient_responsibility"])
    assert (share["copay"], share["deductible"]) == ("25.00", "0.00")  # Acme's office visits owe the copay alone
    assert Decimal(posted["paid"]) + sum(Decimal(v) for v in posted["adjustments_by_group"].values()) == Decimal(
        posted["charge"]
    )
    heard = await claim_once(local, claim["id"], {"closed", "partially_paid"})
    steps = [
        (step["from_state"], step["to_state"]) for step in heard["timeline"] if step["from_state"] != step["to_state"]
    ]
    assert ("accepted", "paid") in steps
    assert ("paid", "closed") in steps  # the copay moves to the patient; an underpayment, if any, reopens it
    [adjudication] = heard["adjudications"]
    assert (adjudication["payment_id"], adjudication["paid"]) == (payment["id"], posted["paid"])


async def test_an_mri_sent_without_its_authorisation_is_denied_co_197_in_the_authorisation_category(
    stack: tuple[LocalStack, str],
) -> None:
    local, servers = stack
    patient_id, coverage_id = await register(local, OLIVE, member_id())
    encounter_id = await capture(
        local, patient_id, coverage_id, {"code": "72148", "units": 1, "diagnosis_pointers": [1]}, diagnoses=["M54.16"]
    )
    async with client(local, "claim", "biller") as biller:
        held = await claim_of(
            biller, encounter_id, "scrub_failed", where=lambda claim: claim["blocking_rules"] == ["PRIOR_AUTH"]
        )
        overridden = await change_claim(
            biller, held["id"], "overrides", {"rule": "PRIOR_AUTH", "reason": "retro-authorisation requested by phone"}
        )
        assert overridden.status_code == 200, overridden.text
        await claim_of(biller, encounter_id, "accepted")

    events = await events_until(servers, REMITTANCE_EVENTS, held["id"], "rcm.remittance.claim_denied", within=45)
    assert [event["type"] for event in events] == ["rcm.remittance.payment_posted", "rcm.remittance.claim_denied"]
    posted, denied = events
    assert (posted["claim_status"], posted["paid"]) == ("4", "0.00")
    assert (denied["whole_claim"], denied["category"]) == (True, "authorisation")
    [denial] = denied["denials"]
    assert (denial["group"], denial["reason"], denial["procedure_code"]) == ("CO", "197", "72148")
    assert denied["suggested_action"]
    heard = await claim_once(local, held["id"], {"denied"})
    assert heard["denial"]["category"] == "authorisation"
    assert heard["denial"]["reasons"] == ["CO-197"]
