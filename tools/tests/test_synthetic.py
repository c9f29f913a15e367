"""Synthetic patients: reproducible from a seed, plausible, and shaped like the registration API wants."""

from __future__ import annotations

import json
import re
from datetime import date

from rcm_tools.synthetic import synthetic_patients

US_STATES = frozenset({
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
})  # fmt: skip


def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    first = synthetic_patients(20, seed=7, plan_year=2026)

    assert synthetic_patients(20, seed=7, plan_year=2026) == first
    assert synthetic_patients(20, seed=8, plan_year=2026) != first
    assert synthetic_patients(5, seed=7, plan_year=2026) == first[:5]


def test_demographics_are_plausible_and_member_ids_unique() -> None:
    patients = synthetic_patients(200, seed=2026, plan_year=2026)

    for patient in patients:
        body = patient.registration_body()
        assert body["address"]["state"] in US_STATES
        assert re.fullmatch(r"\d{5}", body["address"]["postal_code"])
        assert re.fullmatch(r"[2-9]\d{2}55501\d{2}", body["phone"])
        assert body["sex"] in ("F", "M")
        assert date(1942, 1, 1) <= patient.birth_date <= date(2004, 12, 31)
    assert len({p.member_id for p in patients}) == len(patients)
    assert len({(p.first_name, p.last_name, p.birth_date) for p in patients}) == len(patients)


def test_request_bodies_are_json_with_the_api_fields() -> None:
    patient = synthetic_patients(1, seed=1, plan_year=2026)[0]

    registration = json.loads(json.dumps(patient.registration_body()))
    coverage = json.loads(json.dumps(patient.coverage_body()))

    assert set(registration) == {"first_name", "last_name", "birth_date", "sex", "address", "phone"}
    assert set(registration["address"]) == {"line1", "city", "state", "postal_code"}
    assert date.fromisoformat(registration["birth_date"]) == patient.birth_date
    assert coverage["effective_date"] == "2026-01-01"
    assert (coverage["relationship"], coverage["order"], coverage["member_id"]) == (
        "self",
        "primary",
        patient.member_id,
    )
