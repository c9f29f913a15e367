"""Reporting over a small practice's November, fed as its consumers apply the events, on SQLite or PostgreSQL.

Four visits on 2 November at ACME01's contract: A paid by the payer (90.00, CO-45 30.00, the 30.00 copay the
patient's, paid on the 18th); B scrubbed out once, then denied whole for a missing authorisation and written
off; C self-pay with 50.00 taken at the visit; D rejected by the payer once and resent, still awaiting an answer;
E denied and not yet worked; F held in coding review. A/R, the KPIs and their drill-downs, a claim's history,
the work queues and the dashboard are read over HTTP; the same events replayed in another order into an empty
database give the same facts and figures.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Final

import pytest

from rcm_common.events import charge, claim
from rcm_common.events.base import IntegrationEvent
from rcm_common.sample_events import (
    MovableClock,
    Visit,
    captured,
    claim_accepted,
    claim_closed,
    claim_created,
    claim_denied,
    claim_paid,
    claim_rejected,
    claim_scrub_failed,
    claim_submitted,
    denied_by_payer,
    patient_paid,
    payment_posted,
    registered,
    write_off_requested,
)
from rcm_common.testing import throwaway_postgres_database
from rcm_reporting.testing import Fed, ReportingApi, envelope_at, running_reporting, screenshot

D = Decimal
NOV: Final = datetime(2026, 11, 1, tzinfo=UTC)
DASHBOARD_PNG: Final = Path(tempfile.gettempdir()) / "reporting_dashboard.png"
"""Left there to be looked at."""


def on(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return NOV.replace(day=day, hour=hour, minute=minute)


def held(visit: Visit) -> charge.ChargesHeld:
    return charge.ChargesHeld(encounter_id=visit.encounter_id, version=1, patient_id=visit.patient_id,
                              issue_codes=("NCCI_PTP",))  # fmt: skip


def a_month() -> list[Fed]:
    """The practice's November as its services published it, in the order each topic holds it."""
    account = uuid.uuid4()
    a, b, c, d, e, f = (Visit(uuid.uuid4()) for _ in range(6))
    paid_a = payment_posted(a, paid="90.00", contractual="30.00", copay="30.00")
    posted_b = payment_posted(b, paid="0.00", contractual="0.00", denied="150.00", status="4", line_detail=False)
    denied_b = denied_by_payer(posted_b, "150.00")
    posted_e = payment_posted(e, paid="0.00", contractual="0.00", denied="150.00", status="4", line_detail=False)
    denied_e = denied_by_payer(posted_e, "150.00")
    timeline: list[tuple[datetime, IntegrationEvent]] = [
        *((on(3, 8), registered(v.patient_id)) for v in (a, b, c, d, e, f)),
        (on(3), captured(a)), (on(3), captured(b)), (on(3), captured(c, self_pay=True)), (on(3), captured(d)),
        (on(3), captured(e)), (on(3), captured(f)), (on(4), held(f)),
        (on(3, 10), claim_created(a)), (on(3, 11), claim_submitted(a)), (on(4), claim_accepted(a)),
        (on(3, 10), claim_created(b)), (on(3, 10, 1), claim_scrub_failed(b)), (on(5), claim_submitted(b)),
        (on(6), claim_accepted(b)),
        (on(3, 10), claim_created(d)), (on(3, 11), claim_submitted(d)), (on(4), claim_rejected(d)),
        (on(7), claim_submitted(d)), (on(8), claim_accepted(d)),
        (on(3, 10), claim_created(e)), (on(3, 11), claim_submitted(e)), (on(4), claim_accepted(e)),
        (on(12), paid_a), (on(12, 9, 1), claim_paid(paid_a)), (on(12, 9, 2), claim_closed(a, paid_a.payment_id)),
        (on(14), posted_b), (on(14), denied_b), (on(14, 9, 1), claim_denied(denied_b)),
        (on(16), write_off_requested(denied_b)), (on(16, 9, 1), claim_closed(b, posted_b.payment_id, "written_off")),
        (on(14), posted_e), (on(14), denied_e), (on(14, 9, 1), claim_denied(denied_e)),
        (on(3, 9), patient_paid(account, c, "50.00", at_visit=True)),
        (on(18), patient_paid(account, a, "30.00")),
    ]  # fmt: skip
    return [Fed(event, envelope_at(event, at)) for at, event in timeline]


@pytest.fixture
async def november(reporting: ReportingApi) -> list[Fed]:
    month = a_month()
    await reporting.feed(*month)
    return month


