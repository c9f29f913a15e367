"""What the payers do after paying, over HTTP: a paid claim reprocessed (reversed, CLP02 22, and paid again
on one 835), voided or replaced (reversed), interest on a late payment (AMT*I and PLB L6), an overpayment
recovered (PLB WO) and what a payment cannot cover carried forward (PLB FB); each 835 balancing, read
back by the 835 reader and accepted by pyx12; and the 277s that follow."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from rcm_clearinghouse_sim.bootstrap import Simulator, bootstrap
from rcm_clearinghouse_sim.config import ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints.app import create_app
from rcm_clearinghouse_sim.testing import API_HEADERS, X12, Clock, quiet_config, with_remittance
from rcm_x12.claim_status_reader import ClaimStatus, read_claim_statuses
from rcm_x12.eligibility_response_reader import read_eligibility
from rcm_x12.professional_claim_writer import OtherCoverage
from rcm_x12.remittance_reader import Adjustment, Claim, ProviderAdjustment, Remittance, read_remittances
from rcm_x12.testing import assert_accepted_by_pyx12
from rcm_x12.writer import Payer

D = Decimal
BILLING_NPI = "1234567893"
YEAR_END = date(2026, 12, 31)  # PLB02: the guide's default when the payer does not know the fiscal year
DAY = 24 * 3600


async def _paid(client: httpx.AsyncClient) -> list[Remittance]:
    """A payment run's 835s, each checked: it balances, and pyx12 accepts it."""
    run = await client.post("/payment-runs")
    assert run.status_code == 200
    texts = [(await client.get(f"/mailbox/{file_id}")).text for file_id in run.json()["files"]]
    for text in texts:
        assert_accepted_by_pyx12(text)
    remittances = [remittance for text in texts for remittance in read_remittances(text)]
    assert [r.balance_problems() for r in remittances] == [[] for _ in remittances]
    return remittances


async def _post(client: httpx.AsyncClient, path: str, body: dict[str, str] | None = None) -> httpx.Response:
    """A JSON request (the client sends X12 by default), or one with no body."""
    if body is None:
        return await client.post(path, headers={"Content-Type": "application/json"})
    return await client.post(path, json=body, headers={"Content-Type": "application/json"})


async def _pay_one(client: httpx.AsyncClient) -> Remittance:
    [remittance] = await _paid(client)
    return remittance


async def _payer_claim_number(client: httpx.AsyncClient, claim_id: str) -> str:
    """The payer claim number the 277CAs gave the claim last."""
    listing = (await client.get("/mailbox")).json()["files"]
    texts = [(await client.get(f"/mailbox/{f['id']}")).text for f in listing if f["kind"] == "277CA"]
    numbers = [
        claim.payer_claim_number
        for text in texts
        for ca in read_claim_statuses(text)
        for claim in ca.claims
        if claim.patient_control_number == claim_id and claim.accepted and claim.payer_claim_number
    ]
    return numbers[-1]


async def _claim_status(client: httpx.AsyncClient, x12: X12, claim_id: str) -> ClaimStatus:
    [response] = read_claim_statuses((await client.post("/x12/claim-status", content=x12.status(claim_id))).text)
    return response.claims[0]


def _figures(claim: Claim) -> tuple[str, str, Decimal, Decimal, Decimal]:
    return claim.claim_id, claim.status, claim.charge, claim.paid, claim.patient_responsibility


def _adjustments(claim: Claim) -> list[tuple[str, str, Decimal]]:
    return [(a.group, a.reason, a.amount) for line in claim.lines for a in line.adjustments]


def _plb(reason: str, reference: str, amount: str) -> ProviderAdjustment:
    return ProviderAdjustment(BILLING_NPI, YEAR_END, reason, reference, D(amount))


async def _submit(client: httpx.AsyncClient, batch: str) -> None:
    assert (await client.post("/x12/claims", content=batch)).status_code == 200


# ACME01 pays a 99213 billed 150.00: allowed 121.61, copay PR-3 25.00, CO-45 28.39, paid 96.61.


