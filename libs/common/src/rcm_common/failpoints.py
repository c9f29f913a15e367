"""Crash points for the reliability suite: the process killed outright (SIGKILL, as an OOM kill or a lost node
would end it) at the two places where at-least-once delivery is decided, with a chosen probability each time
the code passes there.

- `consumer.after_commit`: a batch's unit of work has committed, its offsets are not committed yet. The batch is
  read again after the restart and the inbox must skip every event of it.
- `relay.after_publish`: the broker has acknowledged an outbox batch, its rows are not marked sent yet. The batch
  is published again after the restart and every consumer must apply each event once.

`RCM_FAILPOINTS` (JSON, `{"consumer.after_commit": 0.01}`) arms them; production refuses the setting, so a
typo in a deployment can never crash a replica on purpose.
"""

from __future__ import annotations

import logging
import os
import random
import signal
from typing import Final, Literal, get_args

FailpointName = Literal["consumer.after_commit", "relay.after_publish"]
FAILPOINT_NAMES: Final[frozenset[str]] = frozenset(get_args(FailpointName))

logger = logging.getLogger(__name__)
FIRED: Final = "failpoint %s: killing the process"
"""The line a failpoint logs as it fires (the reliability proof counts them in the services' logs)."""


class Failpoint:
    """One crash point of a process, killing it with `probability` each time `pass_here` is called."""

    def __init__(self, name: FailpointName, probability: float = 0.0) -> None:
        self.name = name
        self.probability = probability
        self._draw = random.Random()  # noqa: S311 - when to crash on purpose, not a secret

    def pass_here(self) -> None:
        if self.probability and self._draw.random() < self.probability:
            logger.warning(FIRED, self.name)
            logging.shutdown()  # the line above reaches the log before the process ends
            os.kill(os.getpid(), signal.SIGKILL)


def armed_failpoint(failpoints: dict[str, float], name: FailpointName) -> Failpoint:
    """The failpoint `name` with the probability the settings give it (never firing when they name none)."""
    return Failpoint(name, failpoints.get(name, 0.0))
