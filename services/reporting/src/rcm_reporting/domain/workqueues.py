"""The sizes of every work queue across the services, as their events tell them: what waits for a coder, a
biller, a poster or a collector, with the money at stake where there is one.

Reporting reads the queues from the events rather than asking each service, so the summary costs the services
nothing and can be rebuilt; it sees what the events say (a visit charge holds before it was ever published is
charge's alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from rcm_reporting.domain.claims import ClaimRecord, ClaimState
from rcm_reporting.domain.records import ZERO, AccountBalance, Visit

ITEM_QUEUES: Final = {
    "eligibility_failures": ("eligibility", "Coverages whose last eligibility check failed"),
    "unmatched_payments": ("remittance", "Claim payments that matched no claim"),
    "held_remittances": ("remittance", "835s held because they do not balance"),
}
"""Queues whose items are not claims: kept by reporting as open or settled items, by these names."""


@dataclass(frozen=True, slots=True)
class WorkQueue:
    service: str
    name: str
    description: str
    size: int
    amount: Decimal | None = None


_CLAIM_QUEUES: Final = (
    (ClaimState.SCRUB_FAILED, "scrub_failures", "Claims the scrubber holds until fixed or overridden"),
    (ClaimState.REJECTED, "rejections", "Claims the clearinghouse or the payer rejected"),
    (ClaimState.DENIED, "denials", "Denied claims to appeal, correct, move to the patient or write off"),
    (ClaimState.APPEALED, "appeals_pending", "Appealed claims awaiting the payer's decision"),
    (ClaimState.PARTIALLY_PAID, "partially_paid", "Claims paid in part or below the contract, still open"),
)


def work_queues(
    visits: Iterable[Visit],
    claims: Iterable[ClaimRecord],
    accounts: Iterable[AccountBalance],
    open_items: Mapping[str, int],
) -> list[WorkQueue]:
    claims = [claim for claim in claims if not claim.is_void]
    accounts = list(accounts)
    held = [visit for visit in visits if visit.held and not visit.voided]
    queues = [
        WorkQueue(
            "charge",
            "coding_review",
            "Captured visits held for a coder's correction",
            len(held),
            sum((v.total_charge for v in held), ZERO),
        ),
    ]
    for state, name, description in _CLAIM_QUEUES:
        members = [claim for claim in claims if claim.state is state]
        at_stake = sum((_at_stake(c) for c in members), ZERO)
        queues.append(WorkQueue("claim", name, description, len(members), at_stake))
    queues += [
        WorkQueue(service, name, description, open_items.get(name, 0))
        for name, (service, description) in ITEM_QUEUES.items()
    ]
    due = [a for a in accounts if a.patient_due > 0 and not a.placed]
    placed = [a for a in accounts if a.placed]
    defaulted = [a for a in accounts if a.plan_defaulted]
    queues += [
        WorkQueue(
            "collections",
            "patient_due",
            "Accounts with a balance the patient owes (statements)",
            len(due),
            sum((a.patient_due for a in due), ZERO),
        ),
        WorkQueue(
            "collections",
            "plans_defaulted",
            "Payment plans in default",
            len(defaulted),
            sum((a.patient_due for a in defaulted), ZERO),
        ),
        WorkQueue(
            "collections",
            "placed_with_agency",
            "Accounts placed with a collection agency",
            len(placed),
            sum((a.patient_due for a in placed), ZERO),
        ),
    ]
    return queues


def _at_stake(claim: ClaimRecord) -> Decimal:
    """A denied or appealed claim's denied amount; any other claim's charges."""
    if claim.state in (ClaimState.DENIED, ClaimState.APPEALED):
        return claim.denied_amount
    return claim.total_charge
