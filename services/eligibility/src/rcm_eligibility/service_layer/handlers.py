"""Eligibility's use cases. Registration's events keep the local copies and queue a check for new or
changed coverage; HTTP commands ask on demand, estimate, and record authorisations and appointments.
Each runs in one unit of work: the change, its audit records and its events commit together or not at all.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from uuid import UUID

from rcm_common.errors import Conflict, NotFound, Problems, ValidationFailed
from rcm_common.events import registration as registration_contract
from rcm_common.events.base import IntegrationEvent
from rcm_common.messaging import EventHandler
from rcm_common.replica import CoverageState, replica_handlers
from rcm_common.types import Clock
from rcm_eligibility.domain import rules
from rcm_eligibility.domain.appointment import Appointment
from rcm_eligibility.domain.authorization import PriorAuthorization
from rcm_eligibility.domain.estimate import PlannedService, estimate_visit
from rcm_eligibility.domain.model import (
    RECHECK_FIELDS,
    CheckTrigger,
    CoverageCopy,
    EligibilityCheck,
    latest_per_coverage,
)
from rcm_eligibility.service_layer import commands
from rcm_eligibility.service_layer.projection import PROJECTION
from rcm_eligibility.service_layer.unit_of_work import EligibilityUnitOfWork
from rcm_eligibility.service_layer.views import (
    AllowedAmountsPublic,
    AppointmentPublic,
    AuthorizationPublic,
    CheckPublic,
    EstimatePublic,
)

# ---------------------------------------------------------------- registration's events (event-carried state)


def event_handlers(clock: Clock) -> dict[type[IntegrationEvent], EventHandler[EligibilityUnitOfWork]]:
    """Registration's events keep the copies (`rcm_common.replica`); a merge moves the checks of the moved
    coverages to the survivor, and a new or changed coverage is checked at once."""

    async def move_checks(uow: EligibilityUnitOfWork, merge: registration_contract.PatientsMerged) -> None:
        await uow.checks.repoint(merge.moved_coverage_ids, merge.surviving_patient_id)

    async def check_coverage(uow: EligibilityUnitOfWork, event: CoverageState, coverage: CoverageCopy) -> None:
        await queue_coverage_check(uow, event, coverage, clock())

    return replica_handlers(PROJECTION, clock, after_merge=move_checks, after_coverage=check_coverage)


async def queue_coverage_check(
    uow: EligibilityUnitOfWork, event: CoverageState, coverage: CoverageCopy, now: datetime
) -> None:
    """Queue a check of a coverage that is new, or changed in what the payer would answer."""
    if isinstance(event, registration_contract.CoverageUpdated):
        if not RECHECK_FIELDS.intersection(event.changed_fields):
            return
        trigger: CheckTrigger = "coverage_updated"
    else:
        trigger = "coverage_added"
    day = coverage.first_day_to_check(now.date())
    if day is None or await uow.patients.get(coverage.patient_id) is None:
        return
    if await uow.checks.pending_for(coverage.coverage_id, day, "30") is None:
        await uow.checks.add(
            EligibilityCheck.request(
                check_id=uuid.uuid4(),
                coverage=coverage,
                date_of_service=day,
                service_type="30",
                trigger=trigger,
                now=now,
            )
        )


# ---------------------------------------------------------------- commands


async def _coverage_of(uow: EligibilityUnitOfWork, patient_id: UUID, coverage_id: UUID) -> CoverageCopy:
    coverage = await uow.coverages.get(coverage_id)
    if coverage is None or coverage.patient_id != patient_id:
        raise NotFound("No such coverage for this patient is known to eligibility.")
    return coverage


async def queue_check(cmd: commands.RequestCheck, uow: EligibilityUnitOfWork, clock: Clock, hold: timedelta) -> UUID:
    """Record an on-demand check, held for `hold` for the caller to perform at once (the worker asks
    should the caller not)."""
    now = clock()
    problems = Problems()
    service_type = rules.service_type(problems, "service_type", cmd.service_type)
    rules.date_of_service(problems, "date_of_service", cmd.date_of_service, now.date())
    problems.raise_if_any()
    async with uow:
        coverage = await _coverage_of(uow, cmd.patient_id, cmd.coverage_id)
        if await uow.patients.get(cmd.patient_id) is None:
            raise NotFound("The patient is not known to eligibility yet.")
        check = EligibilityCheck.request(
            check_id=uuid.uuid4(),
            coverage=coverage,
            date_of_service=cmd.date_of_service,
            service_type=service_type,
            trigger="on_demand",
            now=now,
            held_until=now + hold,
        )
        await uow.checks.add(check)
        uow.record_access("create", "eligibility_check", check.id, check.patient_id)
        uow.respond(201, check.id)
        await uow.commit()
    return check.id


async def get_check(check_id: UUID, uow: EligibilityUnitOfWork) -> CheckPublic:
    async with uow:
        check = await uow.checks.get(check_id)
        if check is None:
            raise NotFound("No such eligibility check.")
        uow.record_access("read", "eligibility_check", check.id, check.patient_id)
        await uow.commit()
    return CheckPublic.of(check)


async def get_check_response(check_id: UUID, uow: EligibilityUnitOfWork) -> str:
    """The raw 271 as the payer sent it (it names the member: audited as an export)."""
    async with uow:
        check = await uow.checks.get(check_id)
        if check is None or check.response_271 is None:
            raise NotFound("No 271 is stored for this eligibility check.")
        uow.record_access("export", "eligibility_response", check.id, check.patient_id)
        await uow.commit()
    return check.response_271


async def patient_eligibility(patient_id: UUID, uow: EligibilityUnitOfWork) -> list[CheckPublic]:
    """The latest answered check per coverage of the patient."""
    async with uow:
        checks = latest_per_coverage(await uow.checks.for_patient(patient_id))
        uow.record_access("read", "eligibility", None, patient_id)
        await uow.commit()
    return [CheckPublic.of(check) for check in checks]


async def estimate(
    cmd: commands.RequestEstimate, uow: EligibilityUnitOfWork, clock: Clock, *, max_age: timedelta
) -> EstimatePublic:
    """A good-faith estimate of one service or several on a date of service, from the latest verified
    benefits of the coverage, refused when they are of another plan year or older than `max_age`."""
    now = clock()
    day = cmd.date_of_service or now.date()
    problems = Problems()
    asked = cmd.planned()
    if (cmd.procedure_code is None) == (not cmd.services):
        problems.add("services", "give one procedure_code, or services, not both and not neither")
    prefix = "services.{}." if cmd.services else ""  # a single service's fields are the request's own
    planned = [
        (
            rules.procedure_code(problems, f"{prefix.format(index)}procedure_code", service.procedure_code),
            rules.service_type(problems, f"{prefix.format(index)}service_type", service.service_type),
            service.allowed_amount,
        )
        for index, service in enumerate(asked)
    ]
    problems.raise_if_any()
    async with uow:
        coverage = await _coverage_of(uow, cmd.patient_id, cmd.coverage_id)
        answered = [c for c in await uow.checks.for_patient(cmd.patient_id) if c.coverage_id == coverage.coverage_id]
        latest = latest_per_coverage(answered)
        if not latest or latest[0].status != "verified" or latest[0].benefits is None:
            raise Conflict("The latest eligibility on file for this coverage is not verified: check eligibility first.")
        check = latest[0]
        refuse_stale_benefits(check, day, now, max_age)
        services = []
        missing = []
        for index, (code, service_type, given) in enumerate(planned):
            allowed = given if given is not None else await uow.allowed_amounts.get(coverage.payer_id, code)
            if allowed is None:
                missing.append({
                    "field": f"services.{index}.allowed_amount" if cmd.services else "allowed_amount",
                    "message": "no allowed amount is on file for this payer and code: give one",
                })  # fmt: skip
                continue
            services.append(PlannedService(code, service_type, allowed))
        if missing:
            raise ValidationFailed(missing)
        assert check.benefits is not None
        result = EstimatePublic.of(estimate_visit(check.benefits, services), check, day)
        uow.record_access("estimate", "eligibility", check.id, check.patient_id)
        await uow.commit()
    return result


def refuse_stale_benefits(check: EligibilityCheck, day: date, now: datetime, max_age: timedelta) -> None:
    """Benefits answer for their plan year and their moment: a deductible met last year, or a month-old
    answer, is not what the patient owes now (a new 271 is). The deductible and out-of-pocket amounts a 271
    states are for the plan year its date of service falls in: the calendar year (EB06 23), or the year from
    the plan's begin date's anniversary (EB06 22, 25); the plan's own dates bound them too."""
    benefits = check.benefits
    assert benefits is not None
    outside_plan = (benefits.plan_begin is not None and day < benefits.plan_begin) or (
        benefits.plan_end is not None and day > benefits.plan_end
    )
    start, end = benefits.plan_year_of(check.date_of_service)
    if outside_plan or not start <= day <= end:
        raise Conflict(
            f"The benefits on file are of another plan year than {day.isoformat()}: check eligibility for that date."
        )
    if check.completed_at is not None and now - check.completed_at > max_age:
        raise Conflict(
            f"The benefits on file are more than {max_age.days} days old: check eligibility again before estimating."
        )


