"""The denial-risk warning: the payer's record of a kind of service, smoothed toward the payer's rate, warns
only once enough claims show the pattern, counts each claim once, forgets what is outside its window, says
why in words and names the claims it rests on; through the scrubber it is a warning that never blocks."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from rcm_claim.adapters import serialization
from rcm_claim.domain.copies import CoverageCopy, EligibilityAnswer, Person
from rcm_claim.domain.denial_risk import (
    DecidedService,
    RiskKey,
    RiskSettings,
    denial_risk,
    diagnosis_category,
    line_diagnosis_category,
)
from rcm_claim.domain.directories import Address, BillingProvider, PayerProfile, Provider, ProviderDirectory
from rcm_claim.domain.findings import Finding, RuleRun, ScrubRecord
from rcm_claim.domain.model import Claim, EncounterLine, EncounterVersion
from rcm_claim.domain.rules import RULES
from rcm_claim.domain.scrubber import ClaimFacts, overridden, scrub
from rcm_claim.service_layer.views import ScrubPublic

TODAY = date(2026, 11, 10)
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
SETTINGS = RiskSettings()
MRI = RiskKey("ACME01", "72148", (), "M54")  # lumbar spine MRI for back pain


def decided(
    key: RiskKey = MRI, *, denied: bool, days_ago: int = 10, claim_id: uuid.UUID | None = None,
    reasons: tuple[str, ...] = ("CO-197",),
) -> DecidedService:  # fmt: skip
    return DecidedService(
        claim_id=claim_id or uuid.uuid4(),
        payer_id=key.payer_id,
        procedure_code=key.procedure_code,
        modifiers=key.modifiers,
        diagnosis_category=key.diagnosis_category,
        decided_on=TODAY - timedelta(days=days_ago),
        denied=denied,
        reasons=reasons if denied else (),
    )


def services(key: RiskKey, *, claims: int, denied: int, **changes: Any) -> list[DecidedService]:
    return [decided(key, denied=number < denied, **changes) for number in range(claims)]


OFFICE_VISIT = RiskKey("ACME01", "99214", (), "E11")


def payer_background(claims: int, denied: int) -> list[DecidedService]:
    """The payer's other decisions, on another kind of service, denied for another reason."""
    return services(OFFICE_VISIT, claims=claims, denied=denied, reasons=("CO-16",))


# --- the estimate ---------------------------------------------------------------------------------------------


def test_the_rate_is_the_beta_mean_smoothed_toward_the_payers_rate() -> None:
    # The payer decided 100 claims in the window, 10 denied: p0 = 0.1; with k = 10 the prior is Beta(1, 9).
    # The MRI's 20 claims, 8 denied: (1 + 8) / (10 + 20) = 0.3, between its raw 0.4 and the payer's 0.1.
    history = tuple(services(MRI, claims=20, denied=8) + payer_background(80, 2))

    risk = denial_risk(MRI, history, SETTINGS, TODAY)

    assert risk is not None
    assert (risk.claims, risk.denied) == (20, 8)
    assert risk.payer_rate == pytest.approx(0.1)
    assert risk.rate == pytest.approx(0.3)
    assert Fraction(risk.rate).limit_denominator(1000) == Fraction(9, 30)


def test_a_few_denials_of_a_rare_code_do_not_shout_and_a_long_record_speaks_for_itself() -> None:
    background = payer_background(95, 0)  # with the MRI's: the payer denies 3 of 100 or 120 of 495
    few = tuple(services(MRI, claims=5, denied=3) + background)
    many = tuple(services(MRI, claims=400, denied=120) + background)

    assert denial_risk(MRI, few, SETTINGS, TODAY) is None  # raw 60%, smoothed (0.3 + 3) / 15 = 22%
    risk = denial_risk(MRI, many, SETTINGS, TODAY)
    assert risk is not None
    assert risk.rate == pytest.approx((10 * 120 / 495 + 120) / 410)
    assert abs(risk.rate - 120 / 400) < 0.01  # the payer's ten claims weigh little against four hundred


