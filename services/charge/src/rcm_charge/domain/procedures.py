"""Procedure codes, modifiers and NDCs as a claim carries them.

CPT descriptions are licensed by the AMA, so the platform knows codes by their form only: Category I five
digits, Category II four digits and `F`, Category III four digits and `T`, HCPCS Level II a letter and four
digits. Modifiers are the CPT and HCPCS Level II modifiers a physician office bills; the table is curated and
names each one so a coder can read the message.
"""

from __future__ import annotations

import re
from typing import Final

_CPT = re.compile(r"\d{5}|\d{4}[FT]")
_HCPCS = re.compile(r"[A-V]\d{4}")
_NDC_11 = re.compile(r"\d{11}")
_NDC_DASHED = re.compile(r"(\d{4,5})-(\d{3,4})-(\d{1,2})")

MODIFIERS: Final[dict[str, str]] = {
    "22": "increased procedural services",
    "24": "unrelated E/M during a postoperative period",
    "25": "significant, separately identifiable E/M on the day of a procedure",
    "26": "professional component",
    "27": "multiple outpatient hospital E/M encounters on the same date",
    "32": "mandated services",
    "33": "preventive services",
    "47": "anesthesia by surgeon",
    "50": "bilateral procedure",
    "51": "multiple procedures",
    "52": "reduced services",
    "53": "discontinued procedure",
    "54": "surgical care only",
    "55": "postoperative management only",
    "56": "preoperative management only",
    "57": "decision for surgery",
    "58": "staged or related procedure during the postoperative period",
    "59": "distinct procedural service",
    "62": "two surgeons",
    "63": "procedure performed on infants less than 4 kg",
    "66": "surgical team",
    "76": "repeat procedure by the same physician",
    "77": "repeat procedure by another physician",
    "78": "unplanned return to the operating room",
    "79": "unrelated procedure during the postoperative period",
    "80": "assistant surgeon",
    "81": "minimum assistant surgeon",
    "82": "assistant surgeon when no qualified resident was available",
    "90": "reference (outside) laboratory",
    "91": "repeat clinical diagnostic laboratory test",
    "92": "alternative laboratory platform testing",
    "93": "synchronous telemedicine service by audio only",
    "95": "synchronous telemedicine service by audio and video",
    "96": "habilitative services",
    "97": "rehabilitative services",
    "99": "multiple modifiers",
    "AI": "principal physician of record",
    "AS": "assistant at surgery by a physician assistant, nurse practitioner or clinical nurse specialist",
    "CR": "catastrophe or disaster related",
    "CS": "cost-sharing waived (public health emergency)",
    "E1": "upper left eyelid",
    "E2": "lower left eyelid",
    "E3": "upper right eyelid",
    "E4": "lower right eyelid",
    "F1": "left hand, second digit",
    "F2": "left hand, third digit",
    "F3": "left hand, fourth digit",
    "F4": "left hand, fifth digit",
    "F5": "right hand, thumb",
    "F6": "right hand, second digit",
    "F7": "right hand, third digit",
    "F8": "right hand, fourth digit",
    "F9": "right hand, fifth digit",
    "FA": "left hand, thumb",
    "FS": "split or shared E/M visit",
    "FT": "unrelated E/M visit during a postoperative period or on the same day as another E/M",
    "GA": "waiver of liability statement issued (ABN on file)",
    "GC": "service performed in part by a resident under a teaching physician",
    "GN": "services delivered under an outpatient speech-language pathology plan of care",
    "GO": "services delivered under an outpatient occupational therapy plan of care",
    "GP": "services delivered under an outpatient physical therapy plan of care",
    "GT": "via interactive audio and video telecommunication systems",
    "GX": "notice of liability issued, voluntary under payer policy",
    "GY": "item or service statutorily excluded or not a benefit",
    "GZ": "item or service expected to be denied as not reasonable and necessary",
    "JW": "drug amount discarded, not administered",
    "JZ": "zero drug amount discarded",
    "KX": "requirements specified in the medical policy have been met",
    "LC": "left circumflex coronary artery",
    "LD": "left anterior descending coronary artery",
    "LM": "left main coronary artery",
    "LT": "left side",
    "NU": "new equipment",
    "Q5": "service furnished under a reciprocal billing arrangement",
    "Q6": "service furnished under a fee-for-time compensation arrangement",
    "QW": "CLIA-waived test",
    "RC": "right coronary artery",
    "RI": "ramus intermedius coronary artery",
    "RR": "rental",
    "RT": "right side",
    "SA": "nurse practitioner rendering service in collaboration with a physician",
    "SG": "ambulatory surgical center facility service",
    "T1": "left foot, second digit",
    "T2": "left foot, third digit",
    "T3": "left foot, fourth digit",
    "T4": "left foot, fifth digit",
    "T5": "right foot, great toe",
    "T6": "right foot, second digit",
    "T7": "right foot, third digit",
    "T8": "right foot, fourth digit",
    "T9": "right foot, fifth digit",
    "TA": "left foot, great toe",
    "TC": "technical component",
    "UE": "used durable medical equipment",
    "XE": "separate encounter",
    "XP": "separate practitioner",
    "XS": "separate structure or organ",
    "XU": "unusual non-overlapping service",
}

# The modifiers NCCI accepts as saying two services of a procedure-to-procedure edit were distinct: anatomic,
# global surgery and the distinct-service ones (the NCCI policy manual, chapter I).
NCCI_ASSOCIATED: Final = frozenset(
    {
        "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
        "LC", "LD", "LM", "LT", "RC", "RI", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9",
        "24", "25", "57", "58", "78", "79", "27", "59", "91", "XE", "XS", "XP", "XU",
    }
)  # fmt: skip

# Modifiers that cannot stand together on one line, with why.
CONFLICTING: Final[tuple[tuple[frozenset[str], str], ...]] = (
    (frozenset({"26", "TC"}), "a line is either the professional (26) or the technical (TC) component, not both"),
    (frozenset({"LT", "RT"}), "a procedure on both sides is billed with 50, not LT and RT on one line"),
    (frozenset({"50", "LT"}), "a bilateral (50) procedure does not take a side"),
    (frozenset({"50", "RT"}), "a bilateral (50) procedure does not take a side"),
)

EVALUATION_AND_MANAGEMENT: Final = re.compile(r"99(2[0-9][0-9]|4[0-9][0-9])")


def procedure_code_form(code: str) -> str | None:
    """The code's kind (`CPT`, `HCPCS`), or None when it has neither form."""
    if _CPT.fullmatch(code):
        return "CPT"
    if _HCPCS.fullmatch(code):
        return "HCPCS"
    return None


def is_evaluation_and_management(code: str) -> bool:
    return EVALUATION_AND_MANAGEMENT.fullmatch(code) is not None


def normalized_ndc(ndc: str) -> str | None:
    """The 11-digit 5-4-2 form an 837P carries (LIN03, qualifier N4), from it or from a dashed 10-digit NDC
    (4-4-2, 5-3-2 or 5-4-1); None when it is neither."""
    if _NDC_11.fullmatch(ndc):
        return ndc
    dashed = _NDC_DASHED.fullmatch(ndc)
    if dashed is None:
        return None
    labeler, product, package = dashed.groups()
    if len(labeler) + len(product) + len(package) != 10:
        return None
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)
