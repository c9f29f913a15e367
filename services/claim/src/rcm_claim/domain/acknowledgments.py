"""What the clearinghouse and the payer answer about claims, in a biller's words: the 999's verdict on each
transaction set of a batch, the 277CA's verdict on each claim, a 277's statuses, and what usually fixes a
rejection. The X12 is read in `adapters.acknowledgment_x12`; this module only decides what the answers mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from rcm_claim.domain.events import Problem, StatusReport

# What usually fixes a 277CA rejection, by STC status code (code list 508). A rejection whose code is not
# here still shows its codes and their meanings; the fix is then the biller's to find.
SUGGESTED_FIXES: Final[dict[str, str]] = {
    "33": "Check the member id and the subscriber's name and birth date against the card, verify eligibility "
    "again, then correct the coverage in registration.",
    "97": "Verify eligibility for the date of service and correct the coverage in registration.",
    "116": "Check the payer id in the payer directory and the coverage's payer in registration.",
    "562": "Correct the provider's NPI in the provider directory.",
    "254": "Capture a principal diagnosis on the encounter.",
    "187": "Correct the dates of service on the encounter.",
    "402": "Correct the charges on the encounter: every amount must be greater than zero.",
    "476": "Correct the units of service on the encounter.",
    "400": "Correct the encounter so the claim total is the sum of its lines.",
    "464": "Check the payer claim number (REF*F8) the correction names: the payer must still hold that claim open.",
    "535": "Check the claim frequency: the payer did not take this replacement or void.",
    "84": "Record the prior authorisation in eligibility and resubmit.",
    "88": "Verify eligibility for the date of service; bill the right payer or the patient.",
}
# What usually fixes a 999 rejection: the batch broke the implementation guide, which the writer should have
# prevented, so the fix is the platform's or the directory's, not the encounter's.
STRUCTURE_FIX: Final = (
    "The clearinghouse could not take the claim's transaction set as written: check the provider and payer "
    "directories for the fields named, then rescrub to send it again."
)


@dataclass(frozen=True, slots=True)
class SetVerdict:
    """The 999's answer for one transaction set (AK2/IK5): accepted, or rejected with its problems."""

    control_number: str
    accepted: bool
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimAnswer:
    """The 277CA's answer for one claim, found by its CLM01."""

    patient_control_number: str
    accepted: bool | None  # None: the file neither accepts nor rejects it (a pending status)
    payer_claim_number: str | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimStatusAnswer:
    """A 277's answer for one claim asked about on a 276."""

    patient_control_number: str
    statuses: tuple[StatusReport, ...]


@dataclass(frozen=True, slots=True)
class AcknowledgmentFile:
    """A 277CA taken from the mailbox: known by its content's digest, so picking it up again changes nothing."""

    digest: str
    mailbox_file_id: str
    payer_id: str
    claims: int
    content: str  # PHI: the claims' patients and members
    received_at: datetime


def rejection_problem(category: str, status: str, category_meaning: str, status_meaning: str) -> Problem:
    """One STC code of a rejection as a biller reads it: the codes, both meanings, and the usual fix."""
    meaning = f"{category_meaning or 'Unknown category'}: {status_meaning or 'unlisted status'}"
    return Problem(f"{category}:{status}", meaning, SUGGESTED_FIXES.get(status))
