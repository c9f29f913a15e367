"""Each domain event a claim records becomes its contract event, carrying the claim as it was stored:
ClaimSubmitted with everything remittance needs to match an 835."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from rcm_claim.domain import events
from rcm_claim.domain.findings import Finding, RuleRun, ScrubRecord
from rcm_claim.domain.model import Claim, EncounterLine, EncounterVersion
from rcm_claim.service_layer.mapping import to_integration_event
from rcm_common.events import claim as contract
from rcm_common.events.base import IntegrationEvent

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
DAY = date(2026, 11, 2)
HELD = Finding("PRIOR_AUTH", 1, "blocking", "72148 needs a prior authorisation on file for 2026-11-02", 1)


def a_claim() -> Claim:
    encounter = EncounterVersion(
        encounter_id=uuid.uuid4(),
        version=2,
        patient_id=uuid.uuid4(),
        coverage_id=uuid.uuid4(),
        payer_id="ACME01",
        date_of_service=DAY,
        place_of_service="11",
        diagnoses=("M54.16",),
        lines=(
            EncounterLine("72148", (), Decimal(1), DAY, Decimal("900.00"), (1,), Decimal("412.00")),
            EncounterLine("99214", ("25",), Decimal(1), DAY, Decimal("185.00"), (1,)),
        ),
        billing_provider_npi="1234567893",
    )
    return Claim.build(claim_id=uuid.uuid4(), encounter=encounter, coverage_order="primary", now=NOW, cause="event:e")


def mapped(claim: Claim) -> list[IntegrationEvent]:
    published = [to_integration_event(claim, event) for event in claim.events]
    claim.events.clear()
    return published


def test_a_claims_life_maps_to_its_contract_events() -> None:
    claim = a_claim()
    created = mapped(claim)
    claim.scrubbed(ScrubRecord((RuleRun("PRIOR_AUTH", 1),), (HELD,)), NOW, "scrub:1")
    scrub_failed = mapped(claim)
    claim.scrubbed(ScrubRecord((RuleRun("PRIOR_AUTH", 1),), ()), NOW, "event:auth")
    batch = uuid.uuid4()
    claim.batch(batch, NOW, "batch:1")
    claim.submit("000000417", NOW, "batch:1")
    submitted = mapped(claim)
    claim.accept("ACME2026110400917", NOW, "event:277ca")
    accepted = mapped(claim)

    assert created == [
        contract.ClaimCreated(
            claim_id=claim.id,
            patient_id=claim.patient_id,
            payer_id="ACME01",
            encounter_id=claim.encounter_id,
            encounter_version=2,
            coverage_id=claim.coverage_id,
            responsibility="P",
            patient_control_number=claim.patient_control_number,
            frequency="1",
            date_of_service=DAY,
            total_charge=Decimal("1085.00"),
        )
    ]
    assert isinstance(scrub_failed[0], contract.ClaimScrubFailed)
    assert scrub_failed[0].blocking_rules == ("PRIOR_AUTH",)
    assert scrub_failed[0].findings[0].message == HELD.message
    sent = submitted[0]
    assert isinstance(sent, contract.ClaimSubmitted)
    assert (sent.batch_id, sent.interchange_control_number, sent.total_charge) == (
        batch,
        "000000417",
        Decimal("1085.00"),
    )
    assert [
        (line.line_control_number, line.procedure_code, line.modifiers, line.expected_allowed) for line in sent.lines
    ] == [
        (f"{claim.patient_control_number}01", "72148", (), Decimal("412.00")),
        (f"{claim.patient_control_number}02", "99214", ("25",), None),
    ]
    assert accepted == [
        contract.ClaimAccepted(
            claim_id=claim.id,
            patient_id=claim.patient_id,
            payer_id="ACME01",
            patient_control_number=claim.patient_control_number,
            payer_claim_number="ACME2026110400917",
        )
    ]


def test_a_rejection_a_replacement_and_a_void_map_with_their_details() -> None:
    claim = a_claim()
    claim.scrubbed(ScrubRecord((), ()), NOW, "scrub:1")
    claim.batch(uuid.uuid4(), NOW, "batch:1")
    claim.submit("000000001", NOW, "batch:1")
    claim.events.clear()
    problem = events.Problem("A7:562", "Entity's Identification Number", "check the member id")
    claim.reject("277CA", (problem,), NOW, "event:277ca")
    claim.scrubbed(ScrubRecord((), ()), NOW, "api:biller-1")
    claim.batch(uuid.uuid4(), NOW, "batch:2")
    claim.submit("000000002", NOW, "batch:2")
    claim.accept("ACME1", NOW, "event:277ca")
    replacement = uuid.uuid4()
    claim.replaced_by(replacement, NOW, "event:corrected")

    published = mapped(claim)

    rejected = published[0]
    assert isinstance(rejected, contract.ClaimRejected)
    assert (rejected.stage, rejected.problems) == ("277CA", (contract.Problem(code="A7:562",
        meaning="Entity's Identification Number", suggested_fix="check the member id"),))  # fmt: skip
    replaced = published[-1]
    assert isinstance(replaced, contract.ClaimReplaced)
    assert (replaced.replacement_claim_id, replaced.encounter_version) == (replacement, 2)

    draft = a_claim()
    draft.events.clear()
    draft.void("encounter_voided", NOW, "event:voided")
    voided = mapped(draft)[0]
    assert isinstance(voided, contract.ClaimVoided)
    assert (voided.reason, voided.void_sent, voided.encounter_id) == ("encounter_voided", False, draft.encounter_id)


def test_an_event_of_something_other_than_a_claim_is_refused() -> None:
    with pytest.raises(TypeError, match="not of str"):
        to_integration_event("claim", events.ClaimCreated())
