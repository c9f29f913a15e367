"""End to end: a week of the synthetic practice driven through the whole revenue cycle. Registration, eligibility,
charge, claim, remittance, collections and the clearinghouse simulator (its packaged payers, their random denials
on) run as their own processes beside the embedded broker; the practice is set up, its patients registered, its
visits captured and worked through the coding review, the claim queues, the payers' answers and the patients'
balances over HTTP only.

What the drive reports is checked against what the services say: every visit's claims decided for good; each
defect worked as the visit says (the coding corrected at review, the coverage corrected and the claim accepted,
the retro-authorisation on the claim, the appeal the payer overturned, the recoded visit paid on a replacement,
the denial moved to the patient under their waiver); a secondary claim paid after its primary; statements
issued; and each guarantor's balance paid, on a plan or with the agency as they pay.

The reporting service runs beside them. Once it has read everything, its A/R equals the sum of collections'
account balances to the cent; every KPI is recomputed by hand from its drill-down; each story reads in order in
its claims' histories (a clean visit paid and closed, a denial recoded and paid on a replacement claim, a
secondary claim paid after its primary); a second reporting service started afterwards reads every topic from
the first offset into an empty database and gives the same figures; and the dashboard is screenshot in headless
Chromium (left at /tmp/e2e_dashboard.png to be looked at)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from rcm_reporting.testing import screenshot
from rcm_tools.end_to_end import TODAY, client, kpi_figures, replaying_reporting, revenue_cycle_stack
from rcm_tools.practice_driver import DriveSummary, drive_practice
from rcm_tools.progress import PlainProgress
from rcm_tools.revenue_report import RevenueReport, settled_report, write_page
from rcm_tools.stack import LocalStack
from rcm_tools.synthetic_practice import Defect, PaymentBehaviour, Remedy, SyntheticPractice, synthetic_practice

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

TENTH: Final = Decimal("0.1")
DASHBOARD_PNG: Final = Path(tempfile.gettempdir()) / "e2e_dashboard.png"
SEED: Final = 2021  # every remedy but a write-off, three Medicare patients with Medicaid beside it, plans, dependants


@dataclass(frozen=True)
class Week:
    stack: LocalStack
    servers: str
    office: SyntheticPractice
    summary: DriveSummary


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Week]:
    """A week of the practice driven once through the stack, for every test of this module to read."""
    with revenue_cycle_stack(tmp_path_factory.mktemp("stack"), reporting=True) as (local, servers):
        office = synthetic_practice(seed=SEED, days=5, visits_per_day=10, today=TODAY)
        summary = asyncio.run(drive_practice(local, office, PlainProgress()))
        yield Week(local, servers, office, summary)


async def settled(week: Week) -> RevenueReport:
    async with client(week.stack, "reporting", "biller") as reporting:
        return await settled_report(reporting, visits=week.summary.visits, within=90, quiet_seconds=1.0)


async def read_all(http: httpx.AsyncClient, path: str, ids: tuple[str, ...]) -> list[dict[str, Any]]:
    return [(await http.get(f"{path}/{item}")).json() for item in ids]


def claims_by_remedy(
    office: SyntheticPractice, summary: DriveSummary, claims: list[dict[str, Any]]
) -> dict[Remedy, list[dict[str, Any]]]:
    """The claims of the visits carrying each remedy (the summary lists each defect's encounters in visit order)."""
    remedy_of = {
        encounter_id: visit.remedy
        for defect in Defect
        for visit, encounter_id in zip(office.visits_with(defect), summary.encounter_ids[defect], strict=True)
    }
    found: dict[Remedy, list[dict[str, Any]]] = {}
    for claim in claims:
        if (remedy := remedy_of.get(claim["encounter_id"])) is not None:
            found.setdefault(remedy, []).append(claim)
    return found


@pytest.mark.timeout(300)
async def test_a_week_of_the_practice_goes_through_the_whole_revenue_cycle(week: Week) -> None:
    stack, office, summary = week.stack, week.office, week.summary

    insured = [visit for visit in office.visits if visit.insured]
    assert (summary.patients, summary.visits) == (len(office.patients), len(office.visits))
    assert summary.coverages == sum(len(patient.coverages) for patient in office.patients)
    assert summary.appointments == len(office.appointments) > 0
    assert summary.coding_corrections == len(office.visits_with(Defect.CODING_ERROR))
    assert summary.claims_submitted >= len(insured)
    assert summary.claims_appealed >= 1
    assert summary.claims_denied >= 2
    assert summary.secondary_claims_paid >= 1
    assert summary.statements >= 1
    assert summary.payment_plans >= 1
    assert summary.upcoder_npi == (office.upcoder.npi if office.upcoder else None)

    async with client(stack, "claim", "biller") as biller:
        claims = await read_all(biller, "/claims", summary.claim_ids)
    by_encounter: dict[str, list[dict[str, Any]]] = {}
    for claim in claims:
        by_encounter.setdefault(claim["encounter_id"], []).append(claim)
    assert len(by_encounter) == len(insured)
    for visit_claims in by_encounter.values():
        assert all(c["state"] in ("closed", "replaced", "voided") or c["frequency"] == "8" for c in visit_claims)
    secondary_paid = [
        c for c in claims if c["responsibility"] == "S" and any(Decimal(a["paid"]) > 0 for a in c["adjudications"])
    ]
    assert secondary_paid
    assert all(claim["state"] == "closed" for claim in secondary_paid)

    # Each defect worked as its visit says (the payers' random denials may add claims: any of a visit's will do).
    worked = claims_by_remedy(office, summary, claims)
    assert set(worked) == {visit.remedy for visit in insured if visit.remedy is not None}
    assert any(claim["state"] == "closed" for claim in worked[Remedy.FIX_COVERAGE])
    assert any(claim["scrub"]["authorization_number"] for claim in worked[Remedy.RECORD_AUTHORISATION])
    appeals = [appeal["outcome"] for claim in worked[Remedy.APPEAL] for appeal in claim["appeals"]]
    assert "overturned" in appeals
    recoded = {(claim["frequency"], claim["state"]) for claim in worked[Remedy.RECODE_AND_RESUBMIT]}
    assert ("1", "replaced") in recoded
    # The recoded visit is paid on its replacement: processed (CLP02 1-3) with nothing denied, and closed; what it
    # allowed may all be the patient's deductible.
    replacements = [claim for claim in worked[Remedy.RECODE_AND_RESUBMIT] if claim["frequency"] == "7"]
    assert any(
        claim["state"] == "closed"
        and any(
            p["claim_status"] in ("1", "2", "3") and not p["denied_lines"] and not p["reversed"]
            for p in claim["adjudications"]
        )
        for claim in replacements
    )
    moved = [r["kind"] for claim in worked[Remedy.TRANSFER_TO_PATIENT] for r in claim["resolutions"]]
    assert "transferred_to_patient" in moved

    async with client(stack, "collections", "collector") as collector:
        accounts = await read_all(collector, "/accounts", summary.account_ids)
    assert sum(len(account["statements"]) for account in accounts) == summary.statements
    planned = {pid for account in accounts if account["plans"] for pid in account["patients"]}
    placed = {pid for account in accounts if account["placements"] for pid in account["patients"]}
    assert planned
    assert placed
    assert planned <= set(summary.patient_ids[PaymentBehaviour.PAYMENT_PLAN])
    assert placed <= set(summary.patient_ids[PaymentBehaviour.NEVER_PAYS])
    assert summary.placements == len([account for account in accounts if account["placements"]])
    pays_at_once = set(summary.patient_ids[PaymentBehaviour.PAYS_AT_ONCE])
    for account in accounts:
        if pays_at_once & set(account["patients"]):
            assert Decimal(account["patient_due"]) == 0, account["id"]
    # The clean path's end: a statement sent, then paid in full.
    assert any(
        account["statements"] and account["payments"] and Decimal(account["patient_due"]) == 0
        for account in accounts
        if pays_at_once & set(account["patients"])
    )


async def test_reporting_s_a_r_is_collections_balances_to_the_cent(week: Week) -> None:
    report = await settled(week)

    async with client(week.stack, "collections", "collector") as collector:
        accounts = await read_all(collector, "/accounts", week.summary.account_ids)
    assert Decimal(report.aging["total"]) == sum((Decimal(a["terms"]["balance"]) for a in accounts), Decimal(0))
    unapplied = sum((Decimal(row["buckets"]["unapplied"]) for row in report.aging["by_payer"]), Decimal(0))
    assert unapplied == -sum((Decimal(account["credit"]) for account in accounts), Decimal(0))
    queues = {queue["name"]: queue["size"] for queue in report.queues["queues"]}
    assert queues["placed_with_agency"] == week.summary.placements > 0
    assert report.kpis["volumes"]["visits"] == week.summary.visits


async def test_every_kpi_of_the_week_is_recomputed_by_hand_from_its_drill_down(week: Week) -> None:
    report = await settled(week)

    async with client(week.stack, "reporting", "biller") as reporting:
        for kpi in report.kpis["kpis"]:
            items = (await reporting.get(kpi["drill_down"])).json()["items"]
            numerator = sum((Decimal(item["numerator"]) for item in items), Decimal(0))
            denominator = sum((Decimal(item["denominator"]) for item in items), Decimal(0))
            if kpi["unit"] == "money":
                assert numerator == Decimal(kpi["value"]), kpi["name"]
                continue
            scale = Decimal(90 if kpi["name"] == "days_in_ar" else 100 if kpi["unit"] == "percent" else 1)
            by_hand = (scale * numerator / denominator).quantize(TENTH, ROUND_HALF_UP) if denominator else None
            assert (None if by_hand is None else str(by_hand)) == kpi["value"], kpi["name"]


async def test_each_story_reads_in_order_in_its_claims_history(week: Week) -> None:
    await settled(week)
    async with client(week.stack, "claim", "biller") as biller:
        claims = await read_all(biller, "/claims", week.summary.claim_ids)
    recoded = claims_by_remedy(week.office, week.summary, claims)[Remedy.RECODE_AND_RESUBMIT]
    replaced = next(claim for claim in recoded if claim["state"] == "replaced")
    secondary = next(claim for claim in claims if claim["responsibility"] == "S" and claim["state"] == "closed")
    clean = next(
        claim
        for claim in claims
        if claim["state"] == "closed"
        and claim["responsibility"] == "P"
        and len(claim["adjudications"]) == 1
        and not claim["adjudications"][0]["denied_lines"]
        and Decimal(claim["adjudications"][0]["paid"]) > 0
    )

    async with client(week.stack, "reporting", "biller") as reporting:
        stories = (("clean", clean), ("recoded", replaced), ("secondary", secondary))
        histories = {story: await history_of(reporting, claim["id"]) for story, claim in stories}
    assert in_order(
        histories["clean"],
        "charges_captured",
        "claim_created",
        "claim_submitted",
        "payment_posted",
        "claim_paid",
        "claim_closed",
    )
    assert in_order(
        histories["recoded"], "charges_captured", "claim_created", "claim_denied", "charges_corrected", "claim_replaced"
    )
    assert in_order(histories["secondary"], "claim_created", "claim_submitted", "payment_posted", "claim_closed")


async def history_of(reporting: httpx.AsyncClient, claim_id: str) -> list[str]:
    """The short names of the claim's events, in the order reporting lists them."""
    events = (await reporting.get(f"/claims/{claim_id}/events")).json()["events"]
    return [step["event_type"].rsplit(".", 1)[1] for step in events]


def in_order(history: list[str], *steps: str) -> bool:
    """`steps` appear in `history` in this order (with others between them)."""
    position = 0
    for step in steps:
        if step not in history[position:]:
            return False
        position = history.index(step, position) + 1
    return True


async def test_a_second_reporting_service_replays_every_topic_into_the_same_figures(week: Week) -> None:
    live = await settled(week)
    moment = {"as_of": live.kpis["as_of"]}

    with replaying_reporting(week.stack, week.servers) as replay:
        deadline = time.monotonic() + 90
        while kpi_figures(replay.get("/kpis").json()) != kpi_figures(live.kpis):
            assert time.monotonic() < deadline, "the replay did not reach the live figures in 90 s"
            await asyncio.sleep(1)
        async with client(week.stack, "reporting", "biller") as reporting:
            for path, params in (("/ar/aging", moment), ("/ar/aging", {"as_of": TODAY.isoformat()})):
                assert replay.get(path, params=params).json() == (await reporting.get(path, params=params)).json()
            queues = (await reporting.get("/workqueues/summary")).json()["queues"]
        assert replay.get("/workqueues/summary").json()["queues"] == queues


async def test_the_dashboard_of_the_week_renders_in_a_browser(week: Week, tmp_path: Path) -> None:
    report = await settled(week)
    page = write_page(report, tmp_path / "dashboard.html")

    picture = screenshot(page, DASHBOARD_PNG)

    assert picture.read_bytes().startswith(b"\x89PNG")
    assert picture.stat().st_size > 60_000


async def test_the_coding_pattern_signal_stays_silent_below_its_minimum_volume(week: Week) -> None:
    """A week of 50 visits gives no provider 30 office visits: the signal lists each provider's levels and says
    nothing (at `make run`'s size it flags the upcoding provider and no other: tools/tests/test_synthetic_practice)."""
    report = await settled(week)

    providers = report.kpis["coding_pattern"]["providers"]
    assert {provider["npi"] for provider in providers} <= {p.npi for p in week.office.providers}
    assert all(provider["z"] is None and not provider["flagged"] for provider in providers)