async def test_a_reprocessed_claim_is_reversed_and_paid_again_on_one_835(client: httpx.AsyncClient, x12: X12) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    first = await _pay_one(client)
    number = await _payer_claim_number(client, "PCN1")

    queued = await _post(
        client, f"/claims/{number}/reprocessings", {"reason": "fee schedule corrected", "allowed_change": "0.1"}
    )

    assert queued.status_code == 202
    assert queued.json() == {
        "payer_claim_number": number,
        "payer_id": "ACME01",
        "reason": "fee schedule corrected",
        "allowed_change": "0.1",
        "queued_at": "2026-03-10T12:00:00Z",
    }
    second = await _pay_one(client)
    reversed_, corrected = second.claims
    [paid] = first.claims
    assert _figures(reversed_) == ("PCN1", "22", D("-150.00"), D("-96.61"), D("-25.00"))
    assert (reversed_.payer_claim_number, corrected.payer_claim_number) == (number, number)
    assert _adjustments(reversed_) == [("CO", "45", D("-28.39")), ("PR", "3", D("-25.00"))]
    [line] = reversed_.lines
    assert (line.charge, line.paid, line.allowed, line.units_paid) == (D("-150"), D("-96.61"), D("-121.61"), D(1))
    assert line.control_number == paid.lines[0].control_number
    # allowed 121.61 + 12.16 (10%), the copay unchanged: paid 12.16 more, written off 12.16 less
    assert _figures(corrected) == ("PCN1", "1", D("150.00"), D("108.77"), D("25.00"))
    assert _adjustments(corrected) == [("CO", "45", D("16.23")), ("PR", "3", D("25.00"))]
    assert corrected.lines[0].allowed == D("133.77")
    assert (second.payment.total_paid, second.provider_adjustments) == (D("12.16"), ())
    assert await _paid(client) == []  # taken back once

    status = await _claim_status(client, x12, "PCN1")
    [code] = status.statuses[0].codes
    assert (code.category, code.status, status.statuses[0].paid, status.statuses[0].check_number) == (
        "F3", "101", D("108.77"), second.trace_number
    )  # fmt: skip


async def test_a_reprocessing_that_pays_less_carries_the_balance_to_the_next_835(
    client: httpx.AsyncClient, x12: X12
) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    await _paid(client)
    number = await _payer_claim_number(client, "PCN1")
    await _post(client, f"/claims/{number}/reprocessings", {"allowed_change": "-0.1"})

    taken = await _pay_one(client)

    assert [c.paid for c in taken.claims] == [D("-96.61"), D("84.45")]  # 12.16 less
    assert taken.provider_adjustments == (_plb("FB", taken.trace_number, "-12.16"),)
    assert (taken.payment.total_paid, taken.payment.method, taken.payment.handling_code) == (D("0"), "NON", "H")

    await _submit(client, x12.batch(x12.claim("PCN2", x12.line("99214", "200.00"))))  # pays 147.17
    later = await _pay_one(client)

    assert later.provider_adjustments == (_plb("FB", taken.trace_number, "12.16"),)
    assert later.payment.total_paid == D("135.01")


async def test_reprocessing_needs_a_paid_claim(client: httpx.AsyncClient, x12: X12) -> None:
    assert (await _post(client, "/claims/ACME019999999999/reprocessings")).status_code == 404
    await _submit(client, x12.batch(x12.claim("PCN1")))
    number = await _payer_claim_number(client, "PCN1")
    not_paid = await _post(client, f"/claims/{number}/reprocessings")
    assert (not_paid.status_code, not_paid.headers["content-type"]) == (409, "application/problem+json")
    await _paid(client)

    bad = await _post(client, f"/claims/{number}/reprocessings", {"allowed_change": "2"})
    queued = await _post(client, f"/claims/{number}/reprocessings")  # no body: the payer's configured change
    again = await _post(client, f"/claims/{number}/reprocessings", {"reason": "again"})

    assert (bad.status_code, queued.status_code, again.status_code) == (422, 202, 409)
    assert (queued.json()["allowed_change"], queued.json()["reason"]) == ("0.05", "")
    _, corrected = (await _pay_one(client)).claims
    assert corrected.paid == D("102.69")  # 121.61 + 6.08 (5%), less the copay


