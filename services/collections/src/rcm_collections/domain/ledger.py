"""The ledger: every change to a guarantor account's money, as entries chained by hash.

One chain per account. Each entry's hash covers its own fields and the hash before it, and the account keeps
the newest entry's number and hash beside its balance. So editing or deleting any entry breaks the chain from
there, and deleting the newest ones (which leaves a valid chain) no longer matches the account's tip: unlike a
log chained over the whole service, the account row is the witness of its own tip, updated in the same
transaction as the entries. Accounts chain independently, so two accounts are never serialised on one lock.

An entry's `amount` is its effect on what the account is owed: a charge is positive, a payment negative. Its
`kind` says which term of the invariant it belongs to:

    balance = charges - insurance payments - adjustments - patient payments - write-offs + refunds
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final, Literal, get_args
from uuid import UUID

EntryKind = Literal["charge", "insurance_payment", "adjustment", "patient_payment", "write_off", "refund"]
ENTRY_KINDS: Final[tuple[EntryKind, ...]] = get_args(EntryKind)
GENESIS_HASH: Final = "0" * 64
ZERO: Final = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Entry:
    """One posted change. `cause` names what caused it (`event:<id>` for an upstream event, `api:<subject>`
    for a person, `job:<name>` for a scheduled run); `reference` ties entries of one claim payment, patient
    payment or write-off together, so a reversal can undo exactly them; `memo` is what a statement prints."""

    account_id: UUID
    seq: int
    encounter_id: UUID | None
    kind: EntryKind
    amount: Decimal
    cause: str
    reference: str
    memo: str
    posted_at: datetime
    prev_hash: str
    hash: str


def link_hash(
    *,
    account_id: UUID,
    seq: int,
    encounter_id: UUID | None,
    kind: str,
    amount: Decimal,
    cause: str,
    reference: str,
    memo: str,
    posted_at: datetime,
    prev_hash: str,
) -> str:
    """sha256(prev_hash + canonical JSON of the entry): sorted keys, amounts to the cent, microsecond UTC time."""
    canonical = json.dumps(
        {
            "account_id": str(account_id),
            "seq": seq,
            "encounter_id": None if encounter_id is None else str(encounter_id),
            "kind": kind,
            "amount": f"{amount:.2f}",
            "cause": cause,
            "reference": reference,
            "memo": memo,
            "posted_at": posted_at.astimezone(UTC).isoformat(timespec="microseconds"),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def entry_hash(entry: Entry) -> str:
    """The hash an entry should carry, recomputed from its fields."""
    return link_hash(
        account_id=entry.account_id,
        seq=entry.seq,
        encounter_id=entry.encounter_id,
        kind=entry.kind,
        amount=entry.amount,
        cause=entry.cause,
        reference=entry.reference,
        memo=entry.memo,
        posted_at=entry.posted_at,
        prev_hash=entry.prev_hash,
    )


@dataclass
class Totals:
    """The invariant's terms, each as a bookkeeper writes it (payments positive), and the balance they make."""

    charges: Decimal = ZERO
    insurance_payments: Decimal = ZERO
    adjustments: Decimal = ZERO
    patient_payments: Decimal = ZERO
    write_offs: Decimal = ZERO
    refunds: Decimal = ZERO

    def add(self, kind: EntryKind, amount: Decimal) -> None:
        if kind == "charge":
            self.charges += amount
        elif kind == "insurance_payment":
            self.insurance_payments -= amount
        elif kind == "adjustment":
            self.adjustments -= amount
        elif kind == "patient_payment":
            self.patient_payments -= amount
        elif kind == "write_off":
            self.write_offs -= amount
        else:
            self.refunds += amount

    def signed(self, kind: EntryKind) -> Decimal:
        """What the entries of this kind add to the balance (a payment's are negative)."""
        values = {
            "charge": self.charges,
            "insurance_payment": -self.insurance_payments,
            "adjustment": -self.adjustments,
            "patient_payment": -self.patient_payments,
            "write_off": -self.write_offs,
            "refund": self.refunds,
        }
        return values[kind]

    @property
    def balance(self) -> Decimal:
        return (
            self.charges
            - self.insurance_payments
            - self.adjustments
            - self.patient_payments
            - self.write_offs
            + self.refunds
        )

    @classmethod
    def of(cls, entries: Iterable[Entry]) -> Totals:
        totals = cls()
        for entry in entries:
            totals.add(entry.kind, entry.amount)
        return totals


@dataclass
class Chain:
    """An account's position in its chain: the newest entry's number and hash, and the entries this change
    appended (which the repository writes with the account, in one transaction)."""

    account_id: UUID
    seq: int = 0
    tip: str = GENESIS_HASH
    appended: list[Entry] = field(default_factory=list)

    def append(
        self,
        *,
        encounter_id: UUID | None,
        kind: EntryKind,
        amount: Decimal,
        cause: str,
        reference: str,
        memo: str,
        posted_at: datetime,
    ) -> Entry:
        seq = self.seq + 1
        digest = link_hash(
            account_id=self.account_id,
            seq=seq,
            encounter_id=encounter_id,
            kind=kind,
            amount=amount,
            cause=cause,
            reference=reference,
            memo=memo,
            posted_at=posted_at,
            prev_hash=self.tip,
        )
        entry = Entry(
            self.account_id, seq, encounter_id, kind, amount, cause, reference, memo, posted_at, self.tip, digest
        )
        self.seq, self.tip = seq, digest
        self.appended.append(entry)
        return entry


@dataclass(frozen=True)
class Verdict:
    """What a walk along one account's chain found: `broken_seq` is the first entry that fails (or, when the
    chain is whole but does not end where the account says, None with the reason)."""

    account_id: UUID
    entries: int
    ok: bool
    broken_seq: int | None = None
    reason: str | None = None


def verify_account(
    account_id: UUID, entries: Iterable[Entry], *, tip_seq: int, tip_hash: str, balance: Decimal, totals: Totals
) -> Verdict:
    """Walk the entries in order: each follows the one before, carries the hash of its own fields, and the last
    is the account's tip; then the invariant holds, the entries' terms adding up to the account's balance and
    to the terms the account keeps, to the cent."""
    expected_prev, expected_seq, recomputed = GENESIS_HASH, 1, Totals()
    count = 0
    for entry in entries:
        count += 1
        if entry.seq != expected_seq:
            return Verdict(account_id, count, False, entry.seq, f"entry {expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return Verdict(account_id, count, False, entry.seq, "prev_hash differs from the previous entry's hash")
        if entry_hash(entry) != entry.hash:
            return Verdict(account_id, count, False, entry.seq, "hash does not match the entry's contents")
        recomputed.add(entry.kind, entry.amount)
        expected_prev, expected_seq = entry.hash, expected_seq + 1
    if count != tip_seq or expected_prev != tip_hash:
        return Verdict(account_id, count, False, None, f"the chain ends at entry {count}, the account at {tip_seq}")
    if recomputed != totals or recomputed.balance != balance:
        return Verdict(
            account_id,
            count,
            False,
            None,
            f"the entries add up to a balance of {recomputed.balance:.2f}, the account shows {balance:.2f}",
        )
    return Verdict(account_id, count, True)
