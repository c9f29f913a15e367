"""Starting and stopping the stack's processes by pid, without ever signalling one it did not start."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Final

_PROC: Final = Path("/proc")
_POLL_SECONDS: Final = 0.05
_KILL_GRACE_SECONDS: Final = 5.0
_EXEC_SETTLE_SECONDS: Final = 0.05


class StopOutcome(Enum):
    NOT_RUNNING = "not running"
    TERMINATED = "terminated"
    KILLED = "killed"


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    detached: bool,
    append: bool = False,
) -> subprocess.Popen[bytes]:
    """Start `argv` with stdout and stderr in a fresh `log_path`, or after what it holds (a restart's).

    A detached process gets its own session, so it outlives the `rcm up` that started it and a Ctrl-C in
    that terminal does not reach it; an attached one (test brokers) dies with its parent's terminal.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab" if append else "wb") as log:
        return subprocess.Popen(  # noqa: S603 - argv is built by this package, never from user input
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            start_new_session=detached,
        )


def is_running(pid: int, command_marker: str) -> bool:
    """True if `pid` is alive and, where /proc can tell, its command line contains `command_marker`.

    The marker guards against a recycled pid: after a reboot a stale pid file may name an unrelated
    process, which must be neither reported as ours nor signalled.
    """
    if not _exists(pid):
        return False
    if not _PROC.is_dir():
        return True  # no procfs (macOS): the pid is all there is to go on
    command_line = _command_line(pid)
    if not command_line and not _is_zombie(pid):
        # Empty while the process is between fork and exec; a zombie or kernel thread stays empty.
        time.sleep(_EXEC_SETTLE_SECONDS)
        command_line = _command_line(pid)
    return command_marker.encode() in command_line


def stop_process(pid: int, *, timeout: float = 10.0) -> StopOutcome:
    """SIGTERM, wait up to `timeout` seconds for a clean exit, then SIGKILL."""
    if not _send(pid, signal.SIGTERM):
        return StopOutcome.NOT_RUNNING
    if _wait_gone(pid, timeout):
        return StopOutcome.TERMINATED
    _send(pid, signal.SIGKILL)
    _wait_gone(pid, _KILL_GRACE_SECONDS)
    return StopOutcome.KILLED


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a process's log, for an error message that says why it failed."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _send(pid: int, signum: signal.Signals) -> bool:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: not one the stack started
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        _reap(pid)
        if not _exists(pid):
            return True
        if _is_zombie(pid):  # it exited since the reap above: collect it now (a process not ours, its parent will)
            _reap(pid)
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_SECONDS)


def _command_line(pid: int) -> bytes:
    try:
        return (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):  # not our child: its parent (or init) reaps it
        os.waitpid(pid, os.WNOHANG)


def _is_zombie(pid: int) -> bool:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may itself contain spaces or parentheses.
    return stat.rpartition(")")[2].split()[0] == "Z"
