"""The one mapper from claim's domain to its contract: the unit of work calls it for each domain event its
aggregates recorded, as each aggregate is stored. Add a case for each domain event as they arrive."""

from __future__ import annotations

from typing import Any

from rcm_common.events.base import IntegrationEvent


def to_integration_event(aggregate: Any, event: Any) -> IntegrationEvent:
    raise TypeError(f"no contract event is mapped for {type(event).__name__} of {type(aggregate).__name__}")
