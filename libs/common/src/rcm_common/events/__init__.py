"""Integration events, one module per producing service; importing this package registers them all."""

from rcm_common.events import charge, claim, collections, eligibility, registration, remittance
from rcm_common.events.base import EVENT_REGISTRY, IntegrationEvent, UnknownEventType, event_model

__all__ = [
    "EVENT_REGISTRY",
    "IntegrationEvent",
    "UnknownEventType",
    "charge",
    "claim",
    "collections",
    "eligibility",
    "event_model",
    "registration",
    "remittance",
]
