"""Collections over its real database and HTTP API, fed the upstream events as its consumers apply them: each
scenario a billing team meets, with every account's ledger verified (chain and invariant) after it."""

from __future__ import annotations

import asyncio
import csv
import io
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from rcm_collections.entrypoints.ledger_check import verify_ledgers
from rcm_collections.service_layer.handlers import Posting
from rcm_collections.testing import CollectionsApi, running_collections
from rcm_common.audit import consumer_audit
from rcm_common.events.registration import Address, Guarantor
from rcm_common.sample_events import (
    MovableClock,
    Visit,
    captured,
    claim_closed,
    claim_created,
    claim_reopened,
    claim_voided,
    denied_by_payer,
    payment_posted,
    payment_reversed,
    registered,
)

D = Decimal
CARD = "4111 1111 1111 1111"  # a test card number: refused wherever it is typed


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def api(
    tmp_path: Path, signing_keys: tuple[str, str], database_url: str, clock: MovableClock
) -> AsyncIterator[CollectionsApi]:
    async with running_collections(
        tmp_path, signing_keys, database_url, clock=clock, agency_after_statements=3, agency_after_days=45
    ) as running:
        yield running
        async with running.collections.session_factory() as session:
            verdicts = await verify_ledgers(session)
        assert all(v.ok for v in verdicts), [v for v in verdicts if not v.ok]


async def a_patient_owing(
    api: CollectionsApi, *, deductible: str = "0.00", coinsurance: str = "0.00"
) -> tuple[Visit, dict[str, Any]]:
    """A registered patient whose visit's claim the payer paid, leaving the patient a deductible and coinsurance."""
    patient = registered()
    visit = Visit(patient.patient_id)
    paid = D("120.00") - D(deductible) - D(coinsurance)
    posted = payment_posted(visit, paid=str(paid), contractual="30.00", deductible=deductible, coinsurance=coinsurance)
    await api.feed(patient, captured(visit), claim_created(visit), posted, claim_closed(visit, posted.payment_id))
    return visit, await api.account_of(visit.patient_id)


async def test_the_835s_deductible_and_coinsurance_become_patient_due_and_a_statement_pdf_renders(
    api: CollectionsApi, tmp_path: Path
) -> None:
    patient = registered()
    visit = Visit(patient.patient_id)
    posted = payment_posted(visit, paid="70.00", contractual="30.00", deductible="40.00", coinsurance="10.00")
    await api.feed(patient, captured(visit), claim_created(visit), posted)
    pending = await api.account_of(visit.patient_id)
    assert (pending["insurance_pending"], pending["patient_due"]) == ("50.00", "0.00")  # the claim is still open
    await api.feed(claim_closed(visit, posted.payment_id))
    account = await api.account_of(visit.patient_id)
    assert (account["insurance_pending"], account["patient_due"]) == ("0.00", "50.00")
    assert account["visits"][0]["patient_share"] == {
        "deductible": "40.00", "coinsurance": "10.00", "copay": "0.00", "other": "0.00"
    }  # fmt: skip
    assert account["terms"] == {
        "charges": "150.00", "insurance_payments": "70.00", "adjustments": "30.00", "patient_payments": "0.00",
        "write_offs": "0.00", "refunds": "0.00", "balance": "50.00",
    }  # fmt: skip

    sent = await api.client.post(f"/accounts/{account['id']}/statements", headers=api.auth())
    assert sent.status_code == 201, sent.text
    statement = sent.json()
    assert (statement["amount_due"], statement["dunning_level"]) == ("50.00", 1)
    assert statement["addressee"]["name"] == "Jane Doe"
    pdf = await api.client.get(f"/statements/{statement['id']}.pdf", headers=api.auth())
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    (tmp_path / "statement.pdf").write_bytes(pdf.content)
    pdf_file = tmp_path / "statement.pdf"
    await asyncio.to_thread(
        run, "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf_file), str(tmp_path / "page")
    )
    assert (tmp_path / "page-1.png").stat().st_size > 10_000
    text = await asyncio.to_thread(run, "pdftotext", "-layout", str(pdf_file), "-")
    assert "$50.00" in text
    assert "Jane Doe" in text
    again = await api.client.post(f"/accounts/{account['id']}/statements", headers=api.auth())
    assert again.status_code == 409  # never more often than the cycle
    assert len(await api.published("rcm.collections.statement_issued")) == 1


