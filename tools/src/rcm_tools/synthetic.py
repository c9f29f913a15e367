"""Synthetic patients for the demo practice: plausible US demographics, the same people for the same seed.

Nothing here is real: phone numbers use the 555-0100..0199 range reserved for fiction, payers are made up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Final, Literal

_FEMALE_NAMES: Final = (
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
    "Emily", "Maria", "Ashley", "Michelle", "Angela", "Latoya",
)  # fmt: skip
_MALE_NAMES: Final = (
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Christopher",
    "Daniel", "Carlos", "Anthony", "Kevin", "Brian", "Jamal",
)  # fmt: skip
_LAST_NAMES: Final = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
    "Thompson", "White", "Nguyen", "Patel", "Kim", "Washington",
)  # fmt: skip
_STREETS: Final = (
    "Elm St", "Maple Ave", "Oak St", "Washington St", "Park Ave", "Cedar Ln", "Lincoln Rd", "Pine St",
    "Church St", "Highland Ave", "Jefferson Blvd", "Lakeview Dr",
)  # fmt: skip


@dataclass(frozen=True)
class Locale:
    city: str
    state: str
    postal_code: str
    area_code: str


# Real city, state, ZIP and area code combinations, so address checks downstream see consistent data.
_LOCALES: Final = (
    Locale("Harrisburg", "PA", "17101", "717"),
    Locale("Columbus", "OH", "43215", "614"),
    Locale("Springfield", "IL", "62701", "217"),
    Locale("Madison", "WI", "53703", "608"),
    Locale("Albany", "NY", "12207", "518"),
    Locale("Richmond", "VA", "23219", "804"),
    Locale("Raleigh", "NC", "27601", "919"),
    Locale("Austin", "TX", "78701", "512"),
    Locale("Denver", "CO", "80202", "303"),
    Locale("Sacramento", "CA", "95814", "916"),
    Locale("Boise", "ID", "83702", "208"),
    Locale("Des Moines", "IA", "50309", "515"),
)


@dataclass(frozen=True)
class PayerPlan:
    payer_id: str
    payer_name: str
    plan_type: str


PLANS: Final = {
    # The clearinghouse simulator's four payers, so the demo's coverages can be checked end to end.
    plan.payer_id: plan
    for plan in (
        PayerPlan("ACME01", "Acme Health Plan", "PPO"),
        PayerPlan("SUMMT1", "Summit Health", "HMO"),
        PayerPlan("MCARE1", "Medicare Part B", "MEDICARE"),
        PayerPlan("MCAID1", "State Medicaid", "MEDICAID"),
    )
}

# Adults only: a minor needs a guarantor other than themself, which the demo does not model.
_OLDEST_BIRTH_DATE: Final = date(1942, 1, 1)
_YOUNGEST_BIRTH_DATE: Final = date(2004, 12, 31)


@dataclass(frozen=True)
class SyntheticPatient:
    first_name: str
    last_name: str
    birth_date: date
    sex: Literal["F", "M"]
    line1: str
    locale: Locale
    phone: str
    plan: PayerPlan
    member_id: str
    group_number: str
    effective_date: date

    def registration_body(self) -> dict[str, Any]:
        """The `POST /patients` request body."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "address": {
                "line1": self.line1,
                "city": self.locale.city,
                "state": self.locale.state,
                "postal_code": self.locale.postal_code,
            },
            "phone": self.phone,
        }

    def coverage_body(self) -> dict[str, Any]:
        """The `POST /patients/{id}/coverages` body: the patient subscribes to a primary plan."""
        return {
            "payer_id": self.plan.payer_id,
            "payer_name": self.plan.payer_name,
            "member_id": self.member_id,
            "group_number": self.group_number,
            "plan_type": self.plan.plan_type,
            "relationship": "self",
            "effective_date": self.effective_date.isoformat(),
            "order": "primary",
        }


def synthetic_patients(count: int, *, seed: int, plan_year: int) -> list[SyntheticPatient]:
    """`count` distinct patients; the same seed gives the same people, each with a unique member id.

    No two share names and birth date, which registration's duplicate detection would rightly refuse.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    patients: list[SyntheticPatient] = []
    identities = set()
    while len(patients) < count:
        patient = _patient(rng, len(patients), seed=seed, plan_year=plan_year)
        identity = (patient.first_name, patient.last_name, patient.birth_date)
        if identity not in identities:
            identities.add(identity)
            patients.append(patient)
    return patients


def _patient(rng: random.Random, index: int, *, seed: int, plan_year: int) -> SyntheticPatient:
    sex: Literal["F", "M"] = rng.choice(("F", "M"))
    locale = rng.choice(_LOCALES)
    plan = rng.choice(tuple(PLANS.values()))
    lifespan_days = (_YOUNGEST_BIRTH_DATE - _OLDEST_BIRTH_DATE).days
    return SyntheticPatient(
        first_name=rng.choice(_FEMALE_NAMES if sex == "F" else _MALE_NAMES),
        last_name=rng.choice(_LAST_NAMES),
        birth_date=_OLDEST_BIRTH_DATE + timedelta(days=rng.randrange(lifespan_days + 1)),
        sex=sex,
        line1=f"{rng.randrange(10, 9900)} {rng.choice(_STREETS)}",
        locale=locale,
        phone=f"{locale.area_code}5550{rng.randrange(100, 200)}",
        plan=plan,
        member_id=f"{plan.payer_id[:3]}{seed % 1000:03d}{index:06d}",
        group_number=f"G{rng.randrange(10000, 100000)}",
        effective_date=date(plan_year, 1, 1),
    )


def relative_of(
    person: SyntheticPatient, rng: random.Random, *, birth_date: date, sex: Literal["F", "M"] | None = None
) -> SyntheticPatient:
    """Someone of `person`'s household (a child, a spouse): their surname, home, phone and plan, with a first
    name, sex and birth date of their own."""
    chosen: Literal["F", "M"] = rng.choice(("F", "M")) if sex is None else sex
    names = [name for name in (_FEMALE_NAMES if chosen == "F" else _MALE_NAMES) if name != person.first_name]
    return replace(person, first_name=rng.choice(names), sex=chosen, birth_date=birth_date)
