"""Progress bars per stage of a long job, drawn by rich on stderr so stdout stays clean for what a script may read:
redrawn in place on a terminal, and written once, finished, elsewhere (CI logs, pipes)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class StageProgress(Protocol):
    def advance(self, n: int = 1) -> None: ...

    def done(self) -> None: ...


class Progress(Protocol):
    """How a long job reports its stages (a bar each, a log line each)."""

    def stage(self, name: str, total: int) -> StageProgress: ...


class StageBars:
    """A bar per stage, each kept on screen once done, with its count and the time it took."""

    def __init__(self, console: Console | None = None) -> None:
        self._bars = RichProgress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
        )

    def stage(self, name: str, total: int) -> StageProgress:
        return _Bar(self._bars, self._bars.add_task(name, total=total))

    def __enter__(self) -> Self:
        self._bars.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._bars.stop()


@dataclass(frozen=True)
class _Bar:
    bars: RichProgress
    task: TaskID

    def advance(self, n: int = 1) -> None:
        self.bars.advance(self.task, n)

    def done(self) -> None:
        """The stage ends at what it counted (a stage may end with fewer than it expected: fewer denials, say)."""
        self.bars.update(self.task, total=self.bars.tasks[self.task].completed)
        self.bars.stop_task(self.task)


class PlainProgress:
    """Each stage as one line once it is done, with its count and how long it took: for logs and tests."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr

    def stage(self, name: str, total: int) -> StageProgress:
        return _PlainStage(name, total, self._stream)


@dataclass
class _PlainStage:
    name: str
    total: int
    stream: TextIO
    count: int = 0
    started: float = field(default_factory=time.monotonic)

    def advance(self, n: int = 1) -> None:
        self.count += n

    def done(self) -> None:
        seconds = time.monotonic() - self.started
        self.stream.write(f"{self.name}: {self.count}/{self.total} in {seconds:.1f} s\n")
