"""Aggregates record domain events; the unit of work collects them.

An aggregate (a patient, an encounter, an eligibility check) records what happened to it as plain domain
events in its `events` list, each a frozen dataclass carrying ids and values, never the aggregate itself.
Every repository that loads or stores aggregates is `tracked`: the unit of work's `EventCollector` sees the
aggregates it hands out, and takes the events of each aggregate handed to it (an add or a save) once that
call succeeds, turning them into integration events through the service's one `EventMapper` (which reads
the aggregate as it is stored) with the envelope of that moment: the HTTP request or the consumed event
that caused them. An aggregate that recorded events but was never stored again is refused at commit. So no
handler publishes by hand, and an event cannot leave without the change that caused it.
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
    taken from those stored, each with its envelope."""

    def __init__(self, producer: str, mapper: EventMapper | None) -> None:
        self._producer = producer
        self._mapper = mapper
        self._seen: dict[int, Aggregate] = {}
        self._taken: list[tuple[IntegrationEvent, Envelope]] = []

    def seen(self, value: object) -> None:
        """Remember the aggregates in `value` (one, or a list or tuple of them): a repository handed them out."""
        for aggregate in _aggregates_in(value):
            self._seen.setdefault(id(aggregate), aggregate)

    def stored(self, value: object) -> None:
        """A repository took the aggregates in `value`: take the events they recorded, as of now."""
        for aggregate in _aggregates_in(value):
            self._seen.setdefault(id(aggregate), aggregate)
            self._take(aggregate)

    def collect(self) -> list[tuple[IntegrationEvent, Envelope]]:
        """Every event taken, in order; then start afresh. An aggregate seen that still holds events was
        changed and not stored: refused, so nothing is published for a change that is not saved."""
        unstored = [type(event).__name__ for aggregate in self._seen.values() for event in aggregate.events]
        if unstored:
            raise RuntimeError(f"{self._producer} recorded {', '.join(unstored)} on an aggregate it never stored")
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


def _aggregates_in(value: object) -> list[Aggregate]:
    if isinstance(value, Aggregate):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, Aggregate)]
    return []


class _TrackedRepository:
    """A repository whose coroutine methods, once they succeed, tell the collector which aggregates they
    took in (stored) and which they handed out (seen)."""

    def __init__(self, repository: object, collector: EventCollector) -> None:
        self._repository = repository
        self._collector = collector

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("_repository", "_collector"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._repository, name, value)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._repository, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        collector = self._collector

        async def noting_aggregates(*args: Any, **kwargs: Any) -> Any:
            result = await cast(Callable[..., Awaitable[Any]], attribute)(*args, **kwargs)
            for value in (*args, *kwargs.values()):
                collector.stored(value)
            collector.seen(result)
            return result

        return noting_aggregates


def tracked(repository: R, collector: EventCollector) -> R:
    """`repository` as its callers see it, with the aggregates it loads and stores told to `collector`
    (cosmicpython's `TrackingRepository`, once for every repository). Its attributes are the repository's;
    setting one sets the repository's."""
    return cast(R, _TrackedRepository(repository, collector))
