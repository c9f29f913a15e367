"""The one error the code-set loaders raise, so startup fails naming the file and line to fix."""

from __future__ import annotations


class CodeSetError(Exception):
    """A code-set file that cannot be loaded. Loaders raise it before returning anything, so a bad file is
    never half-loaded; `line` is the 1-based line number when one line is at fault."""

    def __init__(self, source: str, message: str, line: int | None = None) -> None:
        where = source if line is None else f"{source}, line {line}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