async def test_a_payment_plan_pays_the_balance_to_zero_over_its_installments(
    api: CollectionsApi, clock: MovableClock
) -> None:
    _, account = await a_patient_owing(api, deductible="60.00")
    made = await api.client.post(
        f"/accounts/{account['id']}/payment-plans", headers=api.auth(idempotency_key="plan-1"),
        json={"months": 3, "first_due_on": str(clock().date())},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert [i["amount"] for i in made.json()["installments"]] == ["20.00", "20.00", "20.00"]
    for month in range(3):
        paid = await api.client.post(
            "/payments", headers=api.auth("front_desk", idempotency_key=f"installment-{month}"),
            json={"account_id": account["id"], "amount": "20.00", "method": "card", "processor_reference": f"c{month}"},
        )  # fmt: skip
        assert paid.status_code == 201, paid.text
        clock.advance(30)
    done = await api.client.get(f"/accounts/{account['id']}", headers=api.auth())
    assert done.json()["patient_due"] == "0.00"
    assert done.json()["plans"][0]["state"] == "completed"
    assert [p["plan_id"] for p in await api.published("rcm.collections.payment_plan_created")] == [made.json()["id"]]


async def test_a_copay_at_the_visit_and_the_835s_pr3_for_it_are_not_billed_twice(api: CollectionsApi) -> None:
    patient = registered()
    visit = Visit(patient.patient_id)
    await api.feed(patient)
    copay = await api.client.post(
        "/payments", headers=api.auth("front_desk", idempotency_key="copay-1"),
        json={"patient_id": str(patient.patient_id), "encounter_id": str(visit.encounter_id), "at_visit": True,
              "amount": "25.00", "method": "card", "processor_reference": "ch_3Nx"},
    )  # fmt: skip
    assert copay.status_code == 201, copay.text
    posted = payment_posted(visit, paid="95.00", contractual="30.00", copay="25.00")
    await api.feed(captured(visit), claim_created(visit), posted, claim_closed(visit, posted.payment_id))
    account = await api.account_of(visit.patient_id)
    assert (account["patient_due"], account["credit"], account["insurance_pending"]) == ("0.00", "0.00", "0.00")
    assert account["visits"][0]["patient_share"]["copay"] == "25.00"
    assert account["visits"][0]["patient_paid"] == "25.00"


async def test_an_overpayment_becomes_credit_and_its_refund_needs_a_collectors_approval(api: CollectionsApi) -> None:
    _, account = await a_patient_owing(api, coinsurance="40.00")
    paid = await api.client.post(
        "/payments", headers=api.auth("biller", idempotency_key="over-1"),
        json={"account_id": account["id"], "amount": "65.00", "method": "check", "processor_reference": "chk 1042"},
    )  # fmt: skip
    assert paid.json()["to_credit"] == "25.00"
    asked = await api.client.post(
        "/refunds", headers=api.auth("biller", subject="biller-ann", idempotency_key="refund-1"),
        json={"account_id": account["id"], "amount": "25.00", "method": "check", "reason": "paid twice"},
    )  # fmt: skip
    assert asked.status_code == 201
    assert asked.json()["state"] == "requested"
    refund_id = asked.json()["id"]
    assert (await api.client.post(
        f"/refunds/{refund_id}/decision", headers=api.auth("biller", subject="biller-bo"), json={"approve": True}
    )).status_code == 403  # fmt: skip
    assert not await api.published("rcm.collections.refund_issued")
    decided = await api.client.post(
        f"/refunds/{refund_id}/decision", headers=api.auth("collector", subject="collector-cy"), json={"approve": True}
    )
    assert decided.status_code == 200
    assert decided.json()["state"] == "approved"
    [issued] = await api.published("rcm.collections.refund_issued")
    assert (issued["amount"], issued["refund_id"]) == ("25.00", refund_id)
    after = await api.account_of(uuid.UUID(account["patients"][0]))
    assert (after["credit"], after["terms"]["refunds"]) == ("0.00", "25.00")


async def test_an_account_past_due_goes_to_the_agency_its_statements_stop_and_a_recall_restores_them(
    api: CollectionsApi, clock: MovableClock
) -> None:
    _, account = await a_patient_owing(api, deductible="80.00")
    for day in (0, 30, 30):  # a first notice, a second, the final notice, a cycle apart
        clock.advance(day)
        report = (await api.client.post("/cycle-runs", headers=api.auth())).json()
        assert report["statements_issued"] == 1
    notices = [s["dunning_level"] for s in await api.published("rcm.collections.statement_issued")]
    assert notices == [1, 2, 3]
    clock.advance(20)
    assert (await api.client.post("/cycle-runs", headers=api.auth())).json()["placed_with_agency"] == 0
    clock.advance(1)  # 81 days past due: the final notice's due date (21 days) has passed
    report = (await api.client.post("/cycle-runs", headers=api.auth())).json()
    assert (report["placed_with_agency"], report["statements_issued"]) == (1, 0)
    [placed] = await api.published("rcm.collections.account_placed_with_agency")
    assert (placed["account_id"], placed["amount"]) == (account["id"], "80.00")
    export = await api.client.get("/placements/export.csv", headers=api.auth())
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["account_id"], r["amount_placed"], r["guarantor_name"], r["statements_sent"]) for r in rows] == [
        (account["id"], "80.00", "Jane Doe", "3")
    ]
    assert rows[0]["address_line1"] == "12 Elm St"
    assert rows[0]["oldest_service_date"] == "2026-11-02"
    clock.advance(40)
    assert (await api.client.post("/cycle-runs", headers=api.auth())).json()["statements_issued"] == 0
    agency = await api.client.post(
        f"/accounts/{account['id']}/agency-payments", headers=api.auth(idempotency_key="agency-1"),
        json={"amount": "30.00", "agency_fee": "9.00"},
    )  # fmt: skip
    assert agency.status_code == 201
    assert agency.json()["agency_fee"] == "9.00"
    recalled = await api.client.post(
        f"/accounts/{account['id']}/recall",
        headers=api.auth(),
        json={"reason": "payment_arranged", "note": "the patient called to arrange payment"},
    )
    assert recalled.status_code == 200
    assert recalled.json()["collected"] == "30.00"
    assert (await api.client.post("/cycle-runs", headers=api.auth())).json()["statements_issued"] == 1
    assert len(await api.published("rcm.collections.account_recalled")) == 1


