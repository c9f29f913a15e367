"""What a biller sends to change a claim. Free text (a reason) stays on the claim and in the audit trail;
it never travels in an event."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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


class ResolveDenial(_Command):
    """How a biller resolves a claim's open denial (an appeal has its own request): `corrected` sends the claim
    again as a replacement (with the authorisation number or note the fix needs), `transferred_to_patient` bills
    the amount to the patient (`basis`: the payer's group was not contractual, or a waiver is on file),
    `written_off` lets it go, and `accepted` takes the denial as the payer's last word."""

    kind: Literal["corrected", "transferred_to_patient", "written_off", "accepted"]
    reason: Annotated[str, Field(min_length=3, max_length=500)]
    basis: Literal["not_contractual", "waiver_on_file"] | None = None
    prior_authorization_number: Annotated[
        str | None, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9-]+$")
    ] = None
    note: Annotated[str | None, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9 .,;'/()&+-]+$")] = None

    @model_validator(mode="after")
    def refuse_fields_of_another_kind(self) -> ResolveDenial:
        """A field that does not go with the kind is refused, not passed over: the biller meant something."""
        if (self.basis is not None) != (self.kind == "transferred_to_patient"):
            raise ValueError("basis goes with a transfer to the patient, and only with it")
        if self.kind != "corrected" and (self.prior_authorization_number is not None or self.note is not None):
            raise ValueError("a prior authorisation number or note goes with a correction only")
        return self


class AppealClaim(_Command):
    """An appeal of the claim's open denial: its level, the biller's short reason and argument, and the
    documents sent with it, named by reference (the documents themselves stay in the practice's records)."""

    level: Annotated[int, Field(ge=1, le=3)]
    reason: Annotated[str, Field(min_length=3, max_length=200)]
    argument: Annotated[str, Field(min_length=10, max_length=10_000)]
    attachments: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]], Field(max_length=20)
    ] = []


class AppealAnswer(_Command):
    """The payer's answer to an appeal that came by letter rather than on an 835, or the practice's withdrawal."""

    outcome: Literal["upheld", "dismissed", "withdrawn"]
    note: Annotated[str, Field(min_length=3, max_length=500)]


class AcceptUnderpayment(_Command):
    """Why the practice lets an underpayment go (a fee schedule the contract did not foresee, a shortfall not worth
    appealing)."""

    reason: Annotated[str, Field(min_length=3, max_length=500)]
