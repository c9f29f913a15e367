"""`rcm bench simulator` on a few claims: one JSON line with the simulator's figures beside the baseline's, every
claim paid; and a run whose claims the simulator rejects or denies gives no figures at all."""

from __future__ import annotations

import json

import pytest

from rcm_tools import cli
from rcm_tools.benchmarks import clearinghouse_sim
from rcm_tools.errors import ToolError


def test_every_claim_is_paid_and_the_line_holds_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "simulator", "--claims", "50", "--per-upload", "20", "--rounds", "1"]) == 0

    [line] = capsys.readouterr().out.splitlines()
    figures = json.loads(line)
    assert (figures["benchmark"], figures["claims"], figures["claims_paid"]) == ("clearinghouse_sim", 50, 50)
    assert figures["uploads"] == 3  # 20, 20 and 10 claims, to three of the four payers
    assert figures["remittances_835"] == 3  # one per payer paid, to the one billing provider
    rates = [key for key in figures if key.endswith("claims_per_s") and key != "target_claims_per_s"]
    assert sorted(rates) == sorted(
        [
            "upload_claims_per_s",
            "payment_claims_per_s",
            "claims_per_s",
            "baseline_read_837p_claims_per_s",
            "baseline_write_835_claims_per_s",
            "baseline_claims_per_s",
        ]
    )
    assert all(figures[key] > 0 for key in rates)
    assert figures["claims_per_s"] < min(figures["upload_claims_per_s"], figures["payment_claims_per_s"])
    for ratio in ("upload_ratio_to_baseline", "payment_ratio_to_baseline", "ratio_to_baseline"):
        assert figures[ratio] > 0
    assert figures["target_claims_per_s"] == 500
    assert figures["headroom"] == pytest.approx(figures["claims_per_s"] / 500, abs=0.01)


def test_each_claim_goes_once_in_an_837p_of_its_own_control_number() -> None:
    uploads = clearinghouse_sim.claim_uploads(25, per_upload=10)

    claim_ids = [claim_id for upload in uploads for claim_id in upload.claim_ids]
    assert [len(upload.claim_ids) for upload in uploads] == [10, 10, 5]
    assert len(set(claim_ids)) == 25
    control_numbers = {upload.data.split(b"*")[13] for upload in uploads}  # ISA13
    assert len(control_numbers) == 3  # the same twice would be a resend, its claims not taken


def _one_unknown(number: int) -> str:
    return "NOTFOUND1" if number == 7 else clearinghouse_sim.enrolled_member(number)


def _one_lapsed(number: int) -> str:
    return "TERM0003" if number == 3 else clearinghouse_sim.enrolled_member(number)


def test_a_claim_rejected_on_the_277ca_stops_the_run() -> None:
    with pytest.raises(ToolError, match="the 277CAs accepted 19 of 20 claims"):
        clearinghouse_sim.run(20, per_upload=10, rounds=1, member=_one_unknown)


def test_a_claim_denied_on_the_835_stops_the_run() -> None:
    with pytest.raises(ToolError, match="the 835s paid 19 of 20 claims"):
        clearinghouse_sim.run(20, per_upload=10, rounds=1, member=_one_lapsed)  # its coverage ended: CO-27