async def test_a_reversal_moves_the_balance_back_from_patient_due_and_the_next_statement_shows_it(
    api: CollectionsApi, clock: MovableClock
) -> None:
    patient = registered()
    visit = Visit(patient.patient_id)
    first = payment_posted(visit, paid="80.00", contractual="30.00", coinsurance="40.00")
    await api.feed(patient, captured(visit), claim_created(visit), first, claim_closed(visit, first.payment_id))
    account = await api.account_of(visit.patient_id)
    statement = (await api.client.post(f"/accounts/{account['id']}/statements", headers=api.auth())).json()
    assert statement["amount_due"] == "40.00"
    await api.feed(payment_reversed(first), claim_reopened(visit))
    reversed_ = await api.account_of(visit.patient_id)
    assert (reversed_["insurance_pending"], reversed_["patient_due"]) == ("150.00", "0.00")
    corrected = payment_posted(visit, paid="95.00", contractual="30.00", coinsurance="25.00")
    await api.feed(corrected, claim_closed(visit, corrected.payment_id))
    clock.advance(30)
    second = (await api.client.post(f"/accounts/{account['id']}/statements", headers=api.auth())).json()
    assert (second["amount_due"], second["lines"][0]["insurance_paid"]) == ("25.00", "95.00")
    balances = await api.published("rcm.collections.patient_balance_changed")
    assert [(b["insurance_pending"], b["patient_due"]) for b in balances][-3:] == [
        ("150.00", "0.00"), ("25.00", "0.00"), ("0.00", "25.00")
    ]  # fmt: skip


