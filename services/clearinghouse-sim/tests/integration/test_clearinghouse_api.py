"""The simulator over HTTP, as the platform's services call it: 270 → 271 for each member convention,
837P → 999, 277CA in the mailbox and, after a payment run, 835s that balance; 276 → 277; the API key;
unreadable X12, or an upload failing part-way, changing nothing; a large upload read off the event loop
and taken on it; the same batch sent twice adjudicated once; corrected, replacement and void claims; a
dependant's own accumulators."""

from __future__ import annotations

import threading
from decimal import Decimal

import httpx
import pytest

from rcm_clearinghouse_sim.bootstrap import Simulator, bootstrap
from rcm_clearinghouse_sim.config import ClearinghouseSettings
from rcm_clearinghouse_sim.entrypoints import api
from rcm_clearinghouse_sim.service_layer import clearinghouse
from rcm_clearinghouse_sim.testing import CHILD, X12, Clock, large_claim_batch, quiet_config
from rcm_common.offload import LARGE_X12_BYTES
from rcm_x12.acknowledgment_reader import read_acknowledgments
from rcm_x12.claim_status_reader import ClaimStatus, read_claim_statuses
from rcm_x12.eligibility_response_reader import Member, read_eligibility
from rcm_x12.professional_claim_writer import Dependent, ServiceLine
from rcm_x12.remittance_reader import Remittance, read_remittances
from rcm_x12.testing import assert_accepted_by_pyx12


async def _mailbox(client: httpx.AsyncClient, kind: str) -> list[str]:
    listing = (await client.get("/mailbox")).json()["files"]
    return [(await client.get(f"/mailbox/{f['id']}")).text for f in listing if f["kind"] == kind]


async def _paid(client: httpx.AsyncClient) -> list[Remittance]:
    run = await client.post("/payment-runs")
    assert run.status_code == 200
    texts = [(await client.get(f"/mailbox/{file_id}")).text for file_id in run.json()["files"]]
    return [remittance for text in texts for remittance in read_remittances(text)]


async def _acknowledged(client: httpx.AsyncClient) -> list[ClaimStatus]:
    """Every claim of every 277CA in the mailbox, oldest first."""
    texts = await _mailbox(client, "277CA")
    return [claim for text in texts for ca in read_claim_statuses(text) for claim in ca.claims]


def _rejection(claim: ClaimStatus) -> list[tuple[str, str]]:
    return [(code.category, code.status) for code in claim.statuses[0].codes]


async def _status(client: httpx.AsyncClient, x12: X12, claim_id: str) -> tuple[str, str]:
    [code, *_] = (await _claim_status(client, x12, claim_id)).statuses[0].codes
    return code.category, code.status


async def _claim_status(client: httpx.AsyncClient, x12: X12, claim_id: str) -> ClaimStatus:
    [response] = read_claim_statuses((await client.post("/x12/claim-status", content=x12.status(claim_id))).text)
    return response.claims[0]


async def _deductible_left_now(client: httpx.AsyncClient, x12: X12) -> Decimal | None:
    [answer] = read_eligibility((await client.post("/x12/eligibility", content=x12.inquiry())).text)
    return _deductible_left(answer.subscribers[0])


def _deductible_left(member: Member) -> Decimal | None:
    return next(b.amount for b in member.benefits if (b.code, b.time_period) == ("C", "29"))


async def test_an_active_member_gets_benefits_with_the_trace_echoed(client: httpx.AsyncClient, x12: X12) -> None:
    response = await client.post("/x12/eligibility", content=x12.inquiry(service_types=("30", "98")))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/edi-x12")
    [answer] = read_eligibility(response.text)
    [member] = answer.subscribers
    assert (member.active, member.trace_numbers, member.plan_begin.isoformat() if member.plan_begin else None) == (
        True, [("TRACE-1", "9ACMEBILL")], "2025-01-01"
    )  # fmt: skip
    assert (member.benefits[0].code, member.benefits[0].service_types) == ("1", ("30", "98"))
    benefits = {(b.code, b.time_period): b for b in member.benefits}
    assert benefits[("C", "29")].amount == Decimal("1500.00")
    assert benefits[("B", "27")].amount == Decimal("25.00")
    assert any(b.authorization_required for b in member.benefits)


