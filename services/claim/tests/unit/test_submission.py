"""The claim workers over in-memory fakes: a batch is stored before it is sent, a 999 that rejects the set
rejects its claims with the IK3/IK4 problems in words, a refused file rejects them too, a claim the writer
cannot write is held without stopping the others, a 277CA waits while its claims' 999 is not applied, and
a correction held for the payer's answer goes once the payer answers."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from rcm_claim.adapters.acknowledgment_x12 import claim_answers, set_verdicts
from rcm_claim.adapters.claim_837 import BillableClaim, write_batch
from rcm_claim.bootstrap import sender_of
from rcm_claim.config import ClaimSettings
from rcm_claim.domain.acknowledgments import ClaimAnswer
from rcm_claim.domain.events import Problem
from rcm_claim.domain.rules import RULES
from rcm_claim.service_layer import submission
from rcm_claim.service_layer.acknowledgments import Acknowledger
from rcm_claim.service_layer.answers import apply_claim_answers
from rcm_claim.service_layer.handlers import charge_handlers, registration_handlers
from rcm_claim.service_layer.next_payers import NextPayers
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.submission import Submitter
from rcm_claim.testing import FakeStore, charges_captured
from rcm_clearinghouse_sim.testing import Clock, InProcessClearinghouse
from rcm_common.audit import AccessRecord
from rcm_common.clearinghouse import ClearinghouseRefused
from rcm_common.events.base import IntegrationEvent
from rcm_common.events.charge import ChargesCorrected
from rcm_common.testing import envelope_for, sample_coverage_added, sample_patient_registered
from rcm_x12 import read
from rcm_x12.acknowledgment_writer import write_999
from rcm_x12.structure_acknowledgment import acknowledge
from rcm_x12.writer import Envelope

START = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
SENDER = sender_of(ClaimSettings(environment="test"))


def write(claims: Sequence[Any], **kwargs: Any) -> str:
    return write_batch([BillableClaim(*claim) for claim in claims], sender=SENDER, now=START, **kwargs)


class Tampering:
    """A clearinghouse that answers each batch with the 999 its own structure check gives the batch as
    `tamper` changes it, as one that mangled the file on its way in would."""

    def __init__(self, tamper: Callable[[str], str]) -> None:
        self.tamper = tamper

    async def submit_claims(self, batch_837: str) -> str:
        [interchange] = read(self.tamper(batch_837))
        [group] = acknowledge(interchange)
        return write_999(group, Envelope("RCMCLEARSIM", "RCMPLATFORM", 9, 9, 1, START))


class Refusing:
    async def submit_claims(self, batch_837: str) -> str:
        raise ClearinghouseRefused(400)


def submitter(store: FakeStore, gateway: Any, clock: Clock) -> Submitter:
    return Submitter(store.uow, gateway, write, set_verdicts, Scrubber(RULES, clock), clock)


async def a_ready_claim(store: FakeStore, clock: Clock, payer: str = "ACME01") -> None:
    scrubber = Scrubber(RULES, clock)
    handlers = registration_handlers(scrubber) | charge_handlers(scrubber)
    patient = sample_patient_registered()
    coverage = sample_coverage_added(patient.patient_id, payer_id=payer)
    events: list[IntegrationEvent] = [
        patient,
        coverage,
        charges_captured(patient.patient_id, coverage.coverage_id, day=clock.now.date(), payer_id=payer),
    ]
    for event in events:
        async with store.uow() as uow:
            await handlers[type(event)](event, envelope_for(event), uow)
            await uow.commit()


async def test_a_999_rejecting_the_set_rejects_its_claims_with_the_problems_in_words() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    without_sbr = Tampering(lambda text: re.sub(r"SBR\*[^~]*~", "", text))
    clock.advance(61)

    outcome = await submitter(store, without_sbr, clock).run_once()

    [claim] = store.claims.rows.values()
    [batch] = store.batches.rows.values()
    assert (outcome.claims_submitted, outcome.claims_rejected) == (0, 1)
    assert (claim.state, batch.state) == ("rejected", "acknowledged")
    assert claim.rejection is not None
    assert claim.rejection.stage == "999"
    codes = [problem.code for problem in claim.rejection.problems]
    assert "IK3:3" in codes  # required segment missing
    [missing] = [problem for problem in claim.rejection.problems if problem.code == "IK3:3"]
    assert missing.meaning.startswith("Required segment missing: segment SBR")
    assert "ClaimRejected" in store.published_types()
    assert "ClaimSubmitted" not in store.published_types()
    assert AccessRecord("disclose", "claim", str(claim.id), str(claim.patient_id)) in store.accesses


async def test_a_file_the_clearinghouse_refuses_rejects_its_claims_and_is_not_sent_again() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    clock.advance(61)
    worker = submitter(store, Refusing(), clock)

    await worker.run_once()
    again = await worker.run_once()

    [claim] = store.claims.rows.values()
    [batch] = store.batches.rows.values()
    assert (claim.state, batch.state, again.sent) == ("rejected", "refused", 0)
    assert claim.rejection is not None
    assert [problem.code for problem in claim.rejection.problems] == ["REFUSED"]


async def test_a_claim_the_writer_cannot_write_is_held_and_the_others_go_next_round() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    await a_ready_claim(store, clock)
    bad = next(iter(store.claims.rows.values()))
    store.claims.rows[bad.id] = dataclasses.replace(bad, place_of_service="1*")  # a delimiter in CLM05
    clock.advance(61)
    gateway = InProcessClearinghouse.quiet(clock)
    worker = submitter(store, gateway, clock)

    first = await worker.run_once()
    second = await worker.run_once()

    held = store.claims.rows[bad.id]
    assert (first.built, second.built, second.claims_submitted) == (0, 1, 1)
    assert held.state == "ready"
    assert held.held is not None
    assert held.held.startswith("the 837P cannot be written")
    assert "1*" not in held.held


async def test_a_large_batch_is_written_beside_the_event_loop_and_an_unwritable_claim_in_it_is_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch of LARGE_X12_CLAIMS claims or more is written in a thread, and so is each of its claims alone
    when the batch cannot be written; the claims are held and batched on the loop all the same. A smaller
    batch is written on the loop. Large is three claims here: 64 ready claims take long to make."""
    monkeypatch.setattr(submission, "LARGE_X12_CLAIMS", 3)
    store, clock = FakeStore(), Clock(START)
    for _ in range(3):
        await a_ready_claim(store, clock)
    bad = next(iter(store.claims.rows.values()))
    store.claims.rows[bad.id] = dataclasses.replace(bad, place_of_service="1*")  # a delimiter in CLM05
    clock.advance(61)
    on_the_loop: list[bool] = []  # each write: on the event loop's thread or not

    def watched_write(claims: Sequence[Any], **kwargs: Any) -> str:
        on_the_loop.append(threading.get_ident() == loop_thread)
        return write(claims, **kwargs)

    loop_thread = threading.get_ident()
    worker = Submitter(store.uow, InProcessClearinghouse.quiet(clock), watched_write, set_verdicts,
                       Scrubber(RULES, clock), clock)  # fmt: skip
    first = await worker.run_once()
    second = await worker.run_once()

    assert (first.built, second.built, second.claims_submitted) == (0, 1, 2)
    assert store.claims.rows[bad.id].held is not None
    # the batch of three, then each of them alone, in threads; then the two others, on the loop
    assert on_the_loop == [False, False, False, False, True]