async def test_a_void_of_a_paid_claim_reverses_its_payment(client: httpx.AsyncClient, x12: X12) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    await _paid(client)
    number = await _payer_claim_number(client, "PCN1")

    await _submit(client, x12.batch(x12.claim("PCN1", frequency="8", payer_claim_number=number)))

    void_number = await _payer_claim_number(client, "PCN1")
    assert void_number != number  # accepted (A1/A2) with a number of its own
    assert [(c.category, c.status) for c in (await _claim_status(client, x12, "PCN1")).statuses[0].codes] == [
        ("P1", "20")
    ]
    remittance = await _pay_one(client)
    [reversal] = remittance.claims
    assert (_figures(reversal), reversal.payer_claim_number) == (
        ("PCN1", "22", D("-150.00"), D("-96.61"), D("-25.00")), number
    )  # fmt: skip
    assert remittance.provider_adjustments == (_plb("FB", remittance.trace_number, "-96.61"),)
    assert remittance.payment.total_paid == D("0")
    status = await _claim_status(client, x12, "PCN1")
    assert [(c.category, c.status) for c in status.statuses[0].codes] == [("F3", "101")]
    assert (status.payer_claim_number, status.statuses[0].paid) == (void_number, D("0"))
    assert await _paid(client) == []  # the void itself pays nothing
    refused = await _post(client, f"/claims/{number}/reprocessings")
    assert refused.status_code == 409  # nothing of its payment is left to take back


async def test_a_void_of_a_claim_billed_to_the_patient_gives_the_deductible_back(
    client: httpx.AsyncClient, x12: X12
) -> None:
    """20610 is allowed 82.22, all to the deductible: nothing paid, but billed to the patient."""
    await _submit(client, x12.batch(x12.claim("PCN1", x12.line("20610"))))
    await _paid(client)
    number = await _payer_claim_number(client, "PCN1")

    await _submit(client, x12.batch(x12.claim("PCN9", x12.line("20610"), frequency="8", payer_claim_number=number)))

    [answer] = read_eligibility((await client.post("/x12/eligibility", content=x12.inquiry())).text)
    assert next(b.amount for b in answer.subscribers[0].benefits if (b.code, b.time_period) == ("C", "29")) == D(
        "1500.00"
    )
    remittance = await _pay_one(client)
    [reversal] = remittance.claims
    assert _figures(reversal) == ("PCN1", "22", D("-150.00"), D("0.00"), D("-82.22"))
    assert _adjustments(reversal) == [("CO", "45", D("-67.78")), ("PR", "1", D("-82.22"))]
    assert (remittance.payment.total_paid, remittance.payment.method, remittance.provider_adjustments) == (
        D("0"), "NON", ()
    )  # fmt: skip


async def test_a_replacement_of_a_paid_claim_follows_the_reversal_of_the_original(
    client: httpx.AsyncClient, x12: X12
) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    await _paid(client)
    number = await _payer_claim_number(client, "PCN1")
    replacement = x12.claim("PCN1", x12.line("99214", "200.00"), frequency="7", payer_claim_number=number)

    await _submit(client, x12.batch(replacement))

    remittance = await _pay_one(client)
    reversal, paid = remittance.claims
    assert (_figures(reversal), reversal.payer_claim_number) == (
        ("PCN1", "22", D("-150.00"), D("-96.61"), D("-25.00")), number
    )  # fmt: skip
    assert (_figures(paid), paid.frequency) == (("PCN1", "1", D("200.00"), D("147.17"), D("25.00")), "7")
    assert paid.payer_claim_number == await _payer_claim_number(client, "PCN1") != number
    assert remittance.payment.total_paid == D("50.56")
    status = await _claim_status(client, x12, "PCN1")
    assert [(c.category, c.status) for c in status.statuses[0].codes] == [("F1", "65")]


