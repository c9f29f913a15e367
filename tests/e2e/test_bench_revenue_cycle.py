"""End to end: `rcm bench e2e` on SQLite at one low rate. The whole stack runs (every service, reporting too, the
simulator paying at once, the embedded broker), the load driver publishes registered patients with verified
coverage and their captured charges, and the line of figures says every claim finished its cycle, once, in order,
with collections' ledgers whole and the baselines measured in the same run."""

from __future__ import annotations

import json

import pytest

from rcm_tools import cli

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(400)
def test_every_claim_driven_finishes_its_cycle_once_and_the_line_holds_the_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["bench", "e2e", "--database", "sqlite", "--rates", "4", "--step-seconds", "5"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    figures = json.loads(line)
    assert (figures["benchmark"], figures["step_seconds"]) == ("revenue_cycle", 5)
    assert "postgresql" not in figures
    sqlite = figures["sqlite"]
    assert sqlite["verdict"] == {
        "claims_driven": 20, "claims_complete": 20, "claims_lost": 0, "duplicate_effects": 0,
        "records_delivered_twice": 0, "claims_out_of_order": 0,
    }  # fmt: skip
    assert sqlite["ledger"]["broken"] == 0
    assert sqlite["ledger"]["accounts"] == 4
    [step] = sqlite["steps"]
    assert (step["offered_claims_per_s"], step["claims"], step["unfinished"]) == (4, 20, 0)
    assert 0 < step["p50_s"] <= step["p95_s"] <= step["p99_s"] <= step["max_s"] < 30
    assert {"claim", "collections", "remittance", "reporting", "broker", "clearinghouse-sim"} <= set(step["cpu_cores"])
    assert sqlite["broker_raw_messages_per_s"] > 0
    assert sqlite["bare_transactions_per_s"] > 0
    assert sqlite["events_per_claim"] > 5  # captured, created, submitted, accepted, posted, paid, balanced...
    if step["sustained"]:  # four claims a second are far below what the stack carries
        assert sqlite["saturates_first"].startswith("nothing: every rate offered was sustained")
        assert sqlite["sustained_claims_per_s"] == 4
    else:
        assert sqlite["saturates_first"]["process"] in step["cpu_cores"]