async def test_a_277ca_for_claims_whose_999_is_not_applied_waits_in_the_mailbox() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    clock.advance(61)
    gateway = InProcessClearinghouse.quiet(clock)
    gateway.lose_answers = 1
    worker = submitter(store, gateway, clock)
    await worker.run_once()  # the simulator takes the batch; its 999 is lost on the way back
    acknowledger = Acknowledger(store.uow, gateway, claim_answers, clock, NextPayers(Scrubber(RULES, clock)))

    waited = await acknowledger.run_once()
    [file] = await gateway.mailbox()
    await worker.run_once()  # the resend gets the first 999
    applied = await acknowledger.run_once()

    [claim] = store.claims.rows.values()
    assert (waited, file.kind, applied, claim.state) == (0, "277CA", 1, "accepted")
    assert await gateway.mailbox() == []


async def test_the_claims_held_for_a_rejected_claim_go_as_originals_and_the_rejected_claim_is_withdrawn() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    [original] = store.claims.rows.values()
    clock.advance(61)
    await submitter(store, InProcessClearinghouse.quiet(clock), clock).run_once()
    corrected = charges_captured(original.patient_id, original.coverage_id, codes=("99213",), day=START.date())
    event = ChargesCorrected.model_validate(
        corrected.model_dump() | {"encounter_id": original.encounter_id, "version": 2, "replaces_version": 1}
    )
    async with store.uow() as uow:
        await charge_handlers(Scrubber(RULES, clock))[ChargesCorrected](event, envelope_for(event), uow)
        await uow.commit()
    [replacement] = [claim for claim in store.claims.rows.values() if claim.encounter_version == 2]
    assert (replacement.frequency, replacement.waits_for) == ("7", original.id)
    unknown_member = Problem("A3:33", "Acknowledgement/Returned as unprocessable claim", "check the member id")

    async with store.uow() as uow:
        answer = ClaimAnswer(original.patient_control_number, False, None, (unknown_member,))
        assert await apply_claim_answers(uow, [answer], clock(), "277ca:test", NextPayers(Scrubber(RULES, clock))) == 1
        await uow.commit()

    went = store.claims.rows[replacement.id]
    assert store.claims.rows[original.id].state == "voided"
    assert (went.frequency, went.waits_for, went.replaces_payer_claim_number) == ("1", None, None)


