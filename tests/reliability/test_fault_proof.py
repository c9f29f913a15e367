"""The reliability proof, short: a few hundred claims driven through the whole cycle on PostgreSQL while every
kind of fault strikes at least once (each service SIGKILLed, each failpoint armed, the broker paused, 2% of the
events delivered twice, the clearinghouse slow, failing, hanging up and sending 835s twice, a replica killed for a
rebalance, a poison message on every topic). Afterwards every claim finished once and in order, every account's
ledger holds to the cent, the dead letters are the poison and only it, every outbox is drained and every audit
chain whole, a full replay changes nothing, and reporting rebuilt from the first event equals the live one.
`make soak` runs the long version (`rcm prove`: 5,000 claims, every fault several times)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from rcm_tools import cli
from rcm_tools.reliability.proof import SERVICES, SHORT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.mark.timeout(1200)
def test_claims_driven_through_every_fault_finish_once_with_every_cent_and_event_accounted_for(
    capsys: pytest.CaptureFixture[str], record_property: Callable[[str, object], None]
) -> None:
    command = [
        "prove", "--claims", str(SHORT.claims), "--rate", str(SHORT.rate), "--kills", str(SHORT.kills_per_service),
        "--broker-pauses", str(SHORT.broker_pauses), "--clearinghouse-rounds", str(SHORT.clearinghouse_rounds),
    ]  # fmt: skip
    assert cli.main(command) == 0

    [line] = capsys.readouterr().out.splitlines()
    figures = json.loads(line)["postgresql"]
    print(json.dumps(figures, indent=2))
    record_property("figures", f"reliability proof, short: {line}")
    faults = figures["faults"]
    assert faults["kills"] == dict.fromkeys(sorted(SERVICES), SHORT.kills_per_service)
    assert faults["failpoint_crashes"], "no failpoint fired"
    assert len(faults["broker_pauses_s"]) == SHORT.broker_pauses
    assert faults["records_delivered_twice_on_purpose"] > 0
    assert sum(faults["replicas_killed_for_a_rebalance"].values()) >= 1

    assert figures["verdict"] == {
        "claims_driven": SHORT.claims, "claims_complete": SHORT.claims, "claims_lost": 0, "duplicate_effects": 0,
        "records_delivered_twice": figures["verdict"]["records_delivered_twice"], "claims_out_of_order": 0,
    }  # fmt: skip
    assert figures["verdict"]["records_delivered_twice"] >= faults["records_delivered_twice_on_purpose"]
    assert figures["ledger"]["broken"] == 0
    assert figures["ledger"]["accounts"] > 0

    letters = figures["dead_letters"]
    assert letters["dead_letters"] == letters["dead_letters_expected"] > 0
    wrong = ("poison_not_dead_lettered", "dead_lettered_twice", "dead_letters_not_poison")
    assert [letters[figure] for figure in wrong] == [0, 0, 0]
    for service, database in figures["databases"].items():
        assert (database["outbox_unsent"], database["audit_broken"]) == (0, 0), service

    replay = figures["replay"]
    assert replay["consumer_groups_reset"] > 0
    assert replay["records_to_read_again"] > SHORT.claims  # every group back at the start of its topic
    assert replay["behind_at_the_end"] == 0
    assert replay["tables_changed"] == {service: [] for service in SERVICES}
    assert replay["events_published"] == 0
    rebuilt = figures["reporting_rebuilt"]
    assert (rebuilt["kpis_equal"], rebuilt["aging_equal"], rebuilt["workqueues_equal"]) == (True, True, True)
