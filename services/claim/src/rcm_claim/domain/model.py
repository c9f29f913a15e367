"""The claim aggregate: one 837P claim for one encounter version at one payer, and its state machine.

A claim is built as a `draft` from a captured encounter, scrubbed (`ready`, or `scrub_failed` while a blocking
rule stands), gathered into a stored batch (`batched`: on its way, out of reach of holds and rebuilds),
`submitted` once the clearinghouse's 999 accepts its transaction set, then `accepted` by the payer's 277CA
(with the payer's claim number) or `rejected` (by the 999 or the 277CA, until a fix resubmits it). The payer's
835, as remittance posts it, makes it `paid`, `partially_paid` (lines denied, or allowed below the contract)
or `denied`; a reversal of that payment reopens it (`accepted` again, awaiting the payer's new answer); once no
insurance balance is left it is `closed`. A correction after acceptance makes a replacement claim (frequency
7) and the original `replaced`; a void makes it `voided`.
Every transition is timestamped with its cause (the event that caused it, or the API call and who made it),
and a transition the machine does not allow is refused, so a claim's history is always one a biller can
read top to bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Final, Literal
from uuid import UUID

from rcm_claim.domain import events
from rcm_claim.domain.adjudication import (
    NOT_OUR_CLAIM,
    PREDETERMINATION,
    WHOLE_CLAIM_DENIALS,
    ZERO,
    Adjudication,
    Denial,
    PriorPayer,
    Settlement,
    deciding_payments,
    line_verdicts,
    settlement_of,
)
from rcm_claim.domain.denial_work import (
    CLOSING_RESOLUTIONS,
    LEVEL_NAMES,
    Appeal,
    DenialWorkError,
    Resolution,
    ResolutionKind,
    appeal_deadline,
    outdated,
    outstanding_denials,
    refuse_appeal,
    refuse_transfer,
    resolution_in_force,
)
from rcm_claim.domain.events import ClosedReason, Problem, StatusReport, TransferBasis, VoidReason
from rcm_claim.domain.findings import Override, ScrubRecord

ClaimState = Literal[
    "draft",
    "scrub_failed",
    "ready",
    "batched",
    "submitted",
    "accepted",
    "rejected",
    "paid",
    "partially_paid",
    "denied",
    "closed",
    "replaced",
    "voided",
]
Responsibility = Literal["P", "S", "T"]  # SBR01: primary, secondary, tertiary
Frequency = Literal["1", "7", "8"]  # CLM05-3: original, replacement, void

# The transitions the machine allows: from each state, the states it may go to.
TRANSITIONS: Final[dict[ClaimState, frozenset[ClaimState]]] = {
    "draft": frozenset({"ready", "scrub_failed", "voided"}),
    "scrub_failed": frozenset({"ready", "scrub_failed", "voided"}),
    "ready": frozenset({"batched", "scrub_failed", "ready", "voided"}),
    "batched": frozenset({"submitted", "rejected"}),
    "submitted": frozenset({"accepted", "rejected"}),
    "rejected": frozenset({"ready", "scrub_failed", "voided"}),
    "accepted": frozenset({"paid", "partially_paid", "denied", "replaced", "voided"}),
    # Adjudicated, the latest standing payment decides: each may become any other, or accepted again.
    **{
        state: frozenset({"accepted", "paid", "partially_paid", "denied", "closed", "replaced", "voided"})
        for state in ("paid", "partially_paid", "denied", "closed")
    },
    "replaced": frozenset(),
    "voided": frozenset(),
}
# The states of a claim the payer has adjudicated on an 835.
ADJUDICATED: Final[frozenset[ClaimState]] = frozenset({"paid", "partially_paid", "denied", "closed"})
# The states of a claim the payer has and has answered: a correction replaces it, a void voids it (frequency 7
# or 8 naming the payer's claim number); once paid, the money follows the payer's 835 (its reversal).
ANSWERED: Final[frozenset[ClaimState]] = frozenset({"accepted", *ADJUDICATED})
# The states of a claim the payer has, or may have, and has not answered: a correction waits for the answer.
AWAITING_ANSWER: Final[frozenset[ClaimState]] = frozenset({"batched", "submitted"})
# The states of a claim not yet with the payer: it may be held, rebuilt, or take a coverage's new order.
HOLDABLE: Final[frozenset[ClaimState]] = frozenset({"draft", "scrub_failed", "ready", "rejected"})
# The states of a claim the payer has not taken (a timely-filing window still runs): not yet with it, or on its way.
NOT_FILED: Final[frozenset[ClaimState]] = HOLDABLE | {"batched"}
ORDER_RESPONSIBILITY: Final[dict[str, Responsibility]] = {"primary": "P", "secondary": "S", "tertiary": "T"}
MAX_PATIENT_CONTROL_NUMBER: Final = 20  # CLM01
NOT_OUR_CLAIM_ACTION: Final = (
    "Confirm the patient's coverage and its order, and bill the payer that should pay (or the one the claim was "
    "forwarded to)."
)


class ClaimError(Exception):
    """A change the claim refuses as it stands: a transition its state machine does not allow."""


@dataclass(frozen=True, slots=True)
class ClaimLine:
    """One service line as the 837P carries it, with its line item control number (REF*6R), which the
    835 echoes so a payment finds its line."""

    number: int
    control_number: str
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    date_of_service: date
    charge: Decimal
    diagnosis_pointers: tuple[int, ...]
    expected_allowed: Decimal | None = None
    ndc: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of the claim's timeline: when, from which state to which, and what caused it."""

    at: datetime
    from_state: ClaimState | None
    to_state: ClaimState
    cause: str  # "event:<event id>" or "api:<subject>"
    note: str = ""


