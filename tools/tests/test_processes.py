"""Stopping by pid: SIGTERM then SIGKILL, and never a process whose command line is not the one recorded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rcm_tools.processes import StopOutcome, is_running, log_tail, stop_process

SLEEPER = "import time; time.sleep(60)"
STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)


def python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def test_a_cooperative_process_is_terminated() -> None:
    process = python(SLEEPER)

    assert stop_process(process.pid, timeout=5) is StopOutcome.TERMINATED
    assert not is_running(process.pid, "time.sleep")


def test_a_process_ignoring_sigterm_is_killed_after_the_timeout() -> None:
    process = python(STUBBORN)
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"

    assert stop_process(process.pid, timeout=0.3) is StopOutcome.KILLED
    assert not is_running(process.pid, "signal.SIG_IGN")


def test_a_pid_that_is_gone_is_reported_as_not_running() -> None:
    process = python("pass")
    process.wait()

    assert stop_process(process.pid) is StopOutcome.NOT_RUNNING


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs procfs to read command lines")
def test_a_live_process_with_another_command_line_is_not_ours() -> None:
    process = python(SLEEPER)
    try:
        assert is_running(process.pid, "time.sleep")
        assert not is_running(process.pid, "rcm_registration")
    finally:
        process.kill()
        process.wait()


def test_log_tail_keeps_the_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    log.write_text("".join(f"line {n}\n" for n in range(50)))

    assert log_tail(log, lines=2) == "line 48\nline 49"
    assert "no log" in log_tail(tmp_path / "missing.log")
