"""Faults on demand, for testing what calls the clearinghouse: slow answers, error statuses, dropped
connections and duplicated 835s, each for a given number of requests (or payment runs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

Endpoint = Literal["eligibility", "claims", "claim-status", "mailbox", "*"]
FaultKind = Literal["slow", "error", "drop", "duplicate_835"]


@dataclass(frozen=True, slots=True)
class Fault:
    endpoint: Endpoint
    kind: FaultKind
    times: int = 1
    delay_seconds: float = 0.0
    status: int = 503


class Faults:
    """The active faults, each used up by the requests it affects, in the order they were set."""

    def __init__(self) -> None:
        self._active: list[Fault] = []

    def replace_all(self, faults: list[Fault]) -> None:
        self._active = [fault for fault in faults if fault.times > 0]

    def active(self) -> list[Fault]:
        return list(self._active)

    def clear(self) -> None:
        self._active = []

    def take(self, endpoint: Endpoint) -> Fault | None:
        """The first request fault for this endpoint (or every endpoint), one use of it spent."""
        return self._spend(lambda f: f.kind != "duplicate_835" and f.endpoint in (endpoint, "*"))

    def take_duplicate_835(self) -> bool:
        """Whether this payment run puts each 835 in the mailbox twice (one use spent when so)."""
        return self._spend(lambda f: f.kind == "duplicate_835") is not None

    def _spend(self, matches: Callable[[Fault], bool]) -> Fault | None:
        for index, fault in enumerate(self._active):
            if matches(fault):
                if fault.times > 1:
                    self._active[index] = replace(fault, times=fault.times - 1)
                else:
                    del self._active[index]
                return fault
        return None