async def test_a_tampered_ledger_row_is_named_by_rcm_ledger_verify(api: CollectionsApi) -> None:
    _, account = await a_patient_owing(api, deductible="30.00")
    async with api.collections.session_factory() as session:
        assert all(v.ok for v in await verify_ledgers(session))
    [original] = await api.rows("SELECT amount FROM ledger_entry WHERE account_id = :a AND seq = 2", a=account["id"])
    await tamper(api, "UPDATE ledger_entry SET amount = 1.00 WHERE account_id = :a AND seq = 2", a=account["id"])
    async with api.collections.session_factory() as session:
        [verdict] = [v for v in await verify_ledgers(session) if not v.ok]
    assert (str(verdict.account_id), verdict.broken_seq) == (account["id"], 2)
    await tamper(
        api,
        "UPDATE ledger_entry SET amount = :v WHERE account_id = :a AND seq = 2",
        v=original["amount"],
        a=account["id"],
    )
    deleted = await api.rows("SELECT max(seq) AS tip FROM ledger_entry WHERE account_id = :a", a=account["id"])
    await tamper(
        api, "DELETE FROM ledger_entry WHERE account_id = :a AND seq = :s", a=account["id"], s=deleted[0]["tip"]
    )
    async with api.collections.session_factory() as session:
        [verdict] = [v for v in await verify_ledgers(session) if not v.ok]
    assert verdict.broken_seq is None
    assert "ends at entry" in (verdict.reason or "")
    await tamper(api, "DELETE FROM ledger_entry WHERE account_id = :a", a=account["id"])
    await tamper(api, "DELETE FROM guarantor_account WHERE id = :a", a=account["id"])


def run(*command: str) -> str:
    """A command's output; it must succeed."""
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


async def tamper(api: CollectionsApi, sql: str, **params: object) -> None:
    """Change the database behind the service's back, as an intruder with the database's password would."""
    async with api.collections.session_factory() as session, session.begin():
        await session.execute(text(sql), params)


async def test_bad_input_gets_a_clear_problem_and_changes_nothing(api: CollectionsApi) -> None:
    _, account = await a_patient_owing(api, coinsurance="20.00")
    before = (await api.rows("SELECT count(*) AS n FROM ledger_entry"), await api.outbox_types())
    mine = account["id"]
    nobody = str(uuid.uuid4())

    async def post(path: str, body: dict[str, Any]) -> httpx.Response:
        return await api.client.post(path, headers=api.auth(idempotency_key=str(uuid.uuid4())), json=body)

    refusals = [
        await post("/payments", {"account_id": mine, "amount": "-5.00", "method": "cash"}),
        await post("/payments", {"account_id": mine, "amount": "0", "method": "cash"}),
        await post("/payments", {"account_id": mine, "amount": "5.00", "method": "card", "processor_reference": CARD}),
        await post("/refunds", {"account_id": mine, "amount": "5.00", "method": "check", "reason": "no credit"}),
        await post(f"/accounts/{nobody}/payment-plans", {"months": 3, "first_due_on": "2026-12-01"}),
        await post("/payments", {"account_id": nobody, "amount": "5.00", "method": "cash"}),
        await api.client.get(f"/accounts/{nobody}", headers=api.auth()),
    ]
    assert [r.status_code for r in refusals] == [422, 422, 422, 422, 404, 404, 404]
    for response in refusals:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"]
    assert (await api.rows("SELECT count(*) AS n FROM ledger_entry"), await api.outbox_types()) == before
    assert "card number" in str(refusals[2].json())
    assert "4111" not in refusals[2].text  # the input is never echoed
    paid = await api.client.post(
        "/payments",
        headers=api.auth(idempotency_key="pay-20"),
        json={"account_id": account["id"], "amount": "20.00", "method": "cash"},
    )
    assert paid.status_code == 201
    before = (await api.rows("SELECT count(*) AS n FROM ledger_entry"), await api.outbox_types())
    no_balance = await api.client.post(
        f"/accounts/{account['id']}/payment-plans", headers=api.auth(), json={"months": 3, "first_due_on": "2026-12-01"}
    )
    assert no_balance.status_code == 409
    assert "no balance" in no_balance.json()["detail"]
    assert (await api.rows("SELECT count(*) AS n FROM ledger_entry"), await api.outbox_types()) == before


async def test_the_same_idempotency_key_posts_a_payment_once(api: CollectionsApi) -> None:
    _, account = await a_patient_owing(api, coinsurance="20.00")
    body = {"account_id": account["id"], "amount": "10.00", "method": "online", "processor_reference": "pi_77"}
    first = await api.client.post("/payments", headers=api.auth(idempotency_key="k-77"), json=body)
    second = await api.client.post("/payments", headers=api.auth(idempotency_key="k-77"), json=body)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert len(await api.published("rcm.collections.patient_payment_received")) == 1
    assert (await api.account_of(uuid.UUID(account["patients"][0])))["patient_due"] == "10.00"


