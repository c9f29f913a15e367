"""The clearinghouse: it answers 270s at once, takes 837P batches (a 999 back at once, a 277CA per payer in
the mailbox, the claims adjudicated), answers 276s from the claims' current state, and runs payment (an
835 per payer and payee into the mailbox). All state is in memory, for the life of the process.

Every method reads its whole input before it changes anything, so unreadable X12 changes nothing. The
methods never await: on one event loop each runs whole, with no lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import count

from rcm_clearinghouse_sim.adapters import x12_in, x12_out
from rcm_clearinghouse_sim.adapters.x12_out import ClaimRecord, Payment
from rcm_clearinghouse_sim.config import SimulatorConfig
from rcm_clearinghouse_sim.domain.accumulators import Accumulators
from rcm_clearinghouse_sim.domain.adjudication import DuplicateKey, adjudicate, duplicate_key
from rcm_clearinghouse_sim.domain.claims import Claim
from rcm_clearinghouse_sim.domain.coverage import coverage_of
from rcm_clearinghouse_sim.domain.edits import front_end_rejection
from rcm_clearinghouse_sim.domain.eligibility import answer
from rcm_clearinghouse_sim.domain.plans import Plan
from rcm_clearinghouse_sim.service_layer.faults import Faults
from rcm_clearinghouse_sim.service_layer.mailbox import Mailbox
from rcm_x12 import Interchange, Transaction, read
from rcm_x12.acknowledgment_writer import write_999
from rcm_x12.claim_acknowledgment_writer import ClaimAcknowledgment, ProviderAcknowledgment, write_277ca
from rcm_x12.claim_status_writer import StatusReply, write_277
from rcm_x12.elements import header_of
from rcm_x12.eligibility_response_writer import EligibilityReply, write_271
from rcm_x12.errors import X12Error
from rcm_x12.inquiry_reader import eligibility_request_of, status_request_of
from rcm_x12.professional_claim_reader import ClaimBatch, professional_claims_of
from rcm_x12.reader import transaction_sets
from rcm_x12.remittance_writer import write_835
from rcm_x12.structure_acknowledgment import acknowledge
from rcm_x12.writer import Envelope, Payer, TradingPartner

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Submission:
    """What a batch got: the sim's id for it and its 999 (the same every time the batch is sent)."""

    batch_id: str
    acknowledgment: str


