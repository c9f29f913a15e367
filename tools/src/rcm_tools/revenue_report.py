"""The revenue-cycle report `make run` ends with: read from the reporting service, printed as a billing team reads
it (claims by state, the KPIs with their formulas, A/R aging, top denial reasons, work queues, the coding-pattern
signal), and saved as the dashboard's one self-contained HTML page.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from rcm_common.printed import dollars
from rcm_tools.errors import ToolError


class ReportError(ToolError):
    """The reporting service did not answer as expected."""


@dataclass(frozen=True)
class RevenueReport:
    kpis: dict[str, Any]
    aging: dict[str, Any]
    queues: dict[str, Any]
    page: str
    """The dashboard's HTML."""


async def read_report(client: httpx.AsyncClient) -> RevenueReport:
    """The report as reporting answers it now (a client with a token that has `reports:read`)."""
    answers = [await client.get(path) for path in ("/kpis", "/ar/aging", "/workqueues/summary", "/dashboard")]
    for answer in answers:
        if not answer.is_success:
            raise ReportError(f"GET {answer.request.url.path} answered {answer.status_code}")
    kpis, aging, queues, page = answers
    return RevenueReport(kpis.json(), aging.json(), queues.json(), page.text)


async def settled_report(
    client: httpx.AsyncClient, *, visits: int, within: float, quiet_seconds: float = 2.0
) -> RevenueReport:
    """The report once reporting has read every visit and nothing has changed for `quiet_seconds`: its consumers
    have caught up with what the practice did."""
    deadline = time.monotonic() + within
    last: dict[str, Any] | None = None
    while True:
        report = await read_report(client)
        caught_up = report.kpis["volumes"]["visits"] >= visits and _figures(report) == last
        if caught_up:
            return report
        if time.monotonic() > deadline:
            seen = report.kpis["volumes"]["visits"]
            raise ReportError(f"reporting had read {seen} of {visits} visits, still changing, after {within:.0f} s")
        last = _figures(report)
        await asyncio.sleep(quiet_seconds)


def _figures(report: RevenueReport) -> dict[str, Any]:
    return {
        "kpis": report.kpis["kpis"],
        "states": report.kpis["claims_by_state"],
        "aging": report.aging["by_payer"],
        "queues": report.queues["queues"],
    }


def money(value: str | Decimal | None) -> str:
    return "-" if value is None else dollars(Decimal(value))


def kpi_figure(kpi: dict[str, Any]) -> str:
    value = kpi["value"]
    if value is None:
        return "n/a"
    return {"percent": f"{value}%", "days": f"{value} days", "money": money(value)}[kpi["unit"]]


def kpi_target(kpi: dict[str, Any]) -> str:
    if kpi["target"] is None:
        return "-"
    sign = ">=" if kpi["better"] == "higher" else "<="
    unit = {"percent": "%", "days": " days", "money": ""}[kpi["unit"]]
    return f"{sign} {kpi['target']}{unit}"


def print_report(report: RevenueReport, console: Console, *, title: str) -> None:
    """The report's tables, in the order a practice manager reads them."""
    volumes = report.kpis["volumes"]
    console.rule(f"[bold]{title}")
    console.print(
        f"{volumes['patients']} patients, {volumes['visits']} visits, {volumes['claims']} claims; charges "
        f"{money(volumes['charges'])}, payments {money(volumes['payments'])}; A/R {money(report.aging['total'])} "
        f"(payers' and not yet billed {money(report.aging['insurance'])}, patients' {money(report.aging['patient'])})"
    )
    states = Table(title="Claims by state")
    states.add_column("State")
    states.add_column("Claims", justify="right")
    for state, count in report.kpis["claims_by_state"].items():
        states.add_row(state.replace("_", " "), str(count))
    console.print(states)

    kpis = Table(title="Key performance indicators (HFMA MAP Keys)")
    for heading, justify in (("KPI", "left"), ("Figure", "right"), ("Target", "right"), ("", "center")):
        kpis.add_column(heading, justify=justify)  # type: ignore[arg-type]
    kpis.add_column("Formula", overflow="fold")
    for kpi in report.kpis["kpis"]:
        mark = {True: "[green]on target", False: "[red]off target", None: ""}[kpi["on_target"]]
        kpis.add_row(kpi["title"], kpi_figure(kpi), kpi_target(kpi), mark, kpi["formula"])
    console.print(kpis)

    aging = Table(title=f"A/R aging by days from the date of service (as of {report.aging['as_of'][:16]} UTC)")
    aging.add_column("Owed by")
    for bucket in report.aging["buckets"]:
        aging.add_column(bucket, justify="right")
    aging.add_column("Total", justify="right")
    for row in report.aging["by_payer"]:
        cells = [money(row["buckets"].get(bucket)) for bucket in report.aging["buckets"]]
        aging.add_row(row["key"], *cells, f"[bold]{money(row['total'])}")
    console.print(aging)

    denials = Table(title="Top initial denial reasons")
    for heading in ("Reason (group-CARC)", "Claims"):
        denials.add_column(heading, justify="left" if heading.startswith("Reason") else "right")
    for group in report.kpis["denials_by_reason"][:8]:
        denials.add_row(group["key"], str(group["denied"]))
    categories = Table(title="Initial denials by category")
    for heading in ("Category", "Claims", "Denied"):
        categories.add_column(heading, justify="left" if heading == "Category" else "right")
    for group in report.kpis["denials_by_category"]:
        categories.add_row(group["key"].replace("_", " "), str(group["denied"]), money(group["denied_amount"]))
    console.print(denials, categories)

    queues = Table(title="Work queues")
    for heading in ("Service", "Queue", "Items", "Amount"):
        queues.add_column(heading, justify="right" if heading in ("Items", "Amount") else "left")
    for queue in report.queues["queues"]:
        queues.add_row(queue["service"], queue["description"], str(queue["size"]), money(queue["amount"]))
    console.print(queues)

    pattern = report.kpis["coding_pattern"]
    coding = Table(title="Coding pattern: office visit levels by rendering provider", caption=pattern["test"])
    for heading in ("NPI", "Visits", "L4-5 share", "Others' share", "z", ""):
        coding.add_column(heading, justify="left" if heading == "NPI" else "right")
    for provider in pattern["providers"]:
        z = "-" if provider["z"] is None else f"{provider['z']:.2f}"
        flag = "[red]flagged for review" if provider["flagged"] else ""
        coding.add_row(provider["npi"], str(provider["office_visits"]), f"{provider['high_share']:.0%}",
                       f"{provider['others_high_share']:.0%}", z, flag)  # fmt: skip
    console.print(coding)
    console.print(f"[dim]{pattern['note']}")


def write_page(report: RevenueReport, path: Path) -> Path:
    """The dashboard page as one file: it fetches nothing, so it opens anywhere."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.page, encoding="utf-8")
    return path
