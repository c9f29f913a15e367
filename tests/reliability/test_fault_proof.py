"""The reliability proof, short: a few hundred claims driven through the whole cycle on PostgreSQL while every
kind of fault strikes at least once (each service SIGKILLed, each failpoint armed, the broker paused, 2% of the
events delivered twice, the clearinghouse slow, failing, hanging up and sending 835s twice, a replica killed for a
rebalance, a poison message on every topic). Afterwards every claim finished once and in order, every account's
ledger holds to the cent, the dead letters are the poison and only it, every outbox is drained and every audit
chain whole, a full replay changes nothing, and reporting rebuilt from the first event equals the live one.
`make soak` runs the long version (`rcm prove`: 5,000 claims, every fault several times)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from rcm_common.testing import postgres_available
from rcm_tools import cli
from rcm_tools.reliability.proof import SHORT, failures

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.broker]


@pytest.mark.timeout(1200)
def test_claims_driven_through_every_fault_finish_once_with_every_cent_and_event_accounted_for(
    capsys: pytest.CaptureFixture[str], record_property: Callable[[str, object], None]
) -> None:
    if not asyncio.run(postgres_available()):
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432: the proof runs on it")
    command = [
        "prove", "--claims", str(SHORT.claims), "--rate", str(SHORT.rate), "--kills", str(SHORT.kills_per_service),
        "--broker-pauses", str(SHORT.broker_pauses), "--clearinghouse-rounds", str(SHORT.clearinghouse_rounds),
    ]  # fmt: skip
    exit_code = cli.main(command)

    [line] = capsys.readouterr().out.splitlines()
    record_property("figures", f"reliability proof, short: {line}")
    figures = json.loads(line)["postgresql"]
    assert failures(figures, SHORT) == []
    assert exit_code == 0
    assert figures["verdict"]["records_delivered_twice"] >= figures["faults"]["records_delivered_twice_on_purpose"]
