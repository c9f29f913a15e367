"""Registration's domain without I/O: field rules, the patient aggregate, coverages, merges and the MRN."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rcm_common.errors import Conflict, NotFound, Problems, ValidationFailed
from rcm_registration.adapters.repository import mrn_with_check_digit
from rcm_registration.domain import events, rules
from rcm_registration.domain.model import (
    Address,
    CoverageTerms,
    Demographics,
    Guarantor,
    Patient,
    Subscriber,
    validate_demographics,
    validate_guarantor,
    validate_terms,
)

TODAY = date(2026, 11, 23)


def errors_of(run: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[dict[str, str]]]:
    """Call a rule with a fresh Problems; return what it returned and the problems it recorded."""
    problems = Problems()
    result = run(problems, *args, **kwargs)
    return result, problems.errors


def address(**overrides: Any) -> Address:
    values: dict[str, Any] = {"line1": "100 Congress Ave", "city": "Austin", "state": "TX", "postal_code": "78701"}
    return Address(**{**values, **overrides})


def details(**overrides: Any) -> Demographics:
    values: dict[str, Any] = {
        "first_name": "Maria",
        "last_name": "Gonzalez",
        "birth_date": date(1984, 3, 9),
        "sex": "F",
        "address": address(),
        "phone": "5125550134",
        "email": "maria@example.org",
    }
    return Demographics(**{**values, **overrides})


def terms(**overrides: Any) -> CoverageTerms:
    values: dict[str, Any] = {
        "payer_id": "BCBSTX",
        "payer_name": "Blue Cross Blue Shield of Texas",
        "member_id": "XYZ123456789",
        "relationship": "self",
        "effective_date": date(2026, 1, 1),
        "order": "primary",
        "group_number": "GRP100",
        "plan_type": "PPO",
    }
    return CoverageTerms(**{**values, **overrides})


def patient(**detail_overrides: Any) -> Patient:
    registered = Patient.register(
        patient_id=uuid.uuid4(), mrn=mrn_with_check_digit(7), details=details(**detail_overrides), ssn=None
    )
    registered.events.clear()
    return registered


# --- field rules -----------------------------------------------------------------------------------


class TestSsn:
    @pytest.mark.parametrize(
        ("given_value", "stored"),
        [("123-45-6789", "123456789"), ("123456789", "123456789"), (" 078-05-1120 ", "078051120")],
    )
    def test_accepts_nine_digits_with_or_without_hyphens(self, given_value: str, stored: str) -> None:
        assert errors_of(rules.ssn, "ssn", given_value) == (stored, [])

    @pytest.mark.parametrize("absent", [None, "", "   "])
    def test_is_optional(self, absent: str | None) -> None:
        assert errors_of(rules.ssn, "ssn", absent) == (None, [])

    @pytest.mark.parametrize(
        "malformed", ["12-345-6789", "1234567890", "12345678", "123 45 6789", "abc-de-fghi", "123-45-678x"]
    )
    def test_refuses_malformed_numbers_without_repeating_them(self, malformed: str) -> None:
        value, errors = errors_of(rules.ssn, "ssn", malformed)
        assert value is None
        assert errors == [{"field": "ssn", "message": "must be nine digits, written AAA-GG-SSSS or without hyphens"}]
        assert not any(ch.isdigit() for ch in errors[0]["message"])

    @pytest.mark.parametrize(
        "never_issued", ["000-12-3456", "666-12-3456", "900-12-3456", "987-65-4321", "999-99-9999", "123-00-4567"]
    )
    def test_refuses_numbers_the_ssa_never_issues(self, never_issued: str) -> None:
        value, errors = errors_of(rules.ssn, "ssn", never_issued)
        assert value is None
        assert errors == [{"field": "ssn", "message": "is not a number the Social Security Administration issues"}]

    def test_refuses_serial_0000(self) -> None:
        assert errors_of(rules.ssn, "ssn", "123-45-0000")[1][0]["field"] == "ssn"

    @pytest.mark.parametrize("edge", ["001-01-0001", "665-99-9999", "667-01-0001", "899-99-9999"])
    def test_accepts_the_edges_of_the_issued_ranges(self, edge: str) -> None:
        assert errors_of(rules.ssn, "ssn", edge) == (edge.replace("-", ""), [])


class TestPostalCode:
    @pytest.mark.parametrize(
        ("given_value", "stored"),
        [("78701", "78701"), ("78701-1234", "78701-1234"), ("787011234", "78701-1234"), (" 00501 ", "00501")],
    )
    def test_accepts_zip_and_zip_plus_4_and_normalises(self, given_value: str, stored: str) -> None:
        assert errors_of(rules.postal_code, "address.postal_code", given_value) == (stored, [])

    @pytest.mark.parametrize("bad", ["7870", "787012", "78701-123", "78701-12345", "ABCDE", "78701 1234", ""])
    def test_refuses_anything_else(self, bad: str) -> None:
        _, errors = errors_of(rules.postal_code, "address.postal_code", bad)
        assert errors == [{"field": "address.postal_code", "message": "must be a 5-digit ZIP code or ZIP+4"}]


class TestState:
    @pytest.mark.parametrize("code", ["TX", "tx", " ny ", "DC", "PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP"])
    def test_accepts_states_territories_and_military_codes(self, code: str) -> None:
        assert errors_of(rules.state, "address.state", code) == (code.strip().upper(), [])

    @pytest.mark.parametrize("bad", ["ZZ", "T", "TEX", "", "UK", "PQ"])
    def test_refuses_unknown_codes(self, bad: str) -> None:
        _, errors = errors_of(rules.state, "address.state", bad)
        assert [e["field"] for e in errors] == ["address.state"]


class TestPhone:
    @pytest.mark.parametrize(
        ("given_value", "stored"),
        [
            ("(512) 555-0134", "5125550134"),
            ("512.555.0134", "5125550134"),
            ("+1 512 555 0134", "5125550134"),
            ("15125550134", "5125550134"),
        ],
    )
    def test_keeps_ten_digits(self, given_value: str, stored: str) -> None:
        assert errors_of(rules.phone, "phone", given_value) == (stored, [])

    @pytest.mark.parametrize("bad", ["555-0134", "1125550134", "5120550134", "512555013x", "25125550134", "12345"])
    def test_refuses_numbers_that_are_not_nanp(self, bad: str) -> None:
        _, errors = errors_of(rules.phone, "phone", bad)
        assert errors == [{"field": "phone", "message": "must be a 10-digit US phone number"}]

    def test_is_optional(self) -> None:
        assert errors_of(rules.phone, "phone", None) == (None, [])
        assert errors_of(rules.phone, "phone", " ") == (None, [])


class TestNamesAndText:
    @pytest.mark.parametrize("good", ["O'Brien", "Mary-Jane", "St. John", "de la Cruz"])
    def test_accepts_ordinary_names(self, good: str) -> None:
        assert errors_of(rules.name, "last_name", good, max_length=60) == (good, [])

    def test_collapses_whitespace(self) -> None:
        assert errors_of(rules.name, "first_name", "  Ann   Marie ", max_length=35) == ("Ann Marie", [])

    @pytest.mark.parametrize("delimiter", ["*", "~", ":", "^", "|", ">"])
    def test_refuses_x12_delimiters_in_names(self, delimiter: str) -> None:
        _, errors = errors_of(rules.name, "last_name", f"Smith{delimiter}Jones", max_length=60)
        assert errors == [
            {"field": "last_name", "message": "may hold only letters, spaces, hyphens, apostrophes and periods"}
        ]

    @pytest.mark.parametrize("bad", ["J0hn", "-Ann", "1Ann"])
    def test_refuses_digits_and_leading_punctuation(self, bad: str) -> None:
        assert errors_of(rules.name, "first_name", bad, max_length=35)[1][0]["field"] == "first_name"

    def test_enforces_the_x12_length(self) -> None:
        _, errors = errors_of(rules.name, "first_name", "A" * 36, max_length=35)
        assert errors == [{"field": "first_name", "message": "is longer than 35 characters"}]
        assert errors_of(rules.name, "first_name", "A" * 35, max_length=35)[1] == []

    def test_required_and_optional(self) -> None:
        assert errors_of(rules.name, "last_name", " ", max_length=60)[1] == [
            {"field": "last_name", "message": "is required"}
        ]
        assert errors_of(rules.name, "middle_name", None, max_length=25, required=False) == (None, [])

    @pytest.mark.parametrize("delimiter", ["*", "~", ":", "^", "|"])
    def test_refuses_x12_delimiters_in_address_lines(self, delimiter: str) -> None:
        _, errors = errors_of(rules.text, "address.line1", f"100 Main{delimiter}St", max_length=55)
        assert errors == [{"field": "address.line1", "message": "holds characters that are not allowed"}]

    def test_accepts_a_suite_number(self) -> None:
        assert errors_of(rules.text, "address.line2", "Suite #200", max_length=55) == ("Suite #200", [])


class TestOtherRules:
    def test_birth_date_in_the_future_is_refused(self) -> None:
        _, errors = errors_of(rules.birth_date, "birth_date", TODAY + timedelta(days=1), TODAY)
        assert errors == [{"field": "birth_date", "message": "is in the future"}]

    def test_birth_date_today_and_1900_are_accepted_and_before_1900_refused(self) -> None:
        assert errors_of(rules.birth_date, "birth_date", TODAY, TODAY)[1] == []
        assert errors_of(rules.birth_date, "birth_date", date(1900, 1, 1), TODAY)[1] == []
        assert errors_of(rules.birth_date, "birth_date", date(1899, 12, 31), TODAY)[1] == [
            {"field": "birth_date", "message": "is before 1900-01-01"}
        ]

    @pytest.mark.parametrize(
        ("given_value", "stored"), [("xyz123456789", "XYZ123456789"), (" W-12 ", "W-12"), ("12", "12")]
    )
    def test_member_id_is_upper_cased(self, given_value: str, stored: str) -> None:
        assert errors_of(rules.member_id, "member_id", given_value) == (stored, [])

    @pytest.mark.parametrize("bad", ["A", "-ABC123", "ABC*123", "ABC 123", "ABC~1", "A" * 81, ""])
    def test_member_id_shape_is_enforced(self, bad: str) -> None:
        _, errors = errors_of(rules.member_id, "member_id", bad)
        assert [e["field"] for e in errors] == ["member_id"]

    def test_member_id_length_limit(self) -> None:
        assert errors_of(rules.member_id, "member_id", "A" * 80)[1] == []

    @pytest.mark.parametrize("bad", ["B", "BC-BS", "BC BS"])
    def test_payer_id_shape(self, bad: str) -> None:
        assert [e["field"] for e in errors_of(rules.payer_id, "payer_id", bad)[1]] == ["payer_id"]

    def test_group_number_is_optional_and_shaped(self) -> None:
        assert errors_of(rules.group_number, "group_number", None) == (None, [])
        assert errors_of(rules.group_number, "group_number", "grp-1") == ("GRP-1", [])
        assert errors_of(rules.group_number, "group_number", "GRP*1")[1][0]["field"] == "group_number"

    @pytest.mark.parametrize("bad", ["maria", "maria@", "@example.org", "maria@example", "a b@example.org"])
    def test_email_shape(self, bad: str) -> None:
        assert errors_of(rules.email, "email", bad)[1] == [
            {"field": "email", "message": "is not a valid email address"}
        ]

    def test_problems_collects_every_error_then_raises_once(self) -> None:
        problems = Problems()
        problems.raise_if_any()
        rules.state(problems, "address.state", "ZZ")
        rules.postal_code(problems, "address.postal_code", "1")
        with pytest.raises(ValidationFailed) as raised:
            problems.raise_if_any()
        assert [e["field"] for e in raised.value.errors] == ["address.state", "address.postal_code"]
        assert raised.value.status == 422


class TestValidateDemographics:
    def test_returns_cleaned_details_and_reports_every_field(self) -> None:
        problems = Problems()
        checked = validate_demographics(
            problems,
            details(first_name=" Ann  ", last_name="Lee*", birth_date=TODAY + timedelta(days=3), phone="123"),
            TODAY,
        )
        assert checked.first_name == "Ann"
        assert {e["field"] for e in problems.errors} == {"last_name", "birth_date", "phone"}

    def test_a_guarantor_other_than_self_needs_a_name_and_address(self) -> None:
        problems = Problems()
        validate_guarantor(problems, Guarantor(relationship="parent"), TODAY)
        assert {e["field"] for e in problems.errors} == {
            "guarantor.first_name",
            "guarantor.last_name",
            "guarantor.address",
        }

    def test_a_self_guarantor_carries_nothing(self) -> None:
        problems = Problems()
        checked = validate_guarantor(problems, Guarantor(relationship="self", first_name="Ignored"), TODAY)
        assert checked == Guarantor.self_pay()
        assert problems.errors == []


# --- the patient aggregate -------------------------------------------------------------------------


class TestRegisterAndUpdate:
    def test_register_records_patient_registered(self) -> None:
        patient_id = uuid.uuid4()
        registered = Patient.register(patient_id=patient_id, mrn="000000018", details=details(), ssn="123456789")
        assert registered.events == [events.PatientRegistered(patient_id)]
        assert (registered.version, registered.status, registered.ssn) == (1, "active", "123456789")

    def test_update_names_only_the_fields_that_changed(self) -> None:
        record = patient()
        changed = record.update(replace(record.details, phone="2145550199", address=address(city="Dallas")), None)
        assert changed == ("address", "phone")
        assert record.events == [events.PatientUpdated(record.id, ("address", "phone"))]
        assert record.version == 2

    def test_update_without_a_change_records_nothing(self) -> None:
        record = patient()
        assert record.update(replace(record.details), None) == ()
        assert record.events == []
        assert record.version == 1

    def test_an_ssn_change_is_saved_but_never_published(self) -> None:
        record = patient()
        assert record.update(record.details, "123456789") == ("ssn",)
        assert record.ssn == "123456789"
        assert record.version == 2
        assert record.events == []

    def test_an_ssn_change_with_another_change_publishes_only_the_other(self) -> None:
        record = patient()
        assert record.update(replace(record.details, email="m.g@example.org"), "123456789") == ("email", "ssn")
        assert record.events == [events.PatientUpdated(record.id, ("email",))]

    def test_a_merged_record_cannot_be_updated(self) -> None:
        survivor, duplicate = patient(), patient(first_name="Mariah")
        survivor.absorb(duplicate, TODAY)
        with pytest.raises(Conflict) as raised:
            duplicate.update(replace(duplicate.details, phone="2145550199"), None)
        assert raised.value.extra == {"merged_into_id": str(survivor.id)}

    def test_identity_key_folds_case_and_punctuation(self) -> None:
        assert details(first_name="Mary-Ann", last_name="O'Brien").identity_key() == (
            details(first_name="MARYANN", last_name="obrien").identity_key()
        )


class TestCoverages:
    def test_add_coverage_records_coverage_added(self) -> None:
        record = patient()
        coverage = record.add_coverage(terms())
        assert coverage.patient_id == record.id
        assert record.events == [events.CoverageAdded(record.id, coverage.id)]
        assert record.version == 2

    def test_two_overlapping_coverages_of_the_same_order_conflict(self) -> None:
        record = patient()
        first = record.add_coverage(terms())
        with pytest.raises(Conflict) as raised:
            record.add_coverage(terms(payer_id="AETNA", member_id="W123", effective_date=date(2026, 6, 1)))
        assert raised.value.extra == {"coverage_id": str(first.id)}
        assert len(record.coverages) == 1

    def test_the_same_order_on_dates_that_do_not_overlap_is_allowed(self) -> None:
        record = patient()
        record.add_coverage(terms(termination_date=date(2026, 5, 31)))
        record.add_coverage(terms(payer_id="AETNA", member_id="W123", effective_date=date(2026, 6, 1)))
        assert len(record.active_coverages()) == 2

    def test_coverages_touching_on_one_day_overlap(self) -> None:
        record = patient()
        record.add_coverage(terms(termination_date=date(2026, 6, 1)))
        with pytest.raises(Conflict):
            record.add_coverage(terms(payer_id="AETNA", member_id="W123", effective_date=date(2026, 6, 1)))

    def test_primary_and_secondary_coexist_and_an_ended_one_blocks_only_its_own_dates(self) -> None:
        record = patient()
        primary = record.add_coverage(terms())
        record.add_coverage(terms(payer_id="AETNA", member_id="W123", order="secondary"))
        record.end_coverage(primary.id, date(2026, 3, 31), "policy cancelled")
        with pytest.raises(Conflict):  # the ended primary still pays for January to March
            record.add_coverage(terms(payer_id="CIGNA", member_id="C77", effective_date=date(2026, 1, 1)))
        record.add_coverage(terms(payer_id="CIGNA", member_id="C77", effective_date=date(2026, 4, 1)))
        assert [c.terms.order for c in record.active_coverages()] == ["secondary", "primary"]

    def test_an_ended_coverage_cannot_be_ended_again(self) -> None:
        record = patient()
        coverage = record.add_coverage(terms())
        record.end_coverage(coverage.id, date(2026, 3, 31), None)
        with pytest.raises(Conflict):
            record.end_coverage(coverage.id, date(2026, 6, 30), None)
        assert coverage.terms.termination_date == date(2026, 3, 31)

    def test_a_dependant_needs_the_subscriber(self) -> None:
        problems = Problems()
        validate_terms(problems, terms(relationship="spouse"), TODAY)
        assert problems.errors == [
            {"field": "subscriber", "message": "is required when the patient is not the subscriber"}
        ]

    def test_the_subscriber_is_validated_and_dropped_for_self(self) -> None:
        holder = Subscriber(first_name="Luis*", last_name="Gonzalez", birth_date=TODAY + timedelta(days=1))
        problems = Problems()
        validate_terms(problems, terms(relationship="spouse", subscriber=holder), TODAY)
        assert {e["field"] for e in problems.errors} == {"subscriber.first_name", "subscriber.birth_date"}
        problems = Problems()
        assert validate_terms(problems, terms(subscriber=holder), TODAY).subscriber is None
        assert problems.errors == []

    def test_termination_before_effective_is_refused(self) -> None:
        problems = Problems()
        validate_terms(problems, terms(termination_date=date(2025, 12, 31)), TODAY)
        assert problems.errors == [{"field": "termination_date", "message": "is before the effective date"}]

    def test_validate_terms_normalises_ids(self) -> None:
        problems = Problems()
        checked = validate_terms(problems, terms(payer_id="bcbstx", member_id="xyz-1", group_number="g1"), TODAY)
        assert (checked.payer_id, checked.member_id, checked.group_number) == ("BCBSTX", "XYZ-1", "G1")

    def test_end_coverage(self) -> None:
        record = patient()
        coverage = record.add_coverage(terms())
        record.events.clear()
        ended = record.end_coverage(coverage.id, date(2026, 6, 30), "employer changed plans")
        assert (ended.status, ended.end_reason, ended.terms.termination_date) == (
            "ended",
            "employer changed plans",
            date(2026, 6, 30),
        )
        assert record.events == [
            events.CoverageEnded(record.id, coverage.id, date(2026, 6, 30), "employer changed plans")
        ]

    def test_end_coverage_before_its_effective_date_is_refused(self) -> None:
        record = patient()
        coverage = record.add_coverage(terms())
        with pytest.raises(ValidationFailed):
            record.end_coverage(coverage.id, date(2025, 12, 31), None)
        assert coverage.status == "active"

    def test_an_unknown_coverage_is_not_found(self) -> None:
        with pytest.raises(NotFound):
            patient().end_coverage(uuid.uuid4(), TODAY, None)

    def test_update_coverage_names_the_changes_and_refuses_an_ended_one(self) -> None:
        record = patient()
        coverage = record.add_coverage(terms())
        record.events.clear()
        assert record.update_coverage(coverage.id, terms(group_number="GRP200", plan_type="HMO")) == (
            "group_number",
            "plan_type",
        )
        assert record.events == [events.CoverageUpdated(record.id, coverage.id, ("group_number", "plan_type"))]
        assert record.update_coverage(coverage.id, coverage.terms) == ()
        record.end_coverage(coverage.id, TODAY, None)
        with pytest.raises(Conflict):
            record.update_coverage(coverage.id, terms(group_number="GRP300"))

    def test_update_coverage_into_an_occupied_order_conflicts(self) -> None:
        record = patient()
        record.add_coverage(terms())
        secondary = record.add_coverage(terms(payer_id="AETNA", member_id="W123", order="secondary"))
        with pytest.raises(Conflict):
            record.update_coverage(secondary.id, replace(secondary.terms, order="primary"))


class TestMerge:
    def test_moves_the_duplicates_coverages(self) -> None:
        survivor, duplicate = patient(), patient(first_name="Mariah")
        moved = duplicate.add_coverage(terms(order="secondary"))
        duplicate.events.clear()
        survivor.absorb(duplicate, TODAY)
        assert [c.id for c in survivor.coverages] == [moved.id]
        assert moved.patient_id == survivor.id
        assert duplicate.coverages == []
        assert (duplicate.status, duplicate.merged_into_id) == ("merged", survivor.id)
        assert survivor.events == [events.PatientsMerged(survivor.id, duplicate.id, (moved.id,), ())]
        assert duplicate.events == []
        assert (survivor.version, duplicate.version) == (2, 3)

    def test_ends_a_policy_the_survivor_already_holds(self) -> None:
        survivor, duplicate = patient(), patient(first_name="Mariah")
        kept = survivor.add_coverage(terms())
        twin = duplicate.add_coverage(terms(effective_date=date(2026, 2, 1)))
        survivor.events.clear()
        duplicate.events.clear()
        survivor.absorb(duplicate, TODAY)
        assert survivor.coverages == [kept]
        assert duplicate.coverages == [twin]
        assert twin.status == "ended"
        assert twin.terms.termination_date == TODAY
        assert twin.end_reason == "duplicate of a coverage on the surviving record"
        assert duplicate.events == [events.CoverageEnded(duplicate.id, twin.id, TODAY, twin.end_reason)]
        assert survivor.events == [events.PatientsMerged(survivor.id, duplicate.id, (), (twin.id,))]

    def test_a_duplicate_policy_that_starts_later_ends_on_its_effective_date(self) -> None:
        survivor, duplicate = patient(), patient(first_name="Mariah")
        survivor.add_coverage(terms())
        future = duplicate.add_coverage(terms(effective_date=TODAY + timedelta(days=10)))
        survivor.absorb(duplicate, TODAY)
        assert future.terms.termination_date == TODAY + timedelta(days=10)

    def test_the_same_policy_listed_as_a_dependant_is_ended_not_moved(self) -> None:
        holder = Subscriber(first_name="Luis", last_name="Gonzalez", birth_date=date(1980, 1, 1))
        survivor, duplicate = patient(), patient(first_name="Mariah")
        survivor.add_coverage(terms(relationship="child", subscriber=holder))
        listed_twice = duplicate.add_coverage(terms(relationship="child", subscriber=holder))
        survivor.absorb(duplicate, TODAY)
        assert listed_twice not in survivor.coverages
        assert listed_twice.status == "ended"

    def test_a_member_id_punctuated_differently_is_the_same_policy(self) -> None:
        survivor, duplicate = patient(), patient(first_name="Mariah")
        survivor.add_coverage(terms(member_id="XGP-123 456"))
        listed_twice = duplicate.add_coverage(terms(member_id="XGP123456"))
        survivor.absorb(duplicate, TODAY)
        assert listed_twice.status == "ended"

    def test_refuses_to_merge_a_record_into_itself(self) -> None:
        record = patient()
        with pytest.raises(ValidationFailed) as raised:
            record.absorb(record, TODAY)
        assert raised.value.errors == [{"field": "duplicate_id", "message": "is the surviving patient itself"}]
        assert record.status == "active"

    def test_refuses_to_merge_an_already_merged_record(self) -> None:
        survivor, duplicate, third = patient(), patient(first_name="Mariah"), patient(first_name="Marie")
        survivor.absorb(duplicate, TODAY)
        with pytest.raises(Conflict):
            third.absorb(duplicate, TODAY)
        with pytest.raises(Conflict):
            duplicate.absorb(third, TODAY)
        assert third.status == "active"

    def test_refuses_an_order_collision_and_changes_nothing(self) -> None:
        survivor, duplicate = patient(), patient(first_name="Mariah")
        survivor.add_coverage(terms())
        movable = duplicate.add_coverage(terms(payer_id="AETNA", member_id="W1", order="secondary"))
        colliding = duplicate.add_coverage(terms(payer_id="CIGNA", member_id="C1", order="primary"))
        survivor.events.clear()
        duplicate.events.clear()
        with pytest.raises(Conflict):
            survivor.absorb(duplicate, TODAY)
        assert duplicate.coverages == [movable, colliding]
        assert movable.patient_id == duplicate.id
        assert (duplicate.status, survivor.status, len(survivor.coverages)) == ("active", "active", 1)
        assert survivor.events == duplicate.events == []


# --- the medical record number ---------------------------------------------------------------------


def luhn_valid(number: str) -> bool:
    """The Luhn check, written independently of the code under test."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


class TestMrn:
    @pytest.mark.parametrize(
        ("number", "mrn"), [(0, "000000000"), (1, "000000018"), (12345678, "123456782"), (99999999, "999999998")]
    )
    def test_known_values(self, number: int, mrn: str) -> None:
        assert mrn_with_check_digit(number) == mrn
        assert luhn_valid(mrn)

    @given(st.integers(min_value=0, max_value=99_999_999))
    def test_every_mrn_is_nine_digits_and_luhn_valid(self, number: int) -> None:
        mrn = mrn_with_check_digit(number)
        assert len(mrn) == 9
        assert mrn.isdigit()
        assert mrn[:8] == f"{number:08d}"
        assert luhn_valid(mrn)

    @given(st.integers(min_value=0, max_value=99_999_999), st.integers(min_value=0, max_value=8), st.integers(1, 9))
    def test_a_single_mistyped_digit_is_caught(self, number: int, position: int, shift: int) -> None:
        mrn = mrn_with_check_digit(number)
        mistyped = mrn[:position] + str((int(mrn[position]) + shift) % 10) + mrn[position + 1 :]
        assert not luhn_valid(mistyped)
