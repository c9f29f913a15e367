"""The end-to-end benchmark's watcher: it reads every topic from the first offset and follows each captured
encounter through its claim's cycle, by the ids the events carry.

ChargesCaptured names the encounter; ClaimCreated ties a claim to it; PaymentPosted names the claim; and
collections' PatientBalanceChanged names, in its `cause`, the PaymentPosted it applied. A cycle is complete when
that last event exists, and its latency is the time between the two events' own timestamps (`ce_time`), so
nothing the watcher does (how late it reads) moves the figure.

Every event is counted by its id, so a record the relay sent twice counts once (at-least-once delivery), while
two events of one kind for one claim (a claim built, submitted or paid twice) count as a duplicate effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

CHARGES_CAPTURED: Final = "rcm.charge.charges_captured"
CLAIM_CREATED: Final = "rcm.claim.claim_created"
PAYMENT_POSTED: Final = "rcm.remittance.payment_posted"
BALANCE_CHANGED: Final = "rcm.collections.patient_balance_changed"
CLAIM_STAGES: Final = (CLAIM_CREATED, "rcm.claim.claim_submitted", "rcm.claim.claim_accepted")
"""A claim paid on its first submission has exactly one of each, in this order on the claim topic (a claim's
events share its partition). Remittance's PaymentPosted, on its own topic, may be read before the acceptance:
the 835 and the 277CA come from different mailboxes."""
ELIGIBILITY_ANSWERS: Final = frozenset(
    {"rcm.eligibility.eligibility_verified", "rcm.eligibility.eligibility_check_failed"}
)
ADJUDICATED: Final = frozenset({"rcm.claim.claim_paid", "rcm.claim.claim_partially_paid", "rcm.claim.claim_denied"})
"""Claim's word on the payer's answer: one of these per claim, whichever it is."""
QUIET_SECONDS: Final = 3.0
"""A topic read to its end is one that gave nothing new for this long (the embedded broker's ListOffsets does
not say where a partition ends)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the events say of a set of encounters once the stack has settled."""

    encounters: int
    complete: int
    lost: int
    duplicate_effects: int
    redelivered_records: int
    out_of_order: int

    def as_figures(self) -> dict[str, int]:
        return {
            "claims_driven": self.encounters,
            "claims_complete": self.complete,
            "claims_lost": self.lost,
            "duplicate_effects": self.duplicate_effects,
            "records_delivered_twice": self.redelivered_records,
            "claims_out_of_order": self.out_of_order,
        }


@dataclass
class CycleWatch:
    """What has been read so far: every record counted, and the ids that link an encounter to its payment."""

    records: int = 0
    redelivered: int = 0
    ends: dict[TopicPartition, int] = field(default_factory=dict)  # the next offset of each partition read
    captured_at: dict[str, datetime] = field(default_factory=dict)  # encounter id -> ChargesCaptured's time
    encounter_of_claim: dict[str, str] = field(default_factory=dict)
    claim_of_payment: dict[str, str] = field(default_factory=dict)  # PaymentPosted's event id -> claim id
    claim_events: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # in read order
    checked_coverages: set[str] = field(default_factory=set)  # coverages eligibility has answered for
    balance_changes: Counter[str] = field(default_factory=Counter)  # PaymentPosted's id -> balance changes it caused
    failure: BaseException | None = None
    _seen: set[str] = field(default_factory=set)
    _balanced_at: dict[str, datetime] = field(default_factory=dict)  # PaymentPosted's id -> first balance change
    _done: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    _unresolved: set[str] = field(default_factory=set)  # balance changes whose payment or claim is not read yet

    def take(self, record: ConsumerRecord[Any, Any]) -> None:
        """Count one record and note the ids it links."""
        self.records += 1
        self.ends[TopicPartition(record.topic, record.partition)] = record.offset + 1
        headers = {name: (value or b"").decode(errors="replace") for name, value in record.headers}  # poison too
        event_id, event_type = headers.get("ce_id"), headers.get("ce_type", "")
        if event_id is None or "ce_time" not in headers:
            return  # not an event of the platform's
        if event_id in self._seen:
            self.redelivered += 1
            return
        self._seen.add(event_id)
        at, subject = datetime.fromisoformat(headers["ce_time"]), headers.get("ce_subject", "")
        if event_type == CHARGES_CAPTURED:
            self.captured_at[subject] = at
        elif event_type == CLAIM_CREATED:
            self.encounter_of_claim[subject] = json.loads(record.value)["encounter_id"]
        elif event_type == BALANCE_CHANGED:
            cause: str = json.loads(record.value)["cause"]
            if cause.startswith("event:"):
                payment_id = cause.removeprefix("event:")
                self.balance_changes[payment_id] += 1  # a payment applied twice to an account changes it twice
                if payment_id not in self._balanced_at:
                    self._balanced_at[payment_id] = at
                    self._unresolved.add(payment_id)
        elif event_type in ELIGIBILITY_ANSWERS:
            self.checked_coverages.add(json.loads(record.value)["coverage_id"])
        if event_type == PAYMENT_POSTED:
            self.claim_of_payment[event_id] = subject
        if event_type in (*CLAIM_STAGES, PAYMENT_POSTED):
            self.claim_events[subject].append(event_type)
        elif event_type in ADJUDICATED:
            self.claim_events[subject].append("adjudicated")

    @property
    def events(self) -> int:
        """The distinct events read so far, each counted once however often it was delivered."""
        return len(self._seen)

    def cycles(self) -> dict[str, tuple[datetime, datetime]]:
        """Each encounter whose cycle is complete: when its charges were captured and its balance changed. Only
        the balance changes not linked yet are looked at again, so asking often costs little."""
        for payment_id in list(self._unresolved):
            claim_id = self.claim_of_payment.get(payment_id)
            encounter_id = self.encounter_of_claim.get(claim_id or "")
            captured = self.captured_at.get(encounter_id or "")
            if encounter_id is not None and captured is not None:
                self._done.setdefault(encounter_id, (captured, self._balanced_at[payment_id]))
                self._unresolved.discard(payment_id)
        return self._done

    def raise_if_stopped(self) -> None:
        """The watcher's own failure, where it stopped reading: waiting on it would only time out."""
        if self.failure is not None:
            raise RuntimeError("the watcher stopped reading the topics") from self.failure

    def stages_reached(self, encounters: Iterable[str]) -> dict[str, int]:
        """How many of `encounters` reached each stage: what a stalled run names as where its claims stopped."""
        wanted = set(encounters)
        reached: Counter[str] = Counter(captured=len(wanted & set(self.captured_at)))
        for claim_id, encounter_id in self.encounter_of_claim.items():
            if encounter_id in wanted:
                reached.update({event_type.rsplit(".", 1)[-1] for event_type in self.claim_events[claim_id]})
        reached["balance_changed"] = len(wanted & set(self.cycles()))
        return dict(reached)

    def verdict(self, encounters: Iterable[str]) -> Verdict:
        """Lost (no complete cycle), duplicated (a once-per-claim event twice, two claims of one encounter, or one
        payment changing a patient's balance twice) and out-of-order claims among `encounters`."""
        wanted = set(encounters)
        done = self.cycles()
        claims_of: defaultdict[str, list[str]] = defaultdict(list)
        for claim_id, encounter_id in self.encounter_of_claim.items():
            if encounter_id in wanted:
                claims_of[encounter_id].append(claim_id)
        duplicates = out_of_order = 0
        for payment_id, claim_id in self.claim_of_payment.items():
            if self.encounter_of_claim.get(claim_id) in wanted:
                duplicates += max(self.balance_changes[payment_id] - 1, 0)
        for claim_ids in claims_of.values():
            duplicates += len(claim_ids) - 1
            for claim_id in claim_ids:
                events = self.claim_events[claim_id]
                counts = Counter(events)
                duplicates += sum(count - 1 for count in counts.values())
                if not _in_cycle_order(events):
                    out_of_order += 1
        return Verdict(
            encounters=len(wanted),
            complete=len(wanted & set(done)),
            lost=len(wanted - set(done)),
            duplicate_effects=duplicates,
            redelivered_records=self.redelivered,
            out_of_order=out_of_order,
        )


