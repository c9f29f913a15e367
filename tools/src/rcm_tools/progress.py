"""A one-line progress bar on stderr, so stdout stays clean for what a script may want to read."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Self, TextIO


class ProgressBar:
    """Redrawn in place on a terminal; elsewhere (CI logs, pipes) only the finished bar is written once."""

    def __init__(self, total: int, *, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = total
        self.label = label
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        self._width = width
        self._interactive = self._stream.isatty()

    def advance(self, steps: int = 1) -> None:
        self.done = min(self.total, self.done + steps)
        if self._interactive:
            self._stream.write(f"\r{self.render()}")
            self._stream.flush()

    def render(self) -> str:
        filled = self._width * self.done // self.total if self.total else self._width
        bar = "#" * filled + "." * (self._width - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total}"

    def close(self) -> None:
        self._stream.write(f"\r{self.render()}\n" if self._interactive else f"{self.render()}\n")
        self._stream.flush()

    def __enter__(self) -> Self:
        if self._interactive:
            self._stream.write(self.render())
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
