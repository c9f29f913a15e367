"""Deposits: what reached the bank, matched to the remittances that say what it paid.

A payer's money and its 835 travel apart (an EFT through the banks, a check by mail; the 835 through the
clearinghouse) and the TRN02 of the 835 is the trace the bank shows (the EFT trace or the check number).
Reconciliation pairs each deposit with the remittance of the same trace and amount, one to one, and lists what
is left on either side: a remittance whose money has not arrived, or money no remittance explains.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from rcm_remittance.domain.model import Remittance


@dataclass(frozen=True, slots=True)
class Deposit:
    deposit_id: UUID
    deposit_date: date
    amount: Decimal
    trace_number: str  # the EFT trace or check number, as the bank shows it
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True, slots=True)
class Unexplained:
    """A deposit no remittance explains, and what the remittances of its trace say, if any."""

    deposit: Deposit
    reason: str


@dataclass(frozen=True, slots=True)
class Reconciliation:
    matched: tuple[tuple[Deposit, Remittance], ...]
    remittances_without_deposit: tuple[Remittance, ...]
    deposits_without_remittance: tuple[Unexplained, ...]


def reconcile(deposits: Sequence[Deposit], remittances: Sequence[Remittance]) -> Reconciliation:
    """Pair deposits and remittances by trace and amount, the earliest with the earliest. Only remittances that
    move money to the practice (BPR02 above zero, a credit) are expected at the bank, and a set a payer sent
    again only once."""
    waiting: defaultdict[tuple[str, Decimal], list[Remittance]] = defaultdict(list)
    by_trace: defaultdict[str, list[Remittance]] = defaultdict(list)
    for remittance in sorted(remittances, key=lambda r: r.received_at):
        advice = remittance.advice
        if advice.total_paid > 0 and advice.credit_debit == "C" and remittance.repeats is None:
            waiting[(advice.trace_number, advice.total_paid)].append(remittance)
            by_trace[advice.trace_number].append(remittance)
    matched, unexplained = [], []
    for deposit in sorted(deposits, key=lambda d: (d.deposit_date, d.recorded_at)):
        candidates = waiting.get((deposit.trace_number, deposit.amount))
        if candidates:
            matched.append((deposit, candidates.pop(0)))
            continue
        same_trace = by_trace.get(deposit.trace_number)
        if same_trace:
            amounts = ", ".join(str(r.advice.total_paid) for r in same_trace)
            unexplained.append(Unexplained(deposit, f"the remittances with this trace pay {amounts}"))
        else:
            unexplained.append(Unexplained(deposit, "no remittance has this trace"))
    paired = {id(remittance) for _, remittance in matched}
    left = tuple(r for group in waiting.values() for r in group if id(r) not in paired)
    return Reconciliation(tuple(matched), tuple(sorted(left, key=lambda r: r.received_at)), tuple(unexplained))
