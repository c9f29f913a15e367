"""Eligibility's domain rules: the check's life, the estimate's arithmetic, authorisations and the sweep."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from rcm_common.errors import ValidationFailed
from rcm_eligibility.domain import events
from rcm_eligibility.domain.appointment import Appointment
from rcm_eligibility.domain.authorization import AuthorizationNotUsable, PriorAuthorization
from rcm_eligibility.domain.benefits import (
    Accumulator,
    Benefits,
    PayerAnswer,
    PayerError,
    PlanAccumulator,
    ServiceCoinsurance,
    ServiceCopay,
)
from rcm_eligibility.domain.estimate import estimate
from rcm_eligibility.domain.model import CoverageCopy, EligibilityCheck, RetryPolicy
from rcm_eligibility.testing import NOW, later

POLICY = RetryPolicy(delays=(timedelta(seconds=30), timedelta(minutes=5)), lease=timedelta(minutes=2))
ACTIVE = Benefits(active=True, plan_begin=date(2026, 1, 1))


def coverage(**changes: object) -> CoverageCopy:
    fields: dict[str, object] = {
        "coverage_id": uuid.uuid4(),
        "patient_id": uuid.uuid4(),
        "payer_id": "ACME01",
        "payer_name": "Acme Health Plan",
        "member_id": "ACM1",
        "relationship": "self",
        "effective_date": date(2026, 1, 1),
        "order": "primary",
    }
    return CoverageCopy(**(fields | changes))  # type: ignore[arg-type]


def new_check(day: date = date(2026, 11, 2)) -> EligibilityCheck:
    check = EligibilityCheck.request(
        check_id=uuid.uuid4(), coverage=coverage(), date_of_service=day, service_type="30", trigger="on_demand", now=NOW
    )
    check.start_attempt(NOW, POLICY)
    return check


def aaa(code: str, follow_up: str, level: str = "subscriber") -> PayerError:
    return PayerError(level=level, code=code, meaning="meaning", follow_up=follow_up, follow_up_meaning=None)


class TestCheckLife:
    def test_an_active_answer_verifies_and_records_the_event(self) -> None:
        check = new_check()
        check.record_answer(PayerAnswer(ACTIVE), "ISA...", later(1), POLICY)
        assert (check.status, check.failure, check.next_attempt_at) == ("verified", None, None)
        assert isinstance(check.events[-1], events.CheckVerified)

    def test_an_inactive_answer_fails_for_good(self) -> None:
        check = new_check()
        check.record_answer(PayerAnswer(Benefits(active=False)), "ISA...", later(1), POLICY)
        assert check.status == "failed"
        assert check.failure is not None
        assert check.failure.kind == "coverage_inactive"
        assert isinstance(check.events[-1], events.CheckFailed)
        assert not check.events[-1].retry_scheduled

    def test_plan_dates_that_exclude_the_date_of_service_are_inactive_coverage(self) -> None:
        check = new_check(date(2026, 11, 2))
        check.record_answer(PayerAnswer(Benefits(active=True, plan_end=date(2026, 9, 30))), "ISA", later(1), POLICY)
        assert check.failure is not None
        assert check.failure.kind == "coverage_inactive"

    def test_an_invalid_member_id_is_a_payer_rejection_naming_the_aaa(self) -> None:
        check = new_check()
        check.record_answer(PayerAnswer(None, (aaa("72", "C"),)), "ISA", later(1), POLICY)
        assert check.status == "failed"
        assert check.failure is not None
        assert check.failure.kind == "payer_rejected"
        assert "AAA 72" in check.failure.reason

    def test_payer_unable_to_respond_now_is_asked_again_later(self) -> None:
        check = new_check()
        check.record_answer(PayerAnswer(None, (aaa("42", "R", "source"),)), "ISA", later(1), POLICY)
        assert check.status == "pending"
        assert check.next_attempt_at == later(1) + timedelta(seconds=30)
        assert isinstance(check.events[-1], events.CheckFailed)
        assert check.events[-1].retry_scheduled

    def test_an_unreachable_clearinghouse_is_retried_then_reported_as_failed(self) -> None:
        check = new_check()
        check.record_unreachable("down", later(1), POLICY)
        assert (check.status, check.next_attempt_at) == ("pending", later(1) + timedelta(seconds=30))
        check.start_attempt(later(2), POLICY)
        check.record_unreachable("down", later(3), POLICY)
        assert check.next_attempt_at == later(3) + timedelta(minutes=5)
        check.start_attempt(later(10), POLICY)
        check.record_unreachable("down", later(11), POLICY)
        assert (check.status, check.attempts) == ("failed", 3)
        assert check.next_attempt_at is None
        retries = [e.retry_scheduled for e in check.events if isinstance(e, events.CheckFailed)]
        assert retries == [True, True, False]

    def test_a_later_success_clears_the_failure(self) -> None:
        check = new_check()
        check.record_unreachable("down", later(1), POLICY)
        check.start_attempt(later(2), POLICY)
        check.record_answer(PayerAnswer(ACTIVE), "ISA", later(3), POLICY)
        assert (check.status, check.failure) == ("verified", None)

    def test_a_completed_check_cannot_be_claimed_again(self) -> None:
        check = new_check()
        check.record_answer(PayerAnswer(ACTIVE), "ISA", later(1), POLICY)
        assert not check.start_attempt(later(2), POLICY)
        assert check.attempts == 1

    def test_attempts_that_never_recorded_an_answer_are_bounded(self) -> None:
        check = new_check()  # attempt 1, whose answer was never recorded: the lease ran out
        for minutes in range(1, POLICY.max_attempts):
            assert check.start_attempt(later(minutes * 3), POLICY)
        assert not check.start_attempt(later(60), POLICY)
        assert (check.status, check.attempts) == ("failed", POLICY.max_attempts)
        assert check.failure is not None
        assert check.failure.kind == "attempts_exhausted"
        assert isinstance(check.events[-1], events.CheckFailed)

    def test_a_check_held_for_its_caller_is_not_due_until_the_hold_runs_out(self) -> None:
        held = EligibilityCheck.request(
            check_id=uuid.uuid4(), coverage=coverage(), date_of_service=date(2026, 11, 2), service_type="30",
            trigger="on_demand", now=NOW, held_until=later(2),
        )  # fmt: skip
        assert held.next_attempt_at == later(2)
        assert held.start_attempt(later(1), POLICY)
        assert held.lease_held(later(2))
        assert not held.lease_held(later(4))

    def test_a_coverage_is_checked_from_its_first_day_and_not_after_its_end(self) -> None:
        today = date(2026, 11, 2)
        assert coverage().first_day_to_check(today) == today
        assert coverage(effective_date=date(2026, 12, 1)).first_day_to_check(today) == date(2026, 12, 1)
        assert coverage(termination_date=date(2026, 10, 31)).first_day_to_check(today) is None


class TestEstimate:
    BENEFITS = Benefits(
        active=True,
        copays=(ServiceCopay("98", Decimal("25.00")),),
        coinsurance=(ServiceCoinsurance("30", Decimal("0.2")),),
        deductible=Accumulator(Decimal("1500.00"), Decimal("100.00")),
        out_of_pocket=Accumulator(Decimal("6000.00"), Decimal("5200.00")),
        prior_authorization_service_types=("62",),
    )

    def test_a_copay_service_owes_the_copay_only(self) -> None:
        result = estimate(self.BENEFITS, "98", Decimal("120.00"))
        assert (result.copay, result.deductible, result.coinsurance) == (Decimal("25.00"), Decimal(0), Decimal(0))
        assert (result.patient_responsibility, result.plan_payment) == (Decimal("25.00"), Decimal("95.00"))

    def test_deductible_then_coinsurance_on_the_rest(self) -> None:
        result = estimate(self.BENEFITS, "30", Decimal("350.00"))
        assert (result.deductible, result.coinsurance) == (Decimal("100.00"), Decimal("50.00"))
        assert (result.patient_responsibility, result.plan_payment) == (Decimal("150.00"), Decimal("200.00"))

    def test_the_out_of_pocket_maximum_caps_the_total(self) -> None:
        nearly_met = Benefits(
            active=True,
            coinsurance=(ServiceCoinsurance("30", Decimal("0.5")),),
            deductible=Accumulator(remaining=Decimal("0.00")),
            out_of_pocket=Accumulator(remaining=Decimal("40.00")),
        )
        result = estimate(nearly_met, "30", Decimal("1000.00"))
        assert result.patient_responsibility == Decimal("40.00")
        assert "capped at the out-of-pocket maximum still remaining" in result.assumptions

    def test_unstated_benefits_are_named_as_assumptions(self) -> None:
        result = estimate(Benefits(active=True), "30", Decimal("80.00"))
        assert result.patient_responsibility == Decimal("0.00")
        assert len(result.assumptions) == 3

    def test_prior_authorisation_is_flagged_and_cents_round_half_up(self) -> None:
        result = estimate(self.BENEFITS, "62", Decimal("100.05"))
        assert result.prior_authorization_required
        assert result.coinsurance == Decimal("0.01")  # (100.05 - 100.00) x 20% = 0.01


class TestPriorAuthorization:
    def record(self, **changes: object) -> PriorAuthorization:
        fields: dict[str, object] = {
            "authorization_id": uuid.uuid4(),
            "patient_id": uuid.uuid4(),
            "coverage_id": uuid.uuid4(),
            "payer_id": "ACME01",
            "number": "PA-2026-001",
            "procedure_codes": ["97110", "97110", "97140"],
            "units_authorized": 12,
            "start_date": date(2026, 11, 1),
            "end_date": date(2026, 12, 31),
            "service_type": "PT",
            "now": NOW,
        }
        return PriorAuthorization.record(**(fields | changes))  # type: ignore[arg-type]

    def test_recording_keeps_codes_once_and_records_the_event(self) -> None:
        authorization = self.record()
        assert authorization.procedure_codes == ("97110", "97140")
        assert isinstance(authorization.events[0], events.AuthorizationRecorded)

    def test_bad_input_names_every_field(self) -> None:
        with pytest.raises(ValidationFailed) as raised:
            self.record(number="", procedure_codes=["9911"], units_authorized=0, end_date=date(2026, 10, 1))
        assert {e["field"] for e in raised.value.errors} == {
            "authorization_number", "procedure_codes[0]", "units_authorized", "end_date"
        }  # fmt: skip

    def test_units_are_drawn_down_until_exhausted(self) -> None:
        authorization = self.record()
        authorization.use(procedure_code="97110", units=8, date_of_service=date(2026, 11, 3), now=NOW)
        assert (authorization.units_remaining, authorization.status(date(2026, 11, 3))) == (4, "active")
        with pytest.raises(AuthorizationNotUsable, match="4 units left"):
            authorization.use(procedure_code="97110", units=5, date_of_service=date(2026, 11, 4), now=NOW)
        authorization.use(procedure_code="97140", units=4, date_of_service=date(2026, 11, 4), now=NOW)
        assert authorization.status(date(2026, 11, 4)) == "exhausted"

    def test_a_use_outside_the_dates_or_codes_changes_nothing(self) -> None:
        authorization = self.record()
        for code, day in (("97110", date(2027, 1, 2)), ("99213", date(2026, 11, 3))):
            with pytest.raises(AuthorizationNotUsable):
                authorization.use(procedure_code=code, units=1, date_of_service=day, now=NOW)
        assert authorization.units_used == 0
        assert authorization.status(date(2027, 1, 1)) == "expired"
        assert authorization.status(date(2026, 10, 1)) == "not_yet_valid"


def test_an_appointment_is_due_once_within_the_window() -> None:
    appointment = Appointment(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), date(2026, 11, 4), "98", NOW)
    today = date(2026, 11, 2)
    assert not appointment.due_for_check(today, 1)
    assert appointment.due_for_check(today, 2)
    appointment.check_id = uuid.uuid4()
    assert not appointment.due_for_check(today, 2)
    appointment.check_id = None
    appointment.cancel()
    assert not appointment.due_for_check(today, 2)


def test_what_is_left_of_the_family_deductible_caps_an_embedded_individual_one() -> None:
    """An embedded deductible: each member's is met at the individual amount or once the family's is met,
    whichever comes first, so what is left to the member is never more than what is left to the family."""
    benefits = Benefits(
        active=True,
        accumulators=(
            PlanAccumulator("deductible", None, "IND", Decimal("1500.00"), Decimal("1000.00")),
            PlanAccumulator("deductible", None, "FAM", Decimal("3000.00"), Decimal("300.00")),
        ),
    )

    assert benefits.deductible_for("98") == Accumulator(Decimal("1500.00"), Decimal("300.00"))
    assert estimate(benefits, "98", Decimal("500.00")).deductible == Decimal("300.00")


def test_a_family_deductible_stated_alone_applies_to_each_member() -> None:
    """A non-embedded deductible: the payer states only the family's, which the family meets together."""
    benefits = Benefits(
        active=True, accumulators=(PlanAccumulator("deductible", None, "FAM", Decimal("2000.00"), Decimal("2000.00")),)
    )
    assert estimate(benefits, "98", Decimal("500.00")).deductible == Decimal("500.00")


def test_amounts_stated_for_a_contract_year_run_from_the_plans_anniversary() -> None:
    """EB06 25 (contract) or 22 (service year): a July plan's deductible runs July to June, so a January
    date is in the same plan year as the autumn check, and a July date is the next one's."""
    contract = Benefits(
        active=True,
        plan_begin=date(2024, 7, 1),
        accumulators=(
            PlanAccumulator("deductible", None, "IND", Decimal("1000.00"), Decimal("400.00"), "anniversary"),
        ),
    )
    calendar = Benefits(
        active=True, accumulators=(PlanAccumulator("deductible", None, "IND", Decimal("1000.00"), Decimal("400.00")),)
    )

    assert contract.plan_year_of(date(2026, 10, 1)) == (date(2026, 7, 1), date(2027, 6, 30))
    assert contract.plan_year_of(date(2027, 1, 15)) == (date(2026, 7, 1), date(2027, 6, 30))
    assert calendar.plan_year_of(date(2026, 10, 1)) == (date(2026, 1, 1), date(2026, 12, 31))
