"""Posting over a real database: an 835 uploaded is posted to the claims the claim service's events described,
each payment once, however often and however the file comes again; a reversal takes a payment back whole; a
file that does not balance waits for a poster; and what cannot be read is refused, changing nothing."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from rcm_common.events.claim import ClaimAccepted, ClaimSubmitted
from rcm_remittance.testing import (
    RemittanceApi,
    accepted_event,
    paid_claim,
    remittance_835,
    running_remittance,
    submitted,
)
from rcm_x12.corpus import default_root

CORPUS = default_root()


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[RemittanceApi]:
    async with running_remittance(tmp_path, signing_keys, database_url) as running:
        yield running


async def test_a_payment_is_posted_to_its_claim_and_each_line_with_the_patient_share_split(api: RemittanceApi) -> None:
    claim = submitted()
    await api.feed(claim, ClaimAccepted(
        claim_id=claim.claim_id, patient_id=claim.patient_id, payer_id="ACME01",
        patient_control_number=claim.patient_control_number, payer_claim_number="ACME555",
    ))  # fmt: skip
    paid = paid_claim(claim, payer_claim_number="ACME555", deductible="50.00")
    answer = await api.upload(remittance_835([paid]))

    [posted] = await api.published("rcm.remittance.payment_posted")
    assert posted["claim_id"] == str(claim.claim_id)
    assert posted["remittance_id"] == answer["remittance_id"]
    assert posted["charge"] == "150.00"
    assert posted["allowed"] == "100.00"
    # 99213: allowed 90.00, 50.00 deductible, 20% of 40.00 coinsurance; 36415: allowed 10.00, 2.00 coinsurance
    assert posted["patient_share"] == {"deductible": "50.00", "coinsurance": "10.00", "copay": "0.00", "other": "0.00"}
    assert posted["paid"] == "40.00"
    assert posted["adjustments_by_group"] == {"CO": "50.00", "PR": "60.00"}
    assert [line["line_control_number"] for line in posted["lines"]] == [
        line.line_control_number for line in claim.lines
    ]
    assert Decimal(posted["paid"]) + sum(Decimal(v) for v in posted["adjustments_by_group"].values()) == Decimal(
        posted["charge"]
    )
    [received] = await api.published("rcm.remittance.remittance_received")
    assert (received["held"], received["claim_count"], received["total_paid"]) == (False, 1, "40.00")
    remittance = (await api.client.get(f"/remittances/{answer['remittance_id']}", headers=api.auth())).json()
    assert (remittance["state"], remittance["posted"], remittance["balance"]["balanced"]) == ("posted", 1, True)


async def accepted(api: RemittanceApi, *claims: ClaimSubmitted) -> None:
    """The claims as the claim service told of them: submitted, then accepted with a payer claim number."""
    for claim in claims:
        await api.feed(claim, accepted_event(claim))


def payer_number(claim: ClaimSubmitted) -> str:
    return accepted_event(claim).payer_claim_number


async def test_the_same_file_five_times_and_again_in_another_interchange_posts_once(api: RemittanceApi) -> None:
    claims = [submitted(), submitted()]
    await accepted(api, *claims)
    paid = [paid_claim(claim, payer_claim_number=payer_number(claim)) for claim in claims]
    content = remittance_835(paid, interchange_control_number=7)
    answers = [await api.upload(content) for _ in range(5)]
    assert {answer["remittance_id"] for answer in answers} == {answers[0]["remittance_id"]}
    assert [answer["duplicate"] for answer in answers] == [False, True, True, True, True]

    resent = await api.upload(remittance_835(paid, interchange_control_number=8))  # the payer sends it again
    assert resent["remittance_id"] != answers[0]["remittance_id"]
    again = (await api.client.get(f"/remittances/{resent['remittance_id']}", headers=api.auth())).json()
    assert (again["state"], again["posted"], again["duplicates"]) == ("posted", 0, 2)
    assert len(await api.published("rcm.remittance.payment_posted")) == 2
    assert (await api.rows("SELECT count(*) AS n FROM claim_payment"))[0]["n"] == 2


async def test_a_reversal_takes_the_payment_back_whole_and_the_corrected_payment_follows(api: RemittanceApi) -> None:
    claim = submitted()
    await accepted(api, claim)
    number = payer_number(claim)
    await api.upload(remittance_835([paid_claim(claim, payer_claim_number=number)], trace="CHK1"))
    reversal = paid_claim(claim, payer_claim_number=number, negate=True)
    corrected = paid_claim(claim, payer_claim_number=number, allowed=("95.00", "10.00"))
    await api.upload(remittance_835([reversal, corrected], trace="CHK2", interchange_control_number=2))

    types = [t for t in await api.outbox_types() if t.endswith(("payment_posted", "claim_payment_reversed"))]
    assert types == ["rcm.remittance.payment_posted", "rcm.remittance.claim_payment_reversed",
                     "rcm.remittance.payment_posted"]  # fmt: skip
    first, corrected_posting = await api.published("rcm.remittance.payment_posted")
    [reversed_] = await api.published("rcm.remittance.claim_payment_reversed")
    assert reversed_["reversed_payment_id"] == first["payment_id"]
    assert reversed_["paid"] == "-" + first["paid"]
    assert corrected_posting["allowed"] == "105.00"
    payments = (await api.client.get(f"/payments?claim_id={claim.claim_id}", headers=api.auth())).json()
    assert [p["claim_status"] for p in payments] == ["1", "22", "1"]
    assert payments[0]["reversed_by_payment_id"] == payments[1]["id"]
    net = sum(Decimal(p["paid"]) for p in payments)
    assert net == Decimal(corrected_posting["paid"])  # the claim stands at the corrected amounts


async def test_a_file_that_does_not_balance_is_held_until_a_poster_releases_it(api: RemittanceApi) -> None:
    claim = submitted()
    await accepted(api, claim)
    content = remittance_835([paid_claim(claim, payer_claim_number=payer_number(claim))])
    short = content.replace(b"BPR*I*80*C*CHK", b"BPR*I*78*C*CHK")
    assert short != content
    answer = await api.upload(short)
    held = (await api.client.get(f"/remittances/{answer['remittance_id']}", headers=api.auth())).json()
    assert (held["state"], held["balance"]["balanced"], held["posted"]) == ("held", False, 0)
    assert "BPR02 78.00 is not the claims' payments 80.00" in held["balance"]["problems"][0]
    [received] = await api.published("rcm.remittance.remittance_received")
    assert received["held"] is True
    assert await api.published("rcm.remittance.payment_posted") == []

    url = f"/remittances/{answer['remittance_id']}/release"
    released = await api.client.post(url, json={"reason": "the payer's letter explains the 2.00"}, headers=api.auth())
    assert released.status_code == 200, released.text
    await api.remittance.poster.run_once()
    assert len(await api.published("rcm.remittance.payment_posted")) == 1
    again = await api.client.post(url, json={"reason": "twice"}, headers=api.auth())
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"ISA*00*          *00*", "refused"),
        (b"not an X12 file at all", "refused"),
    ],
)
async def test_unreadable_files_are_refused_and_nothing_is_kept(
    api: RemittanceApi, content: bytes, message: str
) -> None:
    response = await api.client.post("/remittances", content=content, headers=api.auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert message in response.json()["detail"]
    assert await api.rows("SELECT id FROM remittance_file") == []


async def test_a_cut_off_835_and_an_837_are_refused_naming_why(api: RemittanceApi) -> None:
    claim = submitted()
    content = remittance_835([paid_claim(claim)])
    cut = content[: content.index(b"SVC")]
    response = await api.client.post("/remittances", content=cut, headers=api.auth())
    assert response.status_code == 422, response.text
    claim_837 = (CORPUS / "LinuxForHealth-x12/demo-file/demo.837").read_bytes()
    response = await api.client.post("/remittances", content=claim_837, headers=api.auth())
    assert response.status_code == 422
    assert "holds no 835" in response.json()["detail"]
    assert await api.rows("SELECT id FROM remittance_file") == []
    assert await api.outbox_types() == []


async def test_a_payment_for_no_known_claim_waits_unmatched_until_a_poster_matches_it(api: RemittanceApi) -> None:
    claim = submitted()
    answer = await api.upload(remittance_835([paid_claim(claim, payer_claim_number="ACMEX1")]))
    [waiting] = (await api.client.get("/unmatched", headers=api.auth())).json()
    assert waiting["remittance_id"] == answer["remittance_id"]
    assert "no claim has control number" in waiting["unmatched_reason"]
    [unmatched_event] = await api.published("rcm.remittance.remittance_unmatched")
    assert unmatched_event["payment_id"] == waiting["id"]

    unknown = await api.client.post(f"/unmatched/{waiting['id']}/match", json={"claim_id": str(claim.claim_id)},
                                    headers=api.auth())  # fmt: skip
    assert unknown.status_code == 404  # the claim is not known here yet
    await api.feed(claim)
    matched = await api.client.post(f"/unmatched/{waiting['id']}/match", json={"claim_id": str(claim.claim_id)},
                                    headers=api.auth())  # fmt: skip
    assert matched.status_code == 200, matched.text
    assert (matched.json()["state"], matched.json()["matched_by"]) == ("posted", "poster")
    [posted] = await api.published("rcm.remittance.payment_posted")
    assert posted["claim_id"] == str(claim.claim_id)
    twice = await api.client.post(f"/unmatched/{waiting['id']}/match", json={"claim_id": str(claim.claim_id)},
                                  headers=api.auth())  # fmt: skip
    assert twice.status_code == 409
    nobody = await api.client.post(f"/unmatched/{uuid.uuid4()}/match", json={"claim_id": str(claim.claim_id)},
                                   headers=api.auth())  # fmt: skip
    assert nobody.status_code == 404
    assert nobody.headers["content-type"] == "application/problem+json"


async def test_a_denial_says_its_category_and_what_to_do(api: RemittanceApi) -> None:
    claim = submitted(lines=(("72148", "900.00", "650.00"),))
    await accepted(api, claim)
    await api.upload(remittance_835([paid_claim(claim, payer_claim_number=payer_number(claim), denial=("CO", "197"))]))
    [denied] = await api.published("rcm.remittance.claim_denied")
    assert (denied["whole_claim"], denied["category"], denied["amount_denied"]) == (True, "authorisation", "900.00")
    assert "REF*G1" in denied["suggested_action"]
    assert denied["denials"][0]["reason"] == "197"
    [posted] = await api.published("rcm.remittance.payment_posted")
    assert (posted["claim_status"], posted["paid"]) == ("4", "0.00")


async def test_an_allowed_amount_below_the_contract_is_an_underpayment(api: RemittanceApi) -> None:
    claim = submitted()
    await accepted(api, claim)
    paid = paid_claim(claim, payer_claim_number=payer_number(claim), allowed=("80.00", "10.00"))
    await api.upload(remittance_835([paid]))
    [under] = await api.published("rcm.remittance.underpayment_detected")
    assert (under["expected_allowed"], under["allowed"], under["shortfall"]) == ("90.00", "80.00", "10.00")
    assert [line["procedure_code"] for line in under["lines"]] == ["99213"]


async def test_provider_adjustments_are_kept_and_linked_to_the_claims_they_name(api: RemittanceApi) -> None:
    claims = [submitted(), submitted()]
    await accepted(api, *claims)
    paid = [paid_claim(claim, payer_claim_number=payer_number(claim)) for claim in claims]
    recouped = payer_number(claims[1])
    content = remittance_835(paid, provider_adjustments=(("WO", recouped, "12.00"), ("L6", "", "-1.50")))
    answer = await api.upload(content)
    adjustments = await api.published("rcm.remittance.provider_adjustment_posted")
    assert [(a["reason"], a["amount"], a["claim_id"]) for a in adjustments] == [
        ("WO", "12.00", str(claims[1].claim_id)),
        ("L6", "-1.50", None),
    ]
    remittance = (await api.client.get(f"/remittances/{answer['remittance_id']}", headers=api.auth())).json()
    assert remittance["total_paid"] == "149.50"  # two claims paid 80.00 each, less 12.00 recouped, plus 1.50 interest
    posted = sum(Decimal(p["paid"]) for p in remittance["payments"])
    plb = sum(Decimal(a["amount"]) for a in remittance["provider_adjustments"])
    assert posted - plb == Decimal(remittance["total_paid"])


async def test_a_crash_between_batches_loses_nothing_and_posts_nothing_twice(api: RemittanceApi) -> None:
    claims = [submitted(lines=(("99213", "125.00", "90.00"),)) for _ in range(23)]
    await api.feed(*claims)
    content = remittance_835(
        [paid_claim(claim) for claim in claims],
        provider_adjustments=(("L6", claims[3].patient_control_number, "-2.25"),),
    )
    response = await api.client.post("/remittances", content=content, headers=api.auth())
    assert response.status_code == 202
    commits = 0

    def crashing_uow() -> Any:
        """The poster's unit of work, which dies (as a kill would) before the third batch commits."""
        uow = api.remittance.poster.uow()
        commit = uow.commit

        async def die_at_the_third() -> None:
            nonlocal commits
            commits += 1
            if commits == 3:
                raise SystemExit("killed")
            await commit()

        uow.commit = die_at_the_third  # type: ignore[method-assign]
        return uow

    crashing = dataclasses.replace(api.remittance.poster, uow=crashing_uow, batch_size=5)
    with pytest.raises(SystemExit):
        await crashing.run_once()
    [remittance] = await api.rows("SELECT state, claims_done FROM remittance")
    assert remittance == {"state": "posting", "claims_done": 10}  # two batches of five kept, the third lost

    await dataclasses.replace(api.remittance.poster, batch_size=5).run_once()
    posted = await api.published("rcm.remittance.payment_posted")
    assert sorted(p["claim_id"] for p in posted) == sorted(str(c.claim_id) for c in claims)
    [total] = await api.rows("SELECT total_paid FROM remittance")
    paid = sum(Decimal(p["paid"]) for p in posted)
    [interest] = await api.published("rcm.remittance.provider_adjustment_posted")
    assert paid - Decimal(interest["amount"]) == Decimal(str(total["total_paid"]))
    assert interest["claim_id"] == str(claims[3].claim_id)


