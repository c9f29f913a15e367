"""The clearinghouse: it answers 270s at once, takes 837P batches (a 999 back at once, a 277CA per payer in
the mailbox, the claims adjudicated), answers 276s from the claims' current state, and runs payment (an
835 per payer and payee into the mailbox). On the 835s the payers also take back payments (reversals, for
a paid claim voided, replaced or reprocessed), pay interest on late payments and recover overpayments,
carrying forward what a payment cannot cover. All state is in memory, for the life of the process.

Every method reads its whole input before it changes anything, and an 837P upload is built whole (records,
999s, 277CAs) on a copy of the ledger that replaces it only at the end, so unreadable X12 or a failure
part-way changes nothing. The methods never await: on one event loop each runs whole, with no lock. An
837P upload is read by `read_upload`, a pure function of its bytes that the HTTP API runs off the event loop
when the upload is large (`rcm_common.offload`), before `take_upload` changes anything. The 999s, 277CAs and 835s
are written inside the change, on the loop: their control numbers come from the ledger, and a writer's
refusal must leave the ledger as it was.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from itertools import count
from typing import Literal

from rcm_clearinghouse_sim.adapters import x12_in, x12_out
from rcm_clearinghouse_sim.adapters.x12_out import ClaimRecord, Payment
from rcm_clearinghouse_sim.config import SimulatorConfig
from rcm_clearinghouse_sim.domain.accumulators import Accumulators
from rcm_clearinghouse_sim.domain.adjudication import (
    ClaimResult,
    DuplicateKey,
    adjudicate,
    allowed_keys,
    overturned,
)
from rcm_clearinghouse_sim.domain.claims import Claim
from rcm_clearinghouse_sim.domain.coverage import coverage_of
from rcm_clearinghouse_sim.domain.edits import CORRECTIONS, front_end_rejection
from rcm_clearinghouse_sim.domain.eligibility import answer
from rcm_clearinghouse_sim.domain.plans import ZERO, Plan
from rcm_clearinghouse_sim.domain.remittance import (
    INTEREST,
    RECOUPMENT,
    ProviderAdjustment,
    forward_balance,
    late_payment_interest,
    readjudicated,
    reprocess_drawn,
    reversal,
)
from rcm_clearinghouse_sim.service_layer.faults import Faults
from rcm_clearinghouse_sim.service_layer.mailbox import FileKind, Mailbox
from rcm_common.errors import Conflict, NotFound
from rcm_common.types import Clock
from rcm_x12 import Interchange, Transaction, read
from rcm_x12.acknowledgment_writer import GroupAcknowledgment, write_999
from rcm_x12.claim_acknowledgment_writer import ClaimAcknowledgment, ProviderAcknowledgment, write_277ca
from rcm_x12.claim_status_writer import StatusReply, write_277
from rcm_x12.elements import header_of
from rcm_x12.eligibility_request_writer import EligibilityRequest
from rcm_x12.eligibility_response_writer import EligibilityReply, write_271
from rcm_x12.errors import X12Error
from rcm_x12.inquiry_reader import eligibility_request_of, status_request_of
from rcm_x12.professional_claim_reader import ClaimBatch, professional_claims_of
from rcm_x12.reader import transaction_sets
from rcm_x12.remittance_writer import write_835
from rcm_x12.structure_acknowledgment import acknowledge
from rcm_x12.writer import Envelope, Payer, TradingPartner

logger = logging.getLogger(__name__)

BatchKey = tuple[str, str, str]
"""ISA05, ISA06 and ISA13: an interchange sent again has the same."""
MailboxEntry = tuple[FileKind, str, str]
"""A file for the mailbox (kind, payer id, content), put there once its upload is kept."""
PayeeKey = tuple[str, str]
"""Payer id and billing NPI: one 835 a payment run, and the provider adjustments that wait for it."""


@dataclass(frozen=True, slots=True)
class Submission:
    """What a batch got: the sim's id for it and its 999 (the same every time the batch is sent)."""

    batch_id: str
    acknowledgment: str


@dataclass(frozen=True, slots=True)
class ReadInterchange:
    """One interchange of an 837P upload as read, before the clearinghouse takes it: its 999s (one per
    functional group) and the claims of each transaction set they accept."""

    interchange: Interchange
    acknowledgments: tuple[GroupAcknowledgment, ...]
    accepted: tuple[ClaimBatch, ...]