async def test_charges_read_before_the_patients_registration_wait_for_it(api: CollectionsApi) -> None:
    patient = registered()
    visit = Visit(patient.patient_id)
    await api.feed(captured(visit, self_pay=True))
    assert await api.rows("SELECT waits_for FROM parked_event") == [{"waits_for": f"patient:{patient.patient_id}"}]
    await api.feed(patient)
    assert await api.rows("SELECT waits_for FROM parked_event") == []
    assert (await api.account_of(patient.patient_id))["patient_due"] == "150.00"


async def test_a_parents_children_share_one_account(api: CollectionsApi) -> None:
    parent = Guarantor(
        relationship="parent", first_name="Morgan", last_name="Reyes", birth_date=date(1979, 4, 2),
        address=Address(line1="9 Birch Ct", city="Anytown", state="PA", postal_code="19001"),
    )  # fmt: skip
    first, second = registered(first_name="Ava", guarantor=parent), registered(first_name="Leo", guarantor=parent)
    await api.feed(
        first,
        second,
        captured(Visit(first.patient_id), self_pay=True),
        captured(Visit(second.patient_id), self_pay=True),
    )
    one, other = await api.account_of(first.patient_id), await api.account_of(second.patient_id)
    assert one["id"] == other["id"]
    assert one["patient_due"] == "300.00"
    assert one["guarantor"]["name"] == "Morgan Reyes"
    assert one["guarantor"]["address"]["line1"] == "9 Birch Ct"


async def test_a_collector_cannot_approve_their_own_refund_and_roles_reach_only_their_actions(
    api: CollectionsApi,
) -> None:
    _, account = await a_patient_owing(api, coinsurance="10.00")
    await api.client.post(
        "/payments",
        headers=api.auth(idempotency_key="pay-30"),
        json={"account_id": account["id"], "amount": "30.00", "method": "cash"},
    )
    asked = await api.client.post(
        "/refunds", headers=api.auth(subject="collector-dee"),
        json={"account_id": account["id"], "amount": "20.00", "method": "cash", "reason": "overpaid"},
    )  # fmt: skip
    own = await api.client.post(
        f"/refunds/{asked.json()['id']}/decision", headers=api.auth(subject="collector-dee"), json={"approve": True}
    )
    assert own.status_code == 409
    assert (await api.client.get("/accounts", headers=api.auth("front_desk"))).status_code == 403
    assert (await api.client.get("/accounts", headers=api.auth("coder"))).status_code == 403
    assert (await api.client.post("/cycle-runs", headers=api.auth("biller"))).status_code == 403


async def test_aging_buckets_patient_balances_by_days_past_due(api: CollectionsApi, clock: MovableClock) -> None:
    await a_patient_owing(api, deductible="30.00")
    clock.advance(45)
    await a_patient_owing(api, coinsurance="20.00")
    aging = (await api.client.get("/ar/aging", headers=api.auth())).json()
    assert aging["totals"] == {
        "current": "20.00",
        "31_60": "30.00",
        "61_90": "0.00",
        "91_120": "0.00",
        "over_120": "0.00",
    }
    assert aging["total"] == "50.00"
    assert len(aging["accounts"]) == 2  # each patient is their own guarantor


async def test_an_event_parked_while_what_it_awaits_commits_is_applied_not_stranded(api: CollectionsApi) -> None:
    """Two consumers at once: the claim's creation commits while the payment for it is being parked. On
    PostgreSQL the two take the same lock per key; SQLite runs one writer at a time."""
    patient = registered()
    visit = Visit(patient.patient_id)
    await api.feed(patient, captured(visit))
    posted = payment_posted(visit, paid="70.00", contractual="30.00", deductible="50.00")
    posting = Posting(api.collections.clock)
    claim_consumer = api.collections.uow(audit=consumer_audit("collections")())
    async with claim_consumer:
        await posting.apply(claim_created(visit), "event:claim-created", claim_consumer)

        async def remittance_consumer() -> None:
            async with api.collections.uow(audit=consumer_audit("collections")()) as uow:
                await posting.apply(posted, "event:payment-posted", uow)
                await uow.commit()

        paying = asyncio.create_task(remittance_consumer())
        await asyncio.sleep(0.3)  # the payment reads before the claim's creation commits
        await claim_consumer.commit()
    await paying
    await api.feed(claim_closed(visit, posted.payment_id))
    assert await api.rows("SELECT waits_for FROM parked_event") == []
    account = await api.account_of(visit.patient_id)
    assert (account["patient_due"], account["terms"]["insurance_payments"]) == ("50.00", "70.00")