@dataclass(frozen=True, slots=True)
class BillingNotes:
    """What a biller sets on the claim for the payer: a prior authorisation number the payer gave (REF*G1, in
    place of the one found on file), why the claim is filed late (CLM20), and a note (NTE*ADD)."""

    prior_authorization_number: str | None = None
    delay_reason_code: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the clearinghouse (999) or the payer (277CA) last rejected the claim, kept until it goes again."""

    stage: Literal["999", "277CA"]
    problems: tuple[Problem, ...]
    at: datetime


@dataclass(slots=True)
class Claim:
    id: UUID
    encounter_id: UUID
    encounter_version: int
    patient_id: UUID
    coverage_id: UUID
    payer_id: str
    responsibility: Responsibility
    patient_control_number: str
    date_of_service: date
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[ClaimLine, ...]
    billing_provider_npi: str
    rendering_provider_npi: str | None = None
    referring_provider_npi: str | None = None
    location: str | None = None  # the practice's code for where the service was given
    state: ClaimState = "draft"
    frequency: Frequency = "1"
    replaces_payer_claim_number: str | None = None
    payer_claim_number: str | None = None
    batch_id: UUID | None = None  # the batch that carries it, once batched
    status_checked_at: datetime | None = None  # when a 276 last asked the payer about it
    rejection: Rejection | None = None
    billing_notes: BillingNotes = field(default_factory=lambda: BillingNotes())
    scrub: ScrubRecord | None = None
    held: str | None = None  # why a person or charge keeps the claim out of batches, while they do
    waits_for: UUID | None = None  # the claim whose answer from the payer this one waits for before it goes
    adjudications: tuple[Adjudication, ...] = ()  # the payer's 835 payments, as remittance posted them
    denials: tuple[Denial, ...] = ()  # each payment's denial in words, as remittance sent it
    underpaid_by: Decimal | None = None  # allowed below the contract by this much: an underpayment work item
    settled_as: str = ""  # what its standing payments last made of it: state, deciding payment, patient's share
    resolutions: tuple[Resolution, ...] = ()  # what billers did with its denials
    appeals: tuple[Appeal, ...] = ()
    prior_payers: tuple[PriorPayer, ...] = ()  # on a claim to a secondary or tertiary payer, the earlier payers'
    reversals_awaited: tuple[UUID, ...] = ()  # payments the payer reversed before the claim heard of them
    revision: int = 0  # the stored revision it was read at: a save over a newer one is refused
    timeline: list[Transition] = field(default_factory=list)
    events: list[events.DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @property
    def line_charges(self) -> dict[str, Decimal]:
        """Each line's charge by its control number, as the payer's 835 names the lines."""
        return {line.control_number: line.charge for line in self.lines}

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0.00"))

    @classmethod
    def build(
        cls,
        *,
        claim_id: UUID,
        encounter: EncounterVersion,
        coverage_order: str,
        now: datetime,
        cause: str,
        frequency: Frequency = "1",
        replaces_payer_claim_number: str | None = None,
    ) -> Claim:
        """The draft claim of an encounter version at the payer of its coverage: an original (frequency 1), or
        a replacement (7) naming the payer's claim number of the claim it replaces."""
        if encounter.payer_id is None or encounter.coverage_id is None:
            raise ClaimError("a self-pay encounter makes no claim")
        if coverage_order not in ORDER_RESPONSIBILITY:
            raise ClaimError(f"a coverage's order is primary, secondary or tertiary, not {coverage_order!r}")
        control = patient_control_number(claim_id)
        claim = cls(
            id=claim_id,
            encounter_id=encounter.encounter_id,
            encounter_version=encounter.version,
            patient_id=encounter.patient_id,
            coverage_id=encounter.coverage_id,
            payer_id=encounter.payer_id,
            responsibility=ORDER_RESPONSIBILITY[coverage_order],
            patient_control_number=control,
            date_of_service=encounter.date_of_service,
            place_of_service=encounter.place_of_service,
            diagnoses=encounter.diagnoses,
            billing_provider_npi=encounter.billing_provider_npi,
            rendering_provider_npi=encounter.rendering_provider_npi,
            referring_provider_npi=encounter.referring_provider_npi,
            location=encounter.location,
            frequency=frequency,
            replaces_payer_claim_number=replaces_payer_claim_number,
            lines=tuple(
                ClaimLine(
                    number=number,
                    control_number=f"{control}{number:02d}",
                    procedure_code=line.procedure_code,
                    modifiers=line.modifiers,
                    units=line.units,
                    date_of_service=line.date_of_service,
                    charge=line.charge,
                    diagnosis_pointers=line.diagnosis_pointers,
                    expected_allowed=line.expected_allowed,
                    ndc=line.ndc,
                )
                for number, line in enumerate(encounter.lines, start=1)
            ),
        )
        claim.timeline.append(Transition(now, None, "draft", cause, f"encounter version {encounter.version}"))
        claim.events.append(events.ClaimCreated())
        return claim

    def void_claim(self, claim_id: UUID, now: datetime, cause: str, *, voids: str | None = None) -> Claim:
        """The frequency-8 claim that asks the payer to void this one: the same services, naming the payer's
        claim number (REF*F8): this claim's once the payer has given it, or `voids` where this claim stands in
        for another the payer has."""
        control = patient_control_number(claim_id)
        void = replace(
            self,
            id=claim_id,
            patient_control_number=control,
            lines=tuple(replace(line, control_number=f"{control}{line.number:02d}") for line in self.lines),
            state="draft",
            frequency="8",
            replaces_payer_claim_number=voids or self.payer_claim_number,
            payer_claim_number=None,
            batch_id=None,
            status_checked_at=None,
            rejection=None,
            scrub=None,
            held=None,
            waits_for=None,
            adjudications=(),
            denials=(),
            underpaid_by=None,
            settled_as="",
            resolutions=(),
            appeals=(),
            reversals_awaited=(),
            revision=0,
            timeline=[Transition(now, None, "draft", cause, f"voids claim {self.patient_control_number}")],
            events=[events.ClaimCreated()],
        )
        return void

    def become_original(self) -> None:
        """A replacement whose original the payer rejected replaces nothing: it goes as an original."""
        if self.state not in HOLDABLE:
            raise ClaimError(f"a {self.state} claim is with the payer as it was sent")
        self.frequency = "1"
        self.replaces_payer_claim_number = None

    def become_replacement(self, payer_claim_number: str) -> None:
        """An unsent original for a payer that, it turns out, has the encounter's claim: it replaces that one."""
        if self.state not in HOLDABLE:
            raise ClaimError(f"a {self.state} claim is with the payer as it was sent")
        self.frequency = "7"
        self.replaces_payer_claim_number = payer_claim_number

    def billed_encounter(self) -> EncounterVersion:
        """The encounter version the claim bills, as the claim holds it: what a claim built from it bills again."""
        return EncounterVersion(
            encounter_id=self.encounter_id, version=self.encounter_version, patient_id=self.patient_id,
            coverage_id=self.coverage_id, payer_id=self.payer_id, date_of_service=self.date_of_service,
            place_of_service=self.place_of_service, diagnoses=self.diagnoses,
            lines=tuple(
                EncounterLine(line.procedure_code, line.modifiers, line.units, line.date_of_service, line.charge,
                              line.diagnosis_pointers, line.expected_allowed, line.ndc)
                for line in self.lines
            ),
            billing_provider_npi=self.billing_provider_npi, rendering_provider_npi=self.rendering_provider_npi,
            referring_provider_npi=self.referring_provider_npi, location=self.location,
        )  # fmt: skip

    @property
    def in_state_since(self) -> datetime:
        """When the claim entered its state: holds, releases and re-scrubs within a state do not count, so a
        work queue keeps the longest waiting first."""
        return next(step.at for step in reversed(self.timeline) if step.from_state != step.to_state)

    @property
    def overrides(self) -> tuple[Override, ...]:
        return self.scrub.overrides if self.scrub is not None else ()

    def scrubbed(self, record: ScrubRecord, now: datetime, cause: str) -> None:
        """Keep the scrub's record; the claim is ready when no blocking rule stands, else scrub_failed naming
        the rules. A scrub that leaves the state and the blocking rules as they were adds no step."""
        blocking = record.blocking_rules
        to_state: ClaimState = "scrub_failed" if blocking else "ready"
        unchanged = self.scrub is not None and self.scrub.blocking_rules == blocking
        if to_state != self.state or not unchanged:
            self._move(to_state, now, cause, ", ".join(blocking))
            if blocking:
                self.events.append(events.ClaimScrubFailed(blocking))
        self.scrub = record

    def annotate(self, notes: BillingNotes, now: datetime, cause: str) -> None:
        """Set what the biller tells the payer on the claim, while the payer does not have it."""
        if self.state not in HOLDABLE:
            raise ClaimError(f"a {self.state} claim is with the payer as it was sent")
        before = self.billing_notes
        changed = [
            label
            for label, old, new in (
                ("prior authorisation", before.prior_authorization_number, notes.prior_authorization_number),
                ("delay reason", before.delay_reason_code, notes.delay_reason_code),
                ("note", before.note, notes.note),
            )
            if old != new
        ]
        self.billing_notes = notes
        note = "set " + ", ".join(changed) if changed else "billing notes unchanged"
        self.timeline.append(Transition(now, self.state, self.state, cause, note))

    @property
    def authorization_number(self) -> str | None:
        """REF*G1: the number the biller set, else the one the scrub found on file."""
        found = self.scrub.authorization_number if self.scrub is not None else None
        return self.billing_notes.prior_authorization_number or found

    def noted(self, note: str, now: datetime, cause: str) -> None:
        """A step on the timeline that changes nothing else: something a biller should know of the claim."""
        self.timeline.append(Transition(now, self.state, self.state, cause, note))

    def hold(self, reason: str, now: datetime, cause: str) -> None:
        """Keep the claim out of every batch until it is released; its state stays as it is."""
        if self.state not in HOLDABLE:
            raise ClaimError(f"a {self.state} claim cannot be held")
        self.held = reason
        self.timeline.append(Transition(now, self.state, self.state, cause, f"held: {reason}"))

    def release(self, now: datetime, cause: str) -> None:
        if self.held is None:
            waiting = " (it waits for the payer's answer to another claim, which releases it)" if self.waits_for else ""
            raise ClaimError(f"the claim is not held{waiting}")
        self.held = None
        self.timeline.append(Transition(now, self.state, self.state, cause, "released"))

    def wait_for_answer(self, other: Claim, now: datetime, cause: str) -> None:
        """Go only once the payer has answered `other` (a correction or void of a claim the payer has)."""
        self.waits_for = other.id
        note = f"waits for the payer's answer to claim {other.patient_control_number}"
        self.timeline.append(Transition(now, self.state, self.state, cause, note))

    def answer_came(self, now: datetime, cause: str) -> None:
        self.waits_for = None
        self.timeline.append(Transition(now, self.state, self.state, cause, "the payer's answer came"))

    @property
    def kept_back(self) -> bool:
        """Out of every batch: held by someone, or waiting for the payer's answer to another claim."""
        return self.held is not None or self.waits_for is not None

    def follow_coverage_order(self, order: str) -> None:
        """Take the coverage's order as registration now says it (SBR01), while the claim is unsent."""
        if self.state in HOLDABLE and order in ORDER_RESPONSIBILITY:
            self.responsibility = ORDER_RESPONSIBILITY[order]

    def batch(self, batch_id: UUID, now: datetime, cause: str) -> None:
        """Put the ready claim in a stored batch: from now on it is on its way and nothing rebuilds it."""
        if self.held is not None:
            raise ClaimError("a held claim is not batched: release it first")
        if self.waits_for is not None:
            raise ClaimError("the claim waits for the payer's answer to another claim")
        self._move("batched", now, cause, f"batch {batch_id}")
        self.batch_id = batch_id
        self.rejection = None

    def submit(self, interchange_control_number: str, now: datetime, cause: str) -> None:
        """The clearinghouse's 999 accepted the claim's transaction set: it is with the payer."""
        self._refuse_illegal("submitted")
        if self.batch_id is None:
            raise ClaimError("a claim is submitted in a batch")
        self._move("submitted", now, cause, f"interchange {interchange_control_number}")
        self.events.append(events.ClaimSubmitted(self.batch_id, interchange_control_number))

    def status_reported(self, statuses: tuple[StatusReport, ...], now: datetime, cause: str) -> None:
        """The payer's answer to a 276: kept on the timeline and published; the state stays as it is."""
        self.status_checked_at = now
        note = "; ".join(f"{s.category}:{s.status}" for s in statuses) or "no status"
        self.timeline.append(Transition(now, self.state, self.state, cause, f"277 status {note}"))
        self.events.append(events.ClaimStatusUpdated(statuses))

    def accept(self, payer_claim_number: str, now: datetime, cause: str, *, next_payer: bool = False) -> None:
        """The 277CA accepted the claim; payments the payer's 835 posted before it now decide its state (what they
        leave billed to a `next_payer` when there is one)."""
        self._move("accepted", now, cause, f"payer claim number {payer_claim_number}")
        self.payer_claim_number = self.payer_claim_number or payer_claim_number
        self.events.append(events.ClaimAccepted(payer_claim_number))
        if self.standing_payments:
            self._settle(now, cause, "the payments posted before the 277CA", next_payer=next_payer)

    def reject(self, stage: Literal["999", "277CA"], problems: tuple[Problem, ...], now: datetime, cause: str) -> None:
        self._move("rejected", now, cause, f"{stage}: {', '.join(problem.code for problem in problems)}")
        self.rejection = Rejection(stage, problems, now)
        self.events.append(events.ClaimRejected(stage, problems))

    def void(self, reason: VoidReason, now: datetime, cause: str, *, void_claim: Claim | None = None) -> None:
        """Withdraw the claim: one the payer does not have is simply never sent; for one it has accepted,
        `void_claim` (frequency 8) goes to the payer in its place."""
        note = reason.replace("_", " ") + (f"; void claim {void_claim.id}" if void_claim is not None else "")
        self._move("voided", now, cause, note)
        self.held = None
        self.waits_for = None
        self.events.append(events.ClaimVoided(reason, void_sent=void_claim is not None))

    def replaced_by(self, replacement_id: UUID, now: datetime, cause: str) -> None:
        self._move("replaced", now, cause, f"replaced by claim {replacement_id}")
        self.events.append(events.ClaimReplaced(replacement_id))

    @property
    def standing_payments(self) -> list[Adjudication]:
        """The payments the payer has not taken back, in the order they were posted."""
        return [a for a in self.adjudications if not a.reversed]

    @property
    def denial(self) -> Denial | None:
        """The denial on the claim: the latest of a standing payment's with something still denied (at what
        still is), while the claim is denied or partially paid."""
        if self.state not in ("denied", "partially_paid"):
            return None
        return next(reversed(outstanding_denials(self.denials, self.standing_payments, self.line_charges)), None)

    def adjudicated(self, adjudication: Adjudication, now: datetime, cause: str, *, next_payer: bool = False) -> None:
        """The payer's 835 posted a payment to the claim: the standing payments decide its state. A claim
        replaced or voided meanwhile keeps the payment without moving (the money follows the payer's 835); one
        being fixed after a rejection is held, so it is not sent again before a person looks; one not yet
        accepted settles when the 277CA comes. With a `next_payer` (a secondary or tertiary coverage on the
        date of service), what this payer leaves is billed to it rather than moved to the patient."""
        if adjudication.payment_id in self.reversals_awaited:  # its reversal was read first: it stands for nothing
            self.reversals_awaited = tuple(p for p in self.reversals_awaited if p != adjudication.payment_id)
            adjudication = replace(adjudication, reversed=True)
        self.adjudications += (adjudication,)
        if adjudication.payer_claim_number:  # what a replacement or void cites is the 835's number
            self.payer_claim_number = adjudication.payer_claim_number
        note = f"835 trace {adjudication.trace_number}: paid {adjudication.paid} of {adjudication.charge}"
        if self.state in HOLDABLE:
            self.held = self.held or "the payer paid it on an 835 while it was being fixed: check before resending"
        if self.state not in ("accepted", *ADJUDICATED):
            self.timeline.append(Transition(now, self.state, self.state, cause, f"{note}, posted while {self.state}"))
            return
        words_first = any(d.payment_id == adjudication.payment_id for d in self.denials)
        self._settle(now, cause, note, next_payer=next_payer, words_first=words_first)
        if adjudication.claim_status != PREDETERMINATION and not adjudication.reversed:
            self._decide_appeals(adjudication, now, cause)

    def payment_reversed(
        self, payment_id: UUID | None, amounts: tuple[Decimal, Decimal, Decimal], now: datetime, cause: str, *,
        next_payer: bool = False,
    ) -> None:  # fmt: skip
        """The payer took a payment back: a transfer or write-off of its denial is withdrawn whatever the claim's
        state, and the standing payments decide again. Without an id (a poster posted the reversal of a payment
        made before remittance kept them) it takes back only a payment whose charge, payment and patient
        responsibility (`amounts`, negative) it negates exactly. A reversal of a payment the claim has not heard
        of yet (the events came out of order) is kept, and takes the payment back when it comes."""
        standing = self.standing_payments
        if payment_id is not None:
            taken = next((a for a in standing if a.payment_id == payment_id), None)
        else:
            taken = next((a for a in standing if a.negates(*amounts)), None)
        if taken is None:
            note = f"the payer reversed payment {payment_id or 'of another claim number'}, not one standing here"
            if payment_id is not None and all(a.payment_id != payment_id for a in self.adjudications):
                self.reversals_awaited += (payment_id,)
                note += ": kept until its payment is posted"
            self.timeline.append(Transition(now, self.state, self.state, cause, note))
            return
        self.adjudications = tuple(replace(a, reversed=True) if a is taken else a for a in self.adjudications)
        note = f"the payer reversed payment {taken.payment_id}"
        self._withdraw_outdated(now, cause)
        if self.state in ADJUDICATED:
            self._settle(now, cause, note, next_payer=next_payer)
        else:
            self.timeline.append(Transition(now, self.state, self.state, cause, note))

    def denied(self, denial: Denial, now: datetime, cause: str) -> None:
        """A payment's denial in words, for the denial work queue. A second word on the same payment (a
        redelivery, or remittance's reasons for a CLP02 23 the claim already denied) adds its reasons and
        publishes nothing again; a denial of a payment not standing is passed over."""
        existing = next((d for d in self.denials if d.payment_id == denial.payment_id), None)
        if existing is not None:
            self.denials = tuple(
                d.with_reasons(denial.reasons, denial.words) if d is existing else d for d in self.denials
            )
            return
        known = {a.payment_id: a for a in self.adjudications}
        if denial.payment_id in known and known[denial.payment_id].reversed:
            return
        self.denials += (denial,)
        if denial.payment_id not in known:  # read before its payment: it decides with it
            self.timeline.append(Transition(now, self.state, self.state, cause, "a denial kept until its payment"))
            return
        if (current := self.denial) is not None and current.payment_id == denial.payment_id:
            note = f"denied ({denial.category}): {', '.join(denial.reasons)}, {denial.amount} at stake"
            self.timeline.append(Transition(now, self.state, self.state, cause, note))
            self.events.append(events.ClaimDenied(denial))

    @property
    def open_denial(self) -> Denial | None:
        """The denial to work (the denial queue's item): the latest still denied that no resolution stands for
        (an appeal stands until the payer decides it), while the claim is denied or partially paid."""
        if self.state not in ("denied", "partially_paid"):
            return None
        unresolved = [
            denial
            for denial in outstanding_denials(self.denials, self.standing_payments, self.line_charges)
            if resolution_in_force(self.resolutions, self.appeals, denial.payment_id) is None
        ]
        return unresolved[-1] if unresolved else None

    def appeal_window_opens(self, denial: Denial) -> date:
        """When the window to appeal a denial starts: the denial's day, or the day the payer decided against the
        last appeal of it (a higher level is filed within the payer's days of that decision)."""
        decided = [a.decided_at for a in self.appeals if a.payment_id == denial.payment_id and a.decided_at]
        return max(decided).date() if decided else self.denied_on(denial)

    def denied_on(self, denial: Denial) -> date:
        """The day the payer denied it: its 835's payment date (the appeal window runs from the payer's date, not
        from when the practice read the 835), else the day its payment was posted."""
        return next(a.paid_on or a.posted_at.date() for a in self.adjudications if a.payment_id == denial.payment_id)

    @property
    def paid_total(self) -> Decimal:
        return sum((a.paid for a in self.standing_payments), ZERO)

    def appeal(
        self,
        *,
        level: int,
        reason: str,
        argument: str,
        attachments: tuple[str, ...],
        appeal_days: int | None,
        by: str,
        now: datetime,
    ) -> Appeal:
        """Appeal the open denial to the payer (ClaimAppealed): the item leaves the denial queue until the payer's
        next 835 for the claim decides it. Refused for a claim with no denial to appeal, and for a level already
        appealed or not yet reached (`denial_work.refuse_appeal`)."""
        denial = self._denial_to_resolve("appealed")
        try:
            refuse_appeal(self.appeals, level)
        except DenialWorkError as error:
            raise ClaimError(str(error)) from None
        appeal = Appeal(
            number=len(self.appeals) + 1, level=level, payment_id=denial.payment_id, category=denial.category,
            reasons=denial.reasons, reason=reason, argument=argument, attachments=attachments,
            amount_at_stake=denial.amount, paid_before=self.paid_total, by=by, at=now,
            lines=next(a.denied_lines for a in self.adjudications if a.payment_id == denial.payment_id),
            deadline=appeal_deadline(self.appeal_window_opens(denial), appeal_days),
        )  # fmt: skip
        self.appeals += (appeal,)
        self.resolutions += (Resolution(denial.payment_id, "appealed", reason, denial.amount, by, now,
                                        appeal_number=appeal.number),)  # fmt: skip
        late = appeal.deadline is not None and now.date() > appeal.deadline
        note = f"{LEVEL_NAMES[level]} {appeal.number} of {denial.amount} denied" + (
            f", past the payer's window ({appeal.deadline})" if late else ""
        )
        self.timeline.append(Transition(now, self.state, self.state, f"api:{by}", note))
        self.events.append(events.ClaimAppealed(appeal))
        return appeal

    def resolve_denial(
        self, kind: ResolutionKind, reason: str, *, by: str, now: datetime, basis: TransferBasis | None = None,
        next_payer: bool = False,
    ) -> None:  # fmt: skip
        """Resolve the open denial without the payer: move what is still denied to the patient (Patient-
        ResponsibilityTransferred, on a basis that allows it), write it off (ClaimWriteOffRequested) or accept it
        as the payer's last word. Once every denial still standing is resolved so, and no underpayment is open,
        no insurance balance is left: the claim is closed (with what the payer left billed to a `next_payer`)."""
        if kind not in ("transferred_to_patient", "written_off", "accepted"):
            raise ClaimError(f"a denial is {kind.replace('_', ' ')} by its own request, not by a resolution")
        denial = self._denial_to_resolve(kind)
        if kind == "transferred_to_patient":
            try:
                refuse_transfer(denial.reasons, basis)
            except DenialWorkError as error:
                raise ClaimError(str(error)) from None
            assert basis is not None, "refuse_transfer refuses a transfer without its basis"
            if denial.provider_liable > 0:  # a PR amount is the patient's on the 835 already: nothing moves
                self.events.append(events.PatientResponsibilityTransferred(denial, denial.provider_liable, basis))
        elif kind == "written_off" and denial.provider_liable > 0:  # a PR part is the patient's, not written off
            self.events.append(events.ClaimWriteOffRequested(denial, denial.provider_liable))
        moved = denial.provider_liable if kind in ("transferred_to_patient", "written_off") else ZERO
        self.resolutions += (Resolution(denial.payment_id, kind, reason, denial.amount, by, now, moved=moved),)
        cause, note = f"api:{by}", f"denial {kind.replace('_', ' ')} ({denial.amount}): {reason}"
        if not self._rest_resolved():
            left = "the underpayment stays open" if self.open_underpayment is not None else "another denial stays open"
            self.timeline.append(Transition(now, self.state, self.state, cause, f"{note}; {left}"))
            return
        self._close_resolved(now, cause, note, next_payer=next_payer)

    def appeal_answered_by_letter(
        self, number: int, outcome: Literal["upheld", "dismissed", "withdrawn"], note: str, *, by: str, now: datetime
    ) -> None:
        """The payer's answer to an appeal by letter (upheld or dismissed, with no 835), or the practice's
        withdrawal of it: the appeal is decided, and its denial is worked again (a higher level may follow)."""
        appeal = next((a for a in self.appeals if a.number == number), None)
        if appeal is None or appeal.outcome != "pending":
            raise ClaimError(f"appeal {number} is not awaiting the payer's decision")
        self.appeals = tuple(appeal.decided_by_letter(outcome, now) if a is appeal else a for a in self.appeals)
        self.timeline.append(Transition(now, self.state, self.state, f"api:{by}", f"appeal {number} {outcome}: {note}"))

    def _settlement(self) -> Settlement:
        return settlement_of(self.standing_payments, [line.control_number for line in self.lines])

    @property
    def open_underpayment(self) -> Decimal | None:
        """What the payer allowed below the contract while no biller has accepted it (the underpayment queue)."""
        if self.state != "partially_paid" or self.underpaid_by is None or self._underpayment_accepted():
            return None
        return self.underpaid_by

    def _underpaying(self) -> list[Adjudication]:
        """The standing payments that allowed below the contract, in the order they were posted."""
        return [a for a in self.standing_payments if a.underpaid_by is not None and a.claim_status != PREDETERMINATION]

    def _underpayment_accepted(self) -> Resolution | None:
        """A biller's acceptance of the underpayment as it stands now: made on one of the payments that underpaid,
        for the shortfall they leave together (another part of the claim paid in full changes nothing; a new
        shortfall is a new item)."""
        underpaying = {a.payment_id for a in self._underpaying()}
        return next(
            (
                r
                for r in reversed(self.resolutions)
                if r.underpayment and not r.withdrawn and r.payment_id in underpaying and r.amount == self.underpaid_by
            ),
            None,
        )

    def accept_underpayment(self, reason: str, *, by: str, now: datetime, next_payer: bool = False) -> None:
        """Accept what the payer allowed below the contract (a fee schedule the contract did not foresee, a
        shortfall not worth appealing): the underpayment item is resolved, and the claim closes once no denial
        is open either."""
        underpaid, underpaying = self.open_underpayment, self._underpaying()
        if underpaid is None or not underpaying:
            raise ClaimError(f"a {self.state} claim has no underpayment to accept")
        latest = underpaying[-1]
        self.resolutions += (Resolution(latest.payment_id, "accepted", reason, underpaid, by, now, underpayment=True),)
        cause, note = f"api:{by}", f"underpayment of {underpaid} accepted: {reason}"
        if self._rest_resolved():
            self._close_resolved(now, cause, note, next_payer=next_payer)
        else:
            self.timeline.append(Transition(now, self.state, self.state, cause, f"{note}; a denial stays open"))

    def _rest_resolved(self) -> bool:
        """Whether billers resolved every denial still standing (not by an appeal, which awaits the payer) and
        accepted any underpayment: then no insurance balance is left."""
        standing = outstanding_denials(self.denials, self.standing_payments, self.line_charges)
        in_force = [resolution_in_force(self.resolutions, self.appeals, d.payment_id) for d in standing]
        return (
            (bool(standing) or self.underpaid_by is not None)
            and (self.underpaid_by is None or self._underpayment_accepted() is not None)
            and not self._denials_unread()
            and not self._settlement().unanswered  # the rest of a split claim is still the payer's
            and all(r is not None and r.kind in CLOSING_RESOLUTIONS for r in in_force)
        )

    def _denials_unread(self) -> bool:
        """Whether a standing payment denied lines (or the claim) that are still denied by it and its denial in
        words has not come yet: remittance sends ClaimDenied after PaymentPosted, and a biller works it then."""
        deciding = deciding_payments(self.standing_payments)
        verdicts = line_verdicts(deciding)
        said = {d.payment_id for d in self.denials}
        denying = {payment.payment_id for denied, payment in verdicts.values() if denied}
        if not verdicts and deciding and deciding[-1].claim_status in WHOLE_CLAIM_DENIALS:
            denying.add(deciding[-1].payment_id)
        return bool(denying - said)

    def _close_resolved(self, now: datetime, cause: str, note: str, *, next_payer: bool = False) -> None:
        """Close the claim its billers resolved: by the latest resolution, with the patient's share the 835s gave
        and the amounts moved to the patient; that share billed to a `next_payer` instead, unless the biller
        moved the denial to the patient."""
        settlement = self._settlement()
        standing = outstanding_denials(self.denials, self.standing_payments, self.line_charges)
        resolutions = [resolution_in_force(self.resolutions, self.appeals, d.payment_id) for d in standing]
        final = [r for r in (*resolutions, self._underpayment_accepted()) if r is not None]
        moved = sum((r.moved for r in final if r.kind == "transferred_to_patient"), ZERO)
        latest = max(final, key=lambda r: r.at)
        reason: ClosedReason = "underpayment_accepted" if latest.underpayment else CLOSING_RESOLUTIONS[latest.kind]
        if next_payer and settlement.patient_responsibility > 0 and not moved:
            reason = "next_payer_billed"
        self._move("closed", now, cause, note)
        self.settled_as = self._settled_as("closed", settlement, resolved=True)
        self.events.append(events.ClaimClosed(latest.payment_id, reason, settlement.patient_responsibility + moved))

    def _withdraw_outdated(self, now: datetime, cause: str) -> None:
        """Undo the transfers, write-offs and acceptances whose denial no longer stands as resolved (the payer took
        its payment back, or paid lines of it): DenialResolutionWithdrawn for the money, and what is still denied
        is worked again."""
        for resolution in outdated(self.resolutions, self.denials, self.standing_payments, self.line_charges):
            self.resolutions = tuple(replace(r, withdrawn=True) if r is resolution else r for r in self.resolutions)
            denial = next(d for d in self.denials if d.payment_id == resolution.payment_id)
            note = f"{resolution.kind.replace('_', ' ')} of {resolution.amount} withdrawn: the payer changed the denial"
            self.timeline.append(Transition(now, self.state, self.state, cause, note))
            if resolution.money > 0:
                self.events.append(events.DenialResolutionWithdrawn(denial, resolution))

    def corrected_for_denial(self, replacement_id: UUID, reason: str, *, by: str, now: datetime) -> None:
        """The biller fixed the denial's cause and sends the claim again as a replacement (frequency 7)."""
        denial = self._denial_to_resolve("corrected")
        self.resolutions += (Resolution(denial.payment_id, "corrected", reason, denial.amount, by, now,
                                        replacement_id=replacement_id),)  # fmt: skip
        self.replaced_by(replacement_id, now, f"api:{by}")

    def _denial_to_resolve(self, kind: str) -> Denial:
        denial = self.open_denial
        if denial is None:
            resolved = self.denial is not None
            why = "its denial is already being worked" if resolved else f"a {self.state} claim has no denial"
            raise ClaimError(f"the claim cannot be {kind.replace('_', ' ')}: {why}")
        return denial

    def _decide_appeals(self, payment: Adjudication, now: datetime, cause: str) -> None:
        """A payment posted after an appeal decides it, from what the claim became, when it answers the appealed
        lines (or the whole claim): another part of a claim the payer split decides nothing of the appeal."""
        pending = [a for a in self.appeals if a.outcome == "pending" and a.payment_id != payment.payment_id]
        for appeal in pending:
            if not appeal.answered_by(payment):
                continue
            decided = appeal.decided(self.standing_payments, self.state, self.paid_total, payment, now)
            self.appeals = tuple(decided if a is appeal else a for a in self.appeals)
            note = f"appeal {appeal.number} {decided.outcome.replace('_', ' ')}: {decided.recovered} recovered"
            self.timeline.append(Transition(now, self.state, self.state, cause, note))

    def _settle(
        self, now: datetime, cause: str, note: str, *, next_payer: bool = False, words_first: bool = False
    ) -> None:
        """The claim's state from its standing payments (`adjudication.settlement_of`), with the events that say
        what became of it: nothing new is published when the same payments decide it as before; a claim
        leaving `closed` (or left with no payment) says it is reopened, and a denial that decides again is
        raised again."""
        settlement = self._settlement()
        was, latest = self.state, settlement.latest
        self.underpaid_by = settlement.underpaid_by
        self._withdraw_outdated(now, cause)
        if settlement.outcome is None or latest is None:
            self.settled_as = ""
            if was not in ADJUDICATED:  # a predetermination alone: nothing was decided, nothing is undone
                self.timeline.append(Transition(now, was, was, cause, f"{note}; {'; '.join(settlement.reasons)}"))
                return
            self._move("accepted", now, cause, f"{note}: no payment stands, the payer's new answer is awaited")
            self.events.append(events.ClaimReopened(note))
            return
        resolved = settlement.outcome in ("denied", "partially_paid") and self._rest_resolved()
        target = "closed" if settlement.closes or resolved else settlement.outcome
        settled_as = self._settled_as(target, settlement, resolved=resolved)
        if (was, self.settled_as) == (target, settled_as):  # the same payment decides it as before
            self.timeline.append(Transition(now, was, was, cause, note))
            return
        self.settled_as = settled_as
        self._move(settlement.outcome, now, cause, note + "".join(f"; {r}" for r in settlement.reasons))
        if settlement.outcome == "paid":
            self.events.append(events.ClaimPaid(latest))
        elif settlement.outcome == "partially_paid":
            self.events.append(events.ClaimPartiallyPaid(latest, settlement.reasons))
        known = any(d.payment_id == latest.payment_id for d in self.denials)
        if settlement.outcome == "denied" and latest.claim_status == NOT_OUR_CLAIM:
            self.denied(Denial(latest.payment_id, True, "coordination_of_benefits", NOT_OUR_CLAIM_ACTION,
                               latest.charge, ("CLP02-23",)), now, cause)  # fmt: skip
        denial = self.open_denial
        undecided_before = settlement.outcome != "paid" and was not in ("denied", "partially_paid")
        read_first = words_first and denial is not None and denial.payment_id == latest.payment_id
        if denial is not None and (
            read_first or (undecided_before and (known or denial.payment_id != latest.payment_id))
        ):
            self.events.append(events.ClaimDenied(denial))  # kept before it decided the claim: raised now
        if settlement.closes:
            patient = settlement.patient_responsibility
            reason: ClosedReason = (
                "paid_in_full" if patient <= 0 else "next_payer_billed" if next_payer else "moved_to_patient"
            )
            self._move("closed", now, cause, f"{reason.replace('_', ' ')} ({patient})")
            self.events.append(events.ClaimClosed(latest.payment_id, reason, patient))
        elif resolved:
            self._close_resolved(now, cause, "every denial standing is resolved", next_payer=next_payer)
        elif was == "closed":
            self.events.append(events.ClaimReopened(note))

    @staticmethod
    def _settled_as(target: ClaimState, settlement: Settlement, *, resolved: bool) -> str:
        """What decided the claim, to tell a settlement that changes nothing from one that does."""
        latest = settlement.latest.payment_id if settlement.latest is not None else None
        return f"{target}|{latest}|{settlement.patient_responsibility}|{settlement.reasons}|{resolved}"

    def _refuse_illegal(self, to_state: ClaimState) -> None:
        if to_state not in TRANSITIONS[self.state]:
            raise ClaimError(f"a {self.state} claim cannot become {to_state}")

    def _move(self, to_state: ClaimState, now: datetime, cause: str, note: str = "") -> None:
        self._refuse_illegal(to_state)
        self.timeline.append(Transition(now, self.state, to_state, cause, note))
        self.state = to_state


