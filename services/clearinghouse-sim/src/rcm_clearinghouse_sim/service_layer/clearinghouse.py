"""The clearinghouse: it answers 270s at once, takes 837P batches (a 999 back at once, a 277CA per payer in
the mailbox, the claims adjudicated), answers 276s from the claims' current state, and runs payment (an
835 per payer and payee into the mailbox). All state is in memory, for the life of the process.

Every method reads its whole input before it changes anything, and an 837P upload is built whole (records,
999s, 277CAs) on a copy of the ledger that replaces it only at the end, so unreadable X12 or a failure
part-way changes nothing. The methods never await: on one event loop each runs whole, with no lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from itertools import count

from rcm_clearinghouse_sim.adapters import x12_in, x12_out
from rcm_clearinghouse_sim.adapters.x12_out import ClaimRecord, Payment
from rcm_clearinghouse_sim.config import SimulatorConfig
from rcm_clearinghouse_sim.domain.accumulators import Accumulators
from rcm_clearinghouse_sim.domain.adjudication import DuplicateKey, adjudicate, allowed_keys
from rcm_clearinghouse_sim.domain.claims import Claim
from rcm_clearinghouse_sim.domain.coverage import coverage_of
from rcm_clearinghouse_sim.domain.edits import CORRECTIONS, front_end_rejection
from rcm_clearinghouse_sim.domain.eligibility import answer
from rcm_clearinghouse_sim.domain.plans import Plan
from rcm_clearinghouse_sim.service_layer.faults import Faults
from rcm_clearinghouse_sim.service_layer.mailbox import FileKind, Mailbox
from rcm_common.types import Clock
from rcm_x12 import Interchange, Transaction, read
from rcm_x12.acknowledgment_writer import write_999
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


@dataclass(frozen=True, slots=True)
class Submission:
    """What a batch got: the sim's id for it and its 999 (the same every time the batch is sent)."""

    batch_id: str
    acknowledgment: str


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
        """Take an 837P upload: per interchange its 999 and, for each accepted transaction set, its claims
        edited, acknowledged on a 277CA per payer and adjudicated. An interchange sent before (same sender,
        same ISA13) gets its first 999 again and nothing else happens to it; the new interchanges of the
        upload make a new batch."""
        interchanges = _enveloped(data)
        ledger = self._ledger.copy()
        keys = [_batch_key(interchange) for interchange in interchanges]
        if all(key in ledger.batches for key in keys):
            return Submission(ledger.batches[keys[0]].batch_id, _acknowledgments(ledger, keys))
        batch_id = ledger.next_batch_id()
        files: list[MailboxEntry] = []
        for key, interchange in zip(keys, interchanges, strict=True):
            if key not in ledger.batches:
                files += self._intake(ledger, batch_id, interchange)
        self._ledger = ledger
        for kind, payer_id, content in files:
            self.mailbox.put(kind, payer_id, content, self.clock())
        return Submission(batch_id, _acknowledgments(ledger, keys))

    def _intake(self, ledger: _Ledger, batch_id: str, interchange: Interchange) -> list[MailboxEntry]:
        """A new interchange into the ledger: its 999, and the claims of its accepted sets taken. Returns
        the 277CAs."""
        groups = acknowledge(interchange)
        verdicts = {r.control_number: r.accepted for g in groups for r in g.responses}
        accepted = [
            professional_claims_of(transaction, interchange)
            for transaction, _ in transaction_sets([interchange], "837")
            if verdicts.get(transaction.control_number)
        ]
        text = "".join(write_999(group, self._envelope(_sender(interchange), ledger)) for group in groups)
        ledger.batches[_batch_key(interchange)] = Submission(batch_id, text)
        logger.info("batch %s: an interchange with %d sets accepted", batch_id, len(accepted))
        return [file for batch in accepted for file in self._take(ledger, batch_id, interchange, batch)]

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
        replacement or a void first withdrawing its original; a void, billing nothing, is not adjudicated,
        so never paid), all kept in the ledger. Returns the keys of the lines it was allowed."""
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
        from the same billing provider, not replaced or voided already, and not paid or billed to the patient
        on an 835 yet (undoing that takes a reversal, which the simulator does not write)."""
        original = self._ledger.by_payer_claim_number.get(claim.corrects)
        if original is None or original.result is None or original.payer_claim_number in ledger.withdrawn:
            return None
        if (original.payer_id, original.provider.provider.npi) != (claim.payer_id, claim.billing_npi):
            return None
        remitted = original.payment is not None and (original.result.paid or original.result.patient)
        return None if remitted else original

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
        void (with `due_only`, only those accepted at least the configured delay ago): one 835 per payer
        and payee into the mailbox, twice each when a duplicate_835 fault is set. Returns the mailbox ids of
        the 835s."""
        now = self.clock()
        delay = self.config.payment_delay_seconds
        due = [
            record
            for record in self._ledger.claims
            if record.result is not None
            and record.payment is None
            and record.payer_claim_number not in self._ledger.withdrawn
            and (not due_only or (now - record.received).total_seconds() >= delay)
        ]
        groups: dict[tuple[str, str], list[ClaimRecord]] = {}
        for record in due:
            groups.setdefault((record.payer_id, record.provider.provider.npi), []).append(record)
        if not groups:
            return []
        copies = 2 if self.faults.take_duplicate_835() else 1
        ids = []
        for (payer_id, _npi), records in groups.items():
            plan = self.plans[payer_id]
            trace = f"{payer_id}{next(self._trace_numbers):08d}"
            claims = tuple(x12_out.paid_claim(record, plan) for record in records)
            advice = x12_out.remittance(plan, records[0].provider.provider, claims, trace, now.date())
            text = write_835(advice, self._envelope(records[0].sender, self._ledger))
            for record in records:
                record.payment = Payment(trace, now.date())
            ids += [self.mailbox.put("835", payer_id, text, now).id for _ in range(copies)]
            logger.info("payment run: 835 trace %s for payer %s with %d claims", trace, payer_id, len(records))
        return ids


def _sender(interchange: Interchange) -> tuple[str, str]:
    return (interchange.sender_qualifier, interchange.sender)


def _batch_key(interchange: Interchange) -> BatchKey:
    return (interchange.sender_qualifier, interchange.sender, interchange.control_number)


def _acknowledgments(ledger: _Ledger, keys: list[BatchKey]) -> str:
    """The 999s of an upload's interchanges, in their order, each as it was first answered."""
    return "".join(ledger.batches[key].acknowledgment for key in keys)


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
