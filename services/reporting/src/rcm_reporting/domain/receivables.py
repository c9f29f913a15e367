"""Accounts receivable on any date, from the event log: the sum of the movements up to that moment, each visit's
balance aged from its date of service and owed by whoever had it then (the payer of a claim still open with
them, else the patient).

The one amount no single event states is a denial's remainder once its claim closes: the payer's word stands,
and what billers neither won back on a later payment, moved to the patient nor wrote off leaves the books at
the close (as collections adjusts it off). It is derived here, on the date asked about, from the denials, the
later payments, the resolutions and the claim's openings and closings up to that date, so a claim reopened
after the date still counts as closed on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Final
from uuid import UUID

from rcm_reporting.domain.claims import ClaimRecord
from rcm_reporting.domain.records import (
    ZERO,
    Answer,
    Hold,
    Movement,
    MovementKind,
    Opening,
    Resolution,
    Reversal,
    Visit,
    VisitVersion,
)

PATIENT: Final = "patient"
"""Who owes a visit's balance once no claim for it is open with a payer (or when it is self-pay)."""
UNBILLED: Final = "unbilled"
"""A covered visit no claim was built for yet: the payers' to be billed, not yet any one payer's."""


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str
    first_day: int
    last_day: int | None  # None: and older


BUCKETS: Final = (
    Bucket("0-30", 0, 30),
    Bucket("31-60", 31, 60),
    Bucket("61-90", 61, 90),
    Bucket("91-120", 91, 120),
    Bucket("over 120", 121, None),
)
OVER_90: Final = frozenset({"91-120", "over 120"})
UNAPPLIED: Final = "unapplied"
"""The column of what is on an account but on no visit: the patient's credit, refunds of it, and write-offs
collections could not place on a visit."""


def bucket_of(age_days: int) -> str:
    for bucket in BUCKETS:
        if age_days >= bucket.first_day and (bucket.last_day is None or age_days <= bucket.last_day):
            return bucket.label
    return BUCKETS[0].label  # a date of service after the date asked about: the newest bucket


@dataclass(frozen=True, slots=True)
class Receivable:
    """A visit's balance on the date (or an account's unapplied amount, with no visit), and who owes it."""

    balance: Decimal
    owed_by: str  # a payer id, or PATIENT
    bucket: str
    age_days: int | None
    encounter_id: UUID | None = None
    claim_id: UUID | None = None
    patient_id: UUID | None = None
    account_id: UUID | None = None


NOT_THE_PAYERS_WORD: Final = frozenset({"replaced", "voided"})
"""Closings that end a claim's life with the payer without its answer standing: a denial on a claim replaced by a
corrected one (or voided) stays held, and the corrected claim's own payment settles it."""


