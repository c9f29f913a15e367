"""What a corrected or voided encounter does to the claim that billed it, as a payer expects it.

Before the payer has the claim (draft, scrub_failed, ready, rejected) it is simply voided, and a correction
builds a new original. Once the payer has accepted it (or paid or denied it), a correction at the same payer
and coverage goes as
a replacement (frequency 7) naming the payer's claim number, and a void, or a correction that moves the
encounter to another payer or to self-pay, goes as a void claim (frequency 8) before any new original. While
the payer has the claim and has not answered (submitted), the new claim is built and held until the answer
comes, so nothing reaches the payer out of order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from rcm_claim.domain.events import VoidReason
from rcm_claim.domain.model import ANSWERED, AWAITING_ANSWER, HOLDABLE, ORDER_RESPONSIBILITY, Claim, EncounterVersion

FINAL = frozenset({"voided", "replaced"})


@dataclass(slots=True)
class Succession:
    """The claims a correction or void changed (to save) and built (to add)."""

    changed: list[Claim] = field(default_factory=list)
    built: list[Claim] = field(default_factory=list)

    def then(self, other: Succession) -> Succession:
        return Succession([*self.changed, *other.changed], [*self.built, *other.built])


def live_claim(claims: list[Claim]) -> Claim | None:
    """The encounter's claim still in play: the latest that is neither voided nor replaced, nor a void claim
    (a withdrawal on its way to the payer bills nothing), nor a claim to a next payer (it follows the payer
    before it)."""
    live = [claim for claim in claims if claim.state not in FINAL and claim.frequency != "8" and not claim.prior_payers]
    return max(live, key=lambda claim: claim.encounter_version, default=None)


def corrected(
    live: Claim | None,
    encounter: EncounterVersion,
    coverage_order: str,
    new_id: Callable[[], UUID],
    now: datetime,
    cause: str,
) -> Succession:
    """A new version of the encounter: the claims it changes and builds (nothing for a self-pay version
    beyond withdrawing the claim in play)."""
    billable = encounter.coverage_id is not None and encounter.payer_id is not None
    inherited_wait = live.waits_for if live is not None else None  # an unsent claim waiting passes its wait on
    same_payer = live is not None and (live.coverage_id, live.payer_id) == (encounter.coverage_id, encounter.payer_id)
    if live is not None and _stands_in(live):
        return _follow_unsent_correction(live, encounter if billable else None, same_payer, coverage_order,
                                         new_id, now, cause)  # fmt: skip
    if live is not None and live.state in ANSWERED and billable and same_payer:
        replacement = Claim.build(
            claim_id=new_id(), encounter=encounter, coverage_order=coverage_order, now=now, cause=cause,
            frequency="7", replaces_payer_claim_number=live.payer_claim_number,
        )  # fmt: skip
        live.replaced_by(replacement.id, now, cause)
        return Succession(changed=[live], built=[replacement])
    if live is not None and live.state in AWAITING_ANSWER and billable and same_payer:
        # Should the payer reject `live`, a replacement of a replacement still replaces what the payer has.
        replacement = Claim.build(
            claim_id=new_id(), encounter=encounter, coverage_order=coverage_order, now=now, cause=cause,
            frequency="7", replaces_payer_claim_number=live.replaces_payer_claim_number,
        )  # fmt: skip
        replacement.wait_for_answer(live, now, cause)
        return Succession(built=[replacement])
    succession = withdrawn(live, "encounter_corrected", new_id, now, cause) if live is not None else Succession()
    if billable:
        original = Claim.build(
            claim_id=new_id(), encounter=encounter, coverage_order=coverage_order, now=now, cause=cause
        )
        if live is not None and live.state in AWAITING_ANSWER:
            original.wait_for_answer(live, now, cause)
        elif inherited_wait is not None:
            original.waits_for = inherited_wait
        succession.built.append(original)
    return succession


def resubmission(answered: Claim, new_id: Callable[[], UUID], now: datetime, cause: str) -> Claim:
    """The answered claim sent again, its services as billed, as a replacement (frequency 7) of the payer's claim:
    what a biller sends once a denial's cause is fixed outside the encounter (an authorisation obtained, a
    coverage corrected). The original is then replaced by it."""
    encounter = answered.billed_encounter()
    order = next(name for name, code in ORDER_RESPONSIBILITY.items() if code == answered.responsibility)
    replacement = Claim.build(
        claim_id=new_id(), encounter=encounter, coverage_order=order, now=now, cause=cause, frequency="7",
        replaces_payer_claim_number=answered.payer_claim_number,
    )  # fmt: skip
    replacement.prior_payers = answered.prior_payers  # a next payer's claim still reports the payers before it
    return replacement


def next_payer_claims(claims: list[Claim]) -> list[Claim]:
    """The encounter's claims to a secondary or tertiary payer still in play: a correction or void of the
    encounter withdraws them, since they report an adjudication the payer before them will make again."""
    return [claim for claim in claims if claim.prior_payers and claim.state not in FINAL and claim.frequency != "8"]


def withdrawn(live: Claim, reason: VoidReason, new_id: Callable[[], UUID], now: datetime, cause: str) -> Succession:
    """The encounter's claim withdrawn: voided if the payer does not have it, else a void claim (frequency 8),
    waiting while the payer has not answered the claim it voids."""
    if _stands_in(live):
        return _follow_unsent_correction(live, None, False, "primary", new_id, now, cause)
    if live.state in HOLDABLE:
        live.void(reason, now, cause)
        return Succession(changed=[live])
    if live.state in ANSWERED:
        void_claim = live.void_claim(new_id(), now, cause)
        live.void(reason, now, cause, void_claim=void_claim)
        return Succession(changed=[live], built=[void_claim])
    if live.state in AWAITING_ANSWER:
        void_claim = live.void_claim(new_id(), now, cause, voids=live.replaces_payer_claim_number)
        void_claim.wait_for_answer(live, now, cause)
        return Succession(built=[void_claim])
    return Succession()


def after_answer(answered: Claim, encounter_claims: list[Claim], now: datetime, cause: str) -> list[Claim]:
    """The payer answered a claim that corrections were waiting for: the claims waiting for that answer go now,
    and the answered claim gives way to them. Returns every claim changed.

    What the payer holds after its answer decides what goes: the answered claim's number when accepted; when
    rejected, the number of the claim it replaced, if it was a replacement, else nothing. Holding one, a
    waiting void or replacement names it, and a waiting original for the same payer and coverage (the
    encounter moved away and back) goes as a replacement of it; a bill for that payer supersedes a void
    waiting beside it, and only the latest bill goes. Holding none, a replacement goes as an original and a
    void has nothing to void. The answered claim becomes replaced or voided (void sent) when accepted, and
    is withdrawn when rejected, so it leaves the rejection queue."""
    waiting = [c for c in encounter_claims if c.waits_for == answered.id and c.state not in FINAL]
    if not waiting:
        return []
    only_voids = all(claim.frequency == "8" for claim in waiting)
    reason: VoidReason = "encounter_voided" if only_voids else "encounter_corrected"
    holds = answered.payer_claim_number if answered.state == "accepted" else answered.replaces_payer_claim_number
    here = [
        c
        for c in waiting
        if c.frequency != "8" and (c.payer_id, c.coverage_id) == (answered.payer_id, answered.coverage_id)
    ]
    latest_here = max(here, key=lambda claim: claim.timeline[0].at, default=None)
    for claim in waiting:
        claim.answer_came(now, cause)
        superseded = latest_here is not None and holds is not None and claim is not latest_here
        if superseded and (claim.frequency == "8" or claim in here):
            claim.void("encounter_corrected", now, cause)
        elif holds is not None and claim.frequency in ("7", "8"):
            claim.replaces_payer_claim_number = holds
        elif holds is not None and claim is latest_here:
            claim.become_replacement(holds)
        elif claim.frequency == "7":
            claim.become_original()
        elif claim.frequency == "8":
            claim.void("withdrawn", now, cause)
    going = [claim for claim in waiting if claim.state != "voided"]
    replacement = next((claim for claim in going if claim.frequency == "7"), None)
    void = next((claim for claim in going if claim.frequency == "8"), None)
    if answered.state == "accepted" and replacement is not None:
        answered.replaced_by(replacement.id, now, cause)
    elif answered.state == "accepted" and void is not None:
        answered.void(reason, now, cause, void_claim=void)
    else:
        answered.void(reason, now, cause)
    return [answered, *waiting]


def _stands_in(claim: Claim) -> bool:
    """An unsent replacement: it stands in for the claim the payer has, whose number it carries."""
    return claim.state in HOLDABLE and claim.frequency == "7"


def _follow_unsent_correction(
    pending: Claim,
    encounter: EncounterVersion | None,
    same_payer: bool,
    coverage_order: str,
    new_id: Callable[[], UUID],
    now: datetime,
    cause: str,
) -> Succession:
    """A further correction (or a void) while a replacement is still unsent: that replacement is voided, and
    what takes its place still answers the claim the payer has: a new replacement (7) at the same payer, else
    a void (8), with the same REF*F8, the same hold and the same wait for the payer's answer. A correction to
    another payer then builds a new original there, which waits as well."""
    held, waits_for = pending.held, pending.waits_for
    pending.void("encounter_corrected", now, cause)
    succession = Succession(changed=[pending])
    if encounter is not None and same_payer:
        successor = Claim.build(
            claim_id=new_id(), encounter=encounter, coverage_order=coverage_order, now=now, cause=cause,
            frequency="7", replaces_payer_claim_number=pending.replaces_payer_claim_number,
        )  # fmt: skip
    else:
        successor = pending.void_claim(new_id(), now, cause, voids=pending.replaces_payer_claim_number)
    if held is not None:
        successor.hold(held, now, cause)
    succession.built.append(successor)
    if encounter is not None and not same_payer:
        succession.built.append(
            Claim.build(claim_id=new_id(), encounter=encounter, coverage_order=coverage_order, now=now, cause=cause)
        )
    for claim in succession.built:
        claim.waits_for = waits_for
    return succession
