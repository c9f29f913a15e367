"""Billing the next payer: once a payer has paid its part, a claim to the patient's secondary (then tertiary)
coverage carries that payer's adjudication (`domain.coordination`), scrubbed and sent like any claim. The claim
service does it by itself when a payment closes a claim with what it left billed to the next payer; a biller may
ask for it (`POST /claims/{id}/next-payer`) for a claim paid before the patient's next coverage was on file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from rcm_claim.domain.adjudication import PREDETERMINATION, WHOLE_CLAIM_DENIALS, Adjudication
from rcm_claim.domain.coordination import next_coverage, next_payer_claim, prior_payer
from rcm_claim.domain.copies import CoverageCopy
from rcm_claim.domain.corrections import FINAL, next_payer_claims, withdrawn
from rcm_claim.domain.events import ClaimClosed
from rcm_claim.domain.model import ADJUDICATED, ANSWERED, AWAITING_ANSWER, HOLDABLE, Claim, ClaimError
from rcm_claim.service_layer.claims import claim_to_change
from rcm_claim.service_layer.scrubbing import Scrubber
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_claim.service_layer.views import ClaimPublic
from rcm_common.errors import Conflict


def closed_for_next_payer(claim: Claim) -> bool:
    """Whether the claim just closed with what its payer left billed to the next payer (read before it is stored,
    which hands its events on)."""
    return any(isinstance(e, ClaimClosed) and e.reason == "next_payer_billed" for e in claim.events)


@dataclass(frozen=True, slots=True)
class NextPayers:
    scrubber: Scrubber
    new_id: Callable[[], UUID] = field(default=uuid.uuid4)

    async def bill(
        self, uow: ClaimUnitOfWork, claim: Claim, coverage: CoverageCopy, now: datetime, cause: str
    ) -> Claim:
        """Build, scrub and store the claim to `coverage`'s payer with the claim's adjudication; raises ClaimError
        when the claim's payer has not decided it on an 835 or something the claim needs is not on file. A claim to that
        payer already in play gives way: one not sent yet is withdrawn, one the payer has is replaced (frequency
        7, the payer having adjudicated the earlier payer's part anew), and the new one waits for the payer's answer
        to one on its way (it then goes as its replacement, or as an original if the payer rejects it)."""
        paying = self._paying(claim)
        payer = await uow.directories.payer(claim.payer_id)
        billed_coverage = await uow.coverages.get(claim.coverage_id)
        patient = await uow.patients.get(claim.patient_id)
        if payer is None or billed_coverage is None or patient is None:
            raise ClaimError("the claim's payer, coverage or patient is not on file: the next payer cannot be told")
        prior = prior_payer(claim, paying, billed_coverage, patient.person, payer.name, payer.filing_indicator)
        following = next_payer_claim(claim, coverage, prior, self.new_id, now, cause)
        for void in await self._voids_of(uow, claim, coverage):  # a withdrawal of the claim this one bills again
            if void.state in HOLDABLE:  # not sent: superseded; the new one replaces what the payer still has
                void.void("withdrawn", now, cause)
                following.frequency, following.replaces_payer_claim_number = "7", void.replaces_payer_claim_number
                await uow.claims.save(void)
                uow.record_access("update", "claim", void.id, void.patient_id)
            else:
                following.hold("a void of this payer's claim awaits its answer: send this one after it", now, cause)
        for earlier in await self._in_play(uow, claim, coverage):
            if earlier.state in HOLDABLE:
                earlier.void("withdrawn", now, cause)
            elif earlier.state in ANSWERED and earlier.payer_claim_number:
                following.frequency, following.replaces_payer_claim_number = "7", earlier.payer_claim_number
                earlier.replaced_by(following.id, now, cause)
            else:
                following.wait_for_answer(earlier, now, cause)
                continue
            await uow.claims.save(earlier)
            uow.record_access("update", "claim", earlier.id, earlier.patient_id)
        await self.scrubber.scrub(uow, following, cause)
        await uow.claims.add(following)
        uow.record_access("create", "claim", following.id, following.patient_id)
        return following

    async def bill_or_say_why(
        self, uow: ClaimUnitOfWork, claim: Claim, coverage: CoverageCopy, now: datetime, cause: str
    ) -> None:
        """Bill the next payer of a claim just closed for it (the caller stored the claim); one that cannot be
        billed leaves the claim as it is, saying why on its timeline."""
        try:
            await self.bill(uow, claim, coverage, now, cause)
        except ClaimError as error:  # the payment stands; a person bills the next payer once the cause is fixed
            claim.noted(f"the next payer was not billed: {error}", now, cause)
            await uow.claims.save(claim)

    async def withdraw_followers(self, uow: ClaimUnitOfWork, claim: Claim, now: datetime, cause: str) -> None:
        """What its next payers' claims report no longer stands (the payer took a payment back, or a later payment
        changed what it paid): those claims are withdrawn (voided, or a void claim sent when the next payer has
        them), to be billed again once this payer answers anew. Only the claims built from this claim's payments
        are, and one already being voided is left to its void."""
        encounter_claims = await uow.claims.for_encounter(claim.encounter_id)
        mine = {a.payment_id for a in claim.adjudications}
        standing = {a.payment_id for a in claim.standing_payments}
        paid_now = sum(
            (a.paid for a in claim.standing_payments if a.claim_status not in (*WHOLE_CLAIM_DENIALS, PREDETERMINATION)),
            Decimal("0.00"),
        )
        being_voided = {c.waits_for for c in encounter_claims if c.frequency == "8" and c.state not in FINAL}
        followers = [
            following
            for following in next_payer_claims(encounter_claims)
            if following.id not in being_voided
            and any(
                prior.responsibility == claim.responsibility and prior.payment_id in mine
                and (prior.payment_id not in standing or prior.paid != paid_now)
                for prior in following.prior_payers
            )
        ]  # fmt: skip
        for following in followers:
            succession = withdrawn(following, "withdrawn", self.new_id, now, cause)
            for changed in succession.changed:
                await uow.claims.save(changed)
                uow.record_access("update", "claim", changed.id, changed.patient_id)
            for built in succession.built:
                await self.scrubber.scrub(uow, built, cause)
                await uow.claims.add(built)
                uow.record_access("create", "claim", built.id, built.patient_id)

    async def bill_on_request(self, uow: ClaimUnitOfWork, claim: Claim, by: str) -> Claim:
        """A biller's request to bill the next payer: refused (ClaimError) unless the claim's payer has paid its
        part, the patient has a next coverage on the date of service and no claim to it is in play already."""
        self._paying(claim)  # refused first: without the payer's adjudication there is nothing to tell the next
        coverage = next_coverage(claim, await uow.coverages.for_patient(claim.patient_id))
        if coverage is None:
            raise ClaimError("the patient has no coverage of the next order on the date of service")
        if await self._in_play(uow, claim, coverage):
            raise ClaimError("a claim to the next payer is in play already")
        now = self.scrubber.clock()
        return await self.bill(uow, claim, coverage, now, f"api:{by}")

    @staticmethod
    def _paying(claim: Claim) -> list[Adjudication]:
        """The payments whose adjudication the next payer is told of: the standing ones that paid the claim, or,
        when its payer denied it whole, that denial (a secondary often pays what the primary does not cover)."""
        deciding = [a for a in claim.standing_payments if a.claim_status != PREDETERMINATION]
        paying = [a for a in deciding if a.claim_status not in WHOLE_CLAIM_DENIALS]
        if claim.state not in ADJUDICATED or not deciding:
            raise ClaimError(
                f"a {claim.state} claim's payer has not decided it on an 835: a claim to the next payer carries "
                "that payer's adjudication"
            )
        return paying or deciding[-1:]

    @staticmethod
    async def _voids_of(uow: ClaimUnitOfWork, claim: Claim, coverage: CoverageCopy) -> list[Claim]:
        """The voids of the next payer's claim not yet answered: not sent (superseded), or on their way (waited
        for); one the payer has answered voided its claim, and a new original goes."""
        return [
            other
            for other in await uow.claims.for_encounter(claim.encounter_id)
            if other.coverage_id == coverage.coverage_id
            and other.frequency == "8"
            and (other.state in HOLDABLE or other.state in AWAITING_ANSWER)
        ]

    @staticmethod
    async def _in_play(uow: ClaimUnitOfWork, claim: Claim, coverage: CoverageCopy) -> list[Claim]:
        return [
            other
            for other in await uow.claims.for_encounter(claim.encounter_id)
            if other.coverage_id == coverage.coverage_id and other.state not in FINAL and other.frequency != "8"
        ]


async def bill_next_payer(
    claim_id: UUID, uow: ClaimUnitOfWork, next_payers: NextPayers, *, by: str, revision: int
) -> ClaimPublic:
    """A biller's request to bill the next payer of a paid claim: the new claim, or 409 (nothing changed) when
    the claim's payer has not decided it on an 835, the patient has no next coverage, or a claim to it is in play."""
    async with uow:
        claim = await claim_to_change(uow, claim_id, revision)
        try:
            following = await next_payers.bill_on_request(uow, claim, by)
        except ClaimError as error:
            raise Conflict(f"{error}.") from None
        uow.record_access("read", "claim", claim.id, claim.patient_id)
        await uow.commit()
    return ClaimPublic.of(following)