def read_upload(data: bytes) -> list[ReadInterchange]:
    """An 837P upload read whole: each interchange's structure checked for its 999, and the claims of the
    sets the 999 accepts read. Pure (bytes in, new objects out, the clearinghouse untouched), so a large
    upload can be read in a thread; X12Error (or ValueError) when it cannot be read."""
    upload = []
    for interchange in _enveloped(data):
        groups = acknowledge(interchange)
        verdicts = {r.control_number: r.accepted for g in groups for r in g.responses}
        accepted = tuple(
            professional_claims_of(transaction, interchange)
            for transaction, _ in transaction_sets([interchange], "837")
            if verdicts.get(transaction.control_number)
        )
        upload.append(ReadInterchange(interchange, tuple(groups), accepted))
    return upload


@dataclass(frozen=True, slots=True, eq=False)
class Reprocessing:
    """A paid claim whose payment the payer takes back on its next 835 for the payee (a reversal, CLP02 22,
    due from `due_from`). Reprocessed (`allowed_change` given), the claim is paid again re-adjudicated right
    after the reversal; voided or replaced (`successor`, whose arrival it waits for), it is not: a
    replacement is paid on its own, right after."""

    original: ClaimRecord
    due_from: datetime
    reason: str
    allowed_change: Decimal | None = None
    successor: ClaimRecord | None = None
    decided_again: ClaimResult | None = None  # an appeal overturned: the claim paid again as decided anew


@dataclass(frozen=True, slots=True, eq=False)
class Recoupment:
    """An overpayment the payer recovers from the payee's next 835 (PLB WO, by the claim's number)."""

    claim: ClaimRecord
    amount: Decimal
    queued_at: datetime


@dataclass(frozen=True, slots=True, eq=False)
class _Remitted:
    """One claim payment of an 835: a claim paid for the first time, the reversal of a payment, or the
    payment again once reprocessed (the last two from `reprocessing`)."""

    record: ClaimRecord
    result: ClaimResult
    kind: Literal["payment", "reversal", "correction"]
    reprocessing: Reprocessing | None = None


@dataclass(slots=True)
class _Ledger:
    """What the clearinghouse remembers of the claims it took, and the numbers it gives out. An upload
    works on a copy, which becomes the ledger only once the whole upload is built."""

    batches: dict[BatchKey, Submission] = field(default_factory=dict)
    claims: list[ClaimRecord] = field(default_factory=list)
    by_claim_id: dict[tuple[str, str], ClaimRecord] = field(default_factory=dict)
    by_payer_claim_number: dict[str, ClaimRecord] = field(default_factory=dict)
    withdrawn: set[str] = field(default_factory=set)  # payer claim numbers a replacement or a void withdrew
    seen: set[DuplicateKey] = field(default_factory=set)  # the lines allowed so far
    accumulators: Accumulators = field(default_factory=Accumulators)
    reprocessings: list[Reprocessing] = field(default_factory=list)  # payments to take back, oldest first
    recoupments: list[Recoupment] = field(default_factory=list)  # overpayments to recover, oldest first
    forward: dict[PayeeKey, tuple[ProviderAdjustment, ...]] = field(default_factory=dict)  # balances to take
    control_number: int = 0
    batch_number: int = 0
    claim_number: int = 0

    def copy(self) -> _Ledger:
        return replace(
            self,
            batches=dict(self.batches),
            claims=list(self.claims),
            by_claim_id=dict(self.by_claim_id),
            by_payer_claim_number=dict(self.by_payer_claim_number),
            withdrawn=set(self.withdrawn),
            seen=set(self.seen),
            accumulators=self.accumulators.copy(),
            reprocessings=list(self.reprocessings),
            recoupments=list(self.recoupments),
            forward=dict(self.forward),
        )

    def next_control_number(self) -> int:
        self.control_number += 1
        return self.control_number

    def next_batch_id(self) -> str:
        self.batch_number += 1
        return f"B{self.batch_number:06d}"

    def next_payer_claim_number(self, payer_id: str) -> str:
        self.claim_number += 1
        return f"{payer_id}{self.claim_number:010d}"