async def test_a_claim_paid_late_earns_interest(client: httpx.AsyncClient, x12: X12, clock: Clock) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    await _submit(client, x12.batch(x12.claim("PCN2", x12.line("99214", "200.00")), member_id="W2"))
    clock.advance(45 * DAY)  # 15 days past ACME01's 30

    remittance = await _pay_one(client)

    first, second = remittance.claims
    number = await _payer_claim_number(client, "PCN1")
    # 96.61 x 12% x 15 / 365 = 0.476 and 147.17 x 12% x 15 / 365 = 0.726
    assert [(a.qualifier, a.amount) for a in first.amounts] == [("I", D("0.48"))]
    assert [(a.qualifier, a.amount) for a in second.amounts] == [("I", D("0.73"))]
    assert remittance.provider_adjustments == (
        _plb("L6", number, "-0.48"),
        _plb("L6", second.payer_claim_number, "-0.73"),
    )
    assert remittance.payment.total_paid == D("96.61") + D("147.17") + D("1.21")


async def test_a_claim_paid_within_the_prompt_pay_days_earns_none(
    client: httpx.AsyncClient, x12: X12, clock: Clock
) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    clock.advance(30 * DAY)

    remittance = await _pay_one(client)

    assert (remittance.claims[0].amounts, remittance.provider_adjustments) == ((), ())


async def test_interest_after_no_days_when_configured(x12: X12, clock: Clock) -> None:
    config = with_remittance(quiet_config(), "MCAID1", interest_after_days=0)
    simulator = bootstrap(ClearinghouseSettings(environment="test"), config=config, clock=clock)
    simulator.clearinghouse.submit(x12.batch(x12.claim("PCN1", x12.line("99213", "120.00")), payer="MCAID1").encode())
    clock.advance(10 * DAY)

    [file_id] = simulator.clearinghouse.run_payments(due_only=False)

    [remittance] = read_remittances(simulator.clearinghouse.mailbox.get(file_id).content)
    # MCAID1 pays 61.86 (64.86 less the 3.00 copay): x 6% x 10 / 365 = 0.10
    assert [(a.reason, a.amount) for a in remittance.provider_adjustments] == [("L6", D("-0.10"))]
    assert remittance.payment.total_paid == D("61.96")


async def test_an_overpayment_is_recovered_from_the_next_835(client: httpx.AsyncClient, x12: X12) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    await _paid(client)
    number = await _payer_claim_number(client, "PCN1")

    queued = await _post(client, f"/claims/{number}/recoupments", {"amount": "12.34"})

    assert queued.status_code == 202
    assert queued.json() == {
        "payer_claim_number": number,
        "payer_id": "ACME01",
        "amount": "12.34",
        "queued_at": "2026-03-10T12:00:00Z",
    }
    assert await _paid(client) == []  # a recovery waits for a payment to take it from
    await _submit(client, x12.batch(x12.claim("PCN2", x12.line("99214", "200.00"))))
    remittance = await _pay_one(client)
    assert [c.claim_id for c in remittance.claims] == ["PCN2"]
    assert remittance.provider_adjustments == (_plb("WO", number, "12.34"),)
    assert remittance.payment.total_paid == D("134.83")  # 147.17 less 12.34
    await _submit(client, x12.batch(x12.claim("PCN3", x12.line("99215", "300.00"))))
    assert (await _pay_one(client)).provider_adjustments == ()  # recovered once


