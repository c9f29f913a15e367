"""Loopback ports: the local stack listens on 127.0.0.1 only, and checks a port is free before using it."""

from __future__ import annotations

import socket
from typing import Final

from rcm_tools.errors import ToolError

LOOPBACK: Final = "127.0.0.1"


class PortInUse(ToolError):
    """Another process already listens on a port the stack needs."""

    def __init__(self, port: int, purpose: str) -> None:
        super().__init__(f"port {port} ({purpose}) is already in use on {LOOPBACK}: free it or pick another")
        self.port = port


def ensure_port_free(port: int, purpose: str) -> None:
    """Bind the port once and let go, so a clash is reported before any process is started.

    SO_REUSEADDR mirrors what the servers themselves set: a port left in TIME_WAIT by a previous run is free,
    a port with a listener (even on 0.0.0.0) is not.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            raise PortInUse(port, purpose) from None


def free_port() -> int:
    """A port the kernel considers free right now, for tests and throwaway brokers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def accepts_connections(port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on the loopback port."""
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False