def test_no_warning_before_the_minimum_claims_then_the_warning_once_the_history_shows_the_pattern() -> None:
    background = payer_background(50, 2)
    warned = []
    for claims in range(1, 9):  # one more denied MRI each time
        history = tuple(background + services(MRI, claims=claims, denied=claims))
        warned.append(denial_risk(MRI, history, SETTINGS, TODAY) is not None)

    # From three claims on the smoothed rate is above 25% ((0.94 + 3) / 13), yet five claims are needed.
    assert warned == [False, False, False, False, True, True, True, True]


def test_enough_claims_below_the_threshold_do_not_warn_nor_does_a_kind_never_denied() -> None:
    quiet = tuple(services(MRI, claims=30, denied=3) + payer_background(70, 7))  # (1 + 3) / 40 = 10%
    assert denial_risk(MRI, quiet, SETTINGS, TODAY) is None

    # A payer denying 60% of everything still leaves a kind it never denied without evidence, so no warning.
    never = tuple(services(MRI, claims=6, denied=0) + payer_background(20, 16))
    assert denial_risk(MRI, never, SETTINGS, TODAY) is None


def test_a_threshold_reached_exactly_warns() -> None:
    history = tuple(services(MRI, claims=20, denied=8) + payer_background(80, 2))  # exactly 0.3

    assert denial_risk(MRI, history, RiskSettings(threshold=0.3), TODAY) is not None
    assert denial_risk(MRI, history, RiskSettings(threshold=0.31), TODAY) is None


def test_records_outside_the_window_and_of_other_kinds_or_payers_are_ignored() -> None:
    inside = services(MRI, claims=5, denied=4, days_ago=89)
    too_old = services(MRI, claims=40, denied=0, days_ago=90)  # decided on today - 90 days: out
    future = services(MRI, claims=40, denied=0, days_ago=-1)  # not decided yet as of today
    other_payer = services(dataclasses.replace(MRI, payer_id="MCARE1"), claims=40, denied=0)
    other_modifier = services(RiskKey("ACME01", "72148", ("26",), "M54"), claims=5, denied=0)
    other_category = services(RiskKey("ACME01", "72148", (), "M51"), claims=5, denied=0)
    history = tuple(inside + too_old + future + other_payer + other_modifier + other_category)

    risk = denial_risk(MRI, history, SETTINGS, TODAY)

    assert risk is not None
    assert (risk.claims, risk.denied) == (5, 4)
    assert risk.payer_rate == pytest.approx(4 / 15)  # the MRI's and the two other ACME01 kinds', in the window
    assert denial_risk(MRI, tuple(too_old + inside[:1]), SETTINGS, TODAY) is None


def test_a_claim_with_two_lines_of_the_same_kind_counts_once_denied_if_either_was() -> None:
    two_lines = uuid.uuid4()
    history = (
        decided(denied=False, claim_id=two_lines),
        decided(denied=True, claim_id=two_lines, reasons=("CO-197", "N54")),
        *services(MRI, claims=4, denied=3),
        *payer_background(15, 0),
    )

    risk = denial_risk(MRI, history, SETTINGS, TODAY)

    assert risk is not None
    assert (risk.claims, risk.denied) == (5, 4)
    assert risk.payer_rate == pytest.approx(4 / 20)  # the payer counts claims once per kind too
    assert risk.top_reasons == (("CO-197", 4), ("N54", 1))
    assert risk.claim_ids.count(two_lines) == 1


def test_the_message_names_payer_code_counts_top_reason_and_rates_but_no_diagnosis() -> None:
    key = RiskKey("ACME01", "72148", ("26",), "M54")
    history = (
        *services(key, claims=38, denied=10, reasons=("CO-197",)),
        *services(key, claims=2, denied=2, reasons=("CO-4",)),  # 12 denied of 40, 10 of them CO-197
        *payer_background(110, 0),
    )

    risk = denial_risk(key, history, SETTINGS, TODAY)

    assert risk is not None
    assert risk.top_reasons == (("CO-197", 10), ("CO-4", 2))
    # The payer: 12 of 150 (8%); the kind: (0.8 + 12) / 50 (26%).
    assert risk.message == (
        "ACME01 denied 12 of 40 claims for 72148-26 with the same diagnosis category in the last 90 days, "
        "10 of them CO-197 (smoothed rate 26% against the payer's 8%)"
    )
    assert "M54" not in risk.message  # findings travel in ClaimScrubFailed, where no diagnosis may


