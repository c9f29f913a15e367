"""The event envelope (DESIGN §3), carried in Kafka headers beside the JSON payload.

Headers hold only identifiers and metadata, never PHI: the subject is an opaque aggregate UUID.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from opentelemetry import propagate
from pydantic import ValidationError

from rcm_common.events.base import IntegrationEvent, event_model
from rcm_common.logs import get_correlation_id
from rcm_common.types import utcnow

ENVELOPE_HEADERS = (
    "event_id",
    "event_type",
    "event_version",
    "occurred_at",
    "producer",
    "subject",
    "correlation_id",
    "causation_id",
    "traceparent",
)


# The event being handled, if any: events published while handling it name it as their cause.
current_causation_id: ContextVar[str | None] = ContextVar("current_causation_id", default=None)


class InvalidMessage(ValueError):
    """A message whose envelope or payload cannot be read: retrying will not help, so it goes to the DLQ."""


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: UUID
    event_type: str
    event_version: int
    occurred_at: datetime
    producer: str
    subject: str
    correlation_id: str
    causation_id: str | None = None
    traceparent: str | None = None

    def to_headers(self) -> dict[str, str]:
        headers = {
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "event_version": str(self.event_version),
            "occurred_at": self.occurred_at.isoformat(),
            "producer": self.producer,
            "subject": self.subject,
            "correlation_id": self.correlation_id,
        }
        if self.causation_id:
            headers["causation_id"] = self.causation_id
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        return headers

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Envelope:
        try:
            occurred_at = datetime.fromisoformat(headers["occurred_at"])
            if occurred_at.tzinfo is None:
                raise ValueError("occurred_at is not timezone-aware")
            return cls(
                event_id=UUID(headers["event_id"]),
                event_type=headers["event_type"],
                event_version=int(headers["event_version"]),
                occurred_at=occurred_at,
                producer=headers["producer"],
                subject=headers["subject"],
                correlation_id=headers["correlation_id"],
                causation_id=headers.get("causation_id") or None,
                traceparent=headers.get("traceparent") or None,
            )
        except KeyError as exc:
            raise InvalidMessage(f"envelope header {exc.args[0]} is missing") from None
        except ValueError as exc:
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


def decode_headers(raw: Iterable[tuple[str, bytes]] | None) -> dict[str, str]:
    """Kafka record headers (name, bytes) as a str dict; undecodable values are refused, not guessed."""
    try:
        return {name: value.decode() for name, value in raw or ()}
    except UnicodeDecodeError:
        raise InvalidMessage("a header is not UTF-8") from None


def decode_event(envelope: Envelope, payload: bytes) -> IntegrationEvent:
    """The typed event for an envelope and its JSON payload; unknown types raise UnknownEventType."""
    model = event_model(envelope.event_type, envelope.event_version)
    try:
        return model.model_validate_json(payload)
    except ValidationError as exc:
        # Field locations only: pydantic's own text may quote the payload, which can hold PHI.
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise InvalidMessage(f"payload of {envelope.event_type} is invalid at: {', '.join(fields)}") from None