async def put_allowed_amounts(
    cmd: commands.PutAllowedAmounts, uow: EligibilityUnitOfWork, clock: Clock
) -> AllowedAmountsPublic:
    problems = Problems()
    entries = [
        (
            rules.payer_id(problems, f"amounts[{i}].payer_id", entry.payer_id),
            rules.procedure_code(problems, f"amounts[{i}].procedure_code", entry.procedure_code),
            entry.amount,
        )
        for i, entry in enumerate(cmd.amounts)
    ]
    problems.raise_if_any()
    now = clock()
    async with uow:
        for payer_id, code, amount in entries:
            await uow.allowed_amounts.put(payer_id, code, amount, now)
        await uow.commit()
    return AllowedAmountsPublic(stored=len(entries))


async def record_authorization(
    cmd: commands.RecordAuthorization, uow: EligibilityUnitOfWork, clock: Clock
) -> AuthorizationPublic:
    now = clock()
    async with uow:
        coverage = await _coverage_of(uow, cmd.patient_id, cmd.coverage_id)
        authorization = PriorAuthorization.record(
            authorization_id=uuid.uuid4(),
            patient_id=cmd.patient_id,
            coverage_id=coverage.coverage_id,
            payer_id=coverage.payer_id,
            number=cmd.authorization_number,
            procedure_codes=cmd.procedure_codes,
            units_authorized=cmd.units_authorized,
            start_date=cmd.start_date,
            end_date=cmd.end_date,
            service_type=cmd.service_type,
            now=now,
        )
        if await uow.authorizations.find(authorization.payer_id, authorization.number) is not None:
            raise Conflict("This payer's authorisation number is already recorded.")
        await uow.authorizations.add(authorization)
        uow.record_access("create", "prior_authorization", authorization.id, authorization.patient_id)
        uow.respond(201, authorization.id)
        view = AuthorizationPublic.of(authorization, now.date())
        await uow.commit()
    return view