async def test_deposits_pair_with_remittances_by_trace_and_amount_and_the_rest_is_listed(api: RemittanceApi) -> None:
    claims = [submitted(), submitted()]
    await accepted(api, *claims)
    for number, claim in enumerate(claims, 1):
        paid = paid_claim(claim, payer_claim_number=payer_number(claim))
        await api.upload(remittance_835([paid], trace=f"EFT{number}", interchange_control_number=number))

    def line(trace: str, amount: str) -> dict[str, str]:
        return {"deposit_date": "2026-11-21", "amount": amount, "trace_number": trace}

    paired = await api.client.post("/deposits", json=line("EFT1", "80.00"), headers=api.auth())
    assert paired.status_code == 201, paired.text
    assert paired.json()["remittance_id"] is not None
    short = await api.client.post("/deposits", json=line("EFT2", "75.00"), headers=api.auth())
    assert short.json()["unexplained"] == "the remittances with this trace pay 80.00"
    stray = await api.client.post("/deposits", json=line("CHK999", "12.00"), headers=api.auth())
    assert stray.json()["unexplained"] == "no remittance has this trace"
    again = await api.client.post("/deposits", json=line("EFT1", "80.00"), headers=api.auth())
    assert again.status_code == 409

    report = (
        await api.client.get("/reconciliation?date_from=2026-11-01&date_to=2026-11-30", headers=api.auth())
    ).json()
    assert report["matched"] == 1
    assert [r["trace_number"] for r in report["remittances_without_deposit"]] == ["EFT2"]
    assert sorted(d["trace_number"] for d in report["deposits_without_remittance"]) == ["CHK999", "EFT2"]