def _in_cycle_order(events: Sequence[str]) -> bool:
    """The claim topic's stages in the order the claim went through them."""
    stages = [CLAIM_STAGES.index(event_type) for event_type in events if event_type in CLAIM_STAGES]
    return stages == sorted(stages)


@contextlib.asynccontextmanager
async def watching(servers: str, topics: Sequence[str]) -> AsyncIterator[CycleWatch]:
    """A watcher reading `topics` from their first offsets in the background while the block runs; its own
    failure is raised where it is waited on (`raise_if_stopped`), never over the block's."""
    state, stop = CycleWatch(), asyncio.Event()
    reading = asyncio.create_task(_read(servers, topics, state, stop))
    try:
        yield state
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await reading


async def _read(servers: str, topics: Sequence[str], state: CycleWatch, stop: asyncio.Event) -> None:
    """Read `topics` from their first offsets into `state` until `stop` is set."""
    try:
        async with reading_from_the_first_offset(servers, topics) as consumer:
            while not stop.is_set():
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for record in records:
                        state.take(record)
    except Exception as exc:
        state.failure = exc
        raise


@contextlib.asynccontextmanager
async def reading_from_the_first_offset(servers: str, topics: Sequence[str]) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer in no group, given every partition of `topics` at its first offset; stopped afterwards."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, max_poll_records=2000)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        yield consumer
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()


async def read_to_the_end(servers: str, topics: Sequence[str]) -> list[Any]:
    """Every record of `topics`, from the first, until none has come for `QUIET_SECONDS`."""
    records: list[Any] = []
    async with reading_from_the_first_offset(servers, topics) as consumer:
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < QUIET_SECONDS:
            batches = await consumer.getmany(timeout_ms=200)
            if batches:
                quiet_since = time.monotonic()
            records += [record for batch in batches.values() for record in batch]
    return records
