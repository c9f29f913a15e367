"""Aggregates record domain events; the unit of work collects them.

An aggregate (a patient, an encounter, an eligibility check) records what happened to it as plain domain
events in its `events` list, each a frozen dataclass carrying ids and values, never the aggregate itself.
Every repository that loads or stores aggregates is `tracked`: the unit of work's `EventCollector` notes
the aggregates passing through it, and takes the events each has recorded whenever it is stored, turning
them into integration events through the service's one `EventMapper` (which reads the aggregate as it is
stored) with the envelope of that moment: the HTTP request or the consumed event that caused them. At
commit it takes what is left. So no handler publishes by hand, and an event cannot leave without the
change that caused it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar, cast, runtime_checkable

from rcm_common.envelope import Envelope, new_envelope
from rcm_common.events.base import IntegrationEvent

R = TypeVar("R")


@runtime_checkable
class Aggregate(Protocol):
    """What the unit of work needs of an aggregate: the domain events it recorded and not yet handed over."""

    events: list[Any]


EventMapper = Callable[[Any, Any], IntegrationEvent]
"""A service's mapper from (aggregate, domain event) to the integration event of its contract."""


class EventCollector:
    """The aggregates a unit of work's repositories have handed out or taken in, and the integration events
    taken from them so far, each with its envelope."""

    def __init__(self, producer: str, mapper: EventMapper | None) -> None:
        self._producer = producer
        self._mapper = mapper
        self._seen: dict[int, Aggregate] = {}
        self._taken: list[tuple[IntegrationEvent, Envelope]] = []

    def note(self, value: object) -> None:
        """Remember the aggregates in `value` (one, or a list or tuple of them) and take what they recorded."""
        if isinstance(value, Aggregate):
            self._seen.setdefault(id(value), value)
            self._take(value)
        elif isinstance(value, list | tuple):
            for item in value:
                self.note(item)

    def collect(self) -> list[tuple[IntegrationEvent, Envelope]]:
        """Every event taken, and those still recorded on the aggregates seen, in order; then start afresh."""
        for aggregate in self._seen.values():
            self._take(aggregate)
        collected, self._taken = self._taken, []
        return collected

    def forget(self) -> None:
        """Drop what was seen and taken: the work rolled back."""
        self._seen.clear()
        self._taken.clear()

    def _take(self, aggregate: Aggregate) -> None:
        if not aggregate.events:
            return
        if self._mapper is None:
            recorded = ", ".join(type(event).__name__ for event in aggregate.events)
            raise RuntimeError(f"{self._producer} publishes no events, yet its aggregates recorded {recorded}")
        for domain_event in aggregate.events:
            event = self._mapper(aggregate, domain_event)
            self._taken.append((event, new_envelope(event, self._producer)))
        aggregate.events.clear()


class _TrackedRepository:
    """A repository whose coroutine methods note every aggregate passed in or returned, once they succeed."""

    def __init__(self, repository: object, collector: EventCollector) -> None:
        self._repository = repository
        self._collector = collector

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._repository, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        collector = self._collector

        async def noting_aggregates(*args: Any, **kwargs: Any) -> Any:
            result = await cast(Callable[..., Awaitable[Any]], attribute)(*args, **kwargs)
            for value in (*args, *kwargs.values(), result):
                collector.note(value)
            return result

        return noting_aggregates


def tracked(repository: R, collector: EventCollector) -> R:
    """`repository` as its callers see it, with the aggregates it loads and stores noted by `collector`
    (cosmicpython's `TrackingRepository`, once for every repository)."""
    return cast(R, _TrackedRepository(repository, collector))
