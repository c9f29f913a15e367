"""Eligibility's use cases over in-memory fakes: registration's events, the checker against a scripted
clearinghouse, estimates, authorisations and the appointment sweep."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest

from rcm_common.audit import AccessRecord
from rcm_common.clearinghouse import ClearinghouseUnavailable
from rcm_common.errors import Conflict, NotFound, ValidationFailed
from rcm_common.events import eligibility as contract
from rcm_common.events import registration as reg
from rcm_common.events.base import IntegrationEvent
from rcm_common.testing import sample_coverage_added, sample_patient_registered
from rcm_common.types import utcnow
from rcm_eligibility.adapters.x12_eligibility import Asker
from rcm_eligibility.domain.model import RetryPolicy
from rcm_eligibility.service_layer import commands, handlers
from rcm_eligibility.service_layer.checking import Checker
from rcm_eligibility.testing import (
    FakeStore,
    ScriptedClearinghouse,
    commercial_benefits,
    envelope,
    reply_for,
)
from rcm_x12.eligibility_response_writer import RequestRejection

ASKER = Asker("RCMPLATFORM", "RCMCLEARINGHSE", "RCM DEMO PRACTICE", "1234567893", "9000000001")
MAX_AGE = timedelta(days=30)
POLICY = RetryPolicy(delays=(timedelta(0), timedelta(0)), lease=timedelta(minutes=2))


EVENT_HANDLERS = handlers.event_handlers(utcnow)


async def feed(store: FakeStore, event: IntegrationEvent) -> None:
    """Apply one of registration's events as the consumer does, in a unit of work of its own."""
    async with store.uow() as uow:
        await EVENT_HANDLERS[type(event)](event, envelope(event), uow)
        await uow.commit()


async def registered(store: FakeStore, **coverage: object) -> reg.CoverageAdded:
    """Feed a patient and a coverage through the event handlers, as the consumer does."""
    patient = sample_patient_registered()
    await feed(store, patient)
    added = sample_coverage_added(patient.patient_id, **coverage)
    await feed(store, added)
    return added


def checker(store: FakeStore, *steps: object) -> tuple[Checker, ScriptedClearinghouse]:
    clearinghouse = ScriptedClearinghouse(list(steps))
    return Checker(store.uow, clearinghouse, ASKER, POLICY), clearinghouse


def active(request_270: str) -> str:
    return reply_for(request_270, benefits=commercial_benefits())


class TestRegistrationEvents:
    async def test_a_new_coverage_is_queued_for_a_check_at_once(self) -> None:
        store = FakeStore()
        added = await registered(store)
        [check] = store.checks.rows.values()
        assert (check.coverage_id, check.trigger, check.status, check.service_type) == (
            added.coverage_id, "coverage_added", "pending", "30"
        )  # fmt: skip

    async def test_a_coverage_starting_later_is_checked_for_its_first_day(self) -> None:
        store = FakeStore()
        await registered(store, effective_date=utcnow().date() + timedelta(days=10))
        [check] = store.checks.rows.values()
        assert check.date_of_service == utcnow().date() + timedelta(days=10)

    async def test_an_update_rechecks_only_when_the_payer_would_answer_differently(self) -> None:
        store = FakeStore()
        added = await registered(store)
        store.checks.rows.clear()
        fields = added.model_dump() | {"changed_fields": ("plan_type",)}
        cosmetic = reg.CoverageUpdated.model_validate(fields)
        await feed(store, cosmetic)
        assert store.checks.rows == {}
        changed = reg.CoverageUpdated.model_validate(fields | {"member_id": "ACM999", "changed_fields": ("member_id",)})
        await feed(store, changed)
        [check] = store.checks.rows.values()
        assert check.trigger == "coverage_updated"
        coverage = await store.coverages.get(added.coverage_id)
        assert coverage is not None
        assert coverage.member_id == "ACM999"

    async def test_an_ended_coverage_is_not_checked(self) -> None:
        store = FakeStore()
        await registered(store, termination_date=date(2026, 1, 31))
        assert store.checks.rows == {}

    async def test_a_merge_moves_coverages_and_their_checks_to_the_surviving_patient(self) -> None:
        store = FakeStore()
        added = await registered(store)
        survivor = uuid.uuid4()
        merged = reg.PatientsMerged(
            surviving_patient_id=survivor, merged_patient_id=added.patient_id, moved_coverage_ids=(added.coverage_id,)
        )
        await feed(store, merged)
        coverage = await store.coverages.get(added.coverage_id)
        assert coverage is not None
        assert coverage.patient_id == survivor
        assert {c.patient_id for c in store.checks.rows.values()} == {survivor}
        old = await store.patients.get(added.patient_id)
        assert old is not None
        assert old.merged_into == survivor