async def test_a_recovery_larger_than_the_payment_is_carried_forward(client: httpx.AsyncClient, x12: X12) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    await _paid(client)
    number = await _payer_claim_number(client, "PCN1")
    await _post(client, f"/claims/{number}/recoupments", {"amount": "90.00"})
    await _submit(client, x12.batch(x12.claim("PCN2", x12.line("20610"))))  # all to the deductible: pays 0

    short = await _pay_one(client)

    assert short.provider_adjustments == (_plb("WO", number, "90.00"), _plb("FB", short.trace_number, "-90.00"))
    assert short.payment.total_paid == D("0")
    await _submit(client, x12.batch(x12.claim("PCN3", x12.line("99214", "200.00"))))
    later = await _pay_one(client)
    assert later.provider_adjustments == (_plb("FB", short.trace_number, "90.00"),)
    assert later.payment.total_paid == D("57.17")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"amount": "96.62"}, 409),  # more than the claim paid
        ({"amount": "0"}, 422),
        ({"amount": "1.234"}, 422),
        ({}, 422),
        ({"amount": "96.61"}, 202),
    ],
    ids=["more-than-paid", "zero", "fraction-of-a-cent", "no-amount", "all-of-it"],
)
async def test_a_recovery_asks_for_what_the_claim_paid_at_most(
    client: httpx.AsyncClient, x12: X12, body: dict[str, str], status: int
) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    number = await _payer_claim_number(client, "PCN1")
    assert (await _post(client, f"/claims/{number}/recoupments", {"amount": "1.00"})).status_code == 409
    await _paid(client)

    assert (await _post(client, f"/claims/{number}/recoupments", body)).status_code == status
    assert (await _post(client, "/claims/ACME019999999999/recoupments", {"amount": "1.00"})).status_code == 404


async def test_recoveries_add_up_to_the_payment_at_most(client: httpx.AsyncClient, x12: X12) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1")))
    await _paid(client)
    number = await _payer_claim_number(client, "PCN1")

    first = await _post(client, f"/claims/{number}/recoupments", {"amount": "90.00"})
    too_much = await _post(client, f"/claims/{number}/recoupments", {"amount": "6.62"})
    rest = await _post(client, f"/claims/{number}/recoupments", {"amount": "6.61"})

    assert (first.status_code, too_much.status_code, rest.status_code) == (202, 409, 202)


async def test_the_payer_reprocesses_its_configured_share_of_paid_claims(x12: X12, clock: Clock) -> None:
    config = with_remittance(quiet_config(), "ACME01", reprocess_share=1.0)
    simulator = bootstrap(ClearinghouseSettings(environment="test"), config=config, clock=clock)
    transport = httpx.ASGITransport(app=create_app(simulator=simulator))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim", headers=API_HEADERS) as client:
        await _submit(client, x12.batch(x12.claim("PCN1")))
        await _submit(client, x12.batch(x12.claim("PCN2"), payer="MCAID1"))

        first = await _paid(client)
        again = await _paid(client)

        assert sorted(c.status for r in first for c in r.claims) == ["1", "1"]
        [reprocessed] = again  # ACME01's claim only: MCAID1 reprocesses none
        assert [(c.claim_id, c.status, c.paid) for c in reprocessed.claims] == [
            ("PCN1", "22", D("-96.61")),
            ("PCN1", "1", D("102.69")),  # ACME01's configured change: 5% more allowed
        ]
        assert await _paid(client) == []  # a claim paid again is not drawn again


async def test_a_reversal_waits_for_the_payment_delay_as_claims_do(
    simulator: Simulator, x12: X12, clock: Clock
) -> None:
    clearinghouse = simulator.clearinghouse
    clearinghouse.submit(x12.batch(x12.claim("PCN1")).encode())
    clearinghouse.run_payments(due_only=False)
    clearinghouse.reprocess(_only_payer_claim_number(simulator))

    assert clearinghouse.run_payments(due_only=True) == []
    clock.advance(simulator.config.payment_delay_seconds)
    [file_id] = clearinghouse.run_payments(due_only=True)
    assert [c.status for c in read_remittances(clearinghouse.mailbox.get(file_id).content)[0].claims] == ["22", "1"]


def _only_payer_claim_number(simulator: Simulator) -> str:
    """The payer claim number of the only claim the simulator has, from its 277CA."""
    [file] = [f for f in simulator.clearinghouse.mailbox.files() if f.kind == "277CA"]
    [claim] = read_claim_statuses(file.content)[0].claims
    assert claim.payer_claim_number
    return claim.payer_claim_number


# ACME01 authorises 72148 in advance: sent without an authorisation, it is denied CO-197.


