"""The stage bars: each stage's bar is counted as it advances and kept, finished, once done; a pipe gets the
finished bars only."""

from __future__ import annotations

import io

from rich.console import Console

from rcm_tools.progress import StageBars


def test_each_stage_is_counted_and_kept_once_done() -> None:
    stream = io.StringIO()
    with StageBars(Console(file=stream, force_terminal=False, width=100)) as bars:
        registering = bars.stage("registering patients", 3)
        for _ in range(3):
            registering.advance()
        registering.done()
        claims = bars.stage("claims decided", 4)
        claims.advance(2)
        claims.done()

    written = stream.getvalue()
    assert "registering patients" in written
    assert "3/3" in written
    assert "2/2" in written  # a stage done early ends at what it counted
    assert "\r" not in written  # nothing redrawn in a pipe