@dataclass(frozen=True)
class EventLog:
    """Everything reporting stores that A/R and the KPIs are computed from. One is read per request, and what it
    computes for a date is kept for the rest of the request."""

    visits: Mapping[UUID, Visit]
    claims: Mapping[UUID, ClaimRecord]
    movements: Sequence[Movement]
    holds: Sequence[Hold] = ()
    answers: Sequence[Answer] = ()
    resolutions: Sequence[Resolution] = ()
    reversals: Sequence[Reversal] = ()
    openings: Sequence[Opening] = ()
    """In the order they happened."""
    versions: Sequence[VisitVersion] = ()
    _until: dict[datetime, list[Movement]] = field(default_factory=dict, repr=False, compare=False)

    def encounter_of(self, movement: Movement) -> UUID | None:
        if movement.encounter_id is not None:
            return movement.encounter_id
        claim = self.claims.get(movement.claim_id) if movement.claim_id is not None else None
        return claim.encounter_id if claim is not None else None

    def movements_until(self, as_of: datetime) -> list[Movement]:
        """Every movement up to `as_of`, with the denial remainders released by then."""
        if as_of not in self._until:
            stored = [m for m in self.movements if m.occurred_at <= as_of]
            self._until[as_of] = stored + denial_releases(self, as_of)
        return self._until[as_of]

    def claim_open(self, claim_id: UUID, as_of: datetime) -> bool:
        latest = _latest_opening(self.openings_by_claim.get(claim_id, ()), as_of)
        return latest is not None and latest.open

    def visit_as_of(self, encounter_id: UUID, as_of: datetime) -> VisitVersion | None:
        """The visit's version in force at `as_of` (a later correction changes nothing before it)."""
        versions = [v for v in self.versions_of_visit.get(encounter_id, ()) if v.occurred_at <= as_of]
        return versions[-1] if versions else None

    @cached_property
    def openings_by_claim(self) -> Mapping[UUID, list[Opening]]:
        grouped: dict[UUID, list[Opening]] = defaultdict(list)
        for opening in self.openings:
            grouped[opening.claim_id].append(opening)
        return grouped

    @cached_property
    def answers_by_claim(self) -> Mapping[UUID, list[Answer]]:
        grouped: dict[UUID, list[Answer]] = defaultdict(list)
        for answer in self.answers:
            grouped[answer.claim_id].append(answer)
        return grouped

    @cached_property
    def versions_of_visit(self) -> Mapping[UUID, list[VisitVersion]]:
        grouped: dict[UUID, list[VisitVersion]] = defaultdict(list)
        for version in sorted(self.versions, key=lambda v: v.version):
            grouped[version.encounter_id].append(version)
        return grouped

    @cached_property
    def claims_of_visit(self) -> Mapping[UUID, list[ClaimRecord]]:
        """Each visit's claims, oldest first (voids left out: they only ask the payer to take a claim back)."""
        grouped: dict[UUID, list[ClaimRecord]] = defaultdict(list)
        for claim in sorted(self.claims.values(), key=lambda c: (c.created_at, str(c.claim_id))):
            if not claim.is_void:
                grouped[claim.encounter_id].append(claim)
        return grouped


def _latest_opening(openings: Iterable[Opening], as_of: datetime) -> Opening | None:
    """The last opening or closing up to `as_of` (of those at one moment, the last recorded)."""
    latest: Opening | None = None
    for opening in openings:
        if opening.occurred_at <= as_of and (latest is None or opening.occurred_at >= latest.occurred_at):
            latest = opening
    return latest


def denial_releases(log: EventLog, as_of: datetime) -> list[Movement]:
    """Per denying payment whose claim stands closed by the payer's word on `as_of` (and that the payer had not
    taken back), what is left of its denial: the held lines no later payment answered, less what billers moved
    or wrote off."""
    reversed_at = {r.payment_id for r in log.reversals if r.occurred_at <= as_of}
    resolved: dict[UUID, Decimal] = defaultdict(Decimal)
    for resolution in log.resolutions:
        if resolution.occurred_at <= as_of:
            resolved[resolution.payment_id] += resolution.amount
    holds: dict[UUID, list[Hold]] = defaultdict(list)
    for hold in log.holds:
        if hold.held_at <= as_of and hold.payment_id not in reversed_at:
            holds[hold.payment_id].append(hold)
    releases = []
    for payment_id, lines in holds.items():
        claim_id = lines[0].claim_id
        closings = [o for o in log.openings_by_claim.get(claim_id, ()) if o.reason not in NOT_THE_PAYERS_WORD]
        latest = _latest_opening(closings, as_of)
        if latest is None or latest.open:
            continue
        answers = [
            a
            for a in log.answers_by_claim.get(claim_id, ())
            if a.answered_at <= as_of and a.payment_id not in reversed_at
        ]
        standing = sum((h.amount for h in lines if not _answered_later(h, answers)), ZERO)
        unresolved = max(standing - resolved[payment_id], ZERO)
        if unresolved:
            at = max(latest.occurred_at, max(h.held_at for h in lines))
            releases.append(
                Movement(at, MovementKind.DENIAL_RELEASED, -unresolved, claim_id=claim_id, payment_id=payment_id)
            )
    return releases