@dataclass(frozen=True, slots=True)
class EncounterLine:
    procedure_code: str
    modifiers: tuple[str, ...]
    units: Decimal
    date_of_service: date
    charge: Decimal
    diagnosis_pointers: tuple[int, ...]
    expected_allowed: Decimal | None = None
    ndc: str | None = None


@dataclass(frozen=True, slots=True)
class EncounterVersion:
    """What the claim keeps of one version of a captured encounter (from ChargesCaptured or
    ChargesCorrected)."""

    encounter_id: UUID
    version: int
    patient_id: UUID
    coverage_id: UUID | None
    payer_id: str | None
    date_of_service: date
    place_of_service: str
    diagnoses: tuple[str, ...]
    lines: tuple[EncounterLine, ...]
    billing_provider_npi: str
    rendering_provider_npi: str | None = None
    referring_provider_npi: str | None = None
    location: str | None = None


def patient_control_number(claim_id: UUID) -> str:
    """CLM01: 17 characters (of the 20 allowed), unique to the claim and carrying no PHI: a `C` and the claim
    id's first 80 bits in base 32, so a claim's answers find it and nothing about the patient leaves."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O or U to misread
    value, digits = claim_id.int >> (128 - 80), []
    for _ in range(16):
        value, digit = divmod(value, 32)
        digits.append(alphabet[digit])
    return "C" + "".join(reversed(digits))