async def get_authorization(authorization_id: UUID, uow: EligibilityUnitOfWork, clock: Clock) -> AuthorizationPublic:
    async with uow:
        authorization = await uow.authorizations.get(authorization_id)
        if authorization is None:
            raise NotFound("No such prior authorisation.")
        uow.record_access("read", "prior_authorization", authorization.id, authorization.patient_id)
        await uow.commit()
    return AuthorizationPublic.of(authorization, clock().date())


async def list_authorizations(patient_id: UUID, uow: EligibilityUnitOfWork, clock: Clock) -> list[AuthorizationPublic]:
    today = clock().date()
    async with uow:
        found = await uow.authorizations.for_patient(patient_id)
        uow.record_access("read", "prior_authorization", None, patient_id)
        await uow.commit()
    return [AuthorizationPublic.of(authorization, today) for authorization in found]


async def use_authorization(
    authorization_id: UUID, cmd: commands.UseAuthorization, uow: EligibilityUnitOfWork, clock: Clock
) -> AuthorizationPublic:
    now = clock()
    async with uow:
        authorization = await uow.authorizations.get(authorization_id)
        if authorization is None:
            raise NotFound("No such prior authorisation.")
        authorization.use(
            procedure_code=cmd.procedure_code, units=cmd.units, date_of_service=cmd.date_of_service, now=now
        )
        await uow.authorizations.save(authorization)
        uow.record_access("update", "prior_authorization", authorization.id, authorization.patient_id)
        uow.respond(200, authorization.id)
        view = AuthorizationPublic.of(authorization, now.date())
        await uow.commit()
    return view