class Answering:
    """A clearinghouse answering each batch with a fixed reply, or refusing it with a status."""

    def __init__(self, reply: str = "", status: int | None = None) -> None:
        self.reply, self.status, self.sent = reply, status, 0

    async def submit_claims(self, batch_837: str) -> str:
        self.sent += 1
        if self.status is not None:
            raise ClearinghouseRefused(self.status)
        return self.reply


async def test_an_answer_with_no_999_for_the_batch_leaves_it_to_be_sent_again() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    clock.advance(61)
    ta1_only = (
        "ISA*00*          *00*          *ZZ*RCMCLEARSIM    *ZZ*RCMPLATFORM    *261105*0900*^*00501*000000009*0*P*:~"
        "TA1*000000001*261105*0900*A*000~IEA*0*000000009~"
    )
    other_interchange = Tampering(lambda text: text.replace("*1*", "*7*", 1))  # its 999 names GS06 7, not 1

    await submitter(store, Answering(ta1_only), clock).run_once()
    await submitter(store, other_interchange, clock).run_once()

    [claim] = store.claims.rows.values()
    [batch] = store.batches.rows.values()
    assert (claim.state, batch.state, batch.attempts) == ("batched", "sent", 2)


async def test_a_clearinghouse_refusing_the_caller_rather_than_the_file_rejects_nothing() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    clock.advance(61)
    unauthorised = Answering(status=401)

    await submitter(store, unauthorised, clock).run_once()
    await submitter(store, unauthorised, clock).run_once()

    [claim] = store.claims.rows.values()
    [batch] = store.batches.rows.values()
    assert (claim.state, batch.state, unauthorised.sent) == ("batched", "sent", 2)


async def test_batches_for_several_payers_in_one_round_take_interchange_numbers_never_given_before() -> None:
    store, clock = FakeStore(), Clock(START)
    gateway = InProcessClearinghouse.quiet(clock)
    for _round in range(3):
        await a_ready_claim(store, clock)
        await a_ready_claim(store, clock, payer="SUMMT1")
        clock.advance(61)
        await submitter(store, gateway, clock).run_once()

    numbers = sorted(batch.interchange_control_number for batch in store.batches.rows.values())
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert {claim.state for claim in store.claims.rows.values()} == {"submitted"}


async def test_an_interchange_the_clearinghouse_rejects_on_a_ta1_rejects_its_claims_with_the_note_in_words() -> None:
    store, clock = FakeStore(), Clock(START)
    await a_ready_claim(store, clock)
    clock.advance(61)
    ta1_rejected = (
        "ISA*00*          *00*          *ZZ*RCMCLEARSIM    *ZZ*RCMPLATFORM    *261105*0900*^*00501*000000009*0*P*:~"
        "TA1*0001*261105*0900*R*024~IEA*0*000000009~"
    )

    await submitter(store, Answering(ta1_rejected), clock).run_once()

    [claim] = store.claims.rows.values()
    assert claim.state == "rejected"
    assert claim.rejection is not None
    assert [(p.code, p.meaning) for p in claim.rejection.problems] == [
        ("TA1:024", "Invalid Interchange Content (e.g., Invalid GS Segment)")
    ]