class Clearinghouse:
    def __init__(self, config: SimulatorConfig, clock: Clock) -> None:
        self.config = config
        self.seed = config.seed
        self.plans: dict[str, Plan] = config.plans()
        self.clock = clock
        self.mailbox = Mailbox()
        self.faults = Faults()
        self._ledger = _Ledger()
        self._trace_numbers = count(1)

    # --- envelopes ------------------------------------------------------------------------------

    def _envelope(self, receiver: tuple[str, str], ledger: _Ledger) -> Envelope:
        """An envelope from the clearinghouse to a sender (ISA05 and ISA06 of what it sent), with the
        ledger's next control number; values holding our delimiters are replaced, not refused, since they
        came in the sender's own delimiters and must still be answered."""
        number = ledger.next_control_number()
        qualifier, receiver_id = receiver
        return Envelope(
            self.config.clearinghouse_id,
            receiver_id or "UNKNOWN",
            number,
            number,
            1,
            self.clock(),
            receiver_qualifier=qualifier if len(qualifier) == 2 else "ZZ",
            on_delimiter="replace",
        )

    # --- eligibility ----------------------------------------------------------------------------

    def eligibility(self, data: bytes) -> str:
        """The 271s for every 270 transaction set of the upload, one interchange each (rcm_x12 writes one
        set an interchange), concatenated as the 999s of an 837P upload are."""
        requests = [(eligibility_request_of(t, i), t, i) for t, i in _sets(data, "270")]
        return "".join(self._answer_270(*request) for request in requests)

    def _answer_270(self, request: EligibilityRequest, transaction: Transaction, interchange: Interchange) -> str:
        """One answer per inquiry, or one AAA at the payer's level when the payer is unknown (79) or, for a
        member id starting DOWN, unable to respond now (42). Remaining amounts are the patient's own."""
        plan = self.plans.get(request.payer.payer_id)
        if plan is None:
            reply = EligibilityReply(
                request.reference, request.payer, request.provider, source_errors=(x12_out.UNKNOWN_PAYER,)
            )
        elif any(i.subscriber.member_id.startswith("DOWN") for i in request.inquiries):
            reply = EligibilityReply(
                request.reference, x12_out.payer_of(plan), request.provider, source_errors=(x12_out.UNABLE_TO_RESPOND,)
            )
        else:
            answers = []
            for inquiry in request.inquiries:
                day = inquiry.service_date or header_of(transaction, []).created or self.clock().date()
                patient = x12_in.patient_of(inquiry.subscriber, inquiry.dependent)
                met = self._ledger.accumulators.met(plan.payer_id, patient, day.year)
                found = answer(plan, inquiry.subscriber.member_id, day, inquiry.service_types, met, self.seed)
                answers.append(x12_out.coverage_answer(inquiry, request.trace_originator, found))
            reply = EligibilityReply(request.reference, x12_out.payer_of(plan), request.provider, tuple(answers))
        logger.info("answered a 270 with %d inquiries", len(request.inquiries))
        return write_271(reply, self._envelope(_sender(interchange), self._ledger))

    # --- claims ---------------------------------------------------------------------------------

    def submit(self, data: bytes) -> Submission:
        """`take_upload` of the upload, read here on the caller's thread (as a test or a script in process
        does)."""
        return self.take_upload(read_upload(data))

    def take_upload(self, upload: list[ReadInterchange]) -> Submission:
        """Take an 837P upload read by `read_upload`: per interchange its 999 and, for each accepted
        transaction set, its claims edited, acknowledged on a 277CA per payer and adjudicated. An interchange
        sent before (same sender, same ISA13) gets its first 999 again and nothing else happens to it; the
        new interchanges of the upload make a new batch."""
        ledger = self._ledger.copy()
        keys = [_batch_key(incoming.interchange) for incoming in upload]
        if all(key in ledger.batches for key in keys):
            return Submission(ledger.batches[keys[0]].batch_id, _acknowledgments(ledger, keys))
        batch_id = ledger.next_batch_id()
        files: list[MailboxEntry] = []
        for key, incoming in zip(keys, upload, strict=True):
            if key not in ledger.batches:
                files += self._intake(ledger, batch_id, incoming)
        self._ledger = ledger
        for kind, payer_id, content in files:
            self.mailbox.put(kind, payer_id, content, self.clock())
        return Submission(batch_id, _acknowledgments(ledger, keys))

    def _intake(self, ledger: _Ledger, batch_id: str, incoming: ReadInterchange) -> list[MailboxEntry]:
        """A new interchange into the ledger: its 999, and the claims of its accepted sets taken. Returns
        the 277CAs."""
        interchange, groups = incoming.interchange, incoming.acknowledgments
        text = "".join(write_999(group, self._envelope(_sender(interchange), ledger)) for group in groups)
        ledger.batches[_batch_key(interchange)] = Submission(batch_id, text)
        logger.info("batch %s: an interchange with %d sets accepted", batch_id, len(incoming.accepted))
        return [file for batch in incoming.accepted for file in self._take(ledger, batch_id, interchange, batch)]

    def _take(self, ledger: _Ledger, batch_id: str, interchange: Interchange, batch: ClaimBatch) -> list[MailboxEntry]:
        """Each claim of the set edited and, when accepted, adjudicated; the 277CAs for them. The lines
        allowed become duplicates for later sets, not for this one."""
        now = self.clock()
        records: list[ClaimRecord] = []
        allowed: set[DuplicateKey] = set()
        for provider in batch.providers:
            for subscriber in provider.subscribers:
                for source in subscriber.claims:
                    record = ClaimRecord(source, subscriber, provider, batch_id, _sender(interchange), now)
                    allowed |= self._decide(ledger, record)
                    records.append(record)
        ledger.seen |= allowed
        return self._acknowledge(ledger, batch_id, interchange, batch, records)

    def _decide(self, ledger: _Ledger, record: ClaimRecord) -> set[DuplicateKey]:
        """The claim edited and, when accepted, adjudicated against its patient's accumulators (a
        replacement or a void first withdrawing its original, and queueing the reversal of the original's
        payment when it was paid; a void, billing nothing, is not adjudicated, so never paid), all kept in
        the ledger. Returns the keys of the lines it was allowed."""
        claim = x12_in.claim_of(record.source, record.subscriber, record.provider)
        plan = self.plans.get(claim.payer_id)
        original = self._original(ledger, claim) if claim.frequency in CORRECTIONS else None
        record.rejection = front_end_rejection(claim, payer_known=plan is not None, original_open=original is not None)
        ledger.claims.append(record)
        ledger.by_claim_id[(record.payer_id, record.claim_id)] = record
        if record.rejection is not None or plan is None:
            return set()
        if original is not None:
            _withdraw(ledger, original, record)
        record.payer_claim_number = ledger.next_payer_claim_number(plan.payer_id)
        ledger.by_payer_claim_number[record.payer_claim_number] = record
        if original is not None and _paid_or_billed(original):
            _take_back(ledger, original, record)
        if claim.frequency == "8":
            return set()
        year = claim.service_date.year
        met = ledger.accumulators.met(plan.payer_id, claim.patient, year)
        coverage = coverage_of(claim.member_id, claim.service_date)
        record.result, met = adjudicate(
            claim, plan, coverage, met, received=record.received.date(), seen=ledger.seen, seed=self.seed
        )
        ledger.accumulators.record(plan.payer_id, claim.patient, year, met)
        return allowed_keys(claim, record.result)

    def _original(self, ledger: _Ledger, claim: Claim) -> ClaimRecord | None:
        """The claim a replacement or a void names (REF*F8), when it can still be replaced or voided: taken
        in an earlier upload, adjudicated (a void is not, so it is never corrected itself), by the same payer
        from the same billing provider, and not replaced or voided already. It may have been paid: its
        payment is then reversed on the next 835."""
        original = self._ledger.by_payer_claim_number.get(claim.corrects)
        if original is None or original.result is None or original.payer_claim_number in ledger.withdrawn:
            return None
        if (original.payer_id, original.provider.provider.npi) != (claim.payer_id, claim.billing_npi):
            return None
        return original

    def _acknowledge(
        self, ledger: _Ledger, batch_id: str, interchange: Interchange, batch: ClaimBatch, records: list[ClaimRecord]
    ) -> list[MailboxEntry]:
        """A 277CA per payer of the batch, each claim accepted or rejected."""
        submitter = batch.submitter or TradingPartner(interchange.sender, interchange.sender)
        today = self.clock().date()
        traces = {id(record): f"{batch_id}-{number}" for number, record in enumerate(records, 1)}
        files: list[MailboxEntry] = []
        for payer_id in dict.fromkeys(record.payer_id for record in records):
            mine = [record for record in records if record.payer_id == payer_id]
            plan = self.plans.get(payer_id)
            source = x12_out.payer_of(plan) if plan else Payer(mine[0].subscriber.payer.name, payer_id)
            providers: dict[str, list[ClaimRecord]] = {}
            for record in mine:
                providers.setdefault(record.provider.provider.npi, []).append(record)
            acknowledgment = ClaimAcknowledgment(
                reference=f"{batch_id}{payer_id}",
                source=source,
                receiver=submitter,
                batch_reference=batch.header.reference or batch_id,
                received=today,
                processed=today,
                providers=tuple(
                    ProviderAcknowledgment(
                        group[0].provider.provider,
                        tuple(x12_out.acknowledged(r, traces[id(r)]) for r in group),
                    )
                    for group in providers.values()
                ),
            )
            files.append(("277CA", payer_id, write_277ca(acknowledgment, self._envelope(_sender(interchange), ledger))))
            rejected = sum(record.rejection is not None for record in mine)
            logger.info(
                "batch %s payer %s: %d claims, %d rejected on the 277CA", batch_id, payer_id, len(mine), rejected
            )
        return files

    # --- claim status ---------------------------------------------------------------------------

    def claim_status(self, data: bytes) -> str:
        """The 277 for a 276: each claim found by payer and patient control number (REF*EJ, else TRN02)."""
        [(transaction, interchange), *_] = _sets(data, "276")
        request = status_request_of(transaction, interchange)
        today = self.clock().date()
        reports = tuple(
            x12_out.status_report(
                inquiry,
                self._ledger.by_claim_id.get((request.payer.payer_id, inquiry.patient_control_number or inquiry.trace)),
                today,
            )
            for inquiry in request.inquiries
        )
        reply = StatusReply(
            f"S{self._ledger.next_control_number():09d}", request.payer, request.receiver, request.provider, reports
        )
        logger.info("answered a 276 with %d inquiries", len(reports))
        return write_277(reply, self._envelope(_sender(interchange), self._ledger))

    # --- payment --------------------------------------------------------------------------------

    def run_payments(self, *, due_only: bool) -> list[str]:
        """Pay every adjudicated claim (a void never is) not yet paid nor withdrawn by a replacement or a
        void, and take back the payments queued for reversal (with `due_only`, only the claims accepted and
        the reversals queued at least the configured delay ago): one 835 per payer and payee into the
        mailbox, twice each when a duplicate_835 fault is set. Returns the mailbox ids of the 835s."""
        now = self.clock()
        ledger = self._ledger
        due = [
            record
            for record in ledger.claims
            if record.result is not None
            and record.payment is None
            and record.payer_claim_number not in ledger.withdrawn
            and (not due_only or self._due(record.received, now))
        ]
        taken_back = [p for p in ledger.reprocessings if not due_only or self._due(p.due_from, now)]
        groups = _remittance_groups(due, taken_back)
        if not groups:
            return []
        copies = 2 if self.faults.take_duplicate_835() else 1
        ids = []
        for key, entries in groups.items():
            text = self._remit(key, entries, now)
            ids += [self.mailbox.put("835", key[0], text, now).id for _ in range(copies)]
        return ids

    def _due(self, since: datetime, now: datetime) -> bool:
        return (now - since).total_seconds() >= self.config.payment_delay_seconds

    def _remit(self, key: PayeeKey, entries: list[_Remitted], now: datetime) -> str:
        """The 835 of one payer to one payee: the claims' payments and reversals; interest on each claim
        paid late (AMT*I, PLB L6 by its payer claim number); the overpayments to recover (PLB WO) and the
        balance carried from an earlier 835 (PLB FB); and, when all that comes to less than nothing, the rest
        carried forward (PLB FB, by this 835's trace) so the payment is never negative. The ledger changes
        only once the 835 is written."""
        ledger = self._ledger
        plan = self.plans[key[0]]
        trace = f"{key[0]}{next(self._trace_numbers):08d}"
        claims, adjustments = [], []
        for entry in entries:
            interest = self._interest(entry, plan, now)
            claims.append(x12_out.paid_claim(entry.record, plan, entry.result, interest))
            if interest:
                adjustments.append(ProviderAdjustment(INTEREST, entry.record.payer_claim_number, -interest))
        recoupments = [r for r in ledger.recoupments if _payee(r.claim) == key]
        adjustments += [ProviderAdjustment(RECOUPMENT, r.claim.payer_claim_number, r.amount) for r in recoupments]
        adjustments += ledger.forward.get(key, ())
        carried = forward_balance(sum((c.paid for c in claims), ZERO), adjustments, trace)
        if carried is not None:
            adjustments.append(carried)
        payee = entries[0].record.provider.provider
        advice = x12_out.remittance(plan, payee, tuple(claims), trace, now.date(), tuple(adjustments))
        text = write_835(advice, self._envelope(entries[0].record.sender, ledger))
        for entry in entries:
            self._after_remittance(entry, plan, Payment(trace, now.date(), revised=entry.kind != "payment"), now)
        ledger.recoupments = [r for r in ledger.recoupments if all(r is not taken for taken in recoupments)]
        ledger.forward[key] = (replace(carried, amount=-carried.amount),) if carried is not None else ()
        reversals = sum(entry.kind == "reversal" for entry in entries)
        logger.info(
            "payment run: 835 trace %s for payer %s with %d claims (%d reversals) and %d provider adjustments",
            trace, key[0], len(entries), reversals, len(adjustments),
        )  # fmt: skip
        return text

    def _interest(self, entry: _Remitted, plan: Plan, now: datetime) -> Decimal:
        """Prompt-pay interest on a claim's first payment when it is late; none on a reversal or on the
        payment again after one (the interest already paid is neither taken back nor paid twice)."""
        if entry.kind != "payment":
            return ZERO
        r = plan.remitter
        return late_payment_interest(
            entry.result.paid,
            entry.record.received.date(),
            now.date(),
            after_days=r.interest_after_days,
            annual_rate=r.interest_rate,
        )

    def _after_remittance(self, entry: _Remitted, plan: Plan, payment: Payment, now: datetime) -> None:
        """The ledger after the claim payment went out: a claim paid (and, for the seeded share, queued to
        be reprocessed); a reversal done (a void's status then tells so); the claim's adjudication now the
        one paid again."""
        ledger, record = self._ledger, entry.record
        if entry.kind == "payment":
            record.payment = payment
            share = plan.remitter.reprocess_share
            if _paid_or_billed(record) and reprocess_drawn(self.seed, record.payer_claim_number, share):
                change = plan.remitter.reprocess_allowed_change
                ledger.reprocessings.append(Reprocessing(record, now, "seeded", change))
        elif entry.kind == "reversal":
            done = entry.reprocessing
            ledger.reprocessings = [p for p in ledger.reprocessings if p is not done]
            if done is not None and done.successor is not None and done.successor.result is None:
                done.successor.payment = payment  # a void: nothing more to come
        else:
            record.result, record.payment = entry.result, payment

    # --- payers' actions on demand --------------------------------------------------------------

    def reprocess(
        self, payer_claim_number: str, reason: str = "", allowed_change: Decimal | None = None
    ) -> Reprocessing:
        """Queue a paid claim for reprocessing: its payment reversed on the payer's next 835 for the payee,
        and paid again right after with each allowed amount changed by `allowed_change` (the payer's
        configured change when not given). 404 for a number no claim has; 409 for a claim not paid, voided or
        replaced, or already queued."""
        record = self._paid(payer_claim_number)
        if any(p.original is record for p in self._ledger.reprocessings):
            raise Conflict("The claim's payment is already queued to be taken back on the next 835.")
        change = (
            allowed_change
            if allowed_change is not None
            else self.plans[record.payer_id].remitter.reprocess_allowed_change
        )
        queued = Reprocessing(record, self.clock(), reason, change)
        self._ledger.reprocessings.append(queued)
        logger.info("payer %s: a claim queued for reprocessing", record.payer_id)
        return queued

    def overturn(self, payer_claim_number: str, reason: str = "") -> None:
        """The payer overturns its denial on appeal: the denied lines are priced as if the denial had not applied,
        and paid on its next 835 for the payee. A claim it paid nothing on is simply paid then (a new claim
        payment under the same number); one it paid in part has that payment reversed first and is paid again
        as decided anew. 404 for an unknown number; 409 for a claim not yet decided on an 835, replaced or
        voided, queued for a reversal already, or with no line denied."""
        ledger = self._ledger
        record = ledger.by_payer_claim_number.get(payer_claim_number)
        if record is None:
            raise NotFound("No claim has this payer claim number.")
        if payer_claim_number in ledger.withdrawn:
            raise Conflict("The claim was replaced or voided: there is no denial of it left to overturn.")
        if record.result is None or record.payment is None:
            raise Conflict("The claim has not been decided on an 835 yet: there is no denial to overturn.")
        if not any(line.denied for line in record.result.lines):
            raise Conflict("No line of the claim was denied: there is nothing to overturn.")
        if any(p.original is record for p in ledger.reprocessings):
            raise Conflict("The claim's payment is already queued to be taken back on the next 835.")
        claim = x12_in.claim_of(record.source, record.subscriber, record.provider)
        plan = self.plans[record.payer_id]
        year = claim.service_date.year
        decided, met = overturned(claim, record.result, plan, ledger.accumulators.met(plan.payer_id, claim.patient,
                                                                                     year))  # fmt: skip
        ledger.accumulators.record(plan.payer_id, claim.patient, year, met)
        ledger.seen |= allowed_keys(claim, decided)
        if _paid_or_billed(record):
            ledger.reprocessings.append(Reprocessing(record, self.clock(), reason or "appeal", decided_again=decided))
        else:
            record.result, record.payment = decided, None  # paid on the next 835 as a new claim payment
        logger.info("payer %s: a denial overturned on appeal", record.payer_id)

    def recoup(self, payer_claim_number: str, amount: Decimal) -> Recoupment:
        """Queue an overpayment recovery of a paid claim, taken on the payer's next 835 for the payee (PLB
        WO). 404 for a number no claim has; 409 for a claim not paid, voided or replaced, whose payment is
        queued to be taken back, or when the amount is more than is left of its payment to recover."""
        record = self._paid(payer_claim_number)
        assert record.result is not None  # a paid claim is adjudicated
        if any(p.original is record for p in self._ledger.reprocessings):
            raise Conflict("The claim's payment is queued to be taken back whole on the next 835.")
        if amount > record.result.paid - record.recouped:
            raise Conflict("The amount is more than is left of the claim's payment to recover.")
        record.recouped += amount
        queued = Recoupment(record, amount, self.clock())
        self._ledger.recoupments.append(queued)
        logger.info("payer %s: an overpayment recovery queued", record.payer_id)
        return queued

    def _paid(self, payer_claim_number: str) -> ClaimRecord:
        """The claim with this payer claim number, when its payment can be taken back: it was paid or billed
        to the patient on an 835, and has not been replaced or voided since."""
        record = self._ledger.by_payer_claim_number.get(payer_claim_number)
        if record is None:
            raise NotFound("No claim has this payer claim number.")
        if payer_claim_number in self._ledger.withdrawn:
            raise Conflict("The claim was replaced or voided: there is no payment of it left to take back.")
        if not _paid_or_billed(record):
            raise Conflict("The claim has not been paid on an 835 (or paid nothing): there is nothing to take back.")
        return record


