"""Claims become an 837P batch to their payer that the guide's rules accept (pyx12 reports nothing): the
subscriber from the coverage, a spouse's claim under its subscriber with the patient in 2000C, REF*G1 from
the scrub, REF*F8 on a replacement, an NDC in 2410, and SBR09 from the payer directory."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rcm_claim.adapters.claim_837 import BillableClaim, Parties, claim_as_sent, claim_batch
from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.domain.copies import CoverageCopy, PatientCopy, Person
from rcm_claim.domain.directories import Address, Facility
from rcm_claim.domain.findings import ScrubRecord
from rcm_claim.domain.model import BillingNotes, Claim, EncounterLine, EncounterVersion, Frequency
from rcm_claim.testing import BILLING_NPI, PRACTICE, RENDERING_NPI
from rcm_x12.professional_claim_writer import Contact, write_837p
from rcm_x12.testing import assert_accepted_by_pyx12, segments_of
from rcm_x12.writer import Envelope, TradingPartner

NOW = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)
ACME = next(payer for payer in default_payers() if payer.payer_id == "ACME01")
PARTIES = Parties(
    TradingPartner("MAPLE STREET FAMILY PRACTICE", "SUBMIT01"),
    Contact("BILLING OFFICE", phone="2175550100"),
    TradingPartner("CLEARINGHOUSE", "CLEARHS"),
)
ENVELOPE = Envelope("SUBMIT01", "CLEARHS", 417, 417, 1, NOW.replace(tzinfo=None), usage="T")
HOME = Address("12 Oak Ave", "Springfield", "IL", "627041234")


def billable(
    *lines: EncounterLine, relationship: str = "self", frequency: Frequency = "1", replaces: str | None = None,
    authorization: str | None = None,
) -> BillableClaim:  # fmt: skip
    patient = PatientCopy(uuid.uuid4(), Person("Doe", "Jane", date(1980, 1, 2), "F"), HOME)
    subscriber = Person("Doe", "John", date(1978, 6, 7), "M") if relationship != "self" else None
    coverage = CoverageCopy(uuid.uuid4(), patient.patient_id, "ACME01", "W123456789", "primary", relationship,
                            date(2026, 1, 1), subscriber=subscriber)  # fmt: skip
    encounter = EncounterVersion(
        encounter_id=uuid.uuid4(), version=1, patient_id=patient.patient_id, coverage_id=coverage.coverage_id,
        payer_id="ACME01", date_of_service=DAY, place_of_service="11", diagnoses=("M54.16", "I10"),
        lines=lines or (EncounterLine("99214", ("25",), Decimal(1), DAY, Decimal("185.00"), (1, 2)),),
        billing_provider_npi=BILLING_NPI, rendering_provider_npi=RENDERING_NPI,
    )  # fmt: skip
    claim = Claim.build(claim_id=uuid.uuid4(), encounter=encounter, coverage_order="primary", now=NOW, cause="e",
                        frequency=frequency, replaces_payer_claim_number=replaces)  # fmt: skip
    claim.scrubbed(ScrubRecord((), (), (), authorization), NOW, "scrub")
    return BillableClaim(claim, patient, coverage)


def test_a_batch_of_claims_is_an_837p_the_guide_accepts() -> None:
    mri = EncounterLine("72148", (), Decimal(1), DAY, Decimal("900.00"), (1,))
    drug = EncounterLine("J1100", (), Decimal(2), DAY, Decimal("12.00"), (1,), None, "00009047413")
    claims = [
        billable(mri, authorization="PA-2026-114"),
        billable(drug),
        billable(relationship="spouse"),
        billable(frequency="7", replaces="ACME777"),
    ]

    text = write_837p(claim_batch(claims, reference="B0417", payer=ACME, providers=PRACTICE, parties=PARTIES), ENVELOPE)

    assert_accepted_by_pyx12(text)
    segments = [tuple(segment) for segment in segments_of(text)]
    assert {s[:2] for s in segments if s[0] == "SBR"} == {("SBR", "P")}
    assert {s[9] for s in segments if s[0] == "SBR"} == {"12"}  # ACME01 files as a PPO
    assert ("REF", "G1", "PA-2026-114") in segments
    assert ("REF", "F8", "ACME777") in segments
    assert ("PAT", "01") in [s[:2] for s in segments]
    assert ("LIN", "", "N4", "00009047413") in segments
    clm01 = [s[1] for s in segments if s[0] == "CLM"]
    assert clm01 == [b.claim.patient_control_number for b in claims]
    assert ("REF", "6R", f"{claims[0].claim.patient_control_number}01") in segments
    assert "NM1*IL*1*DOE*JANE" in text  # the 837P names the patient; nothing else the service sends does


def test_a_service_at_a_hospital_names_the_facility_in_2310c_and_one_at_the_office_does_not() -> None:
    hospital = Facility("HOSP", "Springfield General", Address("800 E Carpenter St", "Springfield", "IL", "627690001"),
                        "1245319599")  # fmt: skip
    office = Facility("MAIN", "Office", PRACTICE.billing.address)
    directory = dataclasses.replace(PRACTICE, facilities=(hospital, office))
    at_hospital, at_office = billable(), billable()
    at_hospital = dataclasses.replace(
        at_hospital, claim=dataclasses.replace(at_hospital.claim, place_of_service="22", location="HOSP")
    )
    at_office = dataclasses.replace(at_office, claim=dataclasses.replace(at_office.claim, location="MAIN"))

    text = write_837p(
        claim_batch([at_hospital, at_office], reference="B1", payer=ACME, providers=directory, parties=PARTIES),
        ENVELOPE,
    )

    assert_accepted_by_pyx12(text)
    segments = [tuple(segment) for segment in segments_of(text)]
    assert [s for s in segments if s[:2] == ("NM1", "77")] == [
        ("NM1", "77", "2", "SPRINGFIELD GENERAL", "", "", "", "", "XX", "1245319599")
    ]
    assert ("N4", "SPRINGFIELD", "IL", "627690001") in segments


def test_a_batch_refuses_a_claim_for_another_payer() -> None:
    other = billable()
    other = dataclasses.replace(other, claim=dataclasses.replace(other.claim, payer_id="SUMMT1"))

    with pytest.raises(ValueError, match="one payer"):
        claim_batch([other], reference="B1", payer=ACME, providers=PRACTICE, parties=PARTIES)


def test_one_claim_as_sent_is_its_batch_with_only_its_own_subscriber_loop_and_claim() -> None:
    mine = billable(relationship="spouse")
    mine.claim.annotate(BillingNotes("PA-PHONE-7", "7", "CORRECTED DOB ON FILE"), NOW, "api:biller-1")
    others = [billable(), billable(relationship="child")]
    batch = claim_batch([others[0], mine, others[1]], reference="B0417", payer=ACME, providers=PRACTICE,
                        parties=PARTIES)  # fmt: skip
    text = write_837p(batch, ENVELOPE)

    alone = claim_as_sent(text, mine.claim.patient_control_number)

    assert_accepted_by_pyx12(alone)
    segments = [tuple(segment) for segment in segments_of(alone)]
    assert [s[1] for s in segments if s[0] == "CLM"] == [mine.claim.patient_control_number]
    assert [s[1:4] for s in segments if s[0] == "HL"] == [("1", "", "20"), ("2", "1", "22"), ("3", "2", "23")]
    assert ("REF", "G1", "PA-PHONE-7") in segments
    assert ("NTE", "ADD", "CORRECTED DOB ON FILE") in segments
    assert [s[20] for s in segments if s[0] == "CLM"] == ["7"]  # CLM20, the delay reason
    assert alone.startswith(text[:106])  # the interchange header as sent
    with pytest.raises(KeyError):
        claim_as_sent(text, "CNOTINTHISBATCH01")
