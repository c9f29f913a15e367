"""Procedure codes, modifiers and NDCs as a claim carries them.

CPT descriptions are licensed by the AMA, so the platform knows codes by their form only: Category I five
digits, Category II four digits and `F`, Category III four digits and `T`, Proprietary Laboratory Analyses (PLA)
four digits and `U`, administrative MAAA codes four digits and `M`, HCPCS Level II a letter `A`-`V` and four
digits. Modifiers are the CPT and HCPCS Level II modifiers professional claims carry; the table is curated and
names each one so a coder can read the message.
"""

from __future__ import annotations

import re
from typing import Final

# [0-9], not \d: \d also matches non-ASCII digits.
_CPT = re.compile(r"[0-9]{5}|[0-9]{4}[FMTU]")
_HCPCS = re.compile(r"[A-V][0-9]{4}")
_MODIFIER = re.compile(r"[A-Z0-9]{2}")
_NDC_11 = re.compile(r"[0-9]{11}")
_NDC_DASHED = re.compile(r"([0-9]{4,5})-([0-9]{3,4})-([0-9]{1,2})")

MODIFIERS: Final[dict[str, str]] = {
    "22": "increased procedural services",
    "23": "unusual anesthesia",
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
    "73": "discontinued outpatient hospital or ASC procedure before the administration of anesthesia",
    "74": "discontinued outpatient hospital or ASC procedure after the administration of anesthesia",
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
    "AA": "anesthesia services performed personally by the anesthesiologist",
    "AD": "medical supervision by a physician of more than four concurrent anesthesia procedures",
    "AI": "principal physician of record",
    "AQ": "physician providing a service in an unlisted health professional shortage area (HPSA)",
    "AR": "physician provider services in a physician scarcity area",
    "AS": "assistant at surgery by a physician assistant, nurse practitioner or clinical nurse specialist",
    "AT": "acute treatment (chiropractic manipulative treatment)",
    "CG": "policy criteria applied",
    "CO": "outpatient occupational therapy services furnished in whole or in part by an occupational therapy assistant",
    "CQ": "outpatient physical therapy services furnished in whole or in part by a physical therapist assistant",
    "CR": "catastrophe or disaster related",
    "CS": "cost-sharing waived (public health emergency)",
    "E1": "upper left eyelid",
    "E2": "lower left eyelid",
    "E3": "upper right eyelid",
    "E4": "lower right eyelid",
    "EJ": "subsequent claim for a defined course of therapy",
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
    "FX": "X-ray taken using film",
    "FY": "X-ray taken using computed radiography (cassette-based imaging)",
    "GA": "waiver of liability statement issued (ABN on file)",
    "GC": "service performed in part by a resident under a teaching physician",
    "GE": "service performed by a resident without a teaching physician present (primary care exception)",
    "GG": "screening and diagnostic mammogram on the same patient, same day",
    "GH": "diagnostic mammogram converted from a screening mammogram on the same day",
    "GJ": "opt-out physician or practitioner emergency or urgent service",
    "GN": "services delivered under an outpatient speech-language pathology plan of care",
    "GO": "services delivered under an outpatient occupational therapy plan of care",
    "GP": "services delivered under an outpatient physical therapy plan of care",
    "GQ": "via an asynchronous telecommunications system",
    "GT": "via interactive audio and video telecommunication systems",
    "GU": "waiver of liability statement issued as required by payer policy, routine notice",
    "GV": "attending physician not employed or paid under arrangement by the patient's hospice provider",
    "GW": "service not related to the hospice patient's terminal condition",
    "GX": "notice of liability issued, voluntary under payer policy",
    "GY": "item or service statutorily excluded or not a benefit",
    "GZ": "item or service expected to be denied as not reasonable and necessary",
    "HA": "child or adolescent program",
    "HB": "adult program, non-geriatric",
    "HC": "adult program, geriatric",
    "HD": "pregnant or parenting women's program",
    "HE": "mental health program",
    "HF": "substance abuse program",
    "HG": "opioid addiction treatment program",
    "HH": "integrated mental health and substance abuse program",
    "HI": "integrated mental health and intellectual disability or developmental disabilities program",
    "HJ": "employee assistance program",
    "HK": "specialized mental health programs for high-risk populations",
    "HL": "intern",
    "HM": "less than bachelor's degree level",
    "HN": "bachelor's degree level",
    "HO": "master's degree level",
    "HP": "doctoral level",
    "HQ": "group setting",
    "HR": "family or couple with the client present",
    "HS": "family or couple without the client present",
    "HT": "multi-disciplinary team",
    "HU": "funded by a child welfare agency",
    "HV": "funded by a state addictions agency",
    "HW": "funded by a state mental health agency",
    "HX": "funded by a county or local agency",
    "HY": "funded by a juvenile justice agency",
    "HZ": "funded by a criminal justice agency",
    "JG": "drug or biological acquired with a 340B drug pricing program discount",
    "JW": "drug amount discarded, not administered",
    "JZ": "zero drug amount discarded",
    "KO": "single drug unit dose formulation",
    "KP": "first drug of a multiple drug unit dose formulation",
    "KQ": "second or subsequent drug of a multiple drug unit dose formulation",
    "KX": "requirements specified in the medical policy have been met",
    "LC": "left circumflex coronary artery",
    "LD": "left anterior descending coronary artery",
    "LM": "left main coronary artery",
    "LR": "laboratory round trip",
    "LT": "left side",
    "MS": "six-month maintenance and servicing fee for parts and labor not covered by a warranty",
    "NR": "new when rented",
    "NU": "new equipment",
    "P1": "physical status: a normal healthy patient",
    "P2": "physical status: a patient with mild systemic disease",
    "P3": "physical status: a patient with severe systemic disease",
    "P4": "physical status: a patient with severe systemic disease that is a constant threat to life",
    "P5": "physical status: a moribund patient who is not expected to survive without the operation",
    "P6": "physical status: a declared brain-dead patient whose organs are being removed for donor purposes",
    "PD": "diagnostic or related non-diagnostic service by a hospital-owned entity within 3 days before admission",
    "PN": "non-excepted service at an off-campus outpatient provider-based department of a hospital",
    "PO": "excepted service at an off-campus outpatient provider-based department of a hospital",
    "Q0": "investigational clinical service in an approved clinical research study",
    "Q1": "routine clinical service in an approved clinical research study",
    "Q3": "live kidney donor surgery and related services",
    "Q5": "service furnished under a reciprocal billing arrangement",
    "Q6": "service furnished under a fee-for-time compensation arrangement",
    "QJ": "service to a prisoner or patient in state or local custody meeting 42 CFR 411.4(b)",
    "QK": "medical direction of two, three or four concurrent anesthesia procedures by a physician",
    "QW": "CLIA-waived test",
    "QX": "CRNA service with medical direction by a physician",
    "QY": "medical direction of one CRNA by an anesthesiologist",
    "QZ": "CRNA service without medical direction by a physician",
    "RA": "replacement of a DME, orthotic or prosthetic item",
    "RB": "replacement of a part of a DME, orthotic or prosthetic item furnished as part of a repair",
    "RC": "right coronary artery",
    "RI": "ramus intermedius coronary artery",
    "RR": "rental",
    "RT": "right side",
    "SA": "nurse practitioner rendering service in collaboration with a physician",
    "SC": "medically necessary service or supply",
    "SG": "ambulatory surgical center facility service",
    "SL": "state-supplied vaccine",
    "SW": "services provided by a certified diabetic educator",
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
    "TB": "drug or biological acquired with a 340B drug pricing program discount, reported by select entities",
    "TC": "technical component",
    "TS": "follow-up service",
    "U1": "Medicaid level of care 1, as defined by each state",
    "U2": "Medicaid level of care 2, as defined by each state",
    "U3": "Medicaid level of care 3, as defined by each state",
    "U4": "Medicaid level of care 4, as defined by each state",
    "U5": "Medicaid level of care 5, as defined by each state",
    "U6": "Medicaid level of care 6, as defined by each state",
    "U7": "Medicaid level of care 7, as defined by each state",
    "U8": "Medicaid level of care 8, as defined by each state",
    "U9": "Medicaid level of care 9, as defined by each state",
    "UA": "Medicaid level of care 10, as defined by each state",
    "UB": "Medicaid level of care 11, as defined by each state",
    "UC": "Medicaid level of care 12, as defined by each state",
    "UD": "Medicaid level of care 13, as defined by each state",
    "UE": "used durable medical equipment",
    "UJ": "services provided at night",
    "UN": "two patients served",
    "UP": "three patients served",
    "UQ": "four patients served",
    "UR": "five patients served",
    "US": "six or more patients served",
    "XE": "separate encounter",
    "XP": "separate practitioner",
    "XS": "separate structure or organ",
    "XU": "unusual non-overlapping service",
}