def _sender(interchange: Interchange) -> tuple[str, str]:
    return (interchange.sender_qualifier, interchange.sender)


def _batch_key(interchange: Interchange) -> BatchKey:
    return (interchange.sender_qualifier, interchange.sender, interchange.control_number)


def _acknowledgments(ledger: _Ledger, keys: list[BatchKey]) -> str:
    """The 999s of an upload's interchanges, in their order, each as it was first answered."""
    return "".join(ledger.batches[key].acknowledgment for key in keys)


def _paid_or_billed(record: ClaimRecord) -> bool:
    """The claim was on an 835 and moved money: paid, or billed to the patient. Only then is there a payment
    to reverse; a denial is simply superseded."""
    return (
        record.payment is not None and record.result is not None and bool(record.result.paid or record.result.patient)
    )


def _payee(record: ClaimRecord) -> PayeeKey:
    return (record.payer_id, record.provider.provider.npi)


def _take_back(ledger: _Ledger, original: ClaimRecord, successor: ClaimRecord) -> None:
    """Queue the reversal of a paid claim's payment for the void or replacement that withdrew it, due with
    the successor; it takes the place of a reprocessing or recovery of the original not yet on an 835 (the
    reversal takes the whole payment back)."""
    ledger.reprocessings = [p for p in ledger.reprocessings if p.original is not original]
    ledger.recoupments = [r for r in ledger.recoupments if r.claim is not original]
    reason = "replaced" if successor.source.frequency == "7" else "voided"
    ledger.reprocessings.append(Reprocessing(original, successor.received, reason, successor=successor))


