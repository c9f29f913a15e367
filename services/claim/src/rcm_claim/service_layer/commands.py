"""What a biller sends to change a claim. Free text (a reason) stays on the claim and in the audit trail;
it never travels in an event."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverrideRule(_Command):
    rule: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Z0-9_]+$")]
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class HoldClaim(_Command):
    reason: Annotated[str, Field(min_length=3, max_length=500)]
