"""The parties and claims of the 837P tests: a billing group in Springfield billing Big Health Plan for Jane
Doe, one claim of two lines unless a test asks for more."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rcm_x12.professional_claim_writer import (
    BillingProvider,
    Claim,
    Contact,
    ProfessionalClaimBatch,
    ProviderClaims,
    ServiceLine,
    SubscriberClaims,
)
from rcm_x12.writer import Address, Envelope, Member, Payer, Provider, TradingPartner

ENVELOPE = Envelope("SUBMITTER1", "RECEIVER1", 101, 7, 1, datetime(2026, 3, 4, 9, 5), usage="T")
HOME = Address("12 OAK AVE", "SPRINGFIELD", "IL", "627041234", line2="APT 3")
BILLING = BillingProvider(
    "ACME MEDICAL GROUP",
    "1234567893",
    "371234567",
    Address("1 MAIN ST", "SPRINGFIELD", "IL", "627011234"),
    taxonomy="207Q00000X",
    contact=Contact("BILLING OFFICE", phone="2175550100"),
)
PAYER = Payer("BIG HEALTH PLAN", "BHP01")
PRIMARY = Payer("FIRST PAYER", "FIRST1", Address("PO BOX 9", "CHICAGO", "IL", "60601"))
RENDERING = Provider("SMITH", "1098765432", first_name="ANNA", taxonomy="207Q00000X")


def subscriber(number: int = 1) -> Member:
    return Member("DOE", "JANE", f"W{number:09d}", birth_date=date(1980, 1, 2), gender="F", address=HOME)


def line(procedure: str = "99214", charge: str = "150.00", units: str = "1", **changes: Any) -> ServiceLine:
    return ServiceLine(procedure, Decimal(charge), Decimal(units), date(2026, 2, 27), **changes)


def claim(claim_id: str = "CLM1", **changes: Any) -> Claim:
    fields: dict[str, Any] = {
        "place_of_service": "11",
        "diagnoses": ("J449", "E119"),
        "lines": (line(pointers=(1, 2), modifiers=("25",), control_number="LINE1"), line("85025", "35.50")),
    }
    return Claim(claim_id, **(fields | changes))


def batch(*subscribers: SubscriberClaims, provider: BillingProvider = BILLING) -> ProfessionalClaimBatch:
    return ProfessionalClaimBatch(
        "BATCH0001",
        TradingPartner("ACME BILLING", "SUBMITTER1"),
        Contact("EDI DESK", phone="2175550199", email="edi@example.com"),
        TradingPartner("CLEARINGHOUSE", "RECEIVER1"),
        (ProviderClaims(provider, subscribers),),
    )


def one_claim(made: Claim | None = None, **changes: Any) -> ProfessionalClaimBatch:
    return batch(SubscriberClaims(subscriber(), PAYER, (made or claim(),), **changes))
