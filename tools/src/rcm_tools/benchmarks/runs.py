"""What the service benchmarks share: a measure taken on SQLite and, where it answers, on a throwaway
PostgreSQL database; a positive count option; and one JSON line printed within a time limit."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from pathlib import Path
from typing import TypeVar

from rcm_common.testing import postgres_available, throwaway_postgres_databases
from rcm_tools.errors import ToolError

T = TypeVar("T")
StackMeasure = Callable[[Path, "dict[str, str] | None"], Awaitable[dict[str, object]]]
"""Figures of one stack: its state directory, and each service's PostgreSQL URL (None: SQLite files there)."""
Measure = Callable[[str, Path], Awaitable[dict[str, float]]]
"""Figures of one database: its URL ("" for a SQLite file in the scratch directory given)."""


async def on_each_database(measure: Measure) -> dict[str, object]:
    """A service's measure on a SQLite file in a scratch directory, then on a throwaway PostgreSQL database."""

    async def on_one(state_dir: Path, urls: dict[str, str] | None) -> dict[str, object]:
        return dict(await measure(urls["database"] if urls else "", state_dir.parent))  # the scratch directory

    return await on_each_stack(("sqlite", "postgresql"), ["database"], on_one)


async def on_each_stack(databases: Sequence[str], services: Sequence[str], measure: StackMeasure) -> dict[str, object]:
    """A stack measured on SQLite files, then on a throwaway PostgreSQL database per service, as `databases` asks
    (PostgreSQL skipped, saying why, where it does not answer)."""
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="rcm-bench-") as scratch:
        if "sqlite" in databases:
            figures["sqlite"] = await measure(Path(scratch) / "sqlite", None)
        if "postgresql" in databases:
            if not await postgres_available():
                figures["postgresql"] = "skipped: not reachable at 127.0.0.1:5432"
            else:
                async with throwaway_postgres_databases(len(services)) as created:
                    urls = dict(zip(services, created, strict=True))
                    figures["postgresql"] = await measure(Path(scratch) / "postgresql", urls)
    return figures


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} is not positive")
    return value


def timeout_argument(parser: argparse.ArgumentParser, default: int = 900) -> None:
    parser.add_argument(
        "--timeout", type=positive, default=default, help="seconds before the run gives up (default: %(default)s)"
    )


def print_within(
    timeout: int,
    benchmark: str,
    figures: Callable[[], Awaitable[dict[str, object]]],
    failures: Callable[[dict[str, object]], list[str]] | None = None,
) -> int:
    """Print the figures as one JSON line, or give up after `timeout` seconds saying so. Where `failures` says
    what the figures show went wrong, the figures are printed and the run fails naming each."""

    async def bounded() -> dict[str, object]:
        # A SIGTERM (a job's time limit, `timeout`, a kill) cancels the run like its own time limit, so what it
        # started (a stack's processes, in a session of their own) is stopped on the way out.
        running = asyncio.current_task()
        if running is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, running.cancel)
        try:
            async with asyncio.timeout(timeout):
                return await figures()
        except TimeoutError:
            raise ToolError(f"the {benchmark} benchmark did not finish within {timeout}s; try a smaller run") from None

    try:
        measured = asyncio.run(bounded())
    except asyncio.CancelledError:
        raise ToolError(f"the {benchmark} benchmark was stopped (SIGTERM); what it had started is stopped") from None
    print(json.dumps(measured))
    wrong = failures(measured) if failures is not None else []
    if wrong:
        raise ToolError(f"the {benchmark} failed: {'; '.join(wrong)}")
    return 0


def say(line: str) -> None:
    """A benchmark's progress, on stderr: stdout holds its one line of figures."""
    print(line, file=sys.stderr, flush=True)


@asynccontextmanager
async def entered_in_thread(manager: AbstractContextManager[T]) -> AsyncIterator[T]:
    """Enter and exit a blocking context manager (a stack starting its processes) in a thread. When the caller is
    cancelled while it is being entered, the entering is waited for and undone, so nothing it started is left
    running."""
    entering = asyncio.ensure_future(asyncio.to_thread(manager.__enter__))
    try:
        value = await asyncio.shield(entering)
    except asyncio.CancelledError:
        await asyncio.wait([entering])  # a thread cannot be stopped: let it finish, then undo what it did
        if entering.exception() is None:
            await asyncio.to_thread(manager.__exit__, None, None, None)
        raise
    try:
        yield value
    finally:
        await asyncio.to_thread(manager.__exit__, None, None, None)