async def schedule_appointment(
    cmd: commands.ScheduleAppointment, uow: EligibilityUnitOfWork, clock: Clock
) -> AppointmentPublic:
    now = clock()
    problems = Problems()
    service_type = rules.service_type(problems, "service_type", cmd.service_type)
    if cmd.date_of_service < now.date():
        problems.add("date_of_service", "must be today or later")
    rules.date_of_service(problems, "date_of_service", cmd.date_of_service, now.date())
    problems.raise_if_any()
    async with uow:
        coverage = await _coverage_of(uow, cmd.patient_id, cmd.coverage_id)
        appointment = Appointment(
            id=uuid.uuid4(),
            patient_id=cmd.patient_id,
            coverage_id=coverage.coverage_id,
            date_of_service=cmd.date_of_service,
            service_type=service_type,
            created_at=now,
        )
        await uow.appointments.add(appointment)
        uow.record_access("create", "appointment", appointment.id, appointment.patient_id)
        uow.respond(201, appointment.id)
        await uow.commit()
    return AppointmentPublic.of(appointment)


async def get_appointment(appointment_id: UUID, uow: EligibilityUnitOfWork) -> AppointmentPublic:
    async with uow:
        appointment = await uow.appointments.get(appointment_id)
        if appointment is None:
            raise NotFound("No such appointment.")
        uow.record_access("read", "appointment", appointment.id, appointment.patient_id)
        await uow.commit()
    return AppointmentPublic.of(appointment)


async def cancel_appointment(appointment_id: UUID, uow: EligibilityUnitOfWork) -> AppointmentPublic:
    async with uow:
        appointment = await uow.appointments.get(appointment_id)
        if appointment is None:
            raise NotFound("No such appointment.")
        appointment.cancel()
        await uow.appointments.save(appointment)
        uow.record_access("update", "appointment", appointment.id, appointment.patient_id)
        await uow.commit()
    return AppointmentPublic.of(appointment)


async def sweep_appointments(uow: EligibilityUnitOfWork, clock: Clock, *, days_ahead: int, limit: int) -> int:
    """Queue a check for every scheduled appointment within `days_ahead` days that has none yet."""
    now = clock()
    queued = 0
    async with uow:
        for appointment in await uow.appointments.due(now.date(), days_ahead, limit):
            coverage = await uow.coverages.get(appointment.coverage_id)
            if coverage is None:
                continue
            pending = await uow.checks.pending_for(
                coverage.coverage_id, appointment.date_of_service, appointment.service_type
            )
            if pending is not None:
                appointment.check_id = pending.id
                await uow.appointments.save(appointment)
                continue
            check = EligibilityCheck.request(
                check_id=uuid.uuid4(),
                coverage=coverage,
                date_of_service=appointment.date_of_service,
                service_type=appointment.service_type,
                trigger="appointment_sweep",
                now=now,
            )
            await uow.checks.add(check)
            appointment.check_id = check.id
            await uow.appointments.save(appointment)
            queued += 1
        await uow.commit()
    return queued
