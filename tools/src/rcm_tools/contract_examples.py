"""One example payload per integration event, published as `contracts/examples/<event_type>/v<version>.json`.

Each example is written in wire form (what the producer's outbox puts on Kafka, every field present) so the
committed file is exactly this data; `make contracts` refuses an event without one, or one that differs from
what its model would send. The people are invented: 555-01xx telephone numbers, example.com mail, and
identifiers that match no real patient, member or record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from rcm_common.events import IntegrationEvent
from rcm_common.events.charge import ChargesCaptured, ChargesCorrected, ChargesHeld, ChargesVoided
from rcm_common.events.claim import (
    ClaimAccepted,
    ClaimAppealed,
    ClaimClosed,
    ClaimCreated,
    ClaimPaid,
    ClaimPartiallyPaid,
    ClaimRejected,
    ClaimReopened,
    ClaimReplaced,
    ClaimScrubFailed,
    ClaimStatusUpdated,
    ClaimSubmitted,
    ClaimVoided,
    ClaimWriteOffRequested,
    DenialResolutionWithdrawn,
    PatientResponsibilityTransferred,
)
from rcm_common.events.claim import ClaimDenied as ClaimDeniedByPayer
from rcm_common.events.collections import (
    AccountPlacedWithAgency,
    AccountRecalled,
    BalanceWrittenOff,
    PatientBalanceChanged,
    PatientCreditMoved,
    PatientPaymentReceived,
    PaymentPlanCreated,
    PaymentPlanDefaulted,
    RefundIssued,
    StatementIssued,
    WriteOffReversed,
)
from rcm_common.events.eligibility import EligibilityCheckFailed, EligibilityVerified, PriorAuthorizationRecorded
from rcm_common.events.registration import (
    CoverageAdded,
    CoverageEnded,
    CoverageUpdated,
    PatientRegistered,
    PatientsMerged,
    PatientUpdated,
)
from rcm_common.events.remittance import (
    ClaimDenied,
    ClaimPaymentReversed,
    PaymentPosted,
    ProviderAdjustmentPosted,
    RemittanceReceived,
    RemittanceUnmatched,
    UnderpaymentDetected,
)

# Shared ids, so the examples tell one story: a patient registered, a duplicate folded into them, coverage kept.
_PATIENT_ID = "0b6f9d2e-5c1a-4f3e-9a7d-2e8c4b1f6a30"
_DUPLICATE_ID = "7d3e1a9c-2b4f-4e8a-b6c1-9f0d5e2a7b44"
_PRIMARY_COVERAGE_ID = "c4a2e8f1-6d3b-4a9e-8c7f-1b5d9e3a2c18"
_SECONDARY_COVERAGE_ID = "e9b1c7d4-3a6f-4d2e-9b8a-5c1f7e4d3b62"
_DUPLICATE_COVERAGE_ID = "3f8d2c6a-9e1b-4b7d-a5c3-8e2f6d1a9c57"

_ENCOUNTER_ID = "5a7c3e9b-8d2f-4b1a-9e6c-3f1d8b2a7c45"
_CLM01 = "C2NPK7Q4MZR81XW3V"
_CLAIM: Final[dict[str, Any]] = {
    "claim_id": "a81c4e7f-2d9b-4f63-8a1e-5c7d3b9f0e24",
    "patient_id": _PATIENT_ID,
    "payer_id": "PSH01",
}
_REMITTANCE_ID = "9e4b2d7a-1c5f-4a83-b6e2-7d0c3f8a1b59"
_TRACE = "PSH0000417"
_N54: Final = {
    "code": "N54",
    "description": "The claim does not match the services that were precertified or authorised.",
}
_PAYMENT: Final[dict[str, Any]] = {
    **_CLAIM,
    "payment_id": "2f7a9c1e-8b3d-4e65-a4c2-6d1b9e0f3a78",
    "remittance_id": _REMITTANCE_ID,
    "trace_number": _TRACE,
}
_ACCOUNT_ID = "d2c5a8e1-7b3f-4c96-a1d4-8e6f2b9c0a37"
_PLAN_ID = "6b9e2f4a-3c7d-4e18-b5a2-9f1c8d3e7a60"
_PLACEMENT_ID = "f1a7c3e9-5d2b-4a86-9c4e-2b8d6f0a1e93"
_NO_SHARE: Final = {"deductible": "0.00", "coinsurance": "0.00", "copay": "0.00", "other": "0.00"}


def _paid_line(
    control: str, code: str, modifiers: list[str], amounts: tuple[str, str, str, str, str]
) -> dict[str, Any]:
    """A line as PaymentPosted carries it: charge, paid, allowed, its CO-45 and its coinsurance (PR-2)."""
    charge, paid, allowed, contractual, coinsurance = amounts
    return {
        "line_control_number": control, "procedure_code": code, "modifiers": modifiers,
        "billed_procedure_code": None, "units_paid": "1", "date_of_service": "2026-11-02", "charge": charge,
        "paid": paid, "allowed": allowed,
        "adjustments": [
            {"group": "CO", "reason": "45", "category": "contractual", "amount": contractual,
             "description": "The charge exceeds the fee schedule, maximum allowable or contracted fee."},
            {"group": "PR", "reason": "2", "category": "patient_responsibility", "amount": coinsurance,
             "description": "The patient's coinsurance."},
        ],
        "remark_codes": [], "patient_share": {**_NO_SHARE, "coinsurance": coinsurance},
    }  # fmt: skip


_VISIT_LINE: Final = _paid_line(f"{_CLM01}01", "99214", ["25"], ("185.00", "104.96", "131.20", "53.80", "26.24"))
_GLUCOSE_LINE: Final = _paid_line(f"{_CLM01}02", "82962", [], ("30.00", "16.40", "20.50", "9.50", "4.10"))
_CHARGES: Final[dict[str, Any]] = {
    "encounter_id": _ENCOUNTER_ID,
    "version": 1,
    "patient_id": _PATIENT_ID,
    "coverage_id": _PRIMARY_COVERAGE_ID,
    "payer_id": "PSH01",
    "date_of_service": "2026-11-02",
    "place_of_service": "11",
    "billing_provider_npi": "1234567893",
    "rendering_provider_npi": "1245319599",
    "referring_provider_npi": None,
    "location": "MAIN",
    "diagnoses": [
        {"pointer": 1, "code": "E11.9", "description": "Type 2 diabetes mellitus without complications"},
        {"pointer": 2, "code": "I10", "description": "Essential (primary) hypertension"},
    ],
    "lines": [
        {
            "line_number": 1,
            "procedure_code": "99214",
            "modifiers": ["25"],
            "units": "1",
            "diagnosis_pointers": [1, 2],
            "date_of_service": "2026-11-02",
            "charge": "185.00",
            "ndc": None,
            "expected_allowed": "131.20",
        },
        {
            "line_number": 2,
            "procedure_code": "82962",
            "modifiers": [],
            "units": "1",
            "diagnosis_pointers": [1],
            "date_of_service": "2026-11-02",
            "charge": "30.00",
            "ndc": None,
            "expected_allowed": "12.40",
        },
    ],
    "total_charge": "215.00",
    "expected_reimbursement": "143.60",
    "icd10cm_edition": "ICD-10-CM FY2026 April update (simple-icd-10-cm 1.5.0)",
}

_ADDRESS: Final = {
    "line1": "1207 Larkspur Lane",
    "line2": "Apt 4B",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62704",
}
_PATIENT: Final = {
    "patient_id": _PATIENT_ID,
    "mrn": "MRN-0048213",
    "first_name": "Maribel",
    "middle_name": "Jo",
    "last_name": "Okafor-Lindqvist",
    "birth_date": "1986-09-14",
    "sex": "F",
    "address": _ADDRESS,
    "phone": "217-555-0143",
    "email": "maribel.okafor@example.com",
    "guarantor": {
        "relationship": "self",
        "first_name": None,
        "last_name": None,
        "birth_date": None,
        "address": None,
        "phone": None,
    },
}
_PRIMARY_COVERAGE: Final = {
    "patient_id": _PATIENT_ID,
    "coverage_id": _PRIMARY_COVERAGE_ID,
    "payer_id": "PSH01",
    "payer_name": "Prairie State Health Plan",
    "member_id": "PSH839201774",
    "group_number": "GRP-20417",
    "plan_type": "PPO",
    "relationship": "self",
    "subscriber": None,
    "effective_date": "2025-01-01",
    "termination_date": None,
    "order": "primary",
}

_CHECK: Final = {
    "patient_id": _PATIENT_ID,
    "coverage_id": _PRIMARY_COVERAGE_ID,
    "payer_id": "PSH01",
    "date_of_service": "2026-11-02",
    "service_type": "30",
    "trigger": "coverage_added",
    "checked_at": "2026-11-02T14:03:11.482000Z",
}
_BENEFITS: Final = {
    "active": True,
    "plan_begin": "2026-01-01",
    "plan_end": None,
    "plan_description": "GOLD PPO",
    "insurance_type": "PR",
    "group_number": "GRP-20417",
    "copays": [{"service_type": "98", "amount": "25.00"}],
    "coinsurance": [{"service_type": "30", "percent": "0.2"}],
    "deductible": {"total": "1500.00", "remaining": "1000.00"},
    "out_of_pocket": {"total": "6000.00", "remaining": "5200.00"},
    "prior_authorization_service_types": ["62"],
    "accumulators": [
        {
            "kind": "deductible",
            "insurance_type": None,
            "coverage_level": "IND",
            "total": "1500.00",
            "remaining": "1000.00",
            "plan_year": "calendar",
        },
        {
            "kind": "deductible",
            "insurance_type": None,
            "coverage_level": "FAM",
            "total": "3000.00",
            "remaining": None,
            "plan_year": "calendar",
        },
        {
            "kind": "out_of_pocket",
            "insurance_type": None,
            "coverage_level": "IND",
            "total": "6000.00",
            "remaining": "5200.00",
            "plan_year": "calendar",
        },
    ],
    "other_payers": [
        {
            "name": "NORTHWIND HEALTH",
            "payer_id": "NWH01",
            "insurance_type": "C1",
            "medicare_secondary_payer": False,
            "service_types": ["30"],
            "coordination_begin": "2025-07-01",
            "coordination_end": None,
        }
    ],
}

EXAMPLES: Final[Mapping[type[IntegrationEvent], dict[str, Any]]] = {
    EligibilityVerified: {**_CHECK, "check_id": "5e0c3b7a-8f21-4d6e-b9a4-1c7e2d8f3a05", "benefits": _BENEFITS},
    EligibilityCheckFailed: {
        **_CHECK,
        "check_id": "a81f4c2d-7b3e-4e9a-8d6c-2f5b1e9a7c34",
        "coverage_id": _SECONDARY_COVERAGE_ID,
        "payer_id": "HMI02",
        "kind": "payer_rejected",
        "reason": "the payer answered AAA 72 (Invalid/Missing Subscriber/Insured ID)",
        "errors": [
            {
                "level": "subscriber",
                "code": "72",
                "meaning": "Invalid/Missing Subscriber/Insured ID",
                "follow_up": "C",
                "follow_up_meaning": "Please Correct and Resubmit",
            }
        ],
        "attempts": 1,
        "retry_scheduled": False,
        "benefits": None,
    },
    PriorAuthorizationRecorded: {
        "authorization_id": "d27a9e4c-1f6b-4c3d-a8e5-7b2c9f1d4e60",
        "patient_id": _PATIENT_ID,
        "coverage_id": _PRIMARY_COVERAGE_ID,
        "payer_id": "PSH01",
        "authorization_number": "PA-2026-114",
        "procedure_codes": ["72148"],
        "service_type": "62",
        "units_authorized": 1,
        "start_date": "2026-11-02",
        "end_date": "2026-12-31",
    },
    ChargesCaptured: _CHARGES,
    ChargesCorrected: {
        **_CHARGES,
        "version": 2,
        "lines": [
            {**_CHARGES["lines"][0], "procedure_code": "99213", "charge": "125.00", "expected_allowed": "92.40"},
            _CHARGES["lines"][1],
        ],
        "total_charge": "155.00",
        "expected_reimbursement": "104.80",
        "replaces_version": 1,
    },
    ChargesHeld: {
        "encounter_id": _ENCOUNTER_ID,
        "version": 2,
        "patient_id": _PATIENT_ID,
        "issue_codes": ["NCCI_PAIR_MODIFIER_REQUIRED"],
    },
    ChargesVoided: {
        "encounter_id": _ENCOUNTER_ID,
        "version": 3,
        "patient_id": _PATIENT_ID,
        "reason": "wrong_date",
    },
    ClaimCreated: {
        **_CLAIM,
        "encounter_id": _ENCOUNTER_ID,
        "encounter_version": 1,
        "coverage_id": _PRIMARY_COVERAGE_ID,
        "responsibility": "P",
        "patient_control_number": _CLM01,
        "frequency": "1",
        "date_of_service": "2026-11-02",
        "total_charge": "215.00",
    },
    ClaimScrubFailed: {
        **_CLAIM,
        "blocking_rules": ["PRIOR_AUTH"],
        "findings": [
            {
                "rule": "PRIOR_AUTH",
                "version": 1,
                "severity": "blocking",
                "message": "72148 needs a prior authorisation on file for 2026-11-02",
                "line": 1,
            },
            {
                "rule": "COVERAGE_UNVERIFIED",
                "version": 1,
                "severity": "warning",
                "message": "the eligibility answer is 34 days old; PSH01 trusts 30",
                "line": None,
            },
        ],
    },
    ClaimSubmitted: {
        **_CLAIM,
        "encounter_id": _ENCOUNTER_ID,
        "encounter_version": 1,
        "coverage_id": _PRIMARY_COVERAGE_ID,
        "patient_control_number": _CLM01,
        "frequency": "1",
        "replaces_payer_claim_number": None,
        "batch_id": "b3d81f4a-7c2e-4a96-8e15-2f9c6d0a4b71",
        "interchange_control_number": "000000417",
        "total_charge": "215.00",
        "lines": [
            {
                "line_control_number": f"{_CLM01}01",
                "procedure_code": "99214",
                "modifiers": ["25"],
                "units": "1",
                "date_of_service": "2026-11-02",
                "charge": "185.00",
                "expected_allowed": "131.20",
            },
            {
                "line_control_number": f"{_CLM01}02",
                "procedure_code": "82962",
                "modifiers": [],
                "units": "1",
                "date_of_service": "2026-11-02",
                "charge": "30.00",
                "expected_allowed": None,
            },
        ],
    },
    ClaimAccepted: {**_CLAIM, "patient_control_number": _CLM01, "payer_claim_number": "PSH2026110400917"},
    ClaimRejected: {
        **_CLAIM,
        "patient_control_number": _CLM01,
        "stage": "277CA",
        "problems": [
            {
                "code": "A7:562",
                "meaning": "Acknowledgement/Rejected for Invalid Information: Entity's Identification Number",
                "suggested_fix": "Check the member id against the card and verify eligibility again.",
            }
        ],
    },
    ClaimStatusUpdated: {
        **_CLAIM,
        "payer_claim_number": "PSH2026110400917",
        "statuses": [{"category": "F1", "status": "65", "meaning": "Finalized/Payment: Claim has been paid."}],
        "as_of": "2026-12-04",
    },
    ClaimPaid: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "payer_claim_number": "PSH2026110400917",
        "claim_status": "1",
        "paid": "121.36",
        "allowed": "151.70",
        "patient_responsibility": "30.34",
    },
    ClaimPartiallyPaid: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "payer_claim_number": "PSH2026110400917",
        "claim_status": "1",
        "paid": "104.96",
        "allowed": "131.20",
        "patient_responsibility": "26.24",
        "reasons": [f"lines denied: {_CLM01}02"],
    },
    ClaimDeniedByPayer: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "whole_claim": False,
        "category": "bundling",
        "suggested_action": "Check the NCCI edits: when the service was separate and distinct, send a corrected "
        "claim with the right modifier (59, XE, XS, XP, XU) or appeal; else write off.",
        "amount_denied": "30.00",
        "reasons": ["CO-97"],
    },
    ClaimClosed: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "reason": "moved_to_patient",
        "patient_responsibility": "30.34",
    },
    ClaimReopened: {**_CLAIM, "note": f"the payer reversed payment {_PAYMENT['payment_id']}"},
    ClaimAppealed: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "appeal_number": 1,
        "level": 1,
        "category": "authorisation",
        "reasons": ["CO-197"],
        "amount_at_stake": "412.00",
        "deadline": "2027-05-31",
    },
    PatientResponsibilityTransferred: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "amount": "85.00",
        "basis": "waiver_on_file",
        "category": "medical_necessity",
        "reasons": ["CO-50"],
    },
    DenialResolutionWithdrawn: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "kind": "written_off",
        "amount": "30.00",
        "category": "bundling",
        "reasons": ["CO-97"],
    },
    ClaimWriteOffRequested: {
        **_CLAIM,
        "payment_id": _PAYMENT["payment_id"],
        "amount": "30.00",
        "category": "bundling",
        "reasons": ["CO-97"],
    },
    ClaimReplaced: {**_CLAIM, "replacement_claim_id": "6c2f8a1d-4e9b-4d37-b5a0-1e7c3f9d2a86", "encounter_version": 2},
    ClaimVoided: {**_CLAIM, "encounter_id": _ENCOUNTER_ID, "reason": "encounter_voided", "void_sent": False},
    RemittanceReceived: {
        "remittance_id": _REMITTANCE_ID,
        "payer_id": "PSH01",
        "trace_number": _TRACE,
        "payer_name": "PRAIRIE STATE HEALTH",
        "payment_method": "ACH",
        "payment_date": "2026-11-20",
        "total_paid": "121.90",
        "credit_debit": "C",
        "claim_count": 1,
        "provider_adjustment_total": "-0.54",
        "held": False,
        "balance_problems": [],
        "repeats_remittance_id": None,
    },
    PaymentPosted: {
        **_PAYMENT,
        "payment_date": "2026-11-20",
        "claim_status": "1",
        "claim_status_meaning": "processed as primary",
        "payer_claim_number": "PSH2026110400917",
        "charge": "215.00",
        "paid": "121.36",
        "allowed": "151.70",
        "patient_responsibility": "30.34",
        "patient_share": {**_NO_SHARE, "coinsurance": "30.34"},
        "adjustments_by_group": {"CO": "63.30", "PR": "30.34"},
        "adjustments": [*_VISIT_LINE["adjustments"], *_GLUCOSE_LINE["adjustments"]],
        "remark_codes": [],
        "lines": [_VISIT_LINE, _GLUCOSE_LINE],
        "denied_lines": [],
        "underpaid_by": None,
    },
    ClaimDenied: {
        **_PAYMENT,
        "whole_claim": True,
        "category": "authorisation",
        "suggested_action": "Obtain or find the authorisation (or referral) and appeal with it, or send a corrected "
        "claim with its number in REF*G1.",
        "amount_denied": "215.00",
        "denials": [
            {
                "line_control_number": f"{_CLM01}01",
                "procedure_code": "99214",
                "group": "CO",
                "reason": "197",
                "description": "No precertification, authorisation or notification on file.",
                "remark_codes": ["N54"],
                "remarks": [_N54],
                "category": "authorisation",
                "amount": "185.00",
            },
            {
                "line_control_number": f"{_CLM01}02",
                "procedure_code": "82962",
                "group": "CO",
                "reason": "197",
                "description": "No precertification, authorisation or notification on file.",
                "remark_codes": ["N54"],
                "remarks": [_N54],
                "category": "authorisation",
                "amount": "30.00",
            },
        ],
    },
    ClaimPaymentReversed: {
        **_PAYMENT,
        "payment_id": "4c1e7b9a-3d2f-4a86-9e5b-0f8d2c6a1e37",
        "trace_number": "PSH0000512",
        "reversed_payment_id": _PAYMENT["payment_id"],
        "payer_claim_number": "PSH2026110400917",
        "charge": "-215.00",
        "paid": "-121.36",
        "patient_responsibility": "-30.34",
        "patient_share": {**_NO_SHARE, "coinsurance": "-30.34"},
        "adjustments_by_group": {"CO": "-63.30", "PR": "-30.34"},
    },
    UnderpaymentDetected: {
        **_PAYMENT,
        "expected_allowed": "131.20",
        "allowed": "118.08",
        "shortfall": "13.12",
        "lines": [
            {
                "line_control_number": f"{_CLM01}01",
                "procedure_code": "99214",
                "expected_allowed": "131.20",
                "allowed": "118.08",
                "shortfall": "13.12",
            },
        ],
    },
    ProviderAdjustmentPosted: {
        "remittance_id": _REMITTANCE_ID,
        "payer_id": "PSH01",
        "trace_number": _TRACE,
        "reason": "L6",
        "reason_meaning": "interest owed: paid late, the payer adds interest",
        "reference": "PSH2026110400917",
        "amount": "-0.54",
        "fiscal_period_date": "2026-12-31",
        "claim_id": _CLAIM["claim_id"],
    },
    RemittanceUnmatched: {
        "remittance_id": _REMITTANCE_ID,
        "payer_id": "PSH01",
        "trace_number": _TRACE,
        "payment_id": "8a3d6f1b-5e9c-4b27-a0d4-2c7e1f9b6a83",
        "patient_control_number": "C7HQ2M9X4PK1RZW8T",
        "payer_claim_number": "PSH2026110400988",
        "claim_status": "1",
        "paid": "88.40",
        "reason": "no claim has control number C7HQ2M9X4PK1RZW8T or this payer claim number",
        "candidate_claim_ids": [],
    },
    PatientBalanceChanged: {
        "account_id": _ACCOUNT_ID,
        "insurance_pending": "0.00",
        "patient_due": "30.34",
        "credit": "0.00",
        "balance": "30.34",
        "cause": "event:4c8e1a7d-9b2f-4e63-a5d1-7f0c3b9e2a48",
    },
    StatementIssued: {
        "account_id": _ACCOUNT_ID,
        "statement_id": "8e3b1d6f-2a9c-4f75-b0e4-1c7a5d9f3b26",
        "issued_on": "2026-12-01",
        "amount_due": "30.34",
        "due_by": "2026-12-22",
        "dunning_level": 1,
    },
    PaymentPlanCreated: {
        "account_id": _ACCOUNT_ID,
        "plan_id": _PLAN_ID,
        "total": "30.34",
        "months": 3,
        "installment_amount": "10.11",
        "first_due_on": "2026-12-15",
    },
    PaymentPlanDefaulted: {
        "account_id": _ACCOUNT_ID,
        "plan_id": _PLAN_ID,
        "missed_installments": 2,
        "remaining": "20.23",
    },
    PatientPaymentReceived: {
        "account_id": _ACCOUNT_ID,
        "payment_id": "3d7f1b9e-6c2a-4e85-a3f1-0b8d5c2e9a74",
        "amount": "40.00",
        "method": "card",
        "source": "patient",
        "agency_fee": "0.00",
        "applied": [{"encounter_id": _ENCOUNTER_ID, "amount": "30.34"}],
        "to_credit": "9.66",
        "at_visit": False,
    },
    RefundIssued: {
        "account_id": _ACCOUNT_ID,
        "refund_id": "b4e8a2c6-1f3d-4b97-8e5a-6c0d2f9b1a35",
        "amount": "9.66",
        "method": "check",
    },
    BalanceWrittenOff: {
        "account_id": _ACCOUNT_ID,
        "write_off_id": "5c1e9a3f-7d4b-4f26-b8c0-3a6e1d8f2b97",
        "kind": "hardship",
        "amount": "30.34",
        "applied": [{"encounter_id": _ENCOUNTER_ID, "amount": "30.34"}],
    },
    WriteOffReversed: {
        "account_id": _ACCOUNT_ID,
        "encounter_id": _ENCOUNTER_ID,
        "amount": "30.34",
        "reason": "no_longer_owed",
    },
    PatientCreditMoved: {
        "account_id": _ACCOUNT_ID,
        "encounter_id": _ENCOUNTER_ID,
        "amount": "-9.66",
    },
    AccountPlacedWithAgency: {
        "account_id": _ACCOUNT_ID,
        "placement_id": _PLACEMENT_ID,
        "agency": "Prairie Recovery Services",
        "amount": "30.34",
    },
    AccountRecalled: {
        "account_id": _ACCOUNT_ID,
        "placement_id": _PLACEMENT_ID,
        "agency": "Prairie Recovery Services",
        "reason": "payment_arranged",
        "amount": "30.34",
    },
    PatientRegistered: _PATIENT,
    PatientUpdated: {
        **_PATIENT,
        "address": {**_ADDRESS, "line1": "88 Orchard Hill Road", "line2": None, "postal_code": "62711"},
        "phone": "217-555-0178",
        "changed_fields": ["address", "phone"],
    },
    PatientsMerged: {
        "surviving_patient_id": _PATIENT_ID,
        "merged_patient_id": _DUPLICATE_ID,
        "moved_coverage_ids": [_SECONDARY_COVERAGE_ID],
        "ended_coverage_ids": [_DUPLICATE_COVERAGE_ID],
    },
    CoverageAdded: _PRIMARY_COVERAGE,
    CoverageUpdated: {
        **_PRIMARY_COVERAGE,
        "coverage_id": _SECONDARY_COVERAGE_ID,
        "payer_id": "HMI02",
        "payer_name": "Heartland Mutual Insurance",
        "member_id": "HMI4410093",
        "group_number": None,
        "plan_type": "HMO",
        "relationship": "spouse",
        "subscriber": {"first_name": "Tobias", "last_name": "Lindqvist", "birth_date": "1984-02-27", "sex": "M"},
        "effective_date": "2024-07-01",
        "order": "secondary",
        "changed_fields": ["member_id", "subscriber"],
    },
    CoverageEnded: {
        "patient_id": _PATIENT_ID,
        "coverage_id": _SECONDARY_COVERAGE_ID,
        "termination_date": "2025-06-30",
        "reason": "subscriber changed employer",
    },
}
