"""Kafka topics: one events topic per producing service and a dead-letter topic beside each, with the
partitions and retention every deployment creates them with (the local stack, and the manifests)."""

from __future__ import annotations

from typing import Final

SERVICES: Final = (
    "registration",
    "eligibility",
    "charge",
    "claim",
    "remittance",
    "collections",
)
DEFAULT_PARTITIONS: Final = 6
EVENTS_RETENTION_MS: Final = -1
"""Events are kept for good: a service that starts later (claim, reporting) builds its copies from the first."""
DLQ_RETENTION_MS: Final = 14 * 24 * 60 * 60 * 1000
"""Dead letters are kept two weeks: long enough to be seen, replayed or written off."""


def events_topic(service: str) -> str:
    """The topic a service publishes its integration events on, e.g. `rcm.registration.events`."""
    return f"rcm.{service}.events"


def dlq_topic(topic: str) -> str:
    """Where a consumer parks a message it could not process, so the partition can move on."""
    return f"{topic}.dlq"


def topic_config(topic: str) -> dict[str, str]:
    """The configuration a topic is created with: deleted (never compacted) past its retention."""
    retention = DLQ_RETENTION_MS if topic.endswith(".dlq") else EVENTS_RETENTION_MS
    return {"cleanup.policy": "delete", "retention.ms": str(retention)}


REGISTRATION_EVENTS: Final = events_topic("registration")
ELIGIBILITY_EVENTS: Final = events_topic("eligibility")
CHARGE_EVENTS: Final = events_topic("charge")
CLAIM_EVENTS: Final = events_topic("claim")
REMITTANCE_EVENTS: Final = events_topic("remittance")
COLLECTIONS_EVENTS: Final = events_topic("collections")

ALL_TOPICS: Final = tuple(events_topic(s) for s in SERVICES) + tuple(dlq_topic(events_topic(s)) for s in SERVICES)