def _remittance_groups(due: list[ClaimRecord], taken_back: list[Reprocessing]) -> dict[PayeeKey, list[_Remitted]]:
    """The claim payments of each payer's 835 to each payee: first the payments taken back (each reversal
    followed by the claim paid again when reprocessed, as the guide recommends: one 835, reversal first),
    then the claims paid for the first time, a replacement right after the reversal of the claim it
    replaced (the two come due together: the reversal is due from the replacement's arrival)."""
    before: dict[int, Reprocessing] = {id(p.successor): p for p in taken_back if p.successor is not None}
    due_ids = {id(record) for record in due}
    groups: dict[PayeeKey, list[_Remitted]] = {}
    for queued in taken_back:
        if queued.successor is not None and id(queued.successor) in due_ids:
            continue  # goes right before its replacement
        entries = groups.setdefault(_payee(queued.original), [])
        entries += _taken_back(queued)
    for record in due:
        assert record.result is not None  # only adjudicated claims are due
        entries = groups.setdefault(_payee(record), [])
        if (replaced := before.get(id(record))) is not None:
            entries += _taken_back(replaced)
        entries.append(_Remitted(record, record.result, "payment"))
    return groups


def _taken_back(queued: Reprocessing) -> list[_Remitted]:
    """The reversal of the claim's payment and, when reprocessed, its payment again re-adjudicated."""
    original = queued.original
    assert original.result is not None  # only a paid claim is taken back
    entries = [_Remitted(original, reversal(original.result), "reversal", queued)]
    if queued.decided_again is not None:
        entries.append(_Remitted(original, queued.decided_again, "correction", queued))
    elif queued.allowed_change is not None:
        corrected = readjudicated(original.result, queued.allowed_change)
        entries.append(_Remitted(original, corrected, "correction", queued))
    return entries