def _answered_later(hold: Hold, answers: Iterable[Answer]) -> bool:
    """A later payment on the claim answered the denied line: its own amounts count instead of the denial."""
    for answer in answers:
        if answer.payment_id == hold.payment_id or answer.answered_at <= hold.held_at:
            continue
        if answer.lines is None or hold.line in answer.lines or (hold.line == "" and answer.lines):
            return True
    return False


def receivables(log: EventLog, as_of: datetime) -> list[Receivable]:
    """Each visit's nonzero balance on `as_of`, and each account's unapplied amount, with who owed it."""
    by_visit: dict[UUID, Decimal] = defaultdict(Decimal)
    by_account: dict[UUID, Decimal] = defaultdict(Decimal)
    for movement in log.movements_until(as_of):
        encounter_id = log.encounter_of(movement)
        if encounter_id is not None:
            by_visit[encounter_id] += movement.amount
        elif movement.account_id is not None:
            by_account[movement.account_id] += movement.amount
    items = []
    for encounter_id, balance in by_visit.items():
        if not balance:
            continue
        visit = log.visit_as_of(encounter_id, as_of)
        age = (as_of.date() - visit.date_of_service).days if visit is not None else None
        claim_id, owed_by = _owed_by(log, encounter_id, visit, as_of)
        items.append(
            Receivable(
                balance=balance,
                owed_by=owed_by,
                bucket=bucket_of(max(age, 0)) if age is not None else BUCKETS[0].label,
                age_days=age,
                encounter_id=encounter_id,
                claim_id=claim_id,
                patient_id=visit.patient_id if visit is not None else None,
            )
        )
    items += [
        Receivable(balance=balance, owed_by=PATIENT, bucket=UNAPPLIED, age_days=None, account_id=account_id)
        for account_id, balance in by_account.items()
        if balance
    ]
    items.sort(key=lambda r: (str(r.encounter_id or ""), str(r.account_id or "")))
    return items


def _owed_by(log: EventLog, encounter_id: UUID, visit: VisitVersion | None, as_of: datetime) -> tuple[UUID | None, str]:
    """The visit's latest claim built by `as_of`, and its payer while that claim (or another open one) is open
    with them; unbilled before any claim of a covered visit; the patient's otherwise."""
    built = [claim for claim in log.claims_of_visit.get(encounter_id, ()) if claim.created_at <= as_of]
    open_claims = [claim for claim in built if log.claim_open(claim.claim_id, as_of)]
    if open_claims:
        return open_claims[-1].claim_id, open_claims[-1].payer_id
    if built:
        return built[-1].claim_id, PATIENT
    return None, PATIENT if visit is None or visit.self_pay else UNBILLED


@dataclass(frozen=True, slots=True)
class AgingRow:
    key: str  # a payer id, PATIENT, or a patient id
    buckets: dict[str, Decimal]
    total: Decimal


def aging_rows(items: Iterable[Receivable], key_of: str) -> list[AgingRow]:
    """Receivables summed per `owed_by` or per `patient_id` (an account's unapplied amount under its account),
    by bucket; the largest total first."""
    columns = [b.label for b in BUCKETS] + [UNAPPLIED]
    sums: dict[str, dict[str, Decimal]] = {}
    for item in items:
        if key_of == "owed_by":
            key = item.owed_by
        else:
            key = str(item.patient_id) if item.patient_id is not None else f"account {item.account_id}"
        row = sums.setdefault(key, dict.fromkeys(columns, ZERO))
        row[item.bucket] += item.balance
    rows = [AgingRow(key, buckets, sum(buckets.values(), ZERO)) for key, buckets in sums.items()]
    rows.sort(key=lambda row: (-row.total, row.key))
    return rows