async def test_a_reconciliation_up_to_the_calendars_first_day_is_answered_not_overflowed(api: RemittanceApi) -> None:
    # Found by schemathesis: the default start, 90 days before 0001-01-01, overflowed and answered 500.
    response = await api.client.get("/reconciliation?date_to=0001-01-01", headers=api.auth())

    assert response.status_code == 200, response.text
    assert response.json() == {"matched": 0, "remittances_without_deposit": [], "deposits_without_remittance": []}


async def test_a_retried_deposit_with_its_idempotency_key_answers_as_the_first(api: RemittanceApi) -> None:
    body = {"deposit_date": "2026-11-21", "amount": "10.00", "trace_number": "EFT77"}
    first = await api.client.post("/deposits", json=body, headers=api.auth(idempotency_key="dep-1"))
    retried = await api.client.post("/deposits", json=body, headers=api.auth(idempotency_key="dep-1"))
    assert (first.status_code, retried.status_code) == (201, 201)
    assert first.json()["id"] == retried.json()["id"]
    assert len(await api.rows("SELECT id FROM deposit")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"deposit_date": "2026-11-21", "amount": "-5.00", "trace_number": "EFT1"},
        {"deposit_date": "2026-11-21", "amount": "0", "trace_number": "EFT1"},
        {"deposit_date": "2026-11-21", "amount": "5.001", "trace_number": "EFT1"},
        {"deposit_date": "2026-11-21", "amount": "5.00", "trace_number": "EFT 1;--"},
        {"deposit_date": "2099-01-01", "amount": "5.00", "trace_number": "EFT1"},
        {"deposit_date": "2026-11-21", "amount": "5.00"},
    ],
)
async def test_a_bad_deposit_is_refused_and_nothing_is_kept(api: RemittanceApi, body: dict[str, str]) -> None:
    response = await api.client.post("/deposits", json=body, headers=api.auth())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await api.rows("SELECT id FROM deposit") == []