@pytest.mark.parametrize(
    ("member_id", "payer", "level", "code"),
    [
        ("NOTFOUND1", "ACME01", "subscriber", "72"),
        ("DOWN1", "ACME01", "source", "42"),
        ("W1", "NOSUCH", "source", "79"),
    ],
)
async def test_the_error_conventions(
    client: httpx.AsyncClient, x12: X12, member_id: str, payer: str, level: str, code: str
) -> None:
    [answer] = read_eligibility((await client.post("/x12/eligibility", content=x12.inquiry(member_id, payer))).text)

    errors = answer.errors + [error for member in answer.subscribers for error in member.errors]
    assert [(e.level, e.code) for e in errors] == [(level, code)]


async def test_a_terminated_member_is_inactive_before_the_date_of_service(client: httpx.AsyncClient, x12: X12) -> None:
    [answer] = read_eligibility((await client.post("/x12/eligibility", content=x12.inquiry("TERM1"))).text)

    [member] = answer.subscribers
    assert member.active is False
    assert member.plan_end is not None
    assert member.plan_end.isoformat() == "2026-01-31"


async def test_a_batch_is_acknowledged_adjudicated_and_paid(client: httpx.AsyncClient, x12: X12) -> None:
    batch = x12.batch(
        x12.claim("PCN1", x12.line("99214", "200.00"), x12.line("70551", "900.00")),
        x12.claim("PCN2", x12.line("G0439", "180.00")),
    )
    response = await client.post("/x12/claims", content=batch)

    assert response.status_code == 200
    assert response.headers["x-batch-id"] == "B000001"
    [ack] = read_acknowledgments(response.text).implementation
    assert (ack.code, ack.sets_accepted) == ("A", 1)
    assert_accepted_by_pyx12(response.text)
    [ca_text] = await _mailbox(client, "277CA")
    assert_accepted_by_pyx12(ca_text)
    [ca] = read_claim_statuses(ca_text)
    assert [(c.patient_control_number, c.accepted) for c in ca.claims] == [("PCN1", True), ("PCN2", True)]

    [remittance] = await _paid(client)

    assert remittance.balance_problems() == []
    claims = {claim.claim_id: claim for claim in remittance.claims}
    first = claims["PCN1"]
    assert (first.status, first.payer_claim_number) == ("1", ca.claims[0].payer_claim_number)
    assert [[(a.group, a.reason) for a in line.adjustments] for line in first.lines] == [
        [("CO", "45"), ("PR", "3")], [("CO", "197")]
    ]  # fmt: skip
    assert (claims["PCN2"].status, claims["PCN2"].lines[0].remarks[0].code) == ("4", "N130")
    assert_accepted_by_pyx12(
        (await client.get(f"/mailbox/{(await client.get('/mailbox')).json()['files'][-1]['id']}")).text
    )


async def test_front_end_rejections_never_reach_an_835(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch(member_id="NOTFOUND42"))

    [ca_text] = await _mailbox(client, "277CA")
    [claim] = read_claim_statuses(ca_text)[0].claims
    assert claim.accepted is False
    assert [(c.category, c.status, c.entity) for c in claim.statuses[0].codes] == [("A3", "33", "IL")]
    assert (await client.post("/payment-runs")).json() == {"files": []}


async def test_the_same_batch_twice_is_answered_alike_and_adjudicated_once(client: httpx.AsyncClient, x12: X12) -> None:
    batch = x12.batch(control=777)

    first = await client.post("/x12/claims", content=batch)
    again = await client.post("/x12/claims", content=batch)

    assert (again.text, again.headers["x-batch-id"]) == (first.text, first.headers["x-batch-id"])
    assert len(await _mailbox(client, "277CA")) == 1
    [remittance] = await _paid(client)
    assert len(remittance.claims) == 1


async def test_the_same_claims_in_a_new_batch_are_duplicates(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch())
    await client.post("/x12/claims", content=x12.batch())

    remittances = await _paid(client)

    [first, second] = [claim for r in remittances for claim in r.claims]
    assert first.lines[0].adjustments[0].reason == "45"
    assert [(a.group, a.reason) for a in second.lines[0].adjustments] == [("CO", "18")]


async def test_a_structurally_broken_batch_is_rejected_in_the_999(client: httpx.AsyncClient, x12: X12) -> None:
    broken = x12.batch().replace("SV1*HC:", "SV1*XX:")

    response = await client.post("/x12/claims", content=broken)

    [ack] = read_acknowledgments(response.text).implementation
    [set_response] = ack.responses
    assert (ack.code, set_response.segment_errors[0].segment_id, set_response.segment_errors[0].code) == (
        "R",
        "SV1",
        "8",
    )
    assert (await client.get("/mailbox")).json() == {"files": []}


