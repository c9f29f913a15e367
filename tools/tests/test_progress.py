"""The progress bar: redrawn in place on a terminal, written once elsewhere."""

from __future__ import annotations

import io

from rcm_tools.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_pipe_gets_only_the_finished_bar() -> None:
    stream = io.StringIO()
    with ProgressBar(4, label="registering", stream=stream, width=8) as bar:
        for _ in range(4):
            bar.advance()

    assert stream.getvalue() == "registering [########] 4/4\n"


def test_a_terminal_sees_every_step_redrawn_in_place() -> None:
    stream = Terminal()
    with ProgressBar(2, label="registering", stream=stream, width=4) as bar:
        bar.advance()

    assert stream.getvalue().split("\r") == [
        "registering [....] 0/2",
        "registering [##..] 1/2",
        "registering [##..] 1/2\n",
    ]


def test_progress_never_passes_the_total() -> None:
    bar = ProgressBar(3, label="x", stream=io.StringIO(), width=3)
    bar.advance(5)

    assert bar.render() == "x [###] 3/3"
