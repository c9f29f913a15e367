"""`rcm bench claim` on a few claims, SQLite only: one JSON line with its figures beside the baseline, and
every ChargesCaptured fed through claim's consumer comes out as a submitted claim."""

from __future__ import annotations

import json

import pytest

from rcm_tools import cli
from rcm_tools.benchmarks import runs


async def _no_postgres() -> bool:
    return False


def test_every_claim_is_submitted_and_the_line_holds_the_figures(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(runs, "postgres_available", _no_postgres)

    assert cli.main(["bench", "claim", "--claims", "8", "--timeout", "120"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    figures = json.loads(line)
    assert (figures["benchmark"], figures["claims"]) == ("claim_submission", 8)
    assert figures["postgresql"].startswith("skipped")
    sqlite = figures["sqlite"]
    assert set(sqlite) == {
        "claims_submitted",
        "claims_per_s",
        "charges_in_claims_per_s",
        "submission_claims_per_s",
        "submission_rounds",
        "clearinghouse_share_of_submission",
        "baseline_transactions_per_s",
        "ratio_to_baseline",
    }
    assert sqlite["claims_submitted"] == 8
    assert sqlite["submission_rounds"] == 1  # 8 claims over four payers: one batch each, in one round
    assert all(sqlite[key] > 0 for key in sqlite)