async def test_a_correction_naming_another_patient_moves_the_visit_to_their_guarantors_account(
    api: CollectionsApi,
) -> None:
    jane, john = registered(), registered(first_name="John")
    visit = Visit(jane.patient_id)
    await api.feed(jane, john, captured(visit, self_pay=True))
    await api.feed(captured(Visit(john.patient_id, encounter_id=visit.encounter_id), self_pay=True, version=2))
    janes, johns = await api.account_of(jane.patient_id), await api.account_of(john.patient_id)
    assert (janes["patient_due"], len(janes["visits"])) == ("0.00", 0)
    assert (johns["patient_due"], johns["visits"][0]["patient_id"]) == ("150.00", str(john.patient_id))


async def test_a_copay_for_a_visit_on_another_account_goes_where_the_visit_is(api: CollectionsApi) -> None:
    patient = registered()
    visit = Visit(patient.patient_id)
    await api.feed(patient, captured(visit))
    parent = Guarantor(
        relationship="parent", first_name="Morgan", last_name="Reyes", birth_date=date(1979, 4, 2),
        address=Address(line1="9 Birch Ct", city="Anytown", state="PA", postal_code="19001"),
    )  # fmt: skip
    await api.feed(registered(patient.patient_id, guarantor=parent))  # new visits go to the parent's account now
    copay = await api.client.post(
        "/payments", headers=api.auth("front_desk", idempotency_key="copay-moved"),
        json={"patient_id": str(patient.patient_id), "encounter_id": str(visit.encounter_id), "at_visit": True,
              "amount": "25.00", "method": "card"},
    )  # fmt: skip
    assert copay.status_code == 201, copay.text
    [visit_account] = await api.rows(
        "SELECT account_id FROM encounter_account WHERE encounter_id = :e", e=str(visit.encounter_id)
    )
    assert copay.json()["account_id"] == visit_account["account_id"]


async def test_payments_need_an_idempotency_key_kept_per_caller_and_refuse_card_numbers(api: CollectionsApi) -> None:
    _, account = await a_patient_owing(api, coinsurance="40.00")
    body = {"account_id": account["id"], "amount": "10.00", "method": "card"}
    missing = await api.client.post("/payments", headers=api.auth(), json=body)
    assert missing.status_code == 422
    assert missing.json()["errors"] == [{"field": "Idempotency-Key", "message": "is required"}]
    ann = await api.client.post("/payments", headers=api.auth(subject="ann", idempotency_key="1"), json=body)
    bob = await api.client.post("/payments", headers=api.auth(subject="bob", idempotency_key="1"), json=body)
    assert ann.json()["id"] != bob.json()["id"]  # two clerks' payments, both posted
    for card in ("4111.1111.1111.1111", "4111/1111/1111/1111", "4111_1111_1111_1111", "ref 4111-1111-1111-1111"):
        refused = await api.client.post(
            "/payments", headers=api.auth(idempotency_key=card), json=body | {"processor_reference": card}
        )
        assert refused.status_code == 422, card
    assert (await api.account_of(uuid.UUID(account["patients"][0])))["patient_due"] == "20.00"


async def test_only_a_collector_recalls_and_a_cycle_run_is_audited_as_the_collector(api: CollectionsApi) -> None:
    _, account = await a_patient_owing(api, deductible="80.00")
    placed = await api.client.post(
        f"/accounts/{account['id']}/placement", headers=api.auth(), json={"reason": "patient moved away"}
    )
    assert placed.status_code == 201
    recall = {"reason": "dispute", "note": "the patient disputes the visit"}
    assert (
        await api.client.post(f"/accounts/{account['id']}/recall", headers=api.auth("biller"), json=recall)
    ).status_code == 403
    assert (
        await api.client.post(f"/accounts/{account['id']}/recall", headers=api.auth(), json=recall)
    ).status_code == 200
    [recalled] = await api.published("rcm.collections.account_recalled")
    assert recalled["reason"] == "dispute"
    assert "disputes" not in str(await api.published("rcm.collections.account_recalled"))  # the words stay here
    await api.client.post("/cycle-runs", headers=api.auth(subject="collector-eve"))
    actors = await api.rows("SELECT DISTINCT actor FROM audit_log WHERE actor LIKE 'collector-eve%'")
    assert actors == [{"actor": "collector-eve"}]


