"""The stack's bookkeeping: `<state-dir>/run/<name>.pid` and `<name>.port`, one pair per started process.

The pid file holds only the pid, the way other tools expect (`kill $(cat run/broker.pid)`); the port sits
beside it so `rcm status` and `rcm demo` find a broker started on a non-default port.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    port: int


class RunDirectory:
    def __init__(self, path: Path) -> None:
        self.path = path

    def pid_file(self, name: str) -> Path:
        return self.path / f"{name}.pid"

    def port_file(self, name: str) -> Path:
        return self.path / f"{name}.port"

    def record(self, name: str, pid: int, port: int) -> ProcessRecord:
        """Write the port first: a pid file that exists always has its port beside it."""
        self.path.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.port_file(name), f"{port}\n")
        _write_atomically(self.pid_file(name), f"{pid}\n")
        return ProcessRecord(name=name, pid=pid, port=port)

    def read(self, name: str) -> ProcessRecord | None:
        """The record for `name`, or None when there is none; an unreadable one is discarded as garbage."""
        try:
            pid = int(self.pid_file(name).read_text())
            port = int(self.port_file(name).read_text())
        except FileNotFoundError:
            if self.pid_file(name).exists():
                self.forget(name)
            return None
        except ValueError:
            self.forget(name)
            return None
        return ProcessRecord(name=name, pid=pid, port=port)

    def records(self) -> list[ProcessRecord]:
        found = (self.read(pid_file.stem) for pid_file in sorted(self.path.glob("*.pid")))
        return [record for record in found if record is not None]

    def forget(self, name: str) -> None:
        self.pid_file(name).unlink(missing_ok=True)
        self.port_file(name).unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    """Readers (a concurrent `rcm status`) see the old file or the new one, never half of one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)
