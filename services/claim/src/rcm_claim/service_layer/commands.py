"""What a biller sends to change a claim. Free text (a reason) stays on the claim and in the audit trail;
it never travels in an event."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverrideRule(_Command):
    rule: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Z0-9_]+$")]
    reason: Annotated[str, Field(min_length=3, max_length=500)]


class AnnotateClaim(_Command):
    """The claim-level fields a biller sets for the payer; each omitted one keeps its value, null clears it."""

    prior_authorization_number: Annotated[
        str | None, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9-]+$")
    ] = None
    delay_reason_code: Literal["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "15"] | None = None
    # No X12 delimiter (* ~ : ^) can be written into NTE02.
    note: Annotated[str | None, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9 .,;'/()&+-]+$")] = None


class HoldClaim(_Command):
    reason: Annotated[str, Field(min_length=3, max_length=500)]