async def test_a_correction_billed_to_another_payer_settles_once_the_new_claim_closes(api: CollectionsApi) -> None:
    """The claim service's sequence for a paid claim whose visit is corrected to another coverage: the original
    voided (a frequency-8 void claim sent, the payer takes its payment back), a new claim for the new version."""
    patient = registered()
    visit = Visit(patient.patient_id)
    first = payment_posted(visit, paid="90.00", contractual="30.00", coinsurance="30.00")
    await api.feed(patient, captured(visit), claim_created(visit), first, claim_closed(visit, first.payment_id))
    void, second_claim = uuid.uuid4(), uuid.uuid4()
    again = payment_posted(visit, paid="100.00", contractual="30.00", coinsurance="20.00", claim_id=second_claim)
    await api.feed(
        captured(visit, version=2),
        claim_voided(visit, visit.claim_id),
        claim_created(visit, claim_id=void, frequency="8"),
        claim_created(visit, claim_id=second_claim, version=2),
        payment_reversed(first),
        again,
        claim_closed(visit, again.payment_id, claim_id=second_claim),
    )
    account = await api.account_of(patient.patient_id)
    assert (account["insurance_pending"], account["patient_due"]) == ("0.00", "20.00")
    assert account["visits"][0]["status"] == "patient_due"


async def test_a_charges_version_read_late_does_not_move_the_visit_back(api: CollectionsApi) -> None:
    ann, bob = registered(), registered(first_name="Bob")
    encounter = uuid.uuid4()
    await api.feed(captured(Visit(ann.patient_id, encounter_id=encounter), self_pay=True))  # parked: Ann unknown
    await api.feed(bob, captured(Visit(bob.patient_id, encounter_id=encounter), ["175.00"], self_pay=True, version=2))
    await api.feed(ann)  # releases version 1, older than what Bob's account holds
    anns, bobs = await api.account_of(ann.patient_id), await api.account_of(bob.patient_id)
    assert (anns["patient_due"], bobs["patient_due"]) == ("0.00", "175.00")


async def test_a_whole_denial_reprocessed_to_the_deductible_without_line_detail_bills_the_deductible(
    api: CollectionsApi,
) -> None:
    patient = registered()
    visit = Visit(patient.patient_id)
    denied = payment_posted(visit, paid="0.00", contractual="150.00", status="4", line_detail=False)
    reprocessed = payment_posted(visit, paid="0.00", contractual="0.00", deductible="150.00", line_detail=False)
    await api.feed(
        patient, captured(visit), claim_created(visit), denied, denied_by_payer(denied, "150.00"), reprocessed,
        claim_closed(visit, reprocessed.payment_id),
    )  # fmt: skip
    account = await api.account_of(patient.patient_id)
    assert (account["insurance_pending"], account["patient_due"]) == ("0.00", "150.00")


async def test_a_plan_paid_month_by_month_counts_a_late_installment_as_missed(
    api: CollectionsApi, clock: MovableClock
) -> None:
    _, account = await a_patient_owing(api, deductible="90.00")
    plan = await api.client.post(
        f"/accounts/{account['id']}/payment-plans", headers=api.auth(idempotency_key="plan-m"),
        json={"months": 3, "first_due_on": str(clock().date() + timedelta(days=10))},
    )  # fmt: skip
    assert plan.status_code == 201, plan.text
    for month in range(2):  # two installments paid on time, the cycle running between them
        clock.advance(10 if month == 0 else 30)
        paid = await api.client.post(
            "/payments", headers=api.auth(idempotency_key=f"m-{month}"),
            json={"account_id": account["id"], "amount": "30.00", "method": "card"},
        )  # fmt: skip
        assert paid.status_code == 201
        assert (await api.client.post("/cycle-runs", headers=api.auth())).json()["plans_defaulted"] == 0
    clock.advance(45)  # the third installment 15 days late: one miss
    await api.client.post("/cycle-runs", headers=api.auth())
    read = (await api.client.get(f"/payment-plans/{plan.json()['id']}", headers=api.auth())).json()
    assert (read["state"], read["paid"], read["missed_installments"]) == ("active", "60.00", [3])
    assert not await api.published("rcm.collections.payment_plan_defaulted")


