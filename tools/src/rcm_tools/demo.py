"""`rcm demo`: a synthetic practice's whole revenue cycle through the running stack, then its report.

The practice (seeded: the same seed and size give the same practice) registers its patients, captures their
visits over the last working days, works coding review, claims, rejections and denials, secondary claims,
statements and patient payments through the services' HTTP APIs, with a progress bar per stage; what waits for
the calendar (the payers' payment runs, statements) is run on demand. Once the reporting service has read
everything, the revenue-cycle report is printed (claims by state, the KPIs with their formulas, A/R aging, top
denial reasons, work queues, the coding-pattern signal) and saved as one self-contained HTML page with its
charts, whose path is printed last.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from rich.console import Console

from rcm_common.types import utcnow
from rcm_tools import practice
from rcm_tools.end_to_end import client
from rcm_tools.practice_driver import DriveSummary, drive_practice
from rcm_tools.progress import StageBars
from rcm_tools.revenue_report import print_report, settled_report, write_page
from rcm_tools.stack import LocalStack, installed_services
from rcm_tools.synthetic_practice import synthetic_practice

DEFAULT_DAYS: Final = 20
DEFAULT_VISITS_PER_DAY: Final = 8
DEFAULT_SEED: Final = 2026
REPORT_WITHIN_SECONDS: Final = 120.0
REPORT_FILE: Final = "revenue-cycle-report.html"


@dataclass(frozen=True)
class DemoPlan:
    state_dir: Path
    days: int = DEFAULT_DAYS
    visits_per_day: int = DEFAULT_VISITS_PER_DAY
    seed: int = DEFAULT_SEED
    report_within: float = REPORT_WITHIN_SECONDS


async def run_demo(plan: DemoPlan, console: Console) -> tuple[DriveSummary, Path]:
    """Drive the practice, print its report, save the page; returns what was done and where the page is."""
    stack = LocalStack(plan.state_dir, installed_services())
    office = synthetic_practice(
        seed=plan.seed, days=plan.days, visits_per_day=plan.visits_per_day, today=utcnow().date()
    )
    with StageBars() as bars:
        summary = await drive_practice(stack, office, bars)
    async with client(stack, "reporting", "biller") as reporting:
        report = await settled_report(reporting, visits=summary.visits, within=plan.report_within)
    name = practice.PROVIDER_DIRECTORY["billing"]["name"]
    print_report(report, console, title=f"{name}: the revenue cycle of its last {plan.days} working days")
    page = write_page(report, plan.state_dir / REPORT_FILE)
    console.print(f"The report, with its charts: [bold]{page.resolve()}")
    return summary, page
