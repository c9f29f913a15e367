"""The end-to-end benchmark's watcher: it follows an encounter to its balance change by the ids the events carry,
counts a record delivered twice once, and names lost, duplicated and out-of-order claims."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import ConsumerRecord

from rcm_tools.benchmarks.cycle_watch import CycleWatch

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Stream:
    """Records as the topics hold them, each with its envelope headers, a second apart."""

    def __init__(self) -> None:
        self.watch = CycleWatch()
        self.offset = 0

    def publish(
        self, event_type: str, subject: str, payload: dict[str, Any] | None = None, *, event_id: str | None = None
    ) -> str:
        event_id = event_id or str(uuid.uuid4())
        self.offset += 1
        headers = {
            "ce_id": event_id,
            "ce_type": event_type,
            "ce_subject": subject,
            "ce_time": (START + timedelta(seconds=self.offset)).isoformat(),
        }
        record: ConsumerRecord[Any, Any] = ConsumerRecord(
            event_type.split(".")[1], 0, self.offset, 0, 0, subject.encode(), json.dumps(payload or {}).encode(),
            None, 0, 0, [(name, value.encode()) for name, value in headers.items()],
        )  # fmt: skip
        self.watch.take(record)
        return event_id

    def cycle(self, *, submitted: int = 1, paid: bool = True) -> tuple[str, str]:
        """An encounter captured and billed; its claim submitted `submitted` times, accepted, and (when `paid`)
        posted and balanced. Returns the encounter and claim ids."""
        encounter_id, claim_id = str(uuid.uuid4()), str(uuid.uuid4())
        self.publish("rcm.charge.charges_captured", encounter_id)
        self.publish("rcm.claim.claim_created", claim_id, {"encounter_id": encounter_id})
        for _ in range(submitted):
            self.publish("rcm.claim.claim_submitted", claim_id)
        self.publish("rcm.claim.claim_accepted", claim_id)
        if paid:
            payment = self.publish("rcm.remittance.payment_posted", claim_id)
            self.publish("rcm.claim.claim_paid", claim_id)
            self.publish("rcm.collections.patient_balance_changed", "account", {"cause": f"event:{payment}"})
        return encounter_id, claim_id


def test_a_cycle_is_complete_at_the_balance_change_its_payment_caused_and_timed_by_the_events() -> None:
    stream = Stream()
    encounter_id, _ = stream.cycle()

    [(captured, balanced)] = stream.watch.cycles().values()
    assert stream.watch.cycles().keys() == {encounter_id}
    assert (balanced - captured).total_seconds() == 6  # captured first, balanced seventh, a second apart
    assert stream.watch.verdict([encounter_id]).as_figures() == {
        "claims_driven": 1, "claims_complete": 1, "claims_lost": 0, "duplicate_effects": 0,
        "records_delivered_twice": 0, "claims_out_of_order": 0,
    }  # fmt: skip


def test_a_balance_change_caused_by_anything_else_completes_nothing() -> None:
    stream = Stream()
    encounter_id, _ = stream.cycle(paid=False)
    stream.publish("rcm.collections.patient_balance_changed", "account", {"cause": f"event:{uuid.uuid4()}"})
    stream.publish("rcm.collections.patient_balance_changed", "account", {"cause": "api:front-desk"})

    verdict = stream.watch.verdict([encounter_id])
    assert (verdict.complete, verdict.lost) == (0, 1)
    assert stream.watch.stages_reached([encounter_id]) == {
        "captured": 1, "claim_created": 1, "claim_submitted": 1, "claim_accepted": 1, "balance_changed": 0,
    }  # fmt: skip


def test_a_record_delivered_twice_counts_once_but_a_second_event_of_a_stage_is_a_duplicate_effect() -> None:
    stream = Stream()
    clean, claim_id = stream.cycle()
    stream.publish("rcm.claim.claim_accepted", claim_id, event_id=stream.publish("rcm.claim.claim_paid", claim_id))
    twice, _ = stream.cycle(submitted=2)

    verdict = stream.watch.verdict([clean, twice])
    assert verdict.redelivered_records == 1  # the same event id read again: at-least-once delivery, no effect
    assert verdict.duplicate_effects == 2  # clean's claim adjudicated twice, twice's claim submitted twice
    assert verdict.complete == 2


def test_a_claim_accepted_before_it_was_submitted_is_out_of_order() -> None:
    stream = Stream()
    encounter_id, claim_id = str(uuid.uuid4()), str(uuid.uuid4())
    stream.publish("rcm.charge.charges_captured", encounter_id)
    stream.publish("rcm.claim.claim_created", claim_id, {"encounter_id": encounter_id})
    stream.publish("rcm.claim.claim_accepted", claim_id)
    stream.publish("rcm.claim.claim_submitted", claim_id)

    assert stream.watch.verdict([encounter_id]).out_of_order == 1


def test_two_claims_for_one_encounter_are_a_duplicate_effect_and_the_ends_are_the_next_offsets() -> None:
    stream = Stream()
    encounter_id, _ = stream.cycle()
    stream.publish("rcm.claim.claim_created", str(uuid.uuid4()), {"encounter_id": encounter_id})

    assert stream.watch.verdict([encounter_id]).duplicate_effects == 1
    assert max(stream.watch.ends.values()) == stream.offset + 1


def test_one_payment_changing_a_balance_twice_is_a_duplicate_effect_but_a_redelivered_change_is_not() -> None:
    stream = Stream()
    encounter_id, _ = stream.cycle()
    [payment_id] = stream.watch.claim_of_payment
    cause = {"cause": f"event:{payment_id}"}
    change = stream.publish("rcm.collections.patient_balance_changed", "account", cause)
    stream.publish("rcm.collections.patient_balance_changed", "account", cause, event_id=change)  # the same event

    verdict = stream.watch.verdict([encounter_id])

    assert (verdict.complete, verdict.duplicate_effects, verdict.redelivered_records) == (1, 1, 1)


def test_a_record_with_a_header_that_is_not_utf8_is_counted_and_read_past() -> None:
    stream = Stream()
    poison: ConsumerRecord[Any, Any] = ConsumerRecord(
        "charge", 0, 99, 0, 0, b"poison", b'{"not an event', None, 0, 0, [("rcm_poison", b"\xff")]
    )
    stream.watch.take(poison)
    encounter_id, _ = stream.cycle()

    assert stream.watch.records == 1 + 7  # the poison and the cycle's seven events
    assert stream.watch.verdict([encounter_id]).complete == 1