def test_the_evidence_lists_the_denied_claims_and_all_the_claims_sorted() -> None:
    history = tuple(services(MRI, claims=10, denied=6) + payer_background(10, 0))

    risk = denial_risk(MRI, history, SETTINGS, TODAY)

    assert risk is not None
    mri = [service for service in history if service.procedure_code == "72148"]
    assert risk.denied_claim_ids == tuple(sorted(s.claim_id for s in mri if s.denied))
    assert risk.claim_ids == tuple(sorted(s.claim_id for s in mri))
    assert len(risk.denied_claim_ids) == 6


def test_a_kind_is_its_code_sorted_modifiers_and_diagnosis_category() -> None:
    assert RiskKey("ACME01", "72148", ("TC", "26"), "M54") == RiskKey("ACME01", "72148", ("26", "TC"), "M54")
    assert RiskKey("ACME01", "72148", ("TC", "26"), "M54").service == "72148-26-TC"
    assert diagnosis_category(" m5450 ") == "M54"
    assert line_diagnosis_category(("E11.9", "M54.50"), (2, 1)) == "M54"
    assert line_diagnosis_category(("E11.9",), (3,)) is None
    assert line_diagnosis_category(("E11.9",), ()) is None


@pytest.mark.parametrize(
    "changes",
    [{"window_days": 0}, {"prior_strength": 0}, {"prior_strength": float("nan")}, {"minimum_claims": 0},
     {"threshold": 0}, {"threshold": 1.01}],
)  # fmt: skip
def test_settings_are_positive_and_the_threshold_a_rate(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(changes))):
        RiskSettings(**changes)
    assert RiskSettings(threshold=1).threshold == 1


# --- the rule, through the scrubber ---------------------------------------------------------------------------

BILLING_NPI, RENDERING_NPI = "1234567893", "1497758544"
DIRECTORY = ProviderDirectory(
    BillingProvider("Springfield Family Medicine", BILLING_NPI, "371234567", "207Q00000X",
                    Address("100 Main St", "Springfield", "IL", "627011234")),
    (Provider("Osler", "William", RENDERING_NPI, "207R00000X"),),
)  # fmt: skip
ACME = PayerProfile("ACME01", "Acme Health Plan", "12", 90, 30, 500, 60)
PATIENT_ID, COVERAGE_ID = uuid.uuid4(), uuid.uuid4()


def claim(*lines: EncounterLine, diagnoses: tuple[str, ...] = ("E11.9", "M54.50")) -> Claim:
    encounter = EncounterVersion(
        encounter_id=uuid.uuid4(), version=1, patient_id=PATIENT_ID, coverage_id=COVERAGE_ID, payer_id="ACME01",
        date_of_service=TODAY - timedelta(days=3), place_of_service="11", diagnoses=diagnoses, lines=lines,
        billing_provider_npi=BILLING_NPI, rendering_provider_npi=RENDERING_NPI,
    )  # fmt: skip
    return Claim.build(claim_id=uuid.uuid4(), encounter=encounter, coverage_order="primary", now=NOW, cause="event:e")


def line(code: str, pointers: tuple[int, ...], modifiers: tuple[str, ...] = ()) -> EncounterLine:
    return EncounterLine(code, modifiers, Decimal(1), TODAY - timedelta(days=3), Decimal("185.00"), pointers)


def facts(subject: Claim, history: tuple[DecidedService, ...], **changes: Any) -> ClaimFacts:
    fields: dict[str, Any] = {
        "claim": subject,
        "today": TODAY,
        "payer": ACME,
        "providers": DIRECTORY,
        "patient": Person("Doe", "Jane", date(1960, 4, 1), "F"),
        "coverage": CoverageCopy(COVERAGE_ID, PATIENT_ID, "ACME01", "W123456789", "primary", "self", date(2026, 1, 1)),
        "eligibility": EligibilityAnswer(COVERAGE_ID, "active", NOW - timedelta(days=3), TODAY - timedelta(days=3)),
        "denial_history": history,
    }
    return ClaimFacts(**(fields | changes))


RISKY_HISTORY = tuple(services(MRI, claims=20, denied=8) + payer_background(80, 2))