async def test_claim_status_follows_the_claim(client: httpx.AsyncClient, x12: X12) -> None:
    assert await _status(client, x12, "PCN1") == ("A4", "35")
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", x12.line("20610")), member_id="W2", control=5))
    assert await _status(client, x12, "PCN1") == ("P1", "20")
    await _paid(client)
    [paid] = read_claim_statuses((await client.post("/x12/claim-status", content=x12.status("PCN1"))).text)
    final = paid.claims[0].statuses[0]
    assert (final.codes[0].category, final.check_number) == ("F4", "ACME0100000001")  # all to the deductible


async def test_a_payment_run_pays_each_claim_once(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch(payer="MCAID1"))

    [remittance] = await _paid(client)

    assert remittance.payment.method == "CHK"
    assert remittance.claims[0].paid > 0
    assert (await client.post("/payment-runs")).json() == {"files": []}


async def test_the_api_key_is_required(client: httpx.AsyncClient, x12: X12) -> None:
    for method, path in (
        ("POST", "/x12/eligibility"),
        ("GET", "/mailbox"),
        ("GET", "/faults"),
        ("POST", "/payment-runs"),
    ):
        response = await client.request(method, path, headers={"X-Api-Key": "wrong"}, content=x12.inquiry())
        assert (response.status_code, response.headers["content-type"]) == (401, "application/problem+json")
    assert (await client.get("/healthz", headers={"X-Api-Key": ""})).status_code == 200


async def test_unreadable_x12_is_a_400_that_changes_nothing(client: httpx.AsyncClient, simulator: Simulator) -> None:
    response = await client.post("/x12/claims", content=b"ISA*00*SECRET-MEMBER~")

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "SECRET" not in response.text
    assert "ISA" in response.json()["detail"]
    assert (await client.get("/mailbox")).json() == {"files": []}
    unsupported = await client.post("/x12/claims", content=b"{}", headers={"Content-Type": "application/json"})
    assert unsupported.status_code == 415


