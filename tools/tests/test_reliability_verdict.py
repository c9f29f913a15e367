"""The reliability proof's verdict (`rcm_tools.reliability.proof.failures`): a clean run's figures pass, and each
way a run can go wrong is named, so neither `make soak` nor the short proof in `make test` passes a bad run."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rcm_tools.reliability.proof import FULL, failures, verdict_of

CLEAN_RUN: dict[str, Any] = json.loads((Path(__file__).parent / "clean_proof_run.json").read_text())
"""The figures of a full run on PostgreSQL (`make soak`, seed 20), every check passed."""


def broken(path: str, value: Any) -> dict[str, Any]:
    figures = copy.deepcopy(CLEAN_RUN)
    *parents, last = path.split(".")
    place = figures
    for key in parents:
        place = place[key]
    place[last] = value
    return figures


def test_a_clean_run_has_no_failure() -> None:
    assert failures(CLEAN_RUN, FULL) == []
    assert verdict_of({"postgresql": CLEAN_RUN}, FULL) == []


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("verdict.claims_lost", 1, "claims_lost: 1"),
        ("verdict.claims_complete", 4999, "a claim did not finish"),
        ("verdict.duplicate_effects", 2, "duplicate_effects: 2"),
        ("verdict.claims_out_of_order", 1, "claims_out_of_order: 1"),
        ("ledger.broken", 1, "a ledger is broken"),
        ("dead_letters.dead_letters_not_poison", 1, "dead_letters_not_poison: 1"),
        ("dead_letters.dead_letters", 16, "the dead letters are not the poison"),
        ("databases.claim.outbox_unsent", 3, "claim's outbox holds unsent rows"),
        ("databases.collections.audit_broken", 1, "collections's audit chain is broken"),
        ("replay.records_to_read_again", 0, "the consumer groups were not put back to the start"),
        ("replay.tables_changed.collections", ["statement"], "the replay changed"),
        ("replay.events_published", 24, "the replay published 24 events"),
        ("reporting_rebuilt.kpis_equal", False, "reporting rebuilt differs from the live one"),
        ("faults.kills.claim", 2, "a service was not killed"),
        ("faults.failpoint_crashes", {}, "no failpoint fired"),
        ("faults.broker_pauses_s", [12.0], "a broker pause did not happen"),
        ("faults.records_delivered_twice_on_purpose", 0, "no event was delivered twice"),
    ],
)
def test_each_way_a_run_goes_wrong_is_named(path: str, value: Any, named: str) -> None:
    assert any(named in failure for failure in failures(broken(path, value), FULL))


def test_a_run_without_postgresql_fails_rather_than_passing_unchecked() -> None:
    assert verdict_of({"postgresql": "skipped: not reachable at 127.0.0.1:5432"}, FULL) == [
        "PostgreSQL skipped: not reachable at 127.0.0.1:5432"
    ]
