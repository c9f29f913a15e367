"""Pytest support for every service's integration tests: one embedded broker shared by a whole session.

In a `conftest.py`::

    from rcm_tools.testing import embedded_broker_fixture

    embedded_broker = embedded_broker_fixture()

    async def test_publishes(embedded_broker: EmbeddedBroker) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=embedded_broker.bootstrap_servers)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import pytest

from rcm_common.topics import ALL_TOPICS, DEFAULT_PARTITIONS
from rcm_tools.broker import EmbeddedBroker

Scope = Literal["session", "package", "module", "class", "function"]


def embedded_broker_fixture(
    *, scope: Scope = "session", topics: Sequence[str] = ALL_TOPICS, partitions: int = DEFAULT_PARTITIONS
) -> object:
    """A fixture yielding a started EmbeddedBroker, stopped by pid at the end of its scope.

    Session scope by default: one broker per run keeps suites fast, and tests isolate themselves by topic or
    consumer group. A missing broker binary is an error, not a skip: it means the install is broken.
    """

    @pytest.fixture(scope=scope)
    def embedded_broker() -> Iterator[EmbeddedBroker]:
        with EmbeddedBroker(topics=topics, partitions=partitions) as broker:
            yield broker

    return embedded_broker
