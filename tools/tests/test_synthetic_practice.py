"""The synthetic practice: reproducible from its seed, a primary-care office's mixes, an upcoder who stands out,
defects at their rates, and coding every service of the platform takes (the charge service's code sets, the
claim service's provider directory, the simulator's payers)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

import pytest

from rcm_charge.adapters.price_csv import parse_chargemaster, parse_contract_rates
from rcm_charge.bootstrap import load_code_sets
from rcm_charge.domain.model import EncounterDetails, ServiceLine
from rcm_charge.domain.pricing import PriceList, priced
from rcm_charge.domain.validation import CoverageFacts, PatientFacts, ValidationContext, validate
from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.domain.directories import checked_provider_directory
from rcm_claim.service_layer.views import ProviderDirectoryDocument
from rcm_clearinghouse_sim.config import ClearinghouseSettings, load_config
from rcm_common.identifiers import npi_valid
from rcm_reporting.domain.coding_pattern import coding_patterns
from rcm_reporting.domain.records import Visit as ReportedVisit
from rcm_tools import demo, practice
from rcm_tools.synthetic_practice import (
    BEHAVIOUR_SHARES,
    COMMERCIAL,
    DEFECT_RATES,
    HIGH_LEVELS,
    OFFICE_VISITS,
    PRIOR_AUTHORISATION_CODES,
    Coding,
    Defect,
    PaymentBehaviour,
    Remedy,
    SyntheticPractice,
    Visit,
    chargemaster,
    synthetic_practice,
)

TODAY = date(2026, 12, 7)
NOON = datetime(2026, 12, 7, 12, tzinfo=UTC)


@cache
def large() -> SyntheticPractice:
    """Three months of a busy office: enough visits for the shares to settle."""
    return synthetic_practice(seed=2026, days=60, visits_per_day=12, today=TODAY)


def test_the_same_arguments_give_the_same_practice_and_another_seed_another() -> None:
    first = synthetic_practice(seed=7, days=10, visits_per_day=5, today=TODAY)

    assert synthetic_practice(seed=7, days=10, visits_per_day=5, today=TODAY) == first
    assert synthetic_practice(seed=8, days=10, visits_per_day=5, today=TODAY) != first


def test_four_providers_with_valid_npis_and_real_taxonomies_make_a_directory_the_claim_service_takes() -> None:
    office = large()

    assert len({provider.npi for provider in office.providers}) == 4
    assert all(npi_valid(provider.npi) for provider in office.providers)
    assert {p.taxonomy for p in office.providers} <= {"207Q00000X", "207R00000X", "363L00000X"}
    document = ProviderDirectoryDocument.model_validate(office.provider_directory())
    checked_provider_directory(document.domain())  # raises DirectoryError naming every problem
    assert document.billing.npi == practice.BILLING_NPI
    assert {visit.provider for visit in office.visits} == set(office.providers)


def test_visits_fall_on_past_weekdays_at_the_rate_asked_and_never_twice_a_day_for_a_patient() -> None:
    office = large()
    days = sorted({visit.day for visit in office.visits})

    assert len(days) == 60
    assert all(day < TODAY and day.weekday() < 5 for day in days)
    assert len(office.visits) / len(days) == pytest.approx(12, abs=0.5)
    assert len({(visit.patient.key, visit.day) for visit in office.visits}) == len(office.visits)
    assert {visit.patient.key for visit in office.visits} == {patient.key for patient in office.patients}


def test_coverages_are_mixed_as_a_primary_care_office_sees_them() -> None:
    office = large()
    patients = office.patients
    share = Counter[str]()
    for patient in patients:
        payers = tuple(coverage.payer_id for coverage in patient.coverages)
        share["self_pay"] += not payers
        share["secondary"] += len(payers) == 2
        share["dependant"] += patient.guarantor is not None
        if patient.age_on(TODAY) >= 65:
            assert payers[0] == "MCARE1"
        else:
            assert "MCARE1" not in payers

    assert share["self_pay"] / len(patients) == pytest.approx(0.08, abs=0.02)
    assert share["secondary"] / len(patients) == pytest.approx(0.15, abs=0.03)
    assert share["dependant"] / len(patients) == pytest.approx(0.12, abs=0.03)
    commercial = sum(p.primary is not None and p.primary.payer_id in COMMERCIAL for p in patients)
    assert commercial > len(patients) / 3
    # Registration refuses a second patient of the same name and birth date.
    assert len({(p.person.first_name, p.person.last_name, p.person.birth_date) for p in patients}) == len(patients)


def test_dependants_are_children_billed_under_a_parent_who_is_their_guarantor_and_pays_as_the_parent_does() -> None:
    office = large()
    adults = {patient.person: patient for patient in office.patients if patient.guarantor is None}
    dependants = [patient for patient in office.patients if patient.guarantor is not None]

    assert dependants
    for child in dependants:
        assert child.guarantor is not None
        parent = adults[child.guarantor]
        assert child.age_on(TODAY) < 18 <= parent.age_on(TODAY)
        assert child.behaviour is parent.behaviour
        assert child.registration_body()["guarantor"]["relationship"] == "parent"
        [coverage] = child.coverages
        assert parent.primary is not None
        assert coverage.payer_id == parent.primary.payer_id
        if coverage.relationship == "child":
            assert coverage.subscriber is not None
            assert coverage.subscriber.first_name == parent.person.first_name
            assert coverage.member_id == parent.primary.member_id
    own_ids = [c.member_id for p in office.patients for c in p.coverages if c.relationship != "child"]
    assert len(own_ids) == len(set(own_ids))


def test_payment_behaviours_are_mixed_seventy_twenty_ten() -> None:
    office = large()
    counts = Counter(patient.behaviour for patient in office.patients)

    for behaviour, share in BEHAVIOUR_SHARES.items():
        assert counts[behaviour] / len(office.patients) == pytest.approx(share, abs=0.04)


def test_the_upcoder_bills_levels_four_and_five_far_more_often_than_the_others() -> None:
    office = large()
    assert office.upcoder is not None
    high: dict[str, list[bool]] = {provider.npi: [] for provider in office.providers}
    for visit in office.visits:
        code = visit.billed.office_visit
        if code is not None:
            high[visit.provider.npi].append(code in HIGH_LEVELS)

    shares = {npi: sum(levels) / len(levels) for npi, levels in high.items()}
    assert shares.pop(office.upcoder.npi) > 0.65
    assert all(0.2 < share < 0.5 for share in shares.values())
    assert synthetic_practice(seed=2026, days=5, visits_per_day=4, today=TODAY, upcoder=False).upcoder is None


def test_at_make_run_s_size_the_coding_pattern_signal_flags_the_upcoder_and_no_one_else() -> None:
    office = synthetic_practice(
        seed=demo.DEFAULT_SEED, days=demo.DEFAULT_DAYS, visits_per_day=demo.DEFAULT_VISITS_PER_DAY, today=TODAY
    )
    billed = [
        ReportedVisit(uuid.uuid4(), 1, uuid.uuid4(), None, False, visit.day, NOON, visit.provider.npi, Decimal(0),
                      visit.billed.codes)
        for visit in office.visits
    ]  # fmt: skip

    patterns = coding_patterns(billed)

    assert office.upcoder is not None
    assert [pattern.npi for pattern in patterns if pattern.flagged] == [office.upcoder.npi]


def test_a_new_patients_first_visit_and_only_it_is_billed_at_a_new_patient_level() -> None:
    office = large()
    first_visit: dict[str, Visit] = {}
    for visit in office.visits:
        first_visit.setdefault(visit.patient.key, visit)

    for visit in office.visits:
        new_level = (visit.billed.office_visit or "").startswith("9920")
        is_first_of_new = visit.patient.new_to_practice and first_visit[visit.patient.key] is visit
        assert new_level == is_first_of_new == visit.new_patient, visit.key
    assert sum(patient.new_to_practice for patient in office.patients) / len(office.patients) == pytest.approx(
        0.2, abs=0.03
    )


def test_defects_come_at_their_rates_each_as_the_services_will_see_it() -> None:
    office = large()
    visits = office.visits

    for defect, rate in DEFECT_RATES.items():
        assert len(office.visits_with(defect)) / len(visits) == pytest.approx(rate, abs=0.015), defect
    for visit in office.visits_with(Defect.ELIGIBILITY):
        coverage = visit.patient.primary
        assert coverage is not None
        assert coverage.misregistered
        assert visit.remedy is Remedy.FIX_COVERAGE
        assert coverage.body()["member_id"].startswith(("NOTFOUND", "TERM"))
    for visit in office.visits_with(Defect.MISSING_AUTHORISATION):
        payer = visit.patient.primary.payer_id if visit.patient.primary else ""
        assert "72148" in visit.coded.codes
        assert "72148" in PRIOR_AUTHORISATION_CODES[payer]
        assert bool(visit.authorisations) == (visit.remedy is Remedy.RECORD_AUTHORISATION)
    for visit in office.visits_with(Defect.CODING_ERROR):
        assert visit.review_issue is not None
        assert visit.recoded is not None
        assert visit.recoded != visit.coded
    for visit in office.visits_with(Defect.PAYER_DENIAL):
        assert visit.coded.codes == ("G0439",)
        assert visit.patient.primary is not None
        assert visit.patient.primary.payer_id in COMMERCIAL
        assert (visit.recoded is not None) == (visit.remedy is Remedy.RECODE_AND_RESUBMIT)
    remedies = Counter(visit.remedy for visit in visits if visit.defect is not None)
    assert set(remedies) == set(Remedy)
    for visit in visits:  # every other service a payer authorises in advance is authorised, by each such payer
        if visit.defect is not Defect.MISSING_AUTHORISATION:
            authorised = {(a.order, code) for a in visit.authorisations for code in a.procedure_codes}
            for coverage in visit.patient.coverages:
                needed = PRIOR_AUTHORISATION_CODES.get(coverage.payer_id, frozenset()).intersection(visit.coded.codes)
                assert {(coverage.order, code) for code in needed} <= authorised, visit.key


def test_a_small_practice_still_carries_every_defect() -> None:
    office = synthetic_practice(seed=11, days=5, visits_per_day=4, today=TODAY)

    assert {visit.defect for visit in office.visits} == {None, *Defect}


def test_the_chargemaster_prices_every_office_visit_level_and_every_code_billed() -> None:
    prices = chargemaster()
    used = {code for v in large().visits for coding in (v.coded, v.recoded) if coding for code in coding.codes}

    assert set(prices) >= OFFICE_VISITS
    assert used <= set(prices)
    assert {entry.code for entry in parse_chargemaster(large().chargemaster_csv)} == set(prices)
    assert set(practice.CHARGEMASTER_CSV.splitlines()) <= set(large().chargemaster_csv.splitlines())


def test_each_payers_contract_allows_what_the_simulated_payer_pays() -> None:
    prices = chargemaster()
    plans = load_config(ClearinghouseSettings(environment="test")).plans()
    rates = parse_contract_rates(large().contract_rates_csv)

    assert {(rate.payer_id, rate.code) for rate in rates} == {(payer, code) for payer in plans for code in prices}
    for rate in rates:
        assert rate.allowed == plans[rate.payer_id].allowed(rate.code, prices[rate.code], Decimal(1)), rate


def test_the_payer_rules_the_defects_rely_on_are_the_claim_services_and_the_simulators() -> None:
    plans = load_config(ClearinghouseSettings(environment="test")).plans()
    directory = {payer.payer_id: set(payer.prior_authorization_codes) for payer in default_payers()}

    assert all("G0439" in plans[payer_id].not_covered for payer_id in COMMERCIAL)

    for payer_id, plan in plans.items():
        expected = PRIOR_AUTHORISATION_CODES.get(payer_id, frozenset())
        assert set(plan.auth_codes) == directory[payer_id] == expected


def test_every_visit_codes_cleanly_and_each_coding_error_is_held_for_its_issue() -> None:
    office = large()
    code_sets = load_code_sets(None)
    prices = PriceList(
        tuple(parse_chargemaster(office.chargemaster_csv)), tuple(parse_contract_rates(office.contract_rates_csv))
    )

    def issues(visit: Visit, coding: Coding) -> set[str]:
        patient_id, coverage_id = uuid.uuid4(), uuid.uuid4()
        payer = visit.patient.primary.payer_id if visit.patient.primary else None
        details = EncounterDetails(
            patient_id=patient_id,
            coverage_id=coverage_id if payer else None,
            date_of_service=visit.day,
            place_of_service="11",
            billing_provider_npi=practice.BILLING_NPI,
            rendering_provider_npi=visit.provider.npi,
            diagnoses=coding.diagnoses,
            lines=priced(
                (ServiceLine(line.code, line.modifiers, Decimal(line.units), line.pointers, line.ndc)
                 for line in coding.lines),
                prices, code_sets.fees, location=None, payer_id=payer, date_of_service=visit.day,
            ),
        )  # fmt: skip
        person = visit.patient.person
        context = ValidationContext(
            diagnoses=code_sets.diagnoses, edits=code_sets.edits, fees=code_sets.fees, prices=prices, today=TODAY,
            patient=PatientFacts(person.sex, person.birth_date),
            coverage=CoverageFacts(coverage_id, patient_id, payer, date(2025, 1, 1), None) if payer else None,
        )  # fmt: skip
        return {issue.code for issue in validate(details, context) if issue.severity != "warning"}

    for visit in office.visits:
        assert issues(visit, visit.billed) == set(), visit
        if visit.defect is Defect.CODING_ERROR:
            assert issues(visit, visit.coded) == {visit.review_issue}, visit
    assert {v.review_issue for v in office.visits_with(Defect.CODING_ERROR)} == {
        "ICD10_NOT_BILLABLE",
        "REVIEW_HIGH_LEVEL_VISIT",
        "REVIEW_MODIFIER_25",
    }


def test_request_bodies_carry_what_the_apis_ask() -> None:
    office = synthetic_practice(seed=3, days=5, visits_per_day=6, today=TODAY)
    visit = next(v for v in office.visits if v.insured)

    body = visit.encounter_body("patient-1", "coverage-1")

    assert body["rendering_provider_npi"] == visit.provider.npi
    assert body["billing_provider_npi"] == practice.BILLING_NPI
    assert body["date_of_service"] == visit.day.isoformat()
    assert [line["code"] for line in body["lines"]] == list(visit.coded.codes)
    behaviours = {patient.behaviour for patient in office.patients}
    assert behaviours <= set(PaymentBehaviour)


def test_appointments_book_insured_patients_on_the_coming_working_days() -> None:
    office = large()
    booked = {appointment.patient.key for appointment in office.appointments}
    insured = [p for p in office.patients if p.primary is not None and not p.primary.misregistered]

    assert len(booked) == len(office.appointments) == round(len(insured) * 0.15)
    for appointment in office.appointments:
        assert TODAY < appointment.day <= TODAY + timedelta(days=14)
        assert appointment.day.weekday() < 5
        assert appointment.patient.primary is not None
        body = appointment.body("p", "c")
        assert body == {"patient_id": "p", "coverage_id": "c", "date_of_service": appointment.day.isoformat(),
                        "service_type": "30"}  # fmt: skip