async def test_a_large_upload_is_read_beside_the_event_loop_and_taken_on_it(
    client: httpx.AsyncClient, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    on_the_loop: dict[str, bool] = {}
    read, take = clearinghouse.read_upload, simulator.clearinghouse.take_upload

    def watched_read(data: bytes) -> list[clearinghouse.ReadInterchange]:
        on_the_loop["read"] = threading.get_ident() == loop_thread
        return read(data)

    def watched_take(upload: list[clearinghouse.ReadInterchange]) -> clearinghouse.Submission:
        on_the_loop["take"] = threading.get_ident() == loop_thread
        return take(upload)

    monkeypatch.setattr(api, "read_upload", watched_read)
    monkeypatch.setattr(simulator.clearinghouse, "take_upload", watched_take)
    batch = large_claim_batch(300)
    assert len(batch) >= LARGE_X12_BYTES

    response = await client.post("/x12/claims", content=batch)

    assert response.status_code == 200
    assert on_the_loop == {"read": False, "take": True}  # the ledger is changed on the loop alone
    assert len(await _acknowledged(client)) == 300
    unreadable = await client.post("/x12/claims", content=b"ISA*00*SECRET-MEMBER~" + b" " * LARGE_X12_BYTES)
    assert unreadable.status_code == 400
    assert "SECRET" not in unreadable.text


async def test_mailbox_files_are_picked_up_and_deleted(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch())
    [entry] = (await client.get("/mailbox")).json()["files"]

    assert (entry["kind"], entry["payer_id"], entry["created_at"]) == ("277CA", "ACME01", "2026-03-10T12:00:00Z")
    assert entry["size"] == len((await client.get(f"/mailbox/{entry['id']}")).content)
    assert (await client.delete(f"/mailbox/{entry['id']}")).status_code == 204
    assert (await client.get(f"/mailbox/{entry['id']}")).status_code == 404
    assert (await client.delete(f"/mailbox/{entry['id']}")).status_code == 404


async def test_the_same_seed_writes_the_same_835(x12: X12) -> None:
    def paid_once() -> str:
        sim = bootstrap(ClearinghouseSettings(environment="test"), config=quiet_config(), clock=Clock())
        sim.clearinghouse.submit(X12().batch(x12.claim("PCN1", x12.line("99214", "200.00"))).encode())
        [file_id] = sim.clearinghouse.run_payments(due_only=False)
        return sim.clearinghouse.mailbox.get(file_id).content

    assert paid_once() == paid_once()


async def test_a_known_interchange_sent_with_a_new_one_is_not_adjudicated_again(
    client: httpx.AsyncClient, x12: X12
) -> None:
    first = x12.batch(x12.claim("PCN1"), control=11)
    second = x12.batch(x12.claim("PCN2", x12.line("99214", "200.00")), control=12)

    alone = await client.post("/x12/claims", content=first)
    both = await client.post("/x12/claims", content=first + second)

    assert both.text.startswith(alone.text)
    assert (alone.headers["x-batch-id"], both.headers["x-batch-id"]) == ("B000001", "B000002")
    assert [claim.patient_control_number for claim in await _acknowledged(client)] == ["PCN1", "PCN2"]
    remittances = await _paid(client)
    assert [(claim.claim_id, claim.status) for r in remittances for claim in r.claims] == [("PCN1", "1"), ("PCN2", "1")]
    assert await _status(client, x12, "PCN1") == ("F1", "65")


async def test_a_claim_denied_for_its_diagnosis_is_paid_once_corrected(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", diagnoses=("4779",))))
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1")))

    [denied, paid] = [claim for r in await _paid(client) for claim in r.claims]

    assert [(a.group, a.reason) for a in denied.lines[0].adjustments] == [("CO", "16")]
    assert (paid.status, [(a.group, a.reason) for a in paid.lines[0].adjustments]) == ("1", [("CO", "45"), ("PR", "3")])


async def test_a_replacement_takes_the_place_of_a_claim_not_yet_paid(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", x12.line("20610"))))
    [original] = await _acknowledged(client)
    replacement = x12.claim("PCN1", x12.line("20610"), frequency="7", payer_claim_number=original.payer_claim_number)

    await client.post("/x12/claims", content=x12.batch(replacement))

    [_, replaced] = await _acknowledged(client)
    assert replaced.accepted
    [paid] = [claim for r in await _paid(client) for claim in r.claims]
    assert paid.payer_claim_number == replaced.payer_claim_number != original.payer_claim_number
    assert [(a.group, a.reason) for a in paid.lines[0].adjustments] == [("CO", "45"), ("PR", "1")]
    [answer] = read_eligibility((await client.post("/x12/eligibility", content=x12.inquiry())).text)
    assert _deductible_left(answer.subscribers[0]) == Decimal("1417.78")  # 1500 less one 82.22, not two


async def test_a_void_withdraws_a_claim_not_yet_paid(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", x12.line("20610"))))
    [original] = await _acknowledged(client)
    assert await _deductible_left_now(client, x12) == Decimal("1417.78")  # 20610 allowed 82.22
    void = x12.claim("PCN2", x12.line("20610"), frequency="8", payer_claim_number=original.payer_claim_number)

    await client.post("/x12/claims", content=x12.batch(void))

    [_, voided] = await _acknowledged(client)
    assert voided.accepted
    assert voided.payer_claim_number not in ("", original.payer_claim_number)
    assert await _deductible_left_now(client, x12) == Decimal("1500.00")  # given back, and the void bills nothing
    assert await _paid(client) == []  # neither the original nor the void
    status = await _claim_status(client, x12, "PCN1")
    assert status.payer_claim_number == voided.payer_claim_number
    assert [(c.category, c.status) for c in status.statuses[0].codes] == [("P1", "20")]


async def test_a_voided_claims_lines_may_be_billed_again(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", x12.line("20610"))))
    [original] = await _acknowledged(client)
    void = x12.claim("PCN2", x12.line("20610"), frequency="8", payer_claim_number=original.payer_claim_number)
    await client.post("/x12/claims", content=x12.batch(void))

    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN3", x12.line("20610"))))

    [paid] = [claim for r in await _paid(client) for claim in r.claims]
    assert paid.claim_id == "PCN3"
    assert [(a.group, a.reason) for a in paid.lines[0].adjustments] == [("CO", "45"), ("PR", "1")]  # not CO-18
    assert await _deductible_left_now(client, x12) == Decimal("1417.78")  # 1500 less one 82.22, not two


async def test_a_void_must_name_a_claim_open_to_voiding(client: httpx.AsyncClient, x12: X12) -> None:
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", x12.line("20610"))))
    [original] = await _acknowledged(client)
    number = original.payer_claim_number
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN2", frequency="8", payer_claim_number=number)))
    [_, first_void] = await _acknowledged(client)

    voids = (
        x12.claim("UNKNOWN", frequency="8", payer_claim_number="ACME019999999999"),
        x12.claim("AGAIN", frequency="8", payer_claim_number=number),
        x12.claim("OFVOID", frequency="8", payer_claim_number=first_void.payer_claim_number),
    )
    await client.post("/x12/claims", content=x12.batch(*voids))
    await client.post(
        "/x12/claims", content=x12.batch(x12.claim("OTHER", frequency="8", payer_claim_number=number), payer="MCAID1")
    )

    [_, _, *rejected] = await _acknowledged(client)
    assert [(c.patient_control_number, c.accepted, _rejection(c)) for c in rejected] == [
        (claim_id, False, [("A7", "464")]) for claim_id in ("UNKNOWN", "AGAIN", "OFVOID", "OTHER")
    ]
    assert await _paid(client) == []


@pytest.mark.parametrize(
    ("line", "codes"),
    [
        (X12.line(charge="-150.00"), [("A7", "402"), ("A7", "178")]),
        (X12.line(units="0"), [("A7", "476")]),
    ],
    ids=["negative-charge", "zero-units"],
)
async def test_a_charge_or_units_not_above_zero_is_rejected_on_the_277ca(
    client: httpx.AsyncClient, x12: X12, line: ServiceLine, codes: list[tuple[str, str]]
) -> None:
    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", line)))

    [claim] = await _acknowledged(client)
    assert (claim.accepted, _rejection(claim)) == (False, codes)
    assert await _paid(client) == []


async def test_a_dependant_has_accumulators_of_their_own(client: httpx.AsyncClient, x12: X12) -> None:
    async def deductible_left(dependent: bool) -> Decimal | None:
        inquiry = x12.inquiry(dependent=CHILD if dependent else None)
        [answer] = read_eligibility((await client.post("/x12/eligibility", content=inquiry)).text)
        [subscriber] = answer.subscribers
        return _deductible_left(subscriber.dependants[0] if dependent else subscriber)

    await client.post("/x12/claims", content=x12.batch(x12.claim("PCN1", x12.line("20610"))))
    assert (await deductible_left(False), await deductible_left(True)) == (Decimal("1417.78"), Decimal("1500.00"))

    child_claim = x12.claim("PCN2", x12.line("20610"))
    await client.post("/x12/claims", content=x12.batch(child_claim, dependent=Dependent(CHILD, "19")))

    assert (await deductible_left(False), await deductible_left(True)) == (Decimal("1417.78"), Decimal("1417.78"))
    [_, child] = [claim for r in await _paid(client) for claim in r.claims]
    assert [(a.group, a.reason) for a in child.lines[0].adjustments] == [("CO", "45"), ("PR", "1")]  # not CO-18


async def test_an_upload_failing_part_way_is_a_400_that_changes_nothing(
    client: httpx.AsyncClient, x12: X12, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> str:
        raise ValueError("a value such as SECRET-MEMBER cannot be written")

    batch = x12.batch(control=31)
    monkeypatch.setattr(clearinghouse, "write_277ca", refuse)
    failed = await client.post("/x12/claims", content=batch)
    monkeypatch.undo()

    assert (failed.status_code, failed.headers["content-type"]) == (400, "application/problem+json")
    assert "SECRET" not in failed.text
    again = await client.post("/x12/claims", content=batch)
    assert again.headers["x-batch-id"] == "B000001"
    assert [claim.accepted for claim in await _acknowledged(client)] == [True]
    assert len([claim for r in await _paid(client) for claim in r.claims]) == 1


async def test_every_270_of_an_upload_is_answered(client: httpx.AsyncClient, x12: X12) -> None:
    response = await client.post("/x12/eligibility", content=x12.inquiry("W1") + x12.inquiry("TERM1"))

    answers = read_eligibility(response.text)
    assert [member.active for answer in answers for member in answer.subscribers] == [True, False]


async def test_a_bare_transaction_set_is_refused_as_no_interchange(client: httpx.AsyncClient) -> None:
    refused = await client.post(
        "/x12/claims",
        content=b"ST*837*0001*005010X222A1~BHT*0019*00*1*20260310*1200*CH~SE*3*0001~",
    )

    assert refused.status_code == 400
    assert "does not begin with an ISA segment" in refused.json()["detail"]
