"""The base of every integration event and the registry that maps (wire type, version) to its model.

Integration events are the contract between services: frozen, past-tense, versioned. Within a version
only optional fields, and values of an open enumeration, may be added; readers ignore fields they do not
know, and read a value they do not know as the enumeration says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Final, get_args

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

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


READING_EVENTS_KEY: Final = "rcm_reading_events"
READING_EVENTS: Final = {READING_EVENTS_KEY: True}
"""The validation context of a consumer reading events off the wire: open enumerations tolerate additions."""


@dataclass(frozen=True, slots=True)
class OpenEnum:
    """Marks a `Literal` as an enumeration open to additions within its version:
    `Annotated[Literal["F", "M", "U"], OpenEnum(unknown_reads_as="U")]`.

    The schema lists the values known today and says more may come. A reader of events (validating with the
    `READING_EVENTS` context, as `decode_event` does) reads a value it does not know as `unknown_reads_as`
    where that is safe (a plan type it does not know is OTHER to it), and refuses the event where it is not
    (guessing a coverage's order would bill the wrong payer): the event is parked on the dead-letter topic for
    a person, and the reader is upgraded. Anywhere else (an HTTP body) an unknown value is refused."""

    unknown_reads_as: str | None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        known = get_args(source)
        if self.unknown_reads_as is not None and self.unknown_reads_as not in known:
            raise ValueError(f"{self.unknown_reads_as!r} is not one of the known values {known}")
        fallback = self.unknown_reads_as

        def read_unknown(value: Any, info: core_schema.ValidationInfo) -> Any:
            reading = isinstance(info.context, dict) and info.context.get(READING_EVENTS_KEY, False)
            if reading and fallback is not None and isinstance(value, str) and value not in known:
                return fallback
            return value

        return core_schema.with_info_before_validator_function(read_unknown, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """Open in the wire form (the event contracts, and responses); an HTTP body's schema keeps the known
        values closed, as its validation does."""
        closed = handler(schema)
        if handler.mode == "validation":
            return closed
        known = list(closed.get("enum", []))
        reading = (
            f"a reader reads a value it does not know as {self.unknown_reads_as!r}"
            if self.unknown_reads_as is not None
            else "a reader that does not know a value refuses the event, which is parked on the dead-letter topic"
        )
        return {
            "anyOf": [{"enum": known}, {"type": "string"}],
            "description": f"One of {', '.join(known)}; open: a later release may add values within this "
            f"version, and {reading}.",
            "x-rcm-open-enum": {"known": known, "unknown_reads_as": self.unknown_reads_as},
        }


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
