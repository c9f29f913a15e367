"""A large 835 is read beside the event loop, not on it: while it is read, the loop goes on (a ticker
coroutine ticks, as the consumers, the outbox relay and the health checks would run). A small one is read
inline, where a thread would cost more than it saves."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rcm_common.offload import LARGE_X12_BYTES
from rcm_remittance.adapters import remittance_835 as reading
from rcm_remittance.adapters.remittance_835 import read_835
from rcm_remittance.domain.advice import RemittanceAdvice
from rcm_remittance.testing import (
    RemittanceApi,
    accepted_event,
    paid_claim,
    remittance_835,
    running_remittance,
    submitted,
)

TICK_SECONDS = 0.01
LONGEST_WAIT_SECONDS = 10  # for a tick, however loaded the machine: only a blocked loop never ticks


@dataclass(frozen=True, slots=True)
class Read:
    on_the_loop: bool  # run on the event loop's own thread
    loop_ticked: bool  # the loop ticked while the file was being read


class ReadsWatched:
    """`read_835` as the service calls it, noting where each read ran and whether the loop ticked meanwhile:
    a tick during the parse, or else the next one, awaited before the read returns (in a thread, the loop
    runs while the read waits; on the loop's own thread no tick can come while the read runs, so none is
    waited for)."""

    def __init__(self) -> None:
        self.loop_thread = threading.get_ident()
        self.ticked = threading.Event()
        self.reads: list[Read] = []

    def read(self, data: bytes) -> list[RemittanceAdvice]:
        self.ticked.clear()
        advices = read_835(data)
        on_the_loop = threading.get_ident() == self.loop_thread
        ticked = self.ticked.is_set() if on_the_loop else self.ticked.wait(LONGEST_WAIT_SECONDS)
        self.reads.append(Read(on_the_loop, ticked))
        return advices

    async def tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.ticked.set()


@pytest.fixture
async def api(tmp_path: Path, signing_keys: tuple[str, str], database_url: str) -> AsyncIterator[RemittanceApi]:
    async with running_remittance(tmp_path, signing_keys, database_url) as running:
        yield running


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> ReadsWatched:
    watching = ReadsWatched()
    monkeypatch.setattr(reading, "read_835", watching.read)
    return watching


async def upload(api: RemittanceApi, content: bytes) -> None:
    headers = api.auth(content_type="application/edi-x12")
    response = await api.client.post("/remittances", content=content, headers=headers)
    assert response.status_code == 202, response.text


async def test_the_loop_keeps_running_while_a_large_835_is_read(api: RemittanceApi, watched: ReadsWatched) -> None:
    content = remittance_835([paid_claim(submitted()) for _ in range(300)])
    assert len(content) >= LARGE_X12_BYTES
    ticker = asyncio.create_task(watched.tick())
    try:
        await upload(api, content)
    finally:
        ticker.cancel()

    assert watched.reads == [Read(on_the_loop=False, loop_ticked=True)]
    [received] = await api.published("rcm.remittance.remittance_received")
    assert received["claim_count"] == 300


async def test_a_small_835_is_read_on_the_loop_and_once_for_its_posting(
    api: RemittanceApi, watched: ReadsWatched
) -> None:
    claim = submitted()
    await api.feed(claim, accepted_event(claim))
    content = remittance_835([paid_claim(claim, payer_claim_number=accepted_event(claim).payer_claim_number)])
    assert len(content) < LARGE_X12_BYTES
    await upload(api, content)
    await api.remittance.poster.run_once()  # the file read again: the intake's read is remembered

    assert watched.reads == [Read(on_the_loop=True, loop_ticked=False)]
    assert len(await api.published("rcm.remittance.payment_posted")) == 1
