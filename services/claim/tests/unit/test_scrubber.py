"""The scrubber and its rules: each rule fires on the problem it names and stays quiet on a clean claim, a
scrub records which rules ran, and an override lasts only while the findings it was given for stand."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from rcm_claim.domain.copies import Authorization, CoverageCopy, EligibilityAnswer, Person
from rcm_claim.domain.directories import (
    Address,
    BillingProvider,
    Facility,
    PayerProfile,
    Provider,
    ProviderDirectory,
)
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import Claim, EncounterLine, EncounterVersion
from rcm_claim.domain.rules import RULES
from rcm_claim.domain.scrubber import ClaimFacts, ScrubError, overridden, scrub

DAY = date(2026, 11, 2)
TODAY = date(2026, 11, 10)
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
BILLING_NPI, RENDERING_NPI = "1234567893", "1497758544"
DIRECTORY = ProviderDirectory(
    BillingProvider("Springfield Family Medicine", BILLING_NPI, "371234567", "207Q00000X",
                    Address("100 Main St", "Springfield", "IL", "627011234")),
    (Provider("Osler", "William", RENDERING_NPI, "207R00000X"),),
)  # fmt: skip
PAYERS = {
    "ACME01": PayerProfile("ACME01", "Acme Health Plan", "12", 90, 30, 500, 60, frozenset({"72148"})),
    "MCARE1": PayerProfile("MCARE1", "Medicare Part B", "MB", 365, 30, 500, 60),
    "MCAID1": PayerProfile("MCAID1", "State Medicaid", "MC", 180, 30, 500, 60),
}
PATIENT = Person("Doe", "Jane", date(1960, 4, 1), "F")
PATIENT_ID, COVERAGE_ID = uuid.uuid4(), uuid.uuid4()


def line(code: str, *, units: str = "1", charge: str = "185.00", pointers: tuple[int, ...] = (1,),
         modifiers: tuple[str, ...] = (), day: date = DAY, ndc: str | None = None) -> EncounterLine:  # fmt: skip
    return EncounterLine(code, modifiers, Decimal(units), day, Decimal(charge), pointers, ndc=ndc)


def claim(*lines: EncounterLine, payer: str = "ACME01", **changes: Any) -> Claim:
    fields: dict[str, Any] = {
        "encounter_id": uuid.uuid4(),
        "version": 1,
        "patient_id": PATIENT_ID,
        "coverage_id": COVERAGE_ID,
        "payer_id": payer,
        "date_of_service": DAY,
        "place_of_service": "11",
        "diagnoses": ("E11.9", "I10"),
        "lines": lines or (line("99214"),),
        "billing_provider_npi": BILLING_NPI,
        "rendering_provider_npi": RENDERING_NPI,
    }
    encounter = EncounterVersion(**(fields | changes))
    return Claim.build(claim_id=uuid.uuid4(), encounter=encounter, coverage_order="primary", now=NOW, cause="event:e")


def facts(subject: Claim, **changes: Any) -> ClaimFacts:
    coverage = CoverageCopy(
        COVERAGE_ID, PATIENT_ID, subject.payer_id, "W123456789", "primary", "self", date(2026, 1, 1)
    )
    answer = EligibilityAnswer(COVERAGE_ID, "active", NOW - timedelta(days=3), DAY)
    fields: dict[str, Any] = {
        "claim": subject,
        "today": TODAY,
        "payer": PAYERS.get(subject.payer_id),
        "providers": DIRECTORY,
        "patient": PATIENT,
        "coverage": coverage,
        "eligibility": answer,
    }
    return ClaimFacts(**(fields | changes))


def fired(subject: ClaimFacts) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in scrub(subject, RULES).findings:
        found.setdefault(finding.rule, []).append(finding.message)
    return found


def authorization(units: int = 1, **changes: Any) -> Authorization:
    fields: dict[str, Any] = {
        "authorization_id": uuid.uuid4(),
        "coverage_id": COVERAGE_ID,
        "number": "AUTH-778",
        "procedure_codes": frozenset({"72148"}),
        "start_date": date(2026, 10, 1),
        "end_date": date(2026, 12, 31),
        "units_authorized": units,
    }
    return Authorization(**(fields | changes))


def test_a_clean_claim_fires_nothing_and_records_every_rule_for_its_payer() -> None:
    record = scrub(facts(claim()), RULES)

    assert record.findings == ()
    assert record.blocking_rules == ()
    assert [run.rule for run in record.ran] == [
        rule.code for rule in RULES if rule.payers is None or "ACME01" in rule.payers
    ]
    assert "MCARE1_AWV_FREQUENCY" not in {run.rule for run in record.ran}


def test_an_unknown_payer_and_missing_providers_block() -> None:
    subject = claim(payer="NOPE99", rendering_provider_npi="1234567890", referring_provider_npi="1111111111")

    found = fired(facts(subject, providers=None))

    assert found["PAYER_KNOWN"] == ["payer NOPE99 is not in the payer directory"]
    assert found["PROVIDERS"] == [
        "the provider directory has no billing provider",
        "rendering provider NPI 1234567890 fails its check digit",
        "referring provider NPI 1111111111 fails its check digit",
    ]


def test_the_billing_and_rendering_providers_must_be_the_directorys() -> None:
    subject = claim(billing_provider_npi=RENDERING_NPI, rendering_provider_npi=BILLING_NPI)

    assert fired(facts(subject))["PROVIDERS"] == [
        f"billing provider NPI {RENDERING_NPI} is not the directory's billing provider",
        f"rendering provider NPI {BILLING_NPI} is not in the provider directory",
    ]


def test_the_subscriber_relationship_must_match_the_subscriber_on_file() -> None:
    subject = claim()
    base = facts(subject).coverage
    assert base is not None
    spouse_without_details = dataclasses.replace(base, relationship="spouse")
    self_with_subscriber = dataclasses.replace(base, subscriber=Person("Doe", "John", date(1958, 2, 2)))
    child_with_partial = dataclasses.replace(base, relationship="child", subscriber=Person("Doe", "", None))

    assert fired(facts(subject, coverage=spouse_without_details))["PATIENT_SUBSCRIBER"] == [
        "relationship is spouse, so the subscriber's details are required"
    ]
    assert fired(facts(subject, coverage=self_with_subscriber))["PATIENT_SUBSCRIBER"] == [
        "relationship is self, yet a separate subscriber is recorded on the coverage"
    ]
    assert fired(facts(subject, coverage=child_with_partial))["PATIENT_SUBSCRIBER"] == [
        "the subscriber's last name, first name and birth date are required"
    ]
    assert fired(facts(subject, patient=None, coverage=None))["PATIENT_SUBSCRIBER"] == [
        "the patient's demographics are not on file",
        "the claim's coverage is not on file",
    ]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (EligibilityAnswer(COVERAGE_ID, "inactive", NOW, DAY), "the payer said the coverage is inactive on 2026-11-02"),
        (EligibilityAnswer(COVERAGE_ID, "not_found", NOW, date(2026, 11, 20), reject_codes=("75",)),
         "the payer does not know the member (AAA 75): check the member id and name with the card"),
        (EligibilityAnswer(COVERAGE_ID, "mismatch", NOW, DAY, reject_codes=("71",)),
         "the payer could not match the member's details (AAA 71): correct them in registration"),
        (EligibilityAnswer(COVERAGE_ID, "active", NOW, DAY, plan_end=date(2026, 10, 31)),
         "the payer's plan dates do not hold 2026-11-02"),
        (EligibilityAnswer(COVERAGE_ID, "inactive", NOW, date(2026, 12, 1), plan_end=date(2026, 10, 31)),
         "the payer said the coverage is inactive on 2026-11-02"),
    ],
)  # fmt: skip
def test_coverage_the_payer_says_is_inactive_blocks(answer: EligibilityAnswer, message: str) -> None:
    found = fired(facts(claim(), eligibility=answer))

    assert found["COVERAGE_INACTIVE"] == [message]
    assert "COVERAGE_UNVERIFIED" not in found


def test_coverage_registration_ended_before_the_day_blocks() -> None:
    subject = claim()
    registered = facts(subject).coverage
    assert registered is not None
    coverage = dataclasses.replace(registered, termination_date=date(2026, 10, 31))

    assert fired(facts(subject, coverage=coverage))["COVERAGE_INACTIVE"] == [
        "the coverage does not hold 2026-11-02: registration's dates exclude it"
    ]


def test_no_eligibility_answer_or_a_stale_one_is_a_warning_that_does_not_block() -> None:
    stale = EligibilityAnswer(COVERAGE_ID, "active", NOW - timedelta(days=31), DAY)
    unanswered = EligibilityAnswer(COVERAGE_ID, "unanswered", NOW, DAY)

    for answer, message in [
        (None, "no eligibility answer from the payer is on file for the coverage"),
        (unanswered, "no eligibility answer from the payer is on file for the coverage"),
        (stale, "the eligibility answer of 2026-10-10 is older than the 30 days ACME01 trusts"),
        (
            EligibilityAnswer(COVERAGE_ID, "inactive", NOW, date(2026, 12, 1)),
            "the latest eligibility answer is for 2026-12-01, another date of service",
        ),
    ]:
        record = scrub(facts(claim(), eligibility=answer), RULES)
        assert [(f.rule, f.severity, f.message) for f in record.findings] == [
            ("COVERAGE_UNVERIFIED", "warning", message)
        ]
        assert record.blocking_rules == ()


def test_a_code_the_payer_requires_authorising_blocks_without_one_and_carries_g1_with_one() -> None:
    subject = claim(line("72148", charge="900.00"))

    unauthorised = scrub(facts(subject), RULES)
    authorised = scrub(facts(subject, authorizations=(authorization(),)), RULES)

    assert [(f.rule, f.line, f.message) for f in unauthorised.findings] == [
        ("PRIOR_AUTH", 1, "72148 needs a prior authorisation on file for 2026-11-02")
    ]
    assert (unauthorised.blocking_rules, unauthorised.authorization_number) == (("PRIOR_AUTH",), None)
    assert (authorised.findings, authorised.authorization_number) == ((), "AUTH-778")


def test_an_authorisation_out_of_date_for_another_coverage_or_code_does_not_count() -> None:
    subject = claim(line("72148", charge="900.00"))
    others = (
        authorization(end_date=date(2026, 10, 31)),
        authorization(coverage_id=uuid.uuid4()),
        authorization(procedure_codes=frozenset({"70551"})),
    )

    assert fired(facts(subject, authorizations=others))["PRIOR_AUTH"] == [
        "72148 needs a prior authorisation on file for 2026-11-02"
    ]


def ready(subject: Claim) -> Claim:
    """The claim as it stands once scrubbed clean: ready for its batch, holding its services."""
    subject.scrubbed(ScrubRecord((), ()), NOW, "scrub")
    return subject


def test_an_authorisation_used_up_by_another_claim_blocks_naming_the_units_left() -> None:
    earlier = ready(claim(line("72148", charge="900.00", day=date(2026, 10, 20))))
    subject = claim(line("72148", charge="900.00"))

    found = fired(facts(subject, authorizations=(authorization(units=1),), other_claims=(earlier,)))

    assert found["PRIOR_AUTH"] == ["the authorisation on file for 72148 has 0 of its 1 units left"]
    earlier.state = "voided"
    assert "PRIOR_AUTH" not in fired(facts(subject, authorizations=(authorization(),), other_claims=(earlier,)))


def test_timely_filing_blocks_past_the_window_and_warns_in_its_last_week() -> None:
    subject = claim()

    late_day, near_day = DAY + timedelta(days=91), DAY + timedelta(days=85)
    checked = EligibilityAnswer(COVERAGE_ID, "active", datetime.combine(near_day, NOW.timetz()), DAY)

    late = fired(facts(subject, today=late_day, eligibility=checked))
    near = scrub(facts(subject, today=near_day, eligibility=checked), RULES)

    assert late["TIMELY_FILING"] == ["ACME01's timely-filing window closed on 2027-01-31"]
    assert "TIMELY_FILING_NEAR" not in late
    assert [(f.rule, f.severity, f.message) for f in near.findings] == [
        ("TIMELY_FILING_NEAR", "warning", "ACME01's timely-filing window closes on 2027-01-31")
    ]


def test_medicare_takes_claims_for_one_calendar_year_after_the_date_of_service() -> None:
    """42 CFR 424.44(a)(1): a year to the day, across a leap day as well."""
    subject = claim(line("99214"), payer="MCARE1")
    checked = EligibilityAnswer(COVERAGE_ID, "active", datetime(2027, 11, 2, tzinfo=UTC), DAY)

    on_the_day = fired(facts(subject, today=date(2027, 11, 2), eligibility=checked))
    a_day_late = fired(facts(subject, today=date(2027, 11, 3), eligibility=checked))

    assert "TIMELY_FILING" not in on_the_day
    assert a_day_late["TIMELY_FILING"] == ["MCARE1's timely-filing window closed on 2027-11-02"]


def test_diagnosis_pointers_must_point_at_one_to_four_diagnoses_on_the_claim() -> None:
    subject = claim(line("99214", pointers=(1, 3)), line("82962", pointers=()), line("36415", pointers=(2, 2)))

    assert fired(facts(subject))["DIAGNOSIS_POINTERS"] == [
        "99214 points at diagnosis 3; the claim has 2",
        "82962 points at 0 diagnoses; a line points at 1 to 4",
        "36415 points at the same diagnosis twice",
    ]
    too_many = claim(diagnoses=tuple(f"Z{n:02d}.0" for n in range(13)))
    assert fired(facts(too_many))["DIAGNOSIS_POINTERS"] == ["a claim carries 1 to 12 diagnoses, not 13"]


def test_line_amounts_must_be_positive_cents_and_units() -> None:
    subject = claim(line("99214", charge="0.00"), line("82962", charge="30.005"), line("36415", units="0"))

    assert fired(facts(subject))["LINE_AMOUNTS"] == [
        "99214 bills 0.00; a line's charge is positive, in cents",
        "82962 bills 30.005; a line's charge is positive, in cents",
        "36415 bills 0 units; units are positive",
    ]


def test_a_duplicate_of_another_standing_claim_names_it_and_a_modifier_or_another_payer_is_not_one() -> None:
    other = ready(claim(line("99214"), line("36415")))
    subject = claim(line("99214"), line("36415", modifiers=("76",)))

    found = fired(facts(subject, other_claims=(other, ready(claim(line("99214"), payer="MCARE1")))))

    assert found["DUPLICATE_CLAIM"] == [
        f"99214 on 2026-11-02 duplicates line 1 of claim {other.id} ({other.patient_control_number})"
    ]
    same_encounter = dataclasses.replace(other, encounter_id=subject.encounter_id)
    assert "DUPLICATE_CLAIM" not in fired(facts(subject, other_claims=(same_encounter,)))
    blocked_too = claim(line("99214"))
    assert "DUPLICATE_CLAIM" not in fired(facts(subject, other_claims=(blocked_too,)))  # a held claim holds nothing


def test_medicare_pays_a_subsequent_wellness_visit_after_eleven_full_months_and_the_initial_once() -> None:
    last = ready(claim(line("G0439", day=date(2026, 1, 15)), payer="MCARE1", date_of_service=date(2026, 1, 15)))
    early = claim(line("G0439"), payer="MCARE1")
    due = claim(line("G0439", day=date(2027, 1, 1)), payer="MCARE1", date_of_service=date(2027, 1, 1))
    initial = claim(line("G0438"), payer="MCARE1")

    assert fired(facts(early, other_claims=(last,)))["MCARE1_AWV_FREQUENCY"] == [
        "G0439 is within 11 full months of the annual wellness visit of 2026-01-15"
    ]
    assert "MCARE1_AWV_FREQUENCY" not in fired(facts(due, other_claims=(last,), today=date(2027, 1, 5)))
    assert fired(facts(initial, other_claims=(last,)))["MCARE1_AWV_FREQUENCY"] == [
        "G0438 is once in a lifetime; an annual wellness visit was billed for 2026-01-15"
    ]
    assert "MCARE1_AWV_FREQUENCY" not in fired(facts(early))


def test_a_wellness_visit_entered_late_for_an_earlier_date_and_one_after_the_welcome_visit_are_caught() -> None:
    later = ready(claim(line("G0439", day=date(2026, 12, 1)), payer="MCARE1", date_of_service=date(2026, 12, 1)))
    entered_late = claim(line("G0439"), payer="MCARE1")
    welcome = ready(claim(line("G0402", day=date(2026, 3, 10)), payer="MCARE1", date_of_service=date(2026, 3, 10)))
    both = claim(line("G0438"), line("G0439"), payer="MCARE1")

    assert fired(facts(entered_late, other_claims=(later,)))["MCARE1_AWV_FREQUENCY"] == [
        "G0439 is within 11 full months of the annual wellness visit of 2026-12-01"
    ]
    assert fired(facts(claim(line("G0438"), payer="MCARE1"), other_claims=(welcome,)))["MCARE1_AWV_FREQUENCY"] == [
        "G0438 comes 12 months after the welcome visit (G0402) of 2026-03-10"
    ]
    assert len(fired(facts(both))["MCARE1_AWV_FREQUENCY"]) == 2


def test_a_hospital_place_of_service_needs_the_encounters_location_as_a_facility_on_file() -> None:
    hospital = Facility("HOSP", "Springfield General", Address("800 E Carpenter St", "Springfield", "IL", "627690001"))
    with_hospital = dataclasses.replace(DIRECTORY, facilities=(hospital,))

    assert fired(facts(claim(place_of_service="22"), providers=with_hospital))["SERVICE_FACILITY"] == [
        "POS 22 needs the service facility (2310C): the encounter names no location"
    ]
    assert fired(facts(claim(place_of_service="21", location="ER2"), providers=with_hospital))["SERVICE_FACILITY"] == [
        "POS 21 needs the service facility (2310C): location ER2 is not a facility in the provider directory"
    ]
    assert "SERVICE_FACILITY" not in fired(
        facts(claim(place_of_service="22", location="HOSP"), providers=with_hospital)
    )
    assert "SERVICE_FACILITY" not in fired(facts(claim(place_of_service="11")))


def test_acme_pays_telehealth_only_with_modifier_95() -> None:
    telehealth = claim(line("99214", modifiers=("95",)), line("99213"), place_of_service="10")

    assert fired(facts(telehealth))["ACME01_TELEHEALTH_95"] == ["99213 at POS 10 needs modifier 95"]
    elsewhere = claim(line("99213"), payer="MCARE1", place_of_service="10")
    assert "ACME01_TELEHEALTH_95" not in fired(facts(elsewhere))


def test_medicaid_pays_a_drug_line_only_with_its_ndc() -> None:
    subject = claim(line("J1100", charge="12.00"), line("J3301", ndc="00003029305"), payer="MCAID1")

    assert fired(facts(subject))["MCAID1_DRUG_NDC"] == ["J1100 is a drug line and needs its NDC (2410 LIN)"]


def test_an_override_releases_a_blocking_rule_and_lapses_when_a_new_finding_appears() -> None:
    subject = claim(line("72148", charge="900.00"))
    blocked = scrub(facts(subject), RULES)

    released = overridden(
        blocked, RULES, rule="PRIOR_AUTH", reason=" retro-authorised by phone ", by="biller-1", at=NOW
    )
    subject.scrubbed(released, NOW, "api:biller-1")

    assert (subject.state, released.blocking_rules) == ("ready", ())
    assert released.overrides[0].reason == "retro-authorised by phone"
    assert scrub(facts(subject), RULES).overrides == released.overrides
    grown = dataclasses.replace(subject, lines=(*subject.lines, dataclasses.replace(subject.lines[0], number=2)))
    assert scrub(facts(grown), RULES).blocking_rules == ("PRIOR_AUTH",)
    assert scrub(facts(subject, authorizations=(authorization(),)), RULES).overrides == ()


@pytest.mark.parametrize(
    ("rule", "reason", "message"),
    [
        ("NO_SUCH_RULE", "why", "there is no scrub rule NO_SUCH_RULE"),
        ("LINE_AMOUNTS", "why", "rule LINE_AMOUNTS may not be overridden: fix its cause"),
        ("DUPLICATE_CLAIM", "why", "rule DUPLICATE_CLAIM did not fire on the claim's latest scrub"),
        ("PRIOR_AUTH", "  ", "an override needs a reason"),
    ],
)
def test_an_override_is_refused_when_the_rule_is_unknown_fixed_only_at_its_cause_quiet_or_unexplained(
    rule: str, reason: str, message: str
) -> None:
    blocked = scrub(facts(claim(line("72148", charge="900.00"))), RULES)

    with pytest.raises(ScrubError, match=message):
        overridden(blocked, RULES, rule=rule, reason=reason, by="biller-1", at=NOW)


def test_a_finding_never_names_the_patient() -> None:
    subject = claim(line("72148", charge="0.00", pointers=(5,), units="2"))
    used = ready(claim(line("72148", charge="900.00", day=date(2026, 10, 20))))
    everything = facts(
        subject,
        eligibility=EligibilityAnswer(COVERAGE_ID, "inactive", NOW, DAY),
        patient=PATIENT,
        authorizations=(authorization(units=2),),
        other_claims=(used,),
    )

    messages = " ".join(finding.message for finding in scrub(everything, RULES).findings)

    assert messages
    assert not [secret for secret in ("Doe", "Jane", "W123456789", "1960-04-01", "AUTH-778") if secret in messages]
