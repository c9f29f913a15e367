"""The base of every integration event and the registry that maps (wire type, version) to its model.

Integration events are the contract between services: frozen, past-tense, versioned. Within a version
only optional fields may be added; readers ignore fields they do not know.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict

SCHEMA_ID_BASE: Final = "https://rcm.dev/contracts"
"""The `$id` prefix of the committed JSON Schemas (`contracts/...`); ids are names, not download addresses."""

_SCHEMA_VERSION = re.compile(r"/v([1-9][0-9]*)\.schema\.json$")


def schema_id(event_type: str, event_version: int) -> str:
    """The `$id` of an event's payload schema, which the envelope carries as `ce_dataschema`."""
    return f"{SCHEMA_ID_BASE}/events/{event_type}/v{event_version}.schema.json"


def version_of_schema(dataschema: str) -> int:
    """The payload version named by a schema `$id` (`.../v2.schema.json` is version 2)."""
    found = _SCHEMA_VERSION.search(dataschema)
    if found is None:
        raise ValueError("the data schema names no version")
    return int(found.group(1))


class UnknownEventType(LookupError):
    """No model is registered for a (type, version) pair."""


class IntegrationEvent(BaseModel):
    """A fact one service tells the others; `subject_field` names the aggregate id used as the Kafka key."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    subject_field: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" in cls.__dict__:
            register_event(cls)

    @property
    def subject(self) -> str:
        """The aggregate id this event is about: the Kafka key and the envelope's `subject`."""
        return str(getattr(self, self.subject_field))


EVENT_REGISTRY: dict[tuple[str, int], type[IntegrationEvent]] = {}


def register_event(model: type[IntegrationEvent]) -> None:
    key = (model.event_type, model.event_version)
    existing = EVENT_REGISTRY.get(key)
    if existing is not None and existing is not model:
        raise ValueError(f"event {key} is registered twice: {existing.__name__} and {model.__name__}")
    EVENT_REGISTRY[key] = model


def event_model(event_type: str, event_version: int) -> type[IntegrationEvent]:
    try:
        return EVENT_REGISTRY[(event_type, event_version)]
    except KeyError:
        raise UnknownEventType(f"no integration event {event_type} v{event_version}") from None
