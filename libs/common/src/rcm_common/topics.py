"""Kafka topic names: one events topic per producing service, and a dead-letter topic beside each."""

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


def events_topic(service: str) -> str:
    """The topic a service publishes its integration events on, e.g. `rcm.registration.events`."""
    return f"rcm.{service}.events"


def dlq_topic(topic: str) -> str:
    """Where a consumer parks a message it could not process, so the partition can move on."""
    return f"{topic}.dlq"


REGISTRATION_EVENTS: Final = events_topic("registration")
ELIGIBILITY_EVENTS: Final = events_topic("eligibility")
CHARGE_EVENTS: Final = events_topic("charge")

ALL_TOPICS: Final = tuple(events_topic(s) for s in SERVICES) + tuple(dlq_topic(events_topic(s)) for s in SERVICES)