async def test_a_set_sent_again_in_another_interchange_repeats_no_payment_and_no_provider_adjustment(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    await accepted(api, claim)
    paid = [paid_claim(claim, payer_claim_number=payer_number(claim))]
    plb = (("WO", "OLDCLAIM1", "12.00"), ("L6", payer_number(claim), "-1.50"))
    first = await api.upload(remittance_835(paid, interchange_control_number=7, provider_adjustments=plb))
    again = await api.upload(remittance_835(paid, interchange_control_number=8, provider_adjustments=plb))

    assert len(await api.published("rcm.remittance.provider_adjustment_posted")) == 2
    assert len(await api.published("rcm.remittance.payment_posted")) == 1
    received = await api.published("rcm.remittance.remittance_received")
    assert [r["repeats_remittance_id"] for r in received] == [None, first["remittance_id"]]
    repeat = (await api.client.get(f"/remittances/{again['remittance_id']}", headers=api.auth())).json()
    assert (repeat["state"], repeat["duplicates"], repeat["repeats_remittance_id"]) == (
        "posted", 1, first["remittance_id"],
    )  # fmt: skip
    deposit = {"deposit_date": "2026-11-21", "amount": "69.50", "trace_number": "TRACE0001"}
    assert (await api.client.post("/deposits", json=deposit, headers=api.auth())).status_code == 201
    report = (
        await api.client.get("/reconciliation?date_from=2026-11-01&date_to=2026-11-30", headers=api.auth())
    ).json()
    assert (report["matched"], report["remittances_without_deposit"]) == (1, [])  # one check, expected once


async def test_a_reversal_that_comes_before_its_payment_is_posted_once_the_payment_is(api: RemittanceApi) -> None:
    claim = submitted()
    await accepted(api, claim)
    number = payer_number(claim)
    await api.upload(remittance_835([paid_claim(claim, payer_claim_number=number, negate=True)], trace="CHK2"))
    [waiting] = (await api.client.get("/unmatched", headers=api.auth())).json()
    assert "negates no payment posted here" in waiting["unmatched_reason"]

    await api.upload(remittance_835([paid_claim(claim, payer_claim_number=number)], trace="CHK1"))
    payments = (await api.client.get(f"/payments?claim_id={claim.claim_id}", headers=api.auth())).json()
    paid, reversal = sorted(payments, key=lambda p: p["claim_status"] == "22")
    assert (paid["claim_status"], reversal["claim_status"]) == ("1", "22")
    assert reversal["reverses_payment_id"] == paid["id"]
    assert sum(Decimal(p["paid"]) for p in payments) == 0
    events = [e["type"].rsplit(".", 1)[1] for e in await api.published_events() if e.get("claim_id")]
    assert events == ["payment_posted", "claim_payment_reversed"]  # the payment, then what takes it back
    assert (await api.client.get("/unmatched", headers=api.auth())).json() == []


async def test_a_reversal_takes_back_only_the_payment_it_negates_whatever_order_the_files_come_in(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    await accepted(api, claim)
    number = payer_number(claim)
    at_80 = paid_claim(claim, payer_claim_number=number)
    at_84 = paid_claim(claim, payer_claim_number=number, allowed=("95.00", "10.00"))
    at_88 = paid_claim(claim, payer_claim_number=number, allowed=("100.00", "10.00"))
    undo_80 = paid_claim(claim, payer_claim_number=number, negate=True)
    undo_84 = paid_claim(claim, payer_claim_number=number, allowed=("95.00", "10.00"), negate=True)
    await api.upload(remittance_835([at_80], trace="CHK1"))
    await api.upload(remittance_835([undo_84, at_88], trace="CHK3"))  # the second reprocessing, taken first
    await api.upload(remittance_835([undo_80, at_84], trace="CHK2"))

    payments = (await api.client.get(f"/payments?claim_id={claim.claim_id}", headers=api.auth())).json()
    standing = [p for p in payments if p["claim_status"] != "22" and p["reversed_by_payment_id"] is None]
    assert [p["paid"] for p in standing] == ["88.00"]
    assert sum(Decimal(p["paid"]) for p in payments) == Decimal("88.00")
    by_id = {p["id"]: p for p in payments}
    for reversal in (p for p in payments if p["claim_status"] == "22"):
        assert Decimal(by_id[reversal["reverses_payment_id"]]["paid"]) == -Decimal(reversal["paid"])


async def test_a_poster_may_post_the_reversal_of_a_payment_made_before_this_service_kept_them(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    await accepted(api, claim)
    await api.upload(remittance_835([paid_claim(claim, payer_claim_number=payer_number(claim), negate=True)]))
    [waiting] = (await api.client.get("/unmatched", headers=api.auth())).json()
    matched = await api.client.post(
        f"/unmatched/{waiting['id']}/match", json={"claim_id": str(claim.claim_id)}, headers=api.auth()
    )
    assert matched.status_code == 200, matched.text
    [reversed_] = await api.published("rcm.remittance.claim_payment_reversed")
    assert (reversed_["reversed_payment_id"], reversed_["paid"]) == (None, "-80.00")


async def test_the_same_bytes_again_answer_with_the_sets_they_held_even_when_those_came_before(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    content = remittance_835([paid_claim(claim)])
    first = await api.upload(content)
    resaved = content + b"\r\n"  # the same interchange, saved again with a line break
    second = await api.upload(resaved)
    third = await api.upload(resaved)
    assert first["remittance_id"] == second["remittance_id"] == third["remittance_id"]
    assert (second["duplicate"], third["duplicate"]) == (False, True)


async def test_a_remittance_that_cannot_be_posted_is_marked_failed_and_the_others_are_posted(
    api: RemittanceApi,
) -> None:
    claims = [submitted(), submitted()]
    await accepted(api, *claims)
    await api.upload(remittance_835([paid_claim(claims[0], payer_claim_number=payer_number(claims[0]))], trace="T1"))
    async with api.remittance.session_factory() as session:  # its file no longer holds what it claims
        await session.execute(text("UPDATE remittance SET state = 'received', claim_count = 5"))
        await session.commit()
    await api.upload(remittance_835([paid_claim(claims[1], payer_claim_number=payer_number(claims[1]))], trace="T2"))

    states = {row["trace_number"]: (row["state"], row["failure"]) for row in
              await api.rows("SELECT trace_number, state, failure FROM remittance")}  # fmt: skip
    assert states["T2"] == ("posted", None)
    assert states["T1"][0] == "failed"
    assert "its file no longer reads as it did when it was taken in" in states["T1"][1]
    failed = (await api.client.get("/remittances?state=failed", headers=api.auth())).json()
    assert [r["trace_number"] for r in failed] == ["T1"]


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        (b"BPR*I*80*C*CHK", b"BPR*I*80*C*CHECK", "BPR04"),
        (b"BPR*I*80*", b"BPR*I*80000000000*", "BPR02"),
    ],
)
async def test_a_value_longer_or_larger_than_the_guide_allows_is_refused_naming_the_element(
    api: RemittanceApi, old: bytes, new: bytes, named: str
) -> None:
    content = remittance_835([paid_claim(submitted())]).replace(old, new, 1)
    response = await api.client.post("/remittances", content=content, headers=api.auth())
    assert response.status_code == 422, response.text
    assert named in response.json()["detail"]
    assert await api.rows("SELECT id FROM remittance_file") == []


async def test_a_control_number_longer_than_clm01_can_be_is_refused(api: RemittanceApi) -> None:
    claim = submitted()
    content = remittance_835([dataclasses.replace(paid_claim(claim), claim_id="X" * 40)])
    response = await api.client.post("/remittances", content=content, headers=api.auth())
    assert response.status_code == 422
    assert "CLP01 of transaction set 1, claim payment 1 is longer than 38 characters" in response.json()["detail"]


async def test_a_payment_that_came_before_its_claims_copy_is_posted_once_the_copy_comes(api: RemittanceApi) -> None:
    claim, stranger = submitted(), submitted()
    await api.upload(remittance_835([paid_claim(claim), paid_claim(stranger)]))
    assert len((await api.client.get("/unmatched", headers=api.auth())).json()) == 2
    await api.feed(claim)  # the claim service's event, late
    await api.remittance.poster.run_once()

    [still_waiting] = (await api.client.get("/unmatched", headers=api.auth())).json()
    assert still_waiting["patient_control_number"] == stranger.patient_control_number
    [posted] = await api.published("rcm.remittance.payment_posted")
    assert posted["claim_id"] == str(claim.claim_id)


async def test_reading_the_raw_835_is_audited_against_each_patient_it_names(api: RemittanceApi) -> None:
    claims = [submitted(), submitted()]
    await accepted(api, *claims)
    answer = await api.upload(remittance_835([paid_claim(c, payer_claim_number=payer_number(c)) for c in claims]))
    raw = await api.client.get(f"/remittances/{answer['remittance_id']}/835", headers=api.auth(subject="poster-7"))
    assert raw.status_code == 200
    assert raw.content.startswith(b"ISA*")
    audited = await api.rows(
        "SELECT patient_id FROM audit_log WHERE action = 'export' AND actor = 'poster-7' ORDER BY patient_id"
    )
    assert [row["patient_id"] for row in audited] == sorted(str(c.patient_id) for c in claims)


async def test_a_set_with_a_known_payer_trace_and_interchange_that_pays_otherwise_is_kept_and_held(
    api: RemittanceApi,
) -> None:
    claims = [submitted(), submitted()]
    await accepted(api, *claims)
    first = await api.upload(remittance_835([paid_claim(claims[0], payer_claim_number=payer_number(claims[0]))]))
    other = await api.upload(remittance_835([paid_claim(claims[1], payer_claim_number=payer_number(claims[1]))]))
    assert other["remittance_id"] != first["remittance_id"]  # the same key, other money: never passed over
    held = (await api.client.get(f"/remittances/{other['remittance_id']}", headers=api.auth())).json()
    assert held["state"] == "held"
    assert "came before with other figures" in held["balance"]["problems"][0]
    await api.client.post(
        f"/remittances/{other['remittance_id']}/release", json={"reason": "payer confirmed both"}, headers=api.auth()
    )
    await api.remittance.poster.run_once()
    assert len(await api.published("rcm.remittance.payment_posted")) == 2


async def test_a_provider_adjustment_is_announced_once_whichever_of_a_set_and_its_resend_posts_first(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    await accepted(api, claim)
    paid = [paid_claim(claim, payer_claim_number=payer_number(claim))]
    plb = (("WO", "OLDCLAIM1", "12.00"),)
    unbalanced = [  # both held: the resend is released and posted before the first
        remittance_835(paid, interchange_control_number=n, provider_adjustments=plb).replace(b"BPR*I*68*", b"BPR*I*67*")
        for n in (7, 8)
    ]
    first, resend = [await api.upload(content) for content in unbalanced]
    for remittance_id in (resend["remittance_id"], first["remittance_id"]):
        url = f"/remittances/{remittance_id}/release"
        assert (await api.client.post(url, json={"reason": "checked"}, headers=api.auth())).status_code == 200
        await api.remittance.poster.run_once()
    assert len(await api.published("rcm.remittance.provider_adjustment_posted")) == 1
    assert len(await api.published("rcm.remittance.payment_posted")) == 1


async def test_a_payment_reversed_in_its_own_file_is_not_taken_back_again_by_a_reversal_that_waited(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    await accepted(api, claim)
    number = payer_number(claim)
    await api.upload(remittance_835([paid_claim(claim, payer_claim_number=number, negate=True)], trace="R0"))
    undone = [paid_claim(claim, payer_claim_number=number), paid_claim(claim, payer_claim_number=number, negate=True)]
    await api.upload(remittance_835(undone, trace="T1"))

    assert {row["state"] for row in await api.rows("SELECT state FROM remittance")} == {"posted"}
    assert len(await api.published("rcm.remittance.claim_payment_reversed")) == 1
    [waiting] = (await api.client.get("/unmatched", headers=api.auth())).json()  # one reversal too many: a person
    assert waiting["claim_status"] == "22"


async def test_payments_that_waited_for_their_claim_are_posted_in_the_order_they_came(api: RemittanceApi) -> None:
    claim = submitted()
    number = payer_number(claim)
    await api.upload(remittance_835([paid_claim(claim, payer_claim_number=number)], trace="CHK1"))
    reprocessed = [
        paid_claim(claim, payer_claim_number=number, negate=True),
        paid_claim(claim, payer_claim_number=number, allowed=("95.00", "10.00")),
    ]
    await api.upload(remittance_835(reprocessed, trace="CHK2"))
    await accepted(api, claim)  # the claim service's events, late
    await api.remittance.poster.run_once()

    events = [(e["type"].rsplit(".", 1)[1], e["paid"]) for e in await api.published_events() if e.get("claim_id")]
    assert events == [("payment_posted", "80.00"), ("claim_payment_reversed", "-80.00"), ("payment_posted", "84.00")]


async def test_a_reversal_waiting_for_a_payment_a_poster_matches_by_hand_is_posted_after_it(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    await accepted(api, claim)
    garbled = [  # the payer garbled CLP01 and CLP07: nothing matches by itself
        dataclasses.replace(paid_claim(claim, payer_claim_number="GARBLED1", negate=negate), claim_id="XX1")
        for negate in (False, True)
    ]
    await api.upload(remittance_835(garbled[:1], trace="CHK1"))
    await api.upload(remittance_835(garbled[1:], trace="CHK2"))
    [payment] = [w for w in (await api.client.get("/unmatched", headers=api.auth())).json() if w["claim_status"] == "1"]
    url = f"/unmatched/{payment['id']}/match"
    assert (await api.client.post(url, json={"claim_id": str(claim.claim_id)}, headers=api.auth())).status_code == 200
    await api.remittance.poster.run_once()

    assert (await api.client.get("/unmatched", headers=api.auth())).json() == []
    [reversed_] = await api.published("rcm.remittance.claim_payment_reversed")
    assert reversed_["reversed_payment_id"] == payment["id"]


async def test_an_adjustment_group_that_is_not_one_and_an_overlong_interchange_number_are_refused(
    api: RemittanceApi,
) -> None:
    claim = submitted()
    content = remittance_835([paid_claim(claim)])
    for bad, named in (
        (content.replace(b"CAS*CO*45", b"CAS*XX*45", 1), "CAS01"),
        (content.replace(b"*000000001*0*P*", b"*0000000012345*0*P*", 1), "ISA13"),
    ):
        response = await api.client.post("/remittances", content=bad, headers=api.auth())
        assert response.status_code == 422, response.text
        assert named in response.json()["detail"]
    assert await api.rows("SELECT id FROM remittance_file") == []
