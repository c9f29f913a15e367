"""What an 835's adjustment and remark codes mean, and what a biller does about them.

Every CAS adjustment carries a group code (who bears it) and a claim adjustment reason code (CARC, why);
remark codes (RARC) add detail. The code book names each code in words and sorts each adjustment into a
denial category with the biller's next step, so a denial lands in the right work queue. A code the book does
not know is still posted and named, never refused: the payer's money moved whatever we know of its reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final, get_args

from rcm_common.events.remittance import DenialCategoryName
from rcm_remittance.domain.code_table import CARC_ROWS, RARC_ROWS

Category = DenialCategoryName  # the contract's categories: what a biller works a denial under
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)

# The claim adjustment group codes (CAS01): who bears the adjustment.
GROUP_CODES: Final[Mapping[str, str]] = {
    "CO": "contractual obligation: the provider writes it off",
    "PR": "patient responsibility: the patient owes it",
    "OA": "other adjustment",
    "PI": "payer initiated reduction",
    "CR": "correction or reversal of an earlier claim",
}

SUGGESTED_ACTIONS: Final[Mapping[Category, str]] = {
    "eligibility": "Verify coverage on the date of service (a new 270), correct the member id or bill the right "
    "payer, else bill the patient; for a provider code, check the provider's enrolment with the payer instead.",
    "authorisation": "Obtain or find the authorisation (or referral) and appeal with it, or send a corrected "
    "claim with its number in REF*G1.",
    "coding": "Check the codes, modifiers, diagnoses and place of service against the notes and send a "
    "corrected claim (frequency 7).",
    "medical_necessity": "Appeal with the notes and records that show the need under the payer's policy (LCD or "
    "NCD); bill the patient only with a signed ABN or waiver on file.",
    "timely_filing": "Appeal with proof of timely filing (the 999/277CA acceptance), else write off: the "
    "patient cannot be billed for it.",
    "duplicate": "Check the original claim's status before resubmitting; do not resubmit.",
    "coordination_of_benefits": "Confirm the coverage order with the patient, bill the primary first and send "
    "this payer a claim with the primary's payment and adjustments.",
    "bundling": "Check the NCCI edits: when the service was separate and distinct, send a corrected claim with "
    "the right modifier (59, XE, XS, XP, XU) or appeal; else write off.",
    "missing_information": "Send the information or records the remark code names, or a corrected claim "
    "(frequency 7) that carries them.",
    "contractual": "No action: the contractual write-off per the payer contract; check the allowed amount "
    "against the contract.",
    "patient_responsibility": "Bill the patient's secondary coverage if any, else the patient.",
    "other": "Read the CARC and RARC and work it by hand.",
}


@dataclass(frozen=True, slots=True)
class AdjustmentReason:
    """A claim adjustment reason code (CARC): what it means, the groups it usually comes with, and the denial
    category a biller works it under."""

    code: str
    description: str
    groups: tuple[str, ...]
    category: Category


@dataclass(frozen=True, slots=True)
class RemarkCode:
    """A remittance advice remark code (RARC): detail on an adjustment, or an alert."""

    code: str
    description: str


class CodeBook:
    """The CARCs and RARCs by code: the curated ones, over which an operator may load the published lists."""

    __slots__ = ("_reasons", "_remarks")

    def __init__(self, reasons: Mapping[str, AdjustmentReason], remarks: Mapping[str, RemarkCode]) -> None:
        self._reasons = dict(reasons)
        self._remarks = dict(remarks)

    @property
    def reasons(self) -> Mapping[str, AdjustmentReason]:
        return MappingProxyType(self._reasons)

    @property
    def remarks(self) -> Mapping[str, RemarkCode]:
        return MappingProxyType(self._remarks)

    def reason(self, code: str) -> AdjustmentReason:
        """The CARC as the book knows it; an unknown one is named as such, in category "other"."""
        key = _key(code)
        known = self._reasons.get(key)
        return known if known is not None else AdjustmentReason(key, f"CARC {key}: not in the code table", (), "other")

    def remark(self, code: str) -> RemarkCode:
        """The RARC as the book knows it; an unknown one is named as such."""
        key = _key(code)
        known = self._remarks.get(key)
        return known if known is not None else RemarkCode(key, f"RARC {key}: not in the code table")

    def category(self, group: str, carc: str) -> Category:
        """The denial category of one adjustment. Whatever the reason, a PR adjustment is the patient's to pay
        (deductible, coinsurance, copay, or a non-covered service the payer put on them); otherwise the reason
        decides, so CO-45 or CO-253 is contractual and CO-197 authorisation."""
        if _key(group) == "PR":
            return "patient_responsibility"
        return self.reason(carc).category

    def with_loaded(self, reasons: Iterable[tuple[str, str]], remarks: Iterable[tuple[str, str]]) -> CodeBook:
        """A new book with the published descriptions of the loaded codes. A curated code keeps its groups and
        category: the lists say what a code means, not how a biller works it. A code only the lists know is
        worked by hand (category "other")."""
        loaded_reasons = dict(self._reasons)
        for code, description in reasons:
            key = _key(code)
            curated = loaded_reasons.get(key)
            loaded_reasons[key] = (
                replace(curated, description=description)
                if curated is not None
                else AdjustmentReason(key, description, (), "other")
            )
        loaded_remarks = dict(self._remarks)
        for code, description in remarks:
            key = _key(code)
            loaded_remarks[key] = RemarkCode(key, description)
        return CodeBook(loaded_reasons, loaded_remarks)


def _key(code: str) -> str:
    return code.strip().upper()


CURATED: Final = CodeBook(
    {code: AdjustmentReason(code, description, groups, category) for code, groups, category, description in CARC_ROWS},
    {code: RemarkCode(code, description) for code, description in RARC_ROWS},
)

# The provider adjustment reason codes (PLB03-1): why the payer changed the whole payment, not one claim's.
PROVIDER_ADJUSTMENT_REASONS: Final[Mapping[str, str]] = {
    "50": "late charge",
    "51": "interest penalty charge",
    "72": "authorised return: money given back to the payer",
    "90": "early payment allowance",
    "AH": "origination fee",
    "AM": "repayment of an earlier advance (applied to borrowings)",
    "AP": "acceleration of benefits",
    "B2": "rebate",
    "B3": "recovery allowance",
    "BD": "bad debt adjustment",
    "BN": "bonus",
    "C5": "temporary allowance",
    "CR": "capitation interest",
    "CS": "adjustment (see the reference)",
    "CT": "capitation payment",
    "CV": "capital passthru",
    "CW": "certified registered nurse anaesthetist passthru",
    "DM": "direct medical education passthru",
    "E3": "withholding",
    "FB": "forwarding balance: an amount carried to or from another 835",
    "FC": "fund allocation",
    "GO": "graduate medical education passthru",
    "HM": "hemophilia clotting factor supplement",
    "IP": "incentive premium payment",
    "IR": "internal revenue service withholding",
    "IS": "interim settlement",
    "J1": "nonreimbursable",
    "L3": "penalty",
    "L6": "interest owed: paid late, the payer adds interest",
    "LE": "levy",
    "LS": "lump sum",
    "OA": "organ acquisition passthru",
    "OB": "offset for affiliated providers",
    "PI": "periodic interim payment",
    "PL": "payment final",
    "RA": "retroactive adjustment",
    "RE": "return on equity",
    "SL": "student loan repayment",
    "TL": "third party liability",
    "WO": "overpayment recovery: money taken back for an earlier overpaid claim",
    "WU": "unspecified recovery",
}
