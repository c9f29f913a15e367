"""Large work runs in a thread while the loop goes on; small work runs inline; either way the caller gets the
work's result or its very exception."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from rcm_common.offload import LARGE_X12_BYTES, LARGE_X12_CLAIMS, off_the_loop


def thread_of(_data: bytes) -> int:
    return threading.get_ident()


async def test_large_work_runs_in_another_thread() -> None:
    ran_in = await off_the_loop(thread_of, b"~" * LARGE_X12_BYTES, size=LARGE_X12_BYTES)

    assert ran_in != threading.get_ident()


async def test_small_work_runs_inline_on_the_loop() -> None:
    ran_in = await off_the_loop(thread_of, b"~" * 100, size=LARGE_X12_BYTES - 1)

    assert ran_in == threading.get_ident()


async def test_the_caller_says_what_large_counts() -> None:
    def claims_written(claims: list[str], separator: str) -> tuple[str, int]:
        return separator.join(claims), threading.get_ident()

    few = await off_the_loop(claims_written, ["A"] * 3, "~", size=3, large=LARGE_X12_CLAIMS)
    many = await off_the_loop(claims_written, ["A"] * 64, "~", size=64, large=LARGE_X12_CLAIMS)

    assert few == ("A~A~A", threading.get_ident())
    assert many[0] == "~".join(["A"] * 64)
    assert many[1] != threading.get_ident()


async def test_the_loop_runs_while_large_work_does() -> None:
    """The work waits for a coroutine on the loop to let it finish: it can only finish in time when the
    loop runs beside it."""
    released = threading.Event()

    def waiting_for_the_loop() -> bool:
        return released.wait(timeout=10)

    async def release() -> None:
        await asyncio.sleep(0)
        released.set()

    releaser = asyncio.create_task(release())
    assert await off_the_loop(waiting_for_the_loop, size=LARGE_X12_BYTES) is True
    await releaser


async def test_the_loop_runs_while_pure_python_work_holds_the_interpreter() -> None:
    """Reading X12 never waits on anything: it holds the interpreter's lock but hands it over every switch
    interval, so the loop still gets to run. The work spins until a coroutine, started only once the work
    has, says the loop ran; on the loop itself it would spin until its deadline."""
    started, ticked = threading.Event(), threading.Event()

    def spinning_until_the_loop_runs() -> bool:
        started.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if ticked.is_set():
                return True
            sum(range(100))
        return False

    async def tick_once_the_work_spins() -> None:
        while not started.is_set():  # noqa: ASYNC110 - the work is in another thread
            await asyncio.sleep(0.001)
        ticked.set()

    ticker = asyncio.create_task(tick_once_the_work_spins())
    assert await off_the_loop(spinning_until_the_loop_runs, size=LARGE_X12_BYTES) is True
    await ticker


class Unreadable(ValueError):
    pass


@pytest.mark.parametrize("size", [10, LARGE_X12_BYTES * 2], ids=["inline", "in a thread"])
async def test_the_works_exception_reaches_the_caller_unchanged(size: int) -> None:
    refusal = Unreadable("the ISA segment is cut short")

    def refusing() -> None:
        raise refusal

    with pytest.raises(Unreadable) as raised:
        await off_the_loop(refusing, size=size)

    assert raised.value is refusal
