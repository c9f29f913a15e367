"""Domain events: what happened to a check or an authorisation, recorded by it with the values the moment
gave; the mapper turns each into the contract's event when it is stored, reading the aggregate as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcm_eligibility.domain.benefits import Benefits
    from rcm_eligibility.domain.model import Failure


@dataclass(frozen=True, slots=True)
class CheckVerified:
    benefits: Benefits


@dataclass(frozen=True, slots=True)
class CheckFailed:
    failure: Failure
    retry_scheduled: bool


@dataclass(frozen=True, slots=True)
class AuthorizationRecorded:
    """A payer's prior authorisation was recorded; its terms are the aggregate's."""


DomainEvent = CheckVerified | CheckFailed | AuthorizationRecorded
