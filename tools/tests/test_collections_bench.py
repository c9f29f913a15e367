"""`rcm bench collections` on a few payments, SQLite only: one JSON line with its figures beside the baseline,
every payment turned into a balance change and every ledger verified."""

from __future__ import annotations

import json

import pytest

from rcm_tools import cli
from rcm_tools.benchmarks import runs


async def _no_postgres() -> bool:
    return False


def test_every_payment_changes_a_balance_and_the_line_holds_the_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runs, "postgres_available", _no_postgres)

    assert cli.main(["bench", "collections", "--payments", "40", "--batch", "15", "--timeout", "120"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    figures = json.loads(line)
    assert (figures["benchmark"], figures["payments"], figures["batch"]) == ("collections_posting", 40, 15)
    assert figures["postgresql"].startswith("skipped")
    sqlite = figures["sqlite"]
    assert set(sqlite) == {
        "payments_posted",
        "balance_changes_out",
        "payments_per_s",
        "baseline_transactions_per_s",
        "ratio_to_baseline",
    }
    assert sqlite["payments_posted"] == sqlite["balance_changes_out"] == 40
    assert sqlite["payments_per_s"] > 0