# The modifiers NCCI accepts as saying two services of a procedure-to-procedure edit were distinct (the NCCI policy
# manual, chapter I), by kind: anatomic ones (the two lines must name different sites), the global surgery ones
# other than 25 and 57, 25 and 57 (which count on the E/M line), and the distinct-service ones.
ANATOMIC: Final = frozenset(
    {
        "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
        "LC", "LD", "LM", "LT", "RC", "RI", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9",
    }
)  # fmt: skip
GLOBAL_SURGERY: Final = frozenset({"24", "58", "78", "79"})
EVALUATION_AND_MANAGEMENT_BYPASS: Final = frozenset({"25", "57"})
DISTINCT_SERVICE: Final = frozenset({"27", "59", "91", "XE", "XS", "XP", "XU"})

# Modifiers that cannot stand together on one line, with why.
CONFLICTING: Final[tuple[tuple[frozenset[str], str], ...]] = (
    (frozenset({"26", "TC"}), "a line is either the professional (26) or the technical (TC) component, not both"),
    (frozenset({"LT", "RT"}), "a procedure on both sides is billed with 50, not LT and RT on one line"),
    (frozenset({"50", "LT"}), "a bilateral (50) procedure does not take a side"),
    (frozenset({"50", "RT"}), "a bilateral (50) procedure does not take a side"),
)

