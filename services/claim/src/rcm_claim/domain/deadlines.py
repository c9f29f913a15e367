"""The deadlines a billing office lives by: a claim must reach the payer within its timely-filing window (the date
of service plus the payer's days), and a denial must be appealed within the payer's appeal window (the denial's
date plus the payer's days). Each raises a work item a configurable number of days before it passes, so a
biller acts while there is time; one that has passed is flagged, with what it will likely cost (a claim past
timely filing is written off whole, since the payer denies it CO-29 and the patient may not be billed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal
from uuid import UUID

from rcm_claim.domain.denial_work import appeal_deadline
from rcm_claim.domain.directories import PayerProfile
from rcm_claim.domain.model import Claim, ClaimState

DeadlineKind = Literal["timely_filing", "appeal"]


@dataclass(frozen=True, slots=True)
class Deadline:
    kind: DeadlineKind
    claim_id: UUID
    patient_control_number: str
    payer_id: str
    state: ClaimState
    date_of_service: date
    due: date
    days_left: int  # negative once it has passed
    amount: Decimal  # the claim's charge (timely filing) or the amount the denial put at stake (appeal)
    likely_write_off: Decimal | None  # what is lost if nothing is done: named once the deadline has passed

    @property
    def passed(self) -> bool:
        return self.days_left < 0


def filing_deadline(payer: PayerProfile, day: date) -> date:
    """The last day a claim for `day` may be filed: Medicare's is one calendar year after the date of service
    (42 CFR 424.44(a)(1)); other payers count the days of their window."""
    if payer.filing_indicator == "MB":
        try:
            return day.replace(year=day.year + 1)
        except ValueError:  # 29 February: the year after has none
            return date(day.year + 1, 2, 28)
    return day + timedelta(days=payer.timely_filing_days)


def earliest_service_at_risk(payer: PayerProfile, last_day: date) -> date:
    """The latest date of service whose filing window may close by `last_day` (a day's slack for Medicare's
    calendar year), so a query finds every claim `filing_deadlines` might raise."""
    window = 366 if payer.filing_indicator == "MB" else payer.timely_filing_days
    return last_day - timedelta(days=window) + timedelta(days=1)


def filing_deadlines(claims: Iterable[Claim], payer: PayerProfile, today: date, warning_days: int) -> list[Deadline]:
    """The unfiled claims whose timely-filing window closes within `warning_days`, or has closed (a void claim
    bills nothing, so it has no window to miss)."""
    found = []
    for claim in claims:
        if claim.frequency == "8":
            continue
        due = filing_deadline(payer, claim.date_of_service)
        days_left = (due - today).days
        if days_left <= warning_days:
            lost = claim.total_charge if days_left < 0 else None
            found.append(_deadline("timely_filing", claim, due, days_left, claim.total_charge, lost))
    return found


def appeal_deadlines(
    claims: Iterable[Claim], payers: Mapping[str, PayerProfile], today: date, warning_days: int
) -> list[Deadline]:
    """The open denials whose appeal window closes within `warning_days`, or has closed (a payer with no window
    on file raises none: its letters say how long it allows)."""
    found = []
    for claim in claims:
        denial, payer = claim.open_denial, payers.get(claim.payer_id)
        if denial is None or payer is None:
            continue
        due = appeal_deadline(claim.appeal_window_opens(denial), payer.appeal_days)
        if due is None or (days_left := (due - today).days) > warning_days:
            continue
        lost = denial.amount if days_left < 0 else None
        found.append(_deadline("appeal", claim, due, days_left, denial.amount, lost))
    return found


def _deadline(
    kind: DeadlineKind, claim: Claim, due: date, days_left: int, amount: Decimal, lost: Decimal | None
) -> Deadline:
    return Deadline(kind, claim.id, claim.patient_control_number, claim.payer_id, claim.state, claim.date_of_service,
                    due, days_left, amount, lost)  # fmt: skip
