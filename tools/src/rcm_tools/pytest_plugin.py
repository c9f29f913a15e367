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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first: the reliability proof, then the tests that start a stack, then the rest, each
    group in the order collected. pytest-xdist hands whole modules to its workers in this order (`make test`),
    so the short modules fill in beside the long ones rather than a long one running alone at the end."""
    items.sort(key=_how_long_it_runs_first)


def _how_long_it_runs_first(item: pytest.Item) -> int:
    if item.path.parent.name == "reliability":
        return 0
    return 1 if item.get_closest_marker("e2e") else 2


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Prints the figures tests recorded as `("figures", line)` report properties (schemathesis's calls per
    service, the reliability proof's verdict): a property travels from the pytest-xdist worker that ran the test
    to this terminal, where a test's own output would stay captured."""
    lines = [
        str(value)
        for report in terminalreporter.getreports("passed") + terminalreporter.getreports("failed")
        for name, value in report.user_properties
        if name == "figures"
    ]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.line(line)
