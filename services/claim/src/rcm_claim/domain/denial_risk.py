"""The denial risk of a service line, from the practice's own record of what its payers decided.

A payer that has been denying a kind of service (a procedure code with its modifiers, for a diagnosis
category) will likely deny the next one too, for the same reason: a missing modifier, a medical-necessity
policy, an authorisation. The scrubber can say so before the claim goes, as a warning a biller may act on or
let pass, and show the claims the warning rests on.

The rate is smoothed toward the payer's own rate over the same window, as the mean of a Beta distribution:
the payer's rate p0 counts as `prior_strength` claims already seen (k, ten by default), p0*k of them denied,
a prior Beta(p0*k, (1-p0)*k). A kind of service with n claims, d of them denied, then has the rate
(p0*k + d) / (k + n). A few denials of a rare code should not shout: three denials of five claims are a raw
60%, but at a payer that denies 5% of its claims they weigh against the ten claims (half a denial) its rate
stands for, and the estimate is (0.5 + 3) / 15, 23%: below the warning, until more claims say the same. A
long record speaks for itself: 120 denials of 400 claims give (0.5 + 120) / 410, 29%, next to the raw 30%.
No warning is raised below `minimum_claims` claims of the kind however high the estimate, nor for a kind the
payer denied none of (there is nothing to show as evidence); it is raised once the estimate reaches
`threshold`.

Counting: a claim counts once for a kind of service however many of its lines are of that kind, denied if
any of them was, with the reasons of the lines denied. The payer's rate counts the same way over every kind,
so it is the average of the kinds' rates weighted by their claims. Only what was decided within the window
counts (after `today - window_days`, up to `today`): a payer's policies change, and last year's denials
should not hold this year's claims.

The message names the payer, the code and modifiers, the counts, the most common reason and both rates, but
not the diagnosis: findings travel in ClaimScrubFailed, where no diagnosis may, and the claim's view shows
none either. Nothing here reads a database or a clock; the service layer gathers the payer's decided
services (`DecidedService`) into `ClaimFacts.denial_history`.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Final
from uuid import UUID

from rcm_claim.domain.adjudication import WHOLE_CLAIM_DENIALS, deciding_payments, line_verdicts
from rcm_claim.domain.model import Claim

_CATEGORY_LENGTH: Final = 3  # an ICD-10-CM category: a letter and two characters, M54 of M54.50


def diagnosis_category(code: str) -> str:
    """The ICD-10-CM category of a diagnosis code (its first three characters): M54 of M54.50 or M5450."""
    return code.strip().replace(".", "").upper()[:_CATEGORY_LENGTH]


def line_diagnosis_category(diagnoses: Sequence[str], pointers: Sequence[int]) -> str | None:
    """The category of the line's first pointed diagnosis (pointers count from 1, as SV107's do), or None
    when the line points at no diagnosis the claim has."""
    if not pointers or not 1 <= pointers[0] <= len(diagnoses):
        return None
    return diagnosis_category(diagnoses[pointers[0] - 1])


@dataclass(frozen=True, slots=True)
class RiskKey:
    """A kind of service as a payer decides it: payer, procedure code, modifiers (in any order: they are
    kept sorted) and the diagnosis category of the line's first pointed diagnosis."""

    payer_id: str
    procedure_code: str
    modifiers: tuple[str, ...]
    diagnosis_category: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "modifiers", tuple(sorted(self.modifiers)))

    @property
    def service(self) -> str:
        """The code as a biller writes it, with its modifiers: 72148-26."""
        return "-".join((self.procedure_code, *self.modifiers))


@dataclass(frozen=True, slots=True)
class DecidedService:
    """One service line of a claim the payer adjudicated: what it was, when it was decided, whether it was
    denied and why (group and reason code, CO-197)."""

    claim_id: UUID
    payer_id: str
    procedure_code: str
    modifiers: tuple[str, ...]
    diagnosis_category: str  # the ICD-10-CM category of the line's first pointed diagnosis: M54
    decided_on: date
    denied: bool
    reasons: tuple[str, ...] = ()

    @property
    def key(self) -> RiskKey:
        return RiskKey(self.payer_id, self.procedure_code, self.modifiers, self.diagnosis_category)


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """How far back to look, how much the payer's rate weighs (in claims), how many claims of a kind a warning
    needs, and the smoothed rate that raises it."""

    window_days: int = 90
    prior_strength: float = 10
    minimum_claims: int = 5
    threshold: float = 0.25

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError(f"window_days is a positive number of days, not {self.window_days}")
        if not (math.isfinite(self.prior_strength) and self.prior_strength > 0):
            raise ValueError(f"prior_strength is a positive number of claims, not {self.prior_strength}")
        if self.minimum_claims < 1:
            raise ValueError(f"minimum_claims is a positive number of claims, not {self.minimum_claims}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold is a rate above 0 and at most 1, not {self.threshold}")


DEFAULT_RISK_SETTINGS: Final = RiskSettings()


