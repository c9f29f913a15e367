"""The revenue-cycle report as `make run` prints and saves it, read from reporting running in process over a paid
visit and a denied one: it waits for reporting to settle, prints every table a billing team reads, and saves the
dashboard as one page."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from rcm_common.sample_events import (
    Visit,
    captured,
    claim_closed,
    claim_created,
    claim_denied,
    claim_paid,
    claim_submitted,
    denied_by_payer,
    payment_posted,
)
from rcm_reporting.testing import Fed, ReportingApi, envelope_at, running_reporting
from rcm_tools.revenue_report import ReportError, print_report, settled_report, write_page


@pytest.fixture
async def reporting(tmp_path: Path, signing_keys: tuple[str, str]) -> AsyncIterator[ReportingApi]:
    async with running_reporting(tmp_path, signing_keys) as running:
        running.client.headers.update(running.auth())
        paid, denied = Visit(uuid.uuid4()), Visit(uuid.uuid4())
        paid_payment = payment_posted(paid, paid="120.00")
        denial_payment = payment_posted(denied, paid="0.00", contractual="0.00", denied="150.00", status="4",
                                        line_detail=False)  # fmt: skip
        denial = denied_by_payer(denial_payment, "150.00")
        at = datetime(2026, 11, 10, 9, tzinfo=UTC)
        events = [
            captured(paid), captured(denied), claim_created(paid), claim_created(denied), claim_submitted(paid),
            claim_submitted(denied), paid_payment, denial_payment, denial, claim_paid(paid_payment),
            claim_closed(paid, paid_payment.payment_id), claim_denied(denial),
        ]  # fmt: skip
        await running.feed(*(Fed(event, envelope_at(event, at)) for event in events))
        yield running


async def test_the_report_prints_every_table_and_saves_the_dashboard(reporting: ReportingApi, tmp_path: Path) -> None:
    report = await settled_report(reporting.client, visits=2, within=10, quiet_seconds=0.05)
    stream = io.StringIO()

    print_report(report, Console(file=stream, width=140), title="Maple Street Family Practice")
    page = write_page(report, tmp_path / "report" / "revenue-cycle-report.html")

    printed = stream.getvalue()
    for heading in ("Claims by state", "Key performance indicators", "A/R aging", "Top initial denial reasons",
                    "Initial denials by category", "Work queues", "Coding pattern"):  # fmt: skip
        assert heading in printed
    assert "claims submitted with no scrub failure" in printed  # the formula beside its figure
    assert "CO-197" in printed
    assert "2 visits, 2 claims" in printed
    assert page.read_text().startswith("<!doctype html>")


async def test_a_report_that_does_not_settle_in_time_says_how_far_it_got(reporting: ReportingApi) -> None:
    with pytest.raises(ReportError, match="reporting had read 2 of 3 visits"):
        await settled_report(reporting.client, visits=3, within=0.2, quiet_seconds=0.05)
