"""The event envelope (DESIGN §3): CloudEvents 1.0 in the Kafka protocol binding's binary mode, its
attributes in `ce_*` headers beside the JSON payload.

Headers hold only identifiers and metadata, never PHI: the subject is an opaque aggregate UUID.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from opentelemetry import propagate
from pydantic import ValidationError

from rcm_common.events.base import READING_EVENTS, IntegrationEvent, event_model, schema_id, version_of_schema
from rcm_common.logs import get_correlation_id
from rcm_common.types import utcnow

SPEC_VERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"
SOURCE_PREFIX: Final = "/rcm/"
"""`ce_source` is the producing service as a URI reference: `/rcm/<service>`."""

# Header name, required or not, and what it holds: the contract tool renders this table as the envelope's
# schema, so the code and the document cannot disagree.
ENVELOPE_HEADERS: Final[dict[str, tuple[bool, str]]] = {
    "ce_specversion": (True, "CloudEvents specification version: always `1.0`."),
    "ce_id": (True, "Unique id of this event (a UUID); consumers deduplicate on it."),
    "ce_source": (True, "The producing service as a URI reference, e.g. `/rcm/registration`."),
    "ce_type": (True, "Wire type of the payload, e.g. `rcm.registration.patient_registered`."),
    "ce_time": (True, "When the fact happened: RFC 3339, in UTC."),
    "ce_subject": (True, "The aggregate id, also the Kafka key: an opaque id, never PHI."),
    "ce_dataschema": (True, "`$id` of the payload's JSON Schema; its last segment names the version (`v1`)."),
    "content-type": (True, "Media type of the value: always `application/json`."),
    "ce_correlationid": (True, "Extension: shared by everything one request or workflow caused."),
    "ce_causationid": (False, "Extension: `ce_id` of the event whose handling published this one, if any."),
    "ce_traceparent": (False, "Extension (CloudEvents distributed tracing): W3C trace context of the publisher."),
}


# The event being handled, if any: events published while handling it name it as their cause.
current_causation_id: ContextVar[str | None] = ContextVar("current_causation_id", default=None)


class InvalidMessage(ValueError):
    """A message whose envelope or payload cannot be read: retrying will not help, so it goes to the DLQ."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What travels beside an event's payload, read and written as CloudEvents 1.0 Kafka headers in binary
    mode, so generic CloudEvents tools read our records."""

    event_id: UUID
    event_type: str
    event_version: int
    occurred_at: datetime
    producer: str
    subject: str
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None

    @property
    def source(self) -> str:
        return f"{SOURCE_PREFIX}{self.producer}"

    @property
    def dataschema(self) -> str:
        return schema_id(self.event_type, self.event_version)

    def to_headers(self) -> dict[str, str]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": str(self.event_id),
            "ce_source": self.source,
            "ce_type": self.event_type,
            "ce_time": self.occurred_at.isoformat(),
            "ce_subject": self.subject,
            "ce_dataschema": self.dataschema,
            "content-type": CONTENT_TYPE,
            "ce_correlationid": self.correlation_id,
        }
        if self.causation_id:
            headers["ce_causationid"] = self.causation_id
        if self.traceparent:
            headers["ce_traceparent"] = self.traceparent
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Envelope:
        try:
            if headers["ce_specversion"] != SPEC_VERSION:
                raise InvalidMessage("envelope header ce_specversion is not 1.0")
            if headers["content-type"].split(";")[0].strip() != CONTENT_TYPE:
                raise InvalidMessage("envelope header content-type is not application/json")
            source = headers["ce_source"]
            if not source.startswith(SOURCE_PREFIX):
                raise InvalidMessage(f"envelope header ce_source does not start with {SOURCE_PREFIX}")
            occurred_at = datetime.fromisoformat(headers["ce_time"])
            if occurred_at.tzinfo is None:
                raise InvalidMessage("envelope header ce_time is not timezone-aware")
            return cls(
                event_id=UUID(headers["ce_id"]),
                event_type=headers["ce_type"],
                event_version=version_of_schema(headers["ce_dataschema"]),
                occurred_at=occurred_at,
                producer=source.removeprefix(SOURCE_PREFIX),
                subject=headers["ce_subject"],
                correlation_id=headers["ce_correlationid"],
                causation_id=headers.get("ce_causationid") or None,
                traceparent=headers.get("ce_traceparent") or None,
            )
        except KeyError as exc:
            raise InvalidMessage(f"envelope header {exc.args[0]} is missing") from None
        except InvalidMessage:
            raise
        except ValueError as exc:
            # The type only: a value's own text is not repeated into logs and DLQ headers.
            raise InvalidMessage(f"envelope header is malformed: {type(exc).__name__}") from None


def new_envelope(event: IntegrationEvent, producer: str) -> Envelope:
    """A fresh envelope for `event`: a new id, now, and the correlation id, cause and trace of the work
    in progress (the HTTP request or the event being handled)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return Envelope(
        event_id=uuid.uuid4(),
        event_type=event.event_type,
        event_version=event.event_version,
        occurred_at=utcnow(),
        producer=producer,
        subject=event.subject,
        correlation_id=get_correlation_id() or uuid.uuid4().hex,
        causation_id=current_causation_id.get(),
        traceparent=carrier.get("traceparent"),
    )


def decode_headers(raw: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    """Kafka record headers (name, bytes) as a str dict; undecodable or missing values are refused, not guessed."""
    headers = {}
    for name, value in raw or ():
        if value is None:
            raise InvalidMessage("a header has no value")
        try:
            headers[name] = value.decode()
        except UnicodeDecodeError:
            raise InvalidMessage("a header is not UTF-8") from None
    return headers


def decode_event(envelope: Envelope, payload: bytes) -> IntegrationEvent:
    """The typed event for an envelope and its JSON payload, read as a consumer reads (open enumerations
    tolerate additions as they say); unknown types raise UnknownEventType."""
    model = event_model(envelope.event_type, envelope.event_version)
    try:
        return model.model_validate_json(payload, context=READING_EVENTS)
    except ValidationError as exc:
        # Field locations only: pydantic's own text may quote the payload, which can hold PHI.
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise InvalidMessage(f"payload of {envelope.event_type} is invalid at: {', '.join(fields)}") from None
