"""`rcm bench remittance` on a small 835, SQLite only: one JSON line with its figures beside the baseline, and
every claim payment of the file posted and announced, the postings summing to the 835's payment."""

from __future__ import annotations

import json

import pytest

from rcm_tools import cli
from rcm_tools.benchmarks import runs


async def _no_postgres() -> bool:
    return False


def test_every_claim_payment_is_posted_and_the_line_holds_the_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runs, "postgres_available", _no_postgres)

    assert cli.main(["bench", "remittance", "--claims", "30", "--timeout", "120"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    figures = json.loads(line)
    assert (figures["benchmark"], figures["claims"]) == ("remittance_posting", 30)
    assert figures["postgresql"].startswith("skipped")
    sqlite = figures["sqlite"]
    assert set(sqlite) == {
        "claim_payments_posted",
        "file_bytes",
        "claim_payments_per_s",
        "intake_seconds",
        "posting_claim_payments_per_s",
        "baseline_transactions_per_s",
        "ratio_to_baseline",
    }
    assert sqlite["claim_payments_posted"] == 30
