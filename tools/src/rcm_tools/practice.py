"""The synthetic practice's price lists, providers and visits, for the demo: what a small primary-care office
charges, what each of the clearinghouse simulator's payers allows, who bills and who renders its services,
and the coded visits its patients come for.

The amounts are invented (of the order of a 2026 office's), CPT codes are shipped as numbers only, and
every visit codes cleanly against the shipped code sets, so each becomes a ChargesCaptured.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

CHARGEMASTER_CSV: Final = """code,modifier,location,charge,description
99203,,,210.00,New patient office visit (30-44 min)
99213,,,125.00,Established patient office visit (20-29 min)
99214,,,185.00,Established patient office visit (30-39 min)
82962,,,30.00,Glucose by monitoring device
83036,,,45.00,Hemoglobin A1c
93000,,,70.00,Electrocardiogram with interpretation
36415,,,20.00,Venipuncture
90686,,,38.00,Influenza vaccine quadrivalent
90471,,,30.00,Immunization administration
"""

_ALLOWED_SHARE: Final = {"ACME01": "0.72", "SUMMT1": "0.68", "MCARE1": "0.55", "MCAID1": "0.45"}

PRACTICE_SETTINGS: Final[dict[str, str]] = {
    "RCM_PAYEE": "Maple Street Family Practice",
    "RCM_PAY_ADDRESS": "Billing office, 100 Maple Street, Springfield, IL 62701-1234",
    "RCM_PAY_PHONE": "(217) 555-0100, Mon-Fri 8am-5pm",
    "RCM_PAY_ONLINE": "https://pay.maplestreet.example/statement",
    "RCM_DASHBOARD_TITLE": "Maple Street Family Practice: revenue cycle",
}
"""The practice's settings on the local stack (the environment the stack is started in overrides them): what its
patient statements print under "how to pay" (collections) and its dashboard's heading (reporting)."""


def contract_rates_csv() -> str:
    """Each payer's allowed amount per code: a fixed share of the practice's charge, to the cent."""
    rows = ["payer_id,code,allowed"]
    for line in CHARGEMASTER_CSV.strip().splitlines()[1:]:
        code, _modifier, _location, charge, _description = line.split(",", 4)
        for payer_id, share in _ALLOWED_SHARE.items():
            allowed = (Decimal(charge) * Decimal(share)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            rows.append(f"{payer_id},{code},{allowed}")
    return "\n".join(rows) + "\n"


# The visits patients come for: diagnoses, then lines of (code, modifiers, pointers).
_VISITS: Final = (
    (("E11.9", "I10"), (("99214", ("25",), (1, 2)), ("83036", (), (1,)), ("36415", (), (1,)))),
    (("I10",), (("99213", (), (1,)), ("93000", (), (1,)))),
    (("I10", "Z23"), (("99213", ("25",), (1,)), ("90686", (), (2,)), ("90471", (), (2,)))),
    (("E78.5", "R73.03"), (("99214", (), (1, 2)), ("82962", (), (2,)))),
)


BILLING_NPI: Final = "1234567893"
RENDERING_NPI: Final = "1245319599"
# The practice's provider directory as the claim service takes it (`PUT /providers`): the group that bills
# (2010AA, with its nine-digit ZIP) and the physician who sees the patients (2310B).
PROVIDER_DIRECTORY: Final[dict[str, Any]] = {
    "billing": {
        "name": "Maple Street Family Practice",
        "npi": BILLING_NPI,
        "tax_id": "371234567",
        "taxonomy": "207Q00000X",
        "address": {"line1": "100 Maple Street", "city": "Springfield", "state": "IL", "postal_code": "627011234"},
        "phone": "2175550100",  # the billing office, on the practice's appeal letters (555-01xx: fictional)
    },
    "providers": [{"last_name": "Whitfield", "first_name": "Anna", "npi": RENDERING_NPI, "taxonomy": "207Q00000X"}],
    "facilities": [
        {
            "location": "HOSP",
            "name": "Springfield Memorial Hospital",
            "npi": "1497758544",
            "address": {
                "line1": "701 N First Street",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "627810001",
            },
        }
    ],
}


def visit_body(
    index: int, *, patient_id: str, coverage_id: str, day: date, npi: str, rendering_npi: str = RENDERING_NPI
) -> dict[str, Any]:
    """The `POST /encounters` body of the patient's visit on `day`, billed by `npi`."""
    diagnoses, lines = _VISITS[index % len(_VISITS)]
    return {
        "patient_id": patient_id,
        "coverage_id": coverage_id,
        "date_of_service": day.isoformat(),
        "place_of_service": "11",
        "billing_provider_npi": npi,
        "rendering_provider_npi": rendering_npi,
        "diagnoses": list(diagnoses),
        "lines": [
            {"code": code, "modifiers": list(modifiers), "units": 1, "diagnosis_pointers": list(pointers)}
            for code, modifiers, pointers in lines
        ],
    }