# The CPT E/M section by range, 99202-99499 (office, hospital, nursing facility, home, preventive and the rest),
# taken as 992xx-994xx: 99201 (deleted in 2021) still counts, and 99500 on are home health and other services.
EVALUATION_AND_MANAGEMENT: Final = re.compile(r"99[2-4][0-9]{2}")
PREVENTIVE_VISIT: Final = re.compile(r"993(8[1-7]|9[1-7])")
MEDICARE_PREVENTIVE_VISITS: Final = frozenset({"G0402", "G0438", "G0439"})


def procedure_code_form(code: str) -> str | None:
    """The code's kind (`CPT`, `HCPCS`), or None when it has neither form."""
    if _CPT.fullmatch(code):
        return "CPT"
    if _HCPCS.fullmatch(code):
        return "HCPCS"
    return None


def is_evaluation_and_management(code: str) -> bool:
    """Whether the code is in the CPT E/M range."""
    return EVALUATION_AND_MANAGEMENT.fullmatch(code) is not None


def is_preventive_visit(code: str) -> bool:
    """A preventive visit: CPT's preventive medicine services (99381-99387 new, 99391-99397 established) or
    Medicare's initial preventive examination and annual wellness visits (G0402, G0438, G0439)."""
    return PREVENTIVE_VISIT.fullmatch(code) is not None or code in MEDICARE_PREVENTIVE_VISITS


def modifier_form_valid(modifier: str) -> bool:
    """Whether the modifier has a modifier's form: two ASCII upper-case letters or digits."""
    return _MODIFIER.fullmatch(modifier) is not None


def normalized_ndc(ndc: str) -> str | None:
    """The 11-digit 5-4-2 form an 837P carries (LIN03, qualifier N4), from it plain or dashed, or from a dashed
    10-digit NDC (4-4-2, 5-3-2 or 5-4-1); None when it is none of them."""
    if _NDC_11.fullmatch(ndc):
        return ndc
    dashed = _NDC_DASHED.fullmatch(ndc)
    if dashed is None:
        return None
    labeler, product, package = dashed.groups()
    if len(labeler) + len(product) + len(package) not in (10, 11):  # 11 only as 5-4-2, given the groups' lengths
        return None
    return labeler.zfill(5) + product.zfill(4) + package.zfill(2)
