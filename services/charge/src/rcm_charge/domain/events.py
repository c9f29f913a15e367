"""Domain events: what happened to an encounter that the rest of the platform is told, recorded by the
encounter with the version it then has; the mapper turns each into the contract's event when it is stored."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EncounterCaptured:
    """Clean for the first time: its charges go to the claim side, billed to `payer_id` (None: self-pay)."""

    version: int
    payer_id: str | None


@dataclass(frozen=True, slots=True)
class EncounterCorrected:
    """Clean again after a change: this version replaces the one before."""

    version: int
    payer_id: str | None


@dataclass(frozen=True, slots=True)
class EncounterHeld:
    """A captured encounter is back in review: the claim side holds the version it has."""

    version: int


@dataclass(frozen=True, slots=True)
class EncounterVoided:
    version: int


DomainEvent = EncounterCaptured | EncounterCorrected | EncounterHeld | EncounterVoided
