"""Reporting where a claim's life turns: a denied claim replaced by a corrected one keeps its denial on the books until
the corrected claim is paid; A/R on a past date reads the visit as it stood then; a payment that matched no claim,
and an 835 held for not balancing, leave their queues once posted; a category's drill-down counts that category's
denials only; a date out of range is refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from rcm_common.events import claim, remittance
from rcm_common.events.base import IntegrationEvent
from rcm_common.sample_events import (
    PAYER,
    Visit,
    captured,
    claim_closed,
    claim_created,
    claim_denied,
    claim_paid,
    claim_submitted,
    denied_by_payer,
    payment_posted,
    payment_reversed,
)
from rcm_reporting.testing import Fed, ReportingApi, envelope_at

D = Decimal


def on(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def fed(*timeline: tuple[datetime, IntegrationEvent]) -> list[Fed]:
    return [Fed(event, envelope_at(event, at)) for at, event in timeline]


async def total(reporting: ReportingApi, **params: str) -> Decimal:
    return D((await reporting.get("/ar/aging", **params))["total"])


async def test_a_replaced_denied_claim_does_not_release_its_denial(reporting: ReportingApi) -> None:
    v = Visit(uuid.uuid4())
    b = uuid.uuid4()
    posted = payment_posted(v, paid="0.00", contractual="0.00", denied="150.00", status="4", line_detail=False)
    denied = denied_by_payer(posted, "150.00")
    replaced = claim.ClaimReplaced(
        claim_id=v.claim_id, patient_id=v.patient_id, payer_id=PAYER, replacement_claim_id=b, encounter_version=1
    )
    paid_b = payment_posted(v, claim_id=b, paid="120.00", contractual="30.00")
    await reporting.feed(*fed(
        (on(3), captured(v)), (on(3, 10), claim_created(v)), (on(3, 11), claim_submitted(v)),
        (on(10), posted), (on(10), denied), (on(10, 10), claim_denied(denied)),
        (on(12), replaced), (on(12), claim_created(v, claim_id=b, frequency="7")),
    ))  # fmt: skip
    pending = await total(reporting)
    await reporting.feed(
        *fed((on(20), paid_b), (on(20, 10), claim_closed(v, paid_b.payment_id, "paid_in_full", claim_id=b)))
    )
    settled = await total(reporting)
    # the corrected claim is with the payer: 150.00; paid 120 + contractual 30 of a 150 visit leaves nothing
    assert (pending, settled) == (D("150.00"), D("0.00"))


async def test_a_r_on_a_past_date_does_not_use_a_later_correction(reporting: ReportingApi) -> None:
    v = Visit(uuid.uuid4())
    await reporting.feed(*fed((on(3), captured(v))))
    before = await reporting.get("/ar/aging", as_of=on(5).isoformat())
    await reporting.feed(*fed((on(10), captured(v, ("150.00",), self_pay=True, version=2))))
    after = await reporting.get("/ar/aging", as_of=on(5).isoformat())
    assert [r["key"] for r in before["by_payer"]] == ["unbilled"]
    assert [r["key"] for r in after["by_payer"]] == ["unbilled"], "on the 5th the visit was covered, not billed yet"


async def test_an_unmatched_reversal_leaves_the_unmatched_queue_once_posted(reporting: ReportingApi) -> None:
    v = Visit(uuid.uuid4())
    paid = payment_posted(v, paid="120.00")
    reversal = payment_reversed(paid)
    unmatched = remittance.RemittanceUnmatched(
        remittance_id=reversal.remittance_id, payer_id=PAYER, trace_number="EFT2002", payment_id=reversal.payment_id,
        patient_control_number=v.control(0)[:17], payer_claim_number="P1", claim_status="22", paid=D("-90.00"),
        reason="the payment it reverses is not posted yet",
    )  # fmt: skip
    await reporting.feed(*fed(
        (on(3), captured(v)), (on(3, 10), claim_created(v)), (on(12), unmatched), (on(12, 10), paid),
        (on(12, 11), reversal),
    ))  # fmt: skip
    queues = {q["name"]: q["size"] for q in (await reporting.get("/workqueues/summary"))["queues"]}
    assert queues["unmatched_payments"] == 0


async def test_a_held_remittance_that_was_released_and_posted_leaves_the_held_queue(reporting: ReportingApi) -> None:
    v = Visit(uuid.uuid4())
    paid = payment_posted(v, paid="120.00")
    held = remittance.RemittanceReceived(
        remittance_id=paid.remittance_id, payer_id=PAYER, trace_number=paid.trace_number, payer_name="ACME",
        payment_method="ACH", payment_date=None, total_paid=D("90.00"), credit_debit="C", claim_count=1,
        provider_adjustment_total=D("0.00"), held=True, balance_problems=("BPR02 differs",),
    )  # fmt: skip
    await reporting.feed(*fed((on(3), captured(v)), (on(3, 10), claim_created(v)), (on(12), held), (on(14), paid)))
    queues = {q["name"]: q["size"] for q in (await reporting.get("/workqueues/summary"))["queues"]}
    assert queues["held_remittances"] == 0, "its payments were posted: it was released"


async def test_category_other_counts_only_claims_denied_for_other_reasons(reporting: ReportingApi) -> None:
    a, e = Visit(uuid.uuid4()), Visit(uuid.uuid4())
    paid_a = payment_posted(a, paid="120.00")
    posted_e = payment_posted(e, paid="0.00", contractual="0.00", denied="150.00", status="4", line_detail=False)
    denied_e = denied_by_payer(posted_e, "150.00")
    denied_e_claim = claim_denied(denied_e).model_copy(update={"category": "other"})
    await reporting.feed(*fed(
        (on(3), captured(a)), (on(3), captured(e)), (on(3, 10), claim_created(a)), (on(3, 10), claim_created(e)),
        (on(3, 11), claim_submitted(a)), (on(3, 11), claim_submitted(e)),
        (on(12), paid_a), (on(12, 10), claim_paid(paid_a)), (on(14), posted_e), (on(14), denied_e),
        (on(14, 10), denied_e_claim),
    ))  # fmt: skip
    drill = await reporting.get("/kpis/denial_rate/claims", category="other")
    counted = sorted((D(item["numerator"]), D(item["denominator"])) for item in drill["items"])
    assert counted == [(D(0), D(1)), (D(1), D(1))]  # the paid claim stays in the denominator only
    assert drill["kpi"]["value"] == "50.0"  # one of the two claims adjudicated was denied for other reasons


async def test_an_out_of_range_as_of_is_refused_not_a_500(reporting: ReportingApi) -> None:
    for value in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        response = await reporting.client.get("/ar/aging", params={"as_of": value}, headers=reporting.auth())
        assert response.status_code == 422, (value, response.status_code)