def _withdraw(ledger: _Ledger, original: ClaimRecord, correction: ClaimRecord) -> None:
    """The original gives way to its replacement or void: it is never paid, its allowed lines are no longer
    duplicates, what it put towards the accumulators is given back, and a 276 for it is answered with the
    correction's status."""
    assert original.result is not None  # only an adjudicated claim can be replaced or voided
    claim = x12_in.claim_of(original.source, original.subscriber, original.provider)
    ledger.withdrawn.add(original.payer_claim_number)
    ledger.seen -= allowed_keys(claim, original.result)
    year = claim.service_date.year
    met = ledger.accumulators.met(claim.payer_id, claim.patient, year)
    given_back = met.plus(-original.result.deductible, -original.result.patient)
    ledger.accumulators.record(claim.payer_id, claim.patient, year, given_back)
    ledger.by_claim_id[(original.payer_id, original.claim_id)] = correction


def _enveloped(data: bytes) -> list[Interchange]:
    """The upload's interchanges; a bare transaction set (no ISA), which a portal may export but no
    clearinghouse takes in, is refused."""
    interchanges = read(data)
    if any(interchange.control_number == "" for interchange in interchanges):
        raise X12Error("not an X12 interchange: the data does not begin with an ISA segment")
    return interchanges


def _sets(data: bytes, set_id: str) -> list[tuple[Transaction, Interchange]]:
    found = list(transaction_sets(_enveloped(data), set_id))
    if not found:
        raise X12Error(f"the interchange holds no {set_id} transaction set")
    return found
