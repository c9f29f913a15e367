"""The reliability suite's crash points: armed only by name and outside production, and a kill that leaves no
chance to clean up when they fire."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from pydantic import ValidationError

from rcm_common.failpoints import armed_failpoint
from rcm_common.settings import ServiceSettings

PASS_TWICE = """
from rcm_common.failpoints import Failpoint
point = Failpoint("consumer.after_commit", {probability})
point.pass_here()
point.pass_here()
print("lived on", flush=True)
"""


def run_passing(probability: float) -> subprocess.CompletedProcess[str]:
    code = PASS_TWICE.format(probability=probability)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


def test_a_failpoint_certain_to_fire_kills_the_process_outright() -> None:
    ended = run_passing(1.0)

    assert ended.returncode == -signal.SIGKILL
    assert "lived on" not in ended.stdout
    assert "failpoint consumer.after_commit: killing the process" in ended.stderr


def test_a_failpoint_the_settings_do_not_arm_never_fires() -> None:
    ended = run_passing(0.0)

    assert (ended.returncode, ended.stdout) == (0, "lived on\n")


def test_the_settings_arm_a_failpoint_by_its_name_with_its_probability() -> None:
    settings = ServiceSettings(environment="test", failpoints={"relay.after_publish": 0.02})

    assert armed_failpoint(settings.failpoints, "relay.after_publish").probability == 0.02
    assert armed_failpoint(settings.failpoints, "consumer.after_commit").probability == 0.0


@pytest.mark.parametrize(
    ("failpoints", "refusal"),
    [
        ({"relay.after_publsh": 0.5}, "names no failpoint relay.after_publsh"),
        ({"consumer.after_commit": 1.5}, "a probability from 0 to 1"),
        ({"consumer.after_commit": -0.1}, "a probability from 0 to 1"),
    ],
)
def test_an_unknown_failpoint_or_a_probability_out_of_range_is_refused(
    failpoints: dict[str, float], refusal: str
) -> None:
    with pytest.raises(ValidationError, match=refusal):
        ServiceSettings(environment="test", failpoints=failpoints)


def test_production_refuses_any_failpoint_even_one_that_never_fires() -> None:
    with pytest.raises(ValidationError, match="production refuses it"):
        ServiceSettings(environment="production", failpoints={"consumer.after_commit": 0.0})
