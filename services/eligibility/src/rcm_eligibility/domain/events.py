"""Domain events: what happened inside eligibility, before one mapper turns it into the contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rcm_eligibility.domain.authorization import PriorAuthorization
    from rcm_eligibility.domain.benefits import Benefits
    from rcm_eligibility.domain.model import EligibilityCheck, Failure


@dataclass(frozen=True, slots=True)
class CheckVerified:
    check: EligibilityCheck
    benefits: Benefits


@dataclass(frozen=True, slots=True)
class CheckFailed:
    check: EligibilityCheck
    failure: Failure
    retry_scheduled: bool


@dataclass(frozen=True, slots=True)
class AuthorizationRecorded:
    authorization: PriorAuthorization


Event = CheckVerified | CheckFailed | AuthorizationRecorded