class Clearinghouse:
    def __init__(self, config: SimulatorConfig, clock: Clock) -> None:
        self.config = config
        self.seed = config.seed
        self.plans: dict[str, Plan] = config.plans()
        self.clock = clock
        self.mailbox = Mailbox()
        self.faults = Faults()
        self.accumulators = Accumulators()
        self._control_numbers = count(1)
        self._batch_numbers = count(1)
        self._claim_numbers = count(1)
        self._trace_numbers = count(1)
        self._batches: dict[tuple[str, str, str], Submission] = {}
        self._claims: list[ClaimRecord] = []
        self._by_claim_id: dict[tuple[str, str], ClaimRecord] = {}
        self._seen: set[DuplicateKey] = set()

    # --- envelopes ------------------------------------------------------------------------------

    def _envelope(self, receiver: tuple[str, str]) -> Envelope:
        """An envelope from the clearinghouse to a sender (ISA05 and ISA06 of what it sent), with the next
        control number; values holding our delimiters are replaced, not refused, since they came in the
        sender's own delimiters and must still be answered."""
        number = next(self._control_numbers)
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
        """The 271 for a 270: one answer per inquiry, or one AAA at the payer's level when the payer is
        unknown (79) or, for a member id starting DOWN, unable to respond now (42)."""
        [(transaction, interchange), *_] = _sets(data, "270")
        request = eligibility_request_of(transaction, interchange)
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
                member_id = inquiry.subscriber.member_id
                met = self.accumulators.met(plan.payer_id, member_id, day.year)
                found = answer(plan, member_id, day, inquiry.service_types, met, self.seed)
                answers.append(x12_out.coverage_answer(inquiry, request.trace_originator, found))
            reply = EligibilityReply(request.reference, x12_out.payer_of(plan), request.provider, tuple(answers))
        logger.info("answered a 270 with %d inquiries", len(request.inquiries))
        return write_271(reply, self._envelope(_sender(interchange)))

    # --- claims ---------------------------------------------------------------------------------

    def submit(self, data: bytes) -> Submission:
        """Take an 837P batch: the 999 for it, and for each accepted transaction set its claims edited,
        acknowledged on a 277CA per payer and adjudicated. A batch sent again (same sender, same ISA13)
        gets its first answer and nothing else happens."""
        interchanges = read(data)
        known = [found for i in interchanges if (found := self._batches.get(_batch_key(i))) is not None]
        if len(known) == len(interchanges):
            return Submission(known[0].batch_id, "".join(submission.acknowledgment for submission in known))
        acknowledgments = [(interchange, acknowledge(interchange)) for interchange in interchanges]
        accepted: list[tuple[Interchange, ClaimBatch]] = []
        for interchange, groups in acknowledgments:
            verdicts = {r.control_number: r.accepted for g in groups for r in g.responses}
            for transaction, _ in transaction_sets([interchange], "837"):
                if verdicts.get(transaction.control_number):
                    accepted.append((interchange, professional_claims_of(transaction, interchange)))
        batch_id = f"B{next(self._batch_numbers):06d}"
        texts = []
        for interchange, groups in acknowledgments:
            text = "".join(write_999(group, self._envelope(_sender(interchange))) for group in groups)
            self._batches[_batch_key(interchange)] = Submission(batch_id, text)
            texts.append(text)
        for interchange, batch in accepted:
            self._take(batch_id, interchange, batch)
        logger.info("batch %s: %d interchanges, %d sets accepted", batch_id, len(interchanges), len(accepted))
        return Submission(batch_id, "".join(texts))

    def _take(self, batch_id: str, interchange: Interchange, batch: ClaimBatch) -> None:
        now = self.clock()
        records: list[ClaimRecord] = []
        adjudicated: list[Claim] = []
        for provider in batch.providers:
            for subscriber in provider.subscribers:
                for source in subscriber.claims:
                    record = ClaimRecord(source, subscriber, provider, batch_id, _sender(interchange), now)
                    claim = x12_in.claim_of(source, subscriber, provider)
                    plan = self.plans.get(claim.payer_id)
                    record.rejection = front_end_rejection(claim, payer_known=plan is not None)
                    if record.rejection is None and plan is not None:
                        record.payer_claim_number = f"{plan.payer_id}{next(self._claim_numbers):010d}"
                        coverage = coverage_of(claim.member_id, claim.service_date)
                        year = claim.service_date.year
                        met = self.accumulators.met(plan.payer_id, claim.member_id, year)
                        record.result, met = adjudicate(
                            claim, plan, coverage, met, received=now.date(), seen=frozenset(self._seen), seed=self.seed
                        )
                        self.accumulators.record(plan.payer_id, claim.member_id, year, met)
                        adjudicated.append(claim)
                    records.append(record)
        for record in records:
            self._claims.append(record)
            self._by_claim_id[(record.payer_id, record.claim_id)] = record
        self._seen.update(duplicate_key(claim, line) for claim in adjudicated for line in claim.lines)
        self._acknowledge(batch_id, interchange, batch, records)

    def _acknowledge(
        self, batch_id: str, interchange: Interchange, batch: ClaimBatch, records: list[ClaimRecord]
    ) -> None:
        """A 277CA per payer of the batch into the mailbox, each claim accepted or rejected."""
        submitter = batch.submitter or TradingPartner(interchange.sender, interchange.sender)
        today = self.clock().date()
        traces = {id(record): f"{batch_id}-{number}" for number, record in enumerate(records, 1)}
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
            text = write_277ca(acknowledgment, self._envelope(_sender(interchange)))
            self.mailbox.put("277CA", payer_id, text, self.clock())
            rejected = sum(record.rejection is not None for record in mine)
            logger.info(
                "batch %s payer %s: %d claims, %d rejected on the 277CA", batch_id, payer_id, len(mine), rejected
            )

    # --- claim status ---------------------------------------------------------------------------

    def claim_status(self, data: bytes) -> str:
        """The 277 for a 276: each claim found by payer and patient control number (REF*EJ, else TRN02)."""
        [(transaction, interchange), *_] = _sets(data, "276")
        request = status_request_of(transaction, interchange)
        today = self.clock().date()
        reports = tuple(
            x12_out.status_report(
                inquiry,
                self._by_claim_id.get((request.payer.payer_id, inquiry.patient_control_number or inquiry.trace)),
                today,
            )
            for inquiry in request.inquiries
        )
        reply = StatusReply(
            f"S{next(self._control_numbers):09d}", request.payer, request.receiver, request.provider, reports
        )
        logger.info("answered a 276 with %d inquiries", len(reports))
        return write_277(reply, self._envelope(_sender(interchange)))

    # --- payment --------------------------------------------------------------------------------

    def run_payments(self, *, due_only: bool) -> list[str]:
        """Pay every adjudicated claim not yet paid (with `due_only`, only those accepted at least the
        configured delay ago): one 835 per payer and payee into the mailbox, twice each when a
        duplicate_835 fault is set. Returns the mailbox ids of the 835s."""
        now = self.clock()
        delay = self.config.payment_delay_seconds
        due = [
            record
            for record in self._claims
            if record.result is not None
            and record.payment is None
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
            text = write_835(advice, self._envelope(records[0].sender))
            for record in records:
                record.payment = Payment(trace, now.date())
            ids += [self.mailbox.put("835", payer_id, text, now).id for _ in range(copies)]
            logger.info("payment run: 835 trace %s for payer %s with %d claims", trace, payer_id, len(records))
        return ids


def _sender(interchange: Interchange) -> tuple[str, str]:
    return (interchange.sender_qualifier, interchange.sender)


def _batch_key(interchange: Interchange) -> tuple[str, str, str]:
    return (interchange.sender_qualifier, interchange.sender, interchange.control_number)


def _sets(data: bytes, set_id: str) -> list[tuple[Transaction, Interchange]]:
    found = list(transaction_sets(read(data), set_id))
    if not found:
        raise X12Error(f"the interchange holds no {set_id} transaction set")
    return found