async def test_a_later_debt_reaches_the_agency_by_joining_the_placement_in_force(
    api: CollectionsApi, clock: MovableClock
) -> None:
    patient = registered()
    first = Visit(patient.patient_id)
    await api.feed(patient, captured(first, self_pay=True))
    account = await api.account_of(patient.patient_id)
    placed = await api.client.post(f"/accounts/{account['id']}/placement", headers=api.auth(), json={"reason": "moved"})
    assert placed.status_code == 201
    clock.advance(10)
    await api.feed(captured(Visit(patient.patient_id), ["90.00"], self_pay=True))
    for day in (0, 30, 30):  # three notices for the later debt
        clock.advance(day)
        report = (await api.client.post("/cycle-runs", headers=api.auth())).json()
        assert (report["statements_issued"], report["failed"]) == (1, 0)
    clock.advance(21)  # the final notice's due date passed, the debt 81 days old
    report = (await api.client.post("/cycle-runs", headers=api.auth())).json()
    assert (report["placed_with_agency"], report["failed"]) == (1, 0)
    [only] = (await api.client.get("/placements", headers=api.auth())).json()
    assert (only["id"], only["amount"]) == (placed.json()["id"], "240.00")
    export = await api.client.get(
        "/placements/export.csv", params={"placed_on": str(clock().date())}, headers=api.auth()
    )
    assert [row["balance_due"] for row in csv.DictReader(io.StringIO(export.text))] == ["240.00"]


async def test_payments_at_once_on_one_account_all_post_and_the_same_key_posts_once(api: CollectionsApi) -> None:
    _, account = await a_patient_owing(api, coinsurance="40.00")

    async def pay(key: str, amount: str) -> httpx.Response:
        return await api.client.post(
            "/payments", headers=api.auth("front_desk", idempotency_key=key),
            json={"account_id": account["id"], "amount": amount, "method": "cash"},
        )  # fmt: skip

    distinct = await asyncio.gather(*(pay(f"k{i}", "5.00") for i in range(6)))
    same = await asyncio.gather(*(pay("same", "1.00") for _ in range(4)))
    assert [r.status_code for r in (*distinct, *same)] == [201] * 10
    assert len({r.json()["id"] for r in same}) == 1
    assert (await api.account_of(uuid.UUID(account["patients"][0])))["patient_due"] == "9.00"


async def test_a_plan_whose_visit_goes_back_to_insurance_is_not_defaulted_by_the_daily_cycle(
    api: CollectionsApi, clock: MovableClock
) -> None:
    patient = registered()
    visit = Visit(patient.patient_id)
    first = payment_posted(visit, paid="90.00", contractual="20.00", coinsurance="40.00")
    await api.feed(patient, captured(visit), claim_created(visit), first, claim_closed(visit, first.payment_id))
    account = await api.account_of(patient.patient_id)
    made = await api.client.post(
        f"/accounts/{account['id']}/payment-plans", headers=api.auth(idempotency_key="paused"),
        json={"months": 2, "first_due_on": str(clock().date() + timedelta(days=5))},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    await api.feed(payment_reversed(first), claim_reopened(visit))  # the payer reprocesses the claim
    for _ in range(12):  # the cycle every five days while insurance has it again
        clock.advance(5)
        assert (await api.client.post("/cycle-runs", headers=api.auth())).json()["failed"] == 0
    again = payment_posted(visit, paid="90.00", contractual="20.00", coinsurance="40.00")
    await api.feed(again, claim_closed(visit, again.payment_id))
    clock.advance(1)
    report = (await api.client.post("/cycle-runs", headers=api.auth())).json()
    assert report["plans_defaulted"] == 0
    plan = (await api.client.get(f"/payment-plans/{made.json()['id']}", headers=api.auth())).json()
    assert (plan["state"], plan["missed_installments"]) == ("active", [])