async def test_an_appeal_overturned_pays_the_denied_claim_on_the_next_835(client: httpx.AsyncClient, x12: X12) -> None:
    mri = x12.line("72148", "900.00")
    await _submit(client, x12.batch(x12.claim("PCN1", mri)))
    [denied] = (await _pay_one(client)).claims
    number = await _payer_claim_number(client, "PCN1")
    assert (denied.status, _adjustments(denied)) == ("4", [("CO", "197", D("900.00"))])

    decided = await _post(client, f"/claims/{number}/appeal-decisions", {"decision": "overturned", "reason": "auth"})

    assert decided.status_code == 202
    [paid] = (await _pay_one(client)).claims  # nothing was paid: no reversal, the claim paid as decided anew
    assert (paid.claim_id, paid.status, paid.payer_claim_number) == ("PCN1", "1", number)
    # allowed 289.66, all to the new member's deductible: processed as primary, the patient's to pay
    assert _adjustments(paid) == [("CO", "45", D("610.34")), ("PR", "1", D("289.66"))]
    assert await _paid(client) == []
    again = await _post(client, f"/claims/{number}/appeal-decisions", {"decision": "overturned"})
    assert again.status_code == 409  # nothing denied any more


async def test_an_appeal_overturned_on_a_claim_paid_in_part_reverses_and_pays_it_again(
    client: httpx.AsyncClient, x12: X12
) -> None:
    await _submit(client, x12.batch(x12.claim("PCN1", x12.line("99213", "150.00"), x12.line("72148", "900.00"))))
    [partly] = (await _pay_one(client)).claims
    number = await _payer_claim_number(client, "PCN1")
    assert partly.paid == D("96.61")

    assert (await _post(client, f"/claims/{number}/appeal-decisions", {"decision": "overturned"})).status_code == 202

    reversed_, corrected = (await _pay_one(client)).claims
    assert (reversed_.status, reversed_.paid) == ("22", D("-96.61"))
    assert corrected.status == "1"
    assert corrected.lines[0] == partly.lines[0]  # the line paid before, as it was
    assert [(a.group, a.reason) for a in corrected.lines[1].adjustments] == [("CO", "45"), ("PR", "1")]


async def test_an_appeal_decision_needs_a_denial_decided_on_an_835(client: httpx.AsyncClient, x12: X12) -> None:
    assert (
        await _post(client, "/claims/ACME019999999999/appeal-decisions", {"decision": "overturned"})
    ).status_code == 404
    await _submit(client, x12.batch(x12.claim("PCN1", x12.line("72148", "900.00"))))
    number = await _payer_claim_number(client, "PCN1")
    not_yet = await _post(client, f"/claims/{number}/appeal-decisions", {"decision": "overturned"})
    upheld = await _post(client, f"/claims/{number}/appeal-decisions", {"decision": "upheld"})
    assert (not_yet.status_code, upheld.status_code) == (409, 422)


async def test_a_tertiary_claim_is_paid_after_the_secondary_not_the_primary(
    client: httpx.AsyncClient, x12: X12
) -> None:
    """The primary left the patient 50.00; the secondary paid 30.00 of that and left 20.00: the tertiary pays from
    what the secondary left (the last 2320 that adjudicated), never more."""
    day = date(2026, 3, 1)
    primary = OtherCoverage(
        x12.member(), Payer("ACME HEALTH PLAN", "ACME01"), "P", paid=D("100.00"),
        adjustments=(Adjustment("PR", "2", D("50.00")),), adjudication_date=day,
    )  # fmt: skip
    secondary = OtherCoverage(
        x12.member(), Payer("SUMMIT HEALTH", "SUMMT1"), "S", paid=D("30.00"),
        adjustments=(Adjustment("OA", "23", D("100.00")), Adjustment("PR", "2", D("20.00"))), adjudication_date=day,
    )  # fmt: skip
    tertiary = x12.claim("PCN1", other_coverage=(primary, secondary))

    await _submit(client, x12.batch(tertiary, payer="MCAID1", responsibility="T"))
    [paid] = (await _pay_one(client)).claims

    assert paid.status == "3"
    assert D("0.00") < paid.paid <= D("20.00")
    assert ("OA", "23", D("130.00")) in _adjustments(paid)  # 150.00 less the 20.00 the secondary left