def kpi(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(k for k in report["kpis"] if k["name"] == name)
    return found


async def test_a_r_is_what_is_still_owed_by_whom(reporting: ReportingApi, november: list[Fed]) -> None:
    aging = await reporting.get("/ar/aging")

    # A paid in full (payer and copay), B written off, C 100.00 the patient's, D and E 150.00 each ACME01's, F
    # not billed yet.
    assert D(aging["total"]) == D("550.00")
    assert D(aging["insurance"]) == D("450.00")
    assert D(aging["patient"]) == D("100.00")
    by_payer = {row["key"]: row for row in aging["by_payer"]}
    assert {key: D(row["buckets"]["0-30"]) for key, row in by_payer.items()} == {
        "ACME01": D("300.00"),
        "unbilled": D("150.00"),
        "patient": D("100.00"),
    }
    assert sum(D(row["total"]) for row in aging["by_patient"]) == D("550.00")


async def test_a_r_on_a_past_date_differs_from_today_by_exactly_the_postings_since(
    reporting: ReportingApi, november: list[Fed]
) -> None:
    before_payments = on(11)
    then = await reporting.get("/ar/aging", as_of=before_payments.isoformat())
    now = await reporting.get("/ar/aging")

    # Since the 11th: A's payment (90.00), contractual (30.00) and copay paid (30.00); B's 150.00 CO-197 adjusted,
    # held and written off; E's CO-197 adjusted and held.
    posted_since = (D("-90.00") - D("30.00") - D("30.00")) + (D("-150.00") + D("150.00") - D("150.00"))
    assert D(now["total"]) - D(then["total"]) == posted_since
    assert D(then["total"]) == D("900.00") - D("50.00")  # every visit's charges, less the copay taken at C's visit
    then_by_payer = {row["key"]: D(row["total"]) for row in then["by_payer"]}
    assert then_by_payer == {"ACME01": D("600.00"), "unbilled": D("150.00"), "patient": D("100.00")}


async def test_a_day_asks_for_the_end_of_that_day_and_a_bad_date_is_refused(
    reporting: ReportingApi, november: list[Fed]
) -> None:
    assert D((await reporting.get("/ar/aging", as_of="2026-11-02"))["total"]) == D("0.00")
    assert D((await reporting.get("/ar/aging", as_of="2026-11-03"))["total"]) == D("850.00")
    refused = await reporting.client.get("/ar/aging", params={"as_of": "yesterday"}, headers=reporting.auth())
    assert refused.status_code == 422, refused.text
    naive = await reporting.client.get("/ar/aging", params={"as_of": "2026-11-03T10:00:00"}, headers=reporting.auth())
    assert naive.status_code == 422


async def test_the_kpis_count_what_their_formulas_say(reporting: ReportingApi, november: list[Fed]) -> None:
    report = await reporting.get("/kpis")

    assert kpi(report, "clean_claim_rate")["value"] == "50.0"  # of A, B, D, E only A and E went clean
    assert kpi(report, "first_pass_resolution_rate")["value"] == "33.3"  # A of A, B, E
    assert kpi(report, "denial_rate")["value"] == "66.7"  # B and E
    assert kpi(report, "denial_dollar_rate")["value"] == "66.7"  # 300.00 of 450.00
    assert kpi(report, "gross_collection_rate")["value"] == "18.9"  # 170.00 of 900.00
    assert kpi(report, "net_collection_rate")["value"] == "19.5"  # 170.00 of 900.00 - 30.00
    assert kpi(report, "pos_collections")["value"] == "50.00"
    assert kpi(report, "charge_lag_days")["value"] == "1.0"
    assert kpi(report, "ar_over_90_share")["value"] == "0.0"
    assert kpi(report, "days_in_ar")["value"] == "55.0"  # 550.00 of A/R over 900.00 charged in 90 days
    assert report["claims_by_state"] == {"accepted": 1, "closed": 2, "denied": 1}
    assert [(g["key"], g["denied"]) for g in report["denials_by_category"]] == [("authorisation", 2)]
    assert [(g["key"], g["denied"]) for g in report["denials_by_reason"]] == [("CO-197", 2)]
    assert report["volumes"]["patients"] == 6
    assert report["volumes"]["visits"] == 6
    for figure in report["kpis"]:
        assert figure["formula"]
        assert figure["drill_down"] == f"/kpis/{figure['name']}/claims"


async def test_every_kpi_is_recomputed_by_hand_from_its_drill_down(
    reporting: ReportingApi, november: list[Fed]
) -> None:
    report = await reporting.get("/kpis")
    scales = {"percent": D(100), "days": D(1)}
    for figure in report["kpis"]:
        drill = await reporting.get(figure["drill_down"])
        numerator = sum((D(item["numerator"]) for item in drill["items"]), D(0))
        denominator = sum((D(item["denominator"]) for item in drill["items"]), D(0))
        if figure["unit"] == "money":
            assert numerator == D(figure["value"]), figure["name"]
            continue
        scale = D(90) if figure["name"] == "days_in_ar" else scales[figure["unit"]]
        by_hand = (scale * numerator / denominator).quantize(D("0.1"), ROUND_HALF_UP) if denominator else None
        assert (str(by_hand) if by_hand is not None else None) == figure["value"], figure["name"]


async def test_a_drill_down_narrows_to_a_payer_or_a_category_and_an_unknown_kpi_is_refused(
    reporting: ReportingApi, november: list[Fed]
) -> None:
    denied = await reporting.get("/kpis/denial_rate/claims", category="authorisation")
    assert sorted(D(item["numerator"]) for item in denied["items"]) == [D(0), D(1), D(1)]  # B and E of A, B, E
    assert denied["kpi"]["value"] == "66.7"  # the category's share of the claims adjudicated, as the dashboard says
    assert len((await reporting.get("/kpis/clean_claim_rate/claims", payer_id="SUMMT1"))["items"]) == 0
    unknown = await reporting.client.get("/kpis/happiness/claims", headers=reporting.auth())
    assert unknown.status_code == 404
    assert "clean_claim_rate" in unknown.json()["detail"]


async def test_a_claim_s_events_come_in_order_across_services(reporting: ReportingApi, november: list[Fed]) -> None:
    paid = next(item.event for item in november if isinstance(item.event, claim.ClaimPaid))
    history = await reporting.get(f"/claims/{paid.claim_id}/events")

    types = [step["event_type"] for step in history["events"]]
    assert types == [
        "rcm.charge.charges_captured",
        "rcm.claim.claim_created",
        "rcm.claim.claim_submitted",
        "rcm.claim.claim_accepted",
        "rcm.remittance.payment_posted",
        "rcm.claim.claim_paid",
        "rcm.claim.claim_closed",
        "rcm.collections.patient_payment_received",
    ]
    assert history["state"] == "closed"
    assert "paid=90.00" in history["events"][4]["summary"]
    missing = await reporting.client.get(f"/claims/{uuid.uuid4()}/events", headers=reporting.auth())
    assert missing.status_code == 404


async def test_work_queues_say_what_waits_for_whom(reporting: ReportingApi, november: list[Fed]) -> None:
    queues = {q["name"]: q for q in (await reporting.get("/workqueues/summary"))["queues"]}

    assert queues["coding_review"]["size"] == 1
    assert queues["denials"]["size"] == 1
    assert D(queues["denials"]["amount"]) == D("150.00")
    assert queues["scrub_failures"]["size"] == 0
    assert queues["rejections"]["size"] == 0


async def test_the_dashboard_is_one_page_that_fetches_nothing(reporting: ReportingApi, november: list[Fed]) -> None:
    response = await reporting.client.get("/dashboard", headers=reporting.auth())

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.count("<svg") >= 4
    assert "/kpis/denial_rate/claims?category=authorisation" in page
    assert "<script" not in page
    assert "<link" not in page
    assert "src=" not in page
    assert "http" not in page


async def test_the_dashboard_renders_in_a_browser(reporting: ReportingApi, november: list[Fed], tmp_path: Path) -> None:
    page = tmp_path / "dashboard.html"
    page.write_text((await reporting.client.get("/dashboard", headers=reporting.auth())).text)

    picture = screenshot(page, DASHBOARD_PNG)

    pixels = picture.read_bytes()
    assert pixels.startswith(b"\x89PNG")
    assert len(pixels) > 60_000  # charts and tables, not a blank page


async def test_reports_need_the_reports_scope(reporting: ReportingApi) -> None:
    for path in ("/kpis", "/ar/aging", "/workqueues/summary", "/dashboard", "/kpis/denial_rate/claims"):
        assert (await reporting.client.get(path)).status_code == 401
        assert (await reporting.client.get(path, headers=reporting.auth("front_desk"))).status_code == 403


async def test_replaying_every_topic_into_an_empty_database_rebuilds_the_same_facts_and_figures(
    reporting: ReportingApi,
    november: list[Fed],
    tmp_path: Path,
    signing_keys: tuple[str, str],
    database_url: str,
    clock: MovableClock,
) -> None:
    # Each topic keeps its own order; across topics the replay reads them the other way round.
    topics = list(dict.fromkeys(item.topic for item in november))
    replayed = [item for topic in reversed(topics) for item in november if item.topic == topic]
    async with (
        _empty_database(database_url) as url,
        running_reporting(tmp_path / "replay", signing_keys, url, clock=clock) as replay,
    ):
        await replay.feed(*replayed)
        assert await replay.facts() == await reporting.facts()
        for path in ("/kpis", "/ar/aging", "/workqueues/summary"):
            assert await replay.get(path) == await reporting.get(path), path
        assert await replay.get("/ar/aging", as_of=on(13).isoformat()) == await reporting.get(
            "/ar/aging", as_of=on(13).isoformat()
        )


def _empty_database(database_url: str) -> contextlib.AbstractAsyncContextManager[str]:
    """Another PostgreSQL database when the suite runs on PostgreSQL; SQLite (in the replay's own state) else."""
    return throwaway_postgres_database() if database_url else contextlib.nullcontext("")