@dataclass(frozen=True, slots=True)
class DenialRisk:
    """The estimate for one kind of service, with what it rests on: the claims of that kind in the window and
    those denied (sorted ids), and the reasons of the denied ones, the most common first."""

    key: RiskKey
    claims: int
    denied: int
    rate: float  # smoothed toward the payer's rate
    payer_rate: float
    top_reasons: tuple[tuple[str, int], ...]  # (reason, denied claims giving it), the most common first
    denied_claim_ids: tuple[UUID, ...]
    claim_ids: tuple[UUID, ...]
    window_days: int

    @property
    def message(self) -> str:
        claims = f"{self.claims} claim{'' if self.claims == 1 else 's'}"
        text = (
            f"{self.key.payer_id} denied {self.denied} of {claims} for {self.key.service} with the same diagnosis "
            f"category in the last {self.window_days} days"
        )
        if self.top_reasons:
            reason, count = self.top_reasons[0]
            text += f", {count} of them {reason}"
        return f"{text} (smoothed rate {self.rate:.0%} against the payer's {self.payer_rate:.0%})"


def denial_risk(
    key: RiskKey, history: Sequence[DecidedService], settings: RiskSettings, today: date
) -> DenialRisk | None:
    """The risk of the kind of service when it warns: at least `minimum_claims` claims of the kind in the
    window, at least one denied, and a smoothed rate at or above the threshold; else None. None too when the
    payer decided nothing in the window (no rate to smooth toward)."""
    window = _window(history, key.payer_id, today, settings.window_days)
    kind = window.by_key.get(key)
    if kind is None or window.claims == 0:
        return None
    n = len(kind)
    denied = sorted(claim_id for claim_id, (was_denied, _) in kind.items() if was_denied)
    d = len(denied)
    if n < settings.minimum_claims or d == 0:
        return None
    payer_rate = Fraction(window.denied, window.claims)
    k = Fraction(repr(settings.prior_strength))  # as written (0.1 is a tenth), so a boundary is exact
    rate = (payer_rate * k + d) / (k + n)
    if rate < Fraction(repr(settings.threshold)):
        return None
    reasons = Counter(reason for _, (was_denied, why) in kind.items() if was_denied for reason in why)
    return DenialRisk(
        key=key,
        claims=n,
        denied=d,
        rate=float(rate),
        payer_rate=float(payer_rate),
        top_reasons=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        denied_claim_ids=tuple(denied),
        claim_ids=tuple(sorted(kind)),
        window_days=settings.window_days,
    )


@dataclass(slots=True)
class _Window:
    """A payer's decided claims in a window, per kind of service: each claim once, denied if any of its lines
    of that kind was, with those lines' reasons."""

    by_key: dict[RiskKey, dict[UUID, tuple[bool, frozenset[str]]]] = field(default_factory=dict)
    claims: int = 0
    denied: int = 0


# The windows last computed, by the identity of the history they were computed from (kept here, so the id is
# not reused while the entry lives). A scrub asks once per line, and the service layer hands every claim to one
# payer the same history: each is read once, not once per line and claim. The history is a tuple of frozen
# values, so the same object always holds the same services.
_RECENT: Final[deque[tuple[Sequence[DecidedService], str, date, int, _Window]]] = deque(maxlen=16)


def _window(history: Sequence[DecidedService], payer_id: str, today: date, days: int) -> _Window:
    for seen, payer, day, length, window in _RECENT:
        if seen is history and (payer, day, length) == (payer_id, today, days):
            return window
    window = _tally(history, payer_id, today - timedelta(days=days), today)
    if isinstance(history, tuple):  # only an immutable history may be remembered by identity
        _RECENT.append((history, payer_id, today, days, window))
    return window


def _tally(history: Sequence[DecidedService], payer_id: str, after: date, until: date) -> _Window:
    window = _Window()
    for service in history:
        if service.payer_id != payer_id or not after < service.decided_on <= until:
            continue
        claims = window.by_key.setdefault(service.key, {})
        was_denied, reasons = claims.get(service.claim_id, (False, frozenset()))
        if service.denied:
            claims[service.claim_id] = (True, reasons | frozenset(service.reasons))
        else:
            claims[service.claim_id] = (was_denied, reasons)
    for claims in window.by_key.values():
        window.claims += len(claims)
        window.denied += sum(1 for was_denied, _ in claims.values() if was_denied)
    return window


def services_decided(claim: Claim) -> list[tuple[int, UUID, DecidedService]]:
    """The claim's lines as its standing payments last decided them (each line's latest word, as the claim's
    settlement reads it; a whole-claim denial naming no line denies them all), each dated by the payment that
    said it, with that payment's denial reasons: the history the warning reads. Each comes with its line's number
    and that payment. A void claim, or one no payment decides (none, or only a predetermination), decided
    nothing."""
    deciding = deciding_payments(claim.standing_payments)
    if claim.frequency == "8" or not deciding:
        return []
    verdicts = line_verdicts(deciding)
    latest = deciding[-1]
    whole_claim = not verdicts and latest.claim_status in WHOLE_CLAIM_DENIALS
    found = []
    for line in claim.lines:
        category = line_diagnosis_category(claim.diagnoses, line.diagnosis_pointers)
        denied, payment = verdicts.get(line.control_number, (whole_claim, latest))
        if category is None or (verdicts and line.control_number not in verdicts):
            continue  # lines the payments could not be told apart by say nothing of each kind
        reasons = next((d.reasons for d in claim.denials if d.payment_id == payment.payment_id), ()) if denied else ()
        decided_on = payment.paid_on or payment.posted_at.date()
        service = DecidedService(claim.id, claim.payer_id, line.procedure_code, line.modifiers, category, decided_on,
                                 denied, reasons)  # fmt: skip
        found.append((line.number, payment.payment_id, service))
    return found
