"""Asking the payer: a check is claimed and its 270 written in one transaction, the clearinghouse called
with no transaction open, and the answer recorded with its event in another. A process that dies between
the two leaves the check claimed until its lease runs out; the worker then asks again, so no check is
lost, and the attempt number keeps a late answer from overwriting a newer one. An answer that cannot be
recorded fails the check rather than leave it to be asked again and again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from rcm_common.audit import system_audit
from rcm_common.clearinghouse import ClearinghouseRefused, ClearinghouseUnavailable
from rcm_common.types import Clock, utcnow
from rcm_eligibility.adapters.clearinghouse import EligibilityGateway
from rcm_eligibility.adapters.x12_eligibility import Asker, build_270, read_271
from rcm_eligibility.domain.model import EligibilityCheck, RetryPolicy
from rcm_eligibility.service_layer.unit_of_work import EligibilityUnitOfWork
from rcm_x12.errors import X12Error

logger = logging.getLogger(__name__)

CONTROL_NUMBER_NAME = "270"
WORKER_ACTOR = "system:eligibility-worker"

Outcome = Callable[[EligibilityCheck, datetime], None]


worker_audit = system_audit(WORKER_ACTOR)
"""Who the worker is in the audit log when it discloses a patient's details to the clearinghouse."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One claimed attempt: what to send, and how to find the answer in the 271."""

    check_id: UUID
    number: int
    request_270: str = field(repr=False)
    trace: str
    member_id: str = field(repr=False)
    for_dependant: bool


class Checker:
    def __init__(
        self,
        uow_factory: Callable[[], EligibilityUnitOfWork],
        gateway: EligibilityGateway,
        asker: Asker,
        policy: RetryPolicy,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self._uow = uow_factory
        self._gateway = gateway
        self._asker = asker
        self._policy = policy
        self._clock = clock
        self._wakeup = asyncio.Event()

    @property
    def policy(self) -> RetryPolicy:
        return self._policy

    def wake(self) -> None:
        """Look for due checks now rather than at the next poll."""
        self._wakeup.set()

    async def perform(self, check_id: UUID) -> EligibilityCheck | None:
        """Ask the payer now about a check held for the caller (an on-demand request); the check as it
        then stands."""
        await self._ask_all(await self._claim(lambda uow: self._held(uow, check_id)))
        async with self._uow() as uow:
            return await uow.checks.get(check_id)

    async def run_due(self, limit: int) -> int:
        """Ask about every check that is due, up to `limit` at once; how many were asked."""
        attempts = await self._claim(lambda uow: uow.checks.claim_due(self._clock(), limit))
        await self._ask_all(attempts)
        return len(attempts)

    async def run(self, stop: asyncio.Event, *, limit: int, poll_seconds: float) -> None:
        """The background worker: due checks, as they come, until stopped."""
        while not stop.is_set():
            try:
                asked = await self.run_due(limit)
            except Exception as exc:
                logger.error("eligibility worker failed (%s); it tries again at the next poll", type(exc).__name__)
                asked = 0
            if asked:
                continue
            self._wakeup.clear()
            waiting = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wakeup.wait())]
            try:
                await asyncio.wait(waiting, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waiting:
                    task.cancel()

    async def _held(self, uow: EligibilityUnitOfWork, check_id: UUID) -> list[EligibilityCheck]:
        """The check held for this caller, unless the worker took it over after the hold ran out."""
        check = await uow.checks.get(check_id, for_update=True)
        if check is None or (check.attempts and check.lease_held(self._clock())):
            return []
        return [check]

    async def _claim(
        self, select: Callable[[EligibilityUnitOfWork], Awaitable[list[EligibilityCheck]]]
    ) -> list[_Attempt]:
        now = self._clock()
        attempts: list[_Attempt] = []
        async with self._uow() as uow:
            for check in await select(uow):
                if check.start_attempt(now, self._policy):
                    attempt = await self._attempt_for(uow, check)
                    if attempt is not None:
                        uow.record_access("disclose", "eligibility_check", check.id, check.patient_id)
                        attempts.append(attempt)
                await uow.checks.save(check)
            await uow.commit()
        return attempts

    async def _attempt_for(self, uow: EligibilityUnitOfWork, check: EligibilityCheck) -> _Attempt | None:
        """The attempt with its 270, or None (the check then refused) when the 270 cannot be written."""
        patient = await uow.patients.get(check.patient_id)
        coverage = await uow.coverages.get(check.coverage_id)
        now = self._clock()
        if patient is None or coverage is None:
            check.record_refusal(
                "request_refused", "the patient or coverage is not known to eligibility", now, self._policy
            )
            return None
        try:
            control_number = await uow.control_numbers.next(CONTROL_NUMBER_NAME)
            request_270 = build_270(check, patient, coverage, self._asker, control_number=control_number, now=now)
        except (X12Error, ValueError) as exc:
            check.record_refusal("request_refused", f"the 270 could not be written: {exc}", now, self._policy)
            return None
        return _Attempt(
            check.id,
            check.attempts,
            request_270,
            check.trace_number,
            coverage.member_id,
            coverage.subscriber is not None,
        )

    async def _ask_all(self, attempts: list[_Attempt]) -> None:
        results = await asyncio.gather(*(self._ask(attempt) for attempt in attempts), return_exceptions=True)
        for attempt, result in zip(attempts, results, strict=True):
            if isinstance(result, BaseException):
                # The answer could not even be recorded as a failure (the database away): the lease runs
                # out and the check is asked again, within its attempts.
                logger.error(
                    "eligibility check %s: attempt left unrecorded (%s)", attempt.check_id, type(result).__name__
                )

    async def _ask(self, attempt: _Attempt) -> None:
        policy = self._policy
        outcome: Outcome
        try:
            response = await self._gateway.eligibility(attempt.request_270)
            answer = read_271(response, attempt.trace, member_id=attempt.member_id, for_dependant=attempt.for_dependant)
        except ClearinghouseRefused as exc:
            refused = str(exc)
            outcome = lambda check, now: check.record_refusal("request_refused", refused, now, policy)  # noqa: E731
        except X12Error as exc:
            unreadable = f"the 271 could not be read: {exc}"
            outcome = lambda check, now: check.record_refusal("unreadable_response", unreadable, now, policy)  # noqa: E731
        except Exception as exc:  # ClearinghouseUnavailable, or any failure of the call itself: asked again later
            unreachable = (
                str(exc) if isinstance(exc, ClearinghouseUnavailable) else f"the call failed ({type(exc).__name__})"
            )
            outcome = lambda check, now: check.record_unreachable(unreachable, now, policy)  # noqa: E731
        else:
            outcome = lambda check, now: check.record_answer(answer, response, now, policy)  # noqa: E731
        try:
            await self._record(attempt, outcome)
        except Exception as exc:
            logger.error(
                "eligibility check %s: the answer could not be recorded (%s)", attempt.check_id, type(exc).__name__
            )
            reason = f"the answer could not be recorded ({type(exc).__name__})"
            await self._record(
                attempt, lambda check, now: check.record_refusal("unreadable_response", reason, now, policy)
            )

    async def _record(self, attempt: _Attempt, outcome: Outcome) -> None:
        async with self._uow() as uow:
            check = await uow.checks.get(attempt.check_id, for_update=True)
            if check is None or check.status != "pending" or check.attempts != attempt.number:
                return  # a newer attempt owns the check now
            outcome(check, self._clock())
            await uow.checks.save(check)
            await uow.commit()
        logger.info("eligibility check %s: %s after %d attempts", check.id, check.status, check.attempts)
