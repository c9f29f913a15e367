"""Large work runs in a thread while the loop goes on; small work runs inline; either way the caller gets the
work's result or its very exception."""

from __future__ import annotations

import asyncio
import threading

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