class TestChecker:
    async def test_a_verified_check_publishes_the_benefits(self) -> None:
        store = FakeStore()
        added = await registered(store)
        work, clearinghouse = checker(store, active)
        assert await work.run_due(limit=10) == 1
        [event] = store.published
        assert isinstance(event, contract.EligibilityVerified)
        assert (event.coverage_id, event.payer_id, event.trigger) == (added.coverage_id, "ACME01", "coverage_added")
        assert event.benefits.copays == (contract.ServiceCopay(service_type="98", amount=Decimal("25.00")),)
        [check] = store.checks.rows.values()
        assert store.accesses == [AccessRecord("disclose", "eligibility_check", str(check.id), str(added.patient_id))]
        assert check.status == "verified"
        assert check.response_271 is not None
        assert len(clearinghouse.asked) == 1
        assert await work.run_due(limit=10) == 0

    async def test_an_invalid_member_id_is_reported_with_its_aaa(self) -> None:
        store = FakeStore()
        await registered(store, member_id="NOTFOUND123")
        work, _ = checker(store, lambda text: reply_for(text, errors=(RequestRejection("72", "C"),)))
        await work.run_due(limit=10)
        [event] = store.published
        assert isinstance(event, contract.EligibilityCheckFailed)
        assert (event.kind, event.retry_scheduled, [e.code for e in event.errors]) == ("payer_rejected", False, ["72"])
        assert event.errors[0].meaning == "Invalid/Missing Subscriber/Insured ID"

    async def test_an_outage_is_retried_later_then_reported_never_lost(self) -> None:
        store = FakeStore()
        await registered(store)
        down = ClearinghouseUnavailable("the clearinghouse answered 503, after 4 attempts")
        work, clearinghouse = checker(store, down, down, down)
        for _ in range(3):
            await work.run_due(limit=10)
        failures = [e for e in store.published if isinstance(e, contract.EligibilityCheckFailed)]
        assert [(e.kind, e.attempts, e.retry_scheduled) for e in failures] == [
            ("clearinghouse_unavailable", 1, True),
            ("clearinghouse_unavailable", 2, True),
            ("clearinghouse_unavailable", 3, False),
        ]
        assert len(clearinghouse.asked) == 3
        [check] = store.checks.rows.values()
        assert check.status == "failed"

    async def test_an_outage_followed_by_an_answer_verifies(self) -> None:
        store = FakeStore()
        await registered(store)
        work, _ = checker(store, ClearinghouseUnavailable("down"), active)
        await work.run_due(limit=10)
        await work.run_due(limit=10)
        assert [type(e).__name__ for e in store.published] == ["EligibilityCheckFailed", "EligibilityVerified"]

    async def test_an_unreadable_answer_fails_without_retrying(self) -> None:
        store = FakeStore()
        await registered(store)
        work, _ = checker(store, lambda _text: "<html>bad gateway</html>")
        await work.run_due(limit=10)
        [event] = store.published
        assert isinstance(event, contract.EligibilityCheckFailed)
        assert (event.kind, event.retry_scheduled) == ("unreadable_response", False)

    async def test_an_on_demand_check_is_asked_at_once(self) -> None:
        store = FakeStore()
        added = await registered(store)
        store.checks.rows.clear()
        work, _ = checker(store, active)
        cmd = commands.RequestCheck(
            patient_id=added.patient_id,
            coverage_id=added.coverage_id,
            date_of_service=utcnow().date(),
            service_type="98",
        )
        check_id = await handlers.queue_check(cmd, store.uow(), utcnow, POLICY.lease)
        check = await work.perform(check_id)
        assert check is not None
        assert (check.status, check.service_type, check.trigger) == (
            "verified",
            "98",
            "on_demand",
        )

    async def test_an_on_demand_check_is_held_for_its_caller_not_raced_by_the_worker(self) -> None:
        store = FakeStore()
        added = await registered(store)
        store.checks.rows.clear()
        work, clearinghouse = checker(store, active)
        cmd = commands.RequestCheck(
            patient_id=added.patient_id, coverage_id=added.coverage_id, date_of_service=utcnow().date()
        )
        check_id = await handlers.queue_check(cmd, store.uow(), utcnow, POLICY.lease)
        assert await work.run_due(limit=10) == 0
        check = await work.perform(check_id)
        assert check is not None
        assert (check.status, check.attempts) == ("verified", 1)
        assert len(clearinghouse.asked) == 1

    async def test_an_answer_that_cannot_be_used_fails_the_check_once(self) -> None:
        store = FakeStore()
        await registered(store)

        def twenty_percent(text: str) -> str:
            return active(text).replace("EB*A*IND*30*****0.2*", "EB*A*IND*30*****20*")

        work, clearinghouse = checker(store, twenty_percent)
        await work.run_due(limit=10)
        [event] = store.published
        assert isinstance(event, contract.EligibilityCheckFailed)
        assert (event.kind, event.retry_scheduled) == ("unreadable_response", False)
        assert "EB08" in event.reason
        assert await work.run_due(limit=10) == 0
        assert len(clearinghouse.asked) == 1

    async def test_a_lost_attempt_is_asked_again_after_its_lease_and_its_late_answer_is_dropped(self) -> None:
        store = FakeStore()
        await registered(store)
        now = [utcnow()]
        released = asyncio.Event()

        class Stuck:
            async def eligibility(self, request_270: str) -> str:
                await released.wait()
                return reply_for(request_270, errors=(RequestRejection("72", "C"),))

        first = Checker(store.uow, Stuck(), ASKER, POLICY, clock=lambda: now[0])
        second = Checker(store.uow, ScriptedClearinghouse([active]), ASKER, POLICY, clock=lambda: now[0])
        stuck = asyncio.create_task(first.run_due(limit=10))
        await asyncio.sleep(0.05)
        assert await second.run_due(limit=10) == 0  # the first attempt's lease holds
        now[0] += POLICY.lease + timedelta(seconds=1)
        assert await second.run_due(limit=10) == 1  # attempt 2, once the lease ran out
        released.set()
        await stuck  # attempt 1's late answer (an AAA 72) is dropped
        [check] = store.checks.rows.values()
        assert (check.status, check.attempts) == ("verified", 2)
        assert store.published_types() == ["EligibilityVerified"]

    async def test_an_on_demand_check_refuses_bad_input_and_unknown_coverage(self) -> None:
        store = FakeStore()
        added = await registered(store)
        bad = commands.RequestCheck(
            patient_id=added.patient_id,
            coverage_id=added.coverage_id,
            date_of_service=date(2020, 1, 1),
            service_type="???",
        )
        with pytest.raises(ValidationFailed) as raised:
            await handlers.queue_check(bad, store.uow(), utcnow, POLICY.lease)
        assert {e["field"] for e in raised.value.errors} == {"service_type", "date_of_service"}
        stranger = commands.RequestCheck(
            patient_id=uuid.uuid4(), coverage_id=added.coverage_id, date_of_service=utcnow().date()
        )
        with pytest.raises(NotFound):
            await handlers.queue_check(stranger, store.uow(), utcnow, POLICY.lease)


