"""The pytest plugin of the platform's tools (the `rcm-tools` pytest11 entry point): one embedded
Kafka-protocol broker for the whole session, started only if a test asks for `embedded_broker`.

One broker per run keeps suites fast; tests isolate themselves by topic or consumer group. A missing broker
binary is an error, not a skip: it means the install is broken.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rcm_common.topics import ALL_TOPICS, DEFAULT_PARTITIONS
from rcm_tools.broker import EmbeddedBroker


@pytest.fixture(scope="session")
def embedded_broker() -> Iterator[EmbeddedBroker]:
    """A started EmbeddedBroker with every platform topic, stopped by pid at the end of the session."""
    with EmbeddedBroker(topics=ALL_TOPICS, partitions=DEFAULT_PARTITIONS) as broker:
        yield broker
