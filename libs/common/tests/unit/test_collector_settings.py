"""A service process sets the garbage collector for a long run: start-up's objects frozen out of collections,
the youngest generation collected after tens of thousands of allocations rather than 700."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from typing import cast

import pytest
from fastapi import FastAPI

from rcm_common import kernel
from rcm_common.kernel import YOUNG_COLLECTION_THRESHOLD, settle_collector
from rcm_common.settings import ServiceSettings


@pytest.fixture
def collector_restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector_restored")
def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    _, middle, oldest = gc.get_threshold()
    built_at_start_up = {"code sets": list(range(1_000))}

    settle_collector()

    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, middle, oldest)
    assert not any(built_at_start_up is tracked for tracked in gc.get_objects())


@pytest.mark.usefixtures("collector_restored")
def test_a_service_process_settles_the_collector_before_it_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    thresholds_when_served: list[int] = []

    def serve(app: FastAPI, settings: ServiceSettings) -> None:
        thresholds_when_served.append(gc.get_threshold()[0])

    monkeypatch.setattr(kernel, "serve", serve)
    monkeypatch.setattr(sys, "argv", ["rcm_service"])
    kernel.run_service(lambda settings: FastAPI(), cast("type[ServiceSettings]", lambda: None))

    assert thresholds_when_served == [YOUNG_COLLECTION_THRESHOLD]