def test_the_rule_warns_on_the_risky_line_with_its_evidence_and_the_claim_stays_ready() -> None:
    # Line 1 is an office visit for diabetes (E11: rarely denied); line 2 the MRI pointing first at M54.50.
    subject = claim(line("99214", (1,)), line("72148", (2, 1)))

    record = scrub(facts(subject, RISKY_HISTORY), RULES)
    subject.scrubbed(record, NOW, "event:e")

    (finding,) = record.findings
    risk = denial_risk(MRI, RISKY_HISTORY, SETTINGS, TODAY)
    assert risk is not None
    assert finding == Finding("DENIAL_RISK", 1, "warning", risk.message, 2, risk.denied_claim_ids)
    assert len(finding.evidence) == 8
    assert RuleRun("DENIAL_RISK", 1) in record.ran
    assert record.blocking_rules == ()
    assert subject.state == "ready"


def test_the_rule_is_a_warning_for_every_payer_that_may_be_overridden_and_skips_voids() -> None:
    rule = next(rule for rule in RULES if rule.code == "DENIAL_RISK")
    assert (rule.version, rule.severity, rule.payers, rule.overridable, rule.checks_voids) == (
        1, "warning", None, True, False,
    )  # fmt: skip

    subject = claim(line("72148", (2,)))
    record = scrub(facts(subject, RISKY_HISTORY), RULES)
    after = overridden(record, RULES, rule="DENIAL_RISK", reason="medical necessity documented", by="u1", at=NOW)
    assert [override.rule for override in after.overrides] == ["DENIAL_RISK"]
    assert after.overrides[0].covers(record.findings)

    void = claim(line("72148", (2,)))
    void.frequency = "8"
    assert "DENIAL_RISK" not in {run.rule for run in scrub(facts(void, RISKY_HISTORY), RULES).ran}


def test_the_rule_reads_the_practices_settings_and_is_quiet_without_history() -> None:
    subject = claim(line("72148", (2,)))

    strict = facts(subject, RISKY_HISTORY, risk_settings=RiskSettings(threshold=0.5))
    assert not [f for f in scrub(strict, RULES).findings if f.rule == "DENIAL_RISK"]
    assert not [f for f in scrub(facts(subject, ()), RULES).findings if f.rule == "DENIAL_RISK"]
    longer_record = facts(subject, RISKY_HISTORY, risk_settings=RiskSettings(minimum_claims=30))
    assert not [f for f in scrub(longer_record, RULES).findings if f.rule == "DENIAL_RISK"]


# --- storage and the claim's view -----------------------------------------------------------------------------


def test_evidence_is_stored_and_read_back_and_an_old_finding_reads_without_any() -> None:
    evidence = (uuid.uuid4(), uuid.uuid4())
    record = ScrubRecord(
        (RuleRun("DENIAL_RISK", 1),),
        (Finding("DENIAL_RISK", 1, "warning", "ACME01 denied ...", 2, evidence),
         Finding("COVERAGE_UNVERIFIED", 2, "warning", "no eligibility answer", None)),
    )  # fmt: skip

    stored = json.loads(serialization.dumps(serialization.scrub_to_json(record)))

    assert stored["findings"][0]["evidence"] == [str(claim_id) for claim_id in evidence]
    assert "evidence" not in stored["findings"][1]  # a finding without evidence is stored as before
    assert serialization.scrub_from_json(stored) == record
    before_evidence = {"rule": "PRIOR_AUTH", "version": 2, "severity": "blocking", "message": "m", "line": 1}
    old = {"ran": [], "findings": [before_evidence], "overrides": [], "authorization_number": None}
    read = serialization.scrub_from_json(old)
    assert read is not None
    assert read.findings == (Finding("PRIOR_AUTH", 2, "blocking", "m", 1),)
    assert read.findings[0].evidence == ()


def test_the_claims_view_shows_the_evidence_as_claim_ids() -> None:
    evidence = (uuid.uuid4(),)
    record = ScrubRecord(
        (RuleRun("DENIAL_RISK", 1),),
        (Finding("DENIAL_RISK", 1, "warning", "m", 2, evidence), Finding("TIMELY_FILING_NEAR", 2, "warning", "n")),
    )

    findings = ScrubPublic.of(record).model_dump(mode="json")["findings"]

    assert findings[0]["evidence_claim_ids"] == [str(evidence[0])]
    assert findings[1]["evidence_claim_ids"] == []