class TestEstimatesAndAuthorizations:
    async def test_an_estimate_uses_the_latest_verified_benefits_and_the_allowed_amount_on_file(self) -> None:
        store = FakeStore()
        added = await registered(store)
        work, _ = checker(store, active)
        await work.run_due(limit=10)
        cmd = commands.RequestEstimate(
            patient_id=added.patient_id, coverage_id=added.coverage_id, procedure_code="70551", service_type="62"
        )
        with pytest.raises(ValidationFailed):
            await handlers.estimate(cmd, store.uow(), utcnow, max_age=MAX_AGE)
        await handlers.put_allowed_amounts(
            commands.PutAllowedAmounts(
                amounts=[commands.AllowedAmount(payer_id="ACME01", procedure_code="70551", amount=Decimal("1250.00"))]
            ),
            store.uow(),
            utcnow,
        )
        result = await handlers.estimate(cmd, store.uow(), utcnow, max_age=MAX_AGE)
        # $1,000 deductible left, then 20% of the remaining $250.
        assert (result.deductible, result.coinsurance, result.patient_responsibility) == (
            Decimal("1000.00"), Decimal("50.00"), Decimal("1050.00")
        )  # fmt: skip
        assert result.prior_authorization_required

    async def test_a_visit_of_several_services_spends_the_deductible_once(self) -> None:
        """The office visit's copay (stated for service type 98) is not quoted for the MRI (62): the MRI goes
        to the deductible, and what the first service takes of it is not there for the next."""
        store = FakeStore()
        added = await registered(store)
        work, _ = checker(store, active)
        await work.run_due(limit=10)
        services = [
            commands.PlannedServiceIn(procedure_code="99214", service_type="98", allowed_amount=Decimal("131.20")),
            commands.PlannedServiceIn(procedure_code="70551", service_type="62", allowed_amount=Decimal("700.00")),
            commands.PlannedServiceIn(procedure_code="70553", service_type="62", allowed_amount=Decimal("900.00")),
        ]
        cmd = commands.RequestEstimate(patient_id=added.patient_id, coverage_id=added.coverage_id, services=services)

        result = await handlers.estimate(cmd, store.uow(), utcnow, max_age=MAX_AGE)

        visit, first_mri, second_mri = result.services
        assert (visit.copay, visit.deductible) == (Decimal("25.00"), Decimal("0.00"))
        assert (first_mri.copay, first_mri.deductible, first_mri.coinsurance) == (
            Decimal("0.00"), Decimal("700.00"), Decimal("0.00")
        )  # fmt: skip
        assert (second_mri.deductible, second_mri.coinsurance) == (Decimal("300.00"), Decimal("120.00"))
        assert (result.deductible, result.patient_responsibility) == (Decimal("1000.00"), Decimal("1145.00"))
        assert result.procedure_code is None

    @pytest.mark.parametrize(
        ("days_later", "date_of_service", "refusal"),
        [
            (0, date(utcnow().year + 1, 1, 15), "another plan year"),  # its deductible is next year's
            (31, utcnow().date(), "more than 30 days old"),
        ],
    )
    async def test_an_estimate_refuses_benefits_of_another_plan_year_or_too_old(
        self, days_later: int, date_of_service: date | None, refusal: str
    ) -> None:
        store = FakeStore()
        added = await registered(store)
        work, _ = checker(store, active)
        await work.run_due(limit=10)
        later = utcnow() + timedelta(days=days_later)
        cmd = commands.RequestEstimate(
            patient_id=added.patient_id,
            coverage_id=added.coverage_id,
            date_of_service=date_of_service,
            procedure_code="99214",
            service_type="98",
            allowed_amount=Decimal("131.20"),
        )

        with pytest.raises(Conflict, match=refusal):
            await handlers.estimate(cmd, store.uow(), lambda: later, max_age=MAX_AGE)

    async def test_no_estimate_when_the_latest_answer_says_inactive(self) -> None:
        store = FakeStore()
        added = await registered(store)
        work, _ = checker(store, active, lambda text: reply_for(text, errors=(RequestRejection("72", "C"),)))
        await work.run_due(limit=10)
        cmd = commands.RequestCheck(
            patient_id=added.patient_id, coverage_id=added.coverage_id, date_of_service=utcnow().date()
        )
        await work.perform(await handlers.queue_check(cmd, store.uow(), utcnow, POLICY.lease))
        estimate = commands.RequestEstimate(
            patient_id=added.patient_id,
            coverage_id=added.coverage_id,
            procedure_code="99213",
            allowed_amount=Decimal("90.00"),
        )
        with pytest.raises(Conflict, match="not verified"):
            await handlers.estimate(estimate, store.uow(), utcnow, max_age=MAX_AGE)

    async def test_no_estimate_without_verified_eligibility(self) -> None:
        store = FakeStore()
        added = await registered(store)
        cmd = commands.RequestEstimate(
            patient_id=added.patient_id,
            coverage_id=added.coverage_id,
            procedure_code="99213",
            allowed_amount=Decimal("90.00"),
        )
        with pytest.raises(Conflict, match="check eligibility first"):
            await handlers.estimate(cmd, store.uow(), utcnow, max_age=MAX_AGE)

    async def test_an_authorisation_is_recorded_once_and_drawn_down(self) -> None:
        store = FakeStore()
        added = await registered(store)
        cmd = commands.RecordAuthorization(
            patient_id=added.patient_id,
            coverage_id=added.coverage_id,
            authorization_number="PA-77",
            procedure_codes=["97110"],
            units_authorized=6,
            start_date=date(2026, 11, 1),
            end_date=date(2027, 1, 31),
        )
        view = await handlers.record_authorization(cmd, store.uow(), utcnow)
        assert store.published_types() == ["PriorAuthorizationRecorded"]
        with pytest.raises(Conflict):
            await handlers.record_authorization(cmd, store.uow(), utcnow)
        used = await handlers.use_authorization(
            view.id,
            commands.UseAuthorization(procedure_code="97110", units=2, date_of_service=date(2026, 11, 5)),
            store.uow(),
            utcnow,
        )
        assert (used.units_used, used.units_remaining) == (2, 4)


async def test_the_sweep_queues_one_check_per_appointment_in_its_window() -> None:
    store = FakeStore()
    added = await registered(store)
    store.checks.rows.clear()
    today = utcnow().date()
    for days in (1, 5):
        await handlers.schedule_appointment(
            commands.ScheduleAppointment(
                patient_id=added.patient_id,
                coverage_id=added.coverage_id,
                date_of_service=today + timedelta(days=days),
                service_type="98",
            ),
            store.uow(),
            utcnow,
        )
    assert await handlers.sweep_appointments(store.uow(), utcnow, days_ahead=2, limit=100) == 1
    assert await handlers.sweep_appointments(store.uow(), utcnow, days_ahead=2, limit=100) == 0
    [check] = store.checks.rows.values()
    assert (check.trigger, check.service_type, check.date_of_service) == (
        "appointment_sweep",
        "98",
        today + timedelta(days=1),
    )
