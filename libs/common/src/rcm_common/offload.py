"""Large CPU-bound work kept off the event loop: reading or writing a large X12 file is pure Python that,
run on the loop, holds up every other coroutine of the process (consumers, heartbeats, the outbox relay,
health checks) for its whole length. An 8 MB 835 takes about 0.6 s to read.

`off_the_loop` runs such work in the loop's default thread pool when it is large, and inline when it is
small. The thread still needs the GIL for Python, but the interpreter hands the GIL to the loop's thread
every switch interval (`sys.getswitchinterval()`, 5 ms), so the loop keeps running while the file is read,
at a slower pace: each time it needs the GIL back (after waiting on the network, after each database round
trip through aiosqlite's thread) it may wait up to that interval. Nothing is faster overall; what changes is
that no coroutine stops for the whole read.

Only pure work goes there: a function of its arguments (bytes or text to parsed objects, objects to text)
that touches nothing another coroutine may touch meanwhile. Never a database session (SQLAlchemy's
AsyncSession is not thread-safe), an object loaded lazily through one, or state the service changes on the
loop: do the X12 work in the thread, and read or change the state on the loop before or after it.

Where small stops: the hop to a thread and back costs about 60 µs; reading X12 (an 835, an 837P with its
structure check) takes about 100 µs a KB, and writing and checking an 837P about 75 µs a claim. Work
under about 5 ms (the switch interval, which the loop may wait for the GIL even while the work runs in a
thread) gains nothing from the hop: 64 KB, or 64 claims.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final, TypeVar, TypeVarTuple

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

LARGE_X12_BYTES: Final = 64 * 1024
"""X12 of this many bytes or more is read (or checked) in a thread: about 5 ms of parsing."""
LARGE_X12_CLAIMS: Final = 64
"""Claims from this many are written to X12 in a thread: about 5 ms of writing and checking."""


async def off_the_loop(work: Callable[[*Ts], T], *args: *Ts, size: int, large: int = LARGE_X12_BYTES) -> T:
    """`work(*args)`, run in a thread when `size` (the input's bytes, or whatever unit `large` counts) is at
    least `large`, else inline on the loop. Its result, or its exception, unchanged. Cancelling the caller
    does not stop a thread already running: its result is dropped when it ends."""
    if size < large:
        return work(*args)
    return await asyncio.to_thread(work, *args)
