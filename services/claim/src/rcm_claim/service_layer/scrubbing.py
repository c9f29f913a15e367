"""Scrubbing claims in a unit of work: gather the facts a claim's rules read, run them, keep the outcome.

A claim is scrubbed when it is built and again whenever a fact it depends on changes (a patient or coverage
update, an eligibility answer, a recorded authorisation, a directory change), so fixing the cause upstream
releases the claim by itself. Only claims the payer does not have are scrubbed again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from rcm_claim.domain.denial_risk import DEFAULT_RISK_SETTINGS, RiskSettings
from rcm_claim.domain.model import HOLDABLE, Claim
from rcm_claim.domain.scrubber import ClaimFacts, Rule, scrub
from rcm_claim.service_layer.unit_of_work import ClaimUnitOfWork
from rcm_common.types import Clock


@dataclass(frozen=True, slots=True)
class Scrubber:
    rules: tuple[Rule, ...]
    clock: Clock
    risk_settings: RiskSettings = DEFAULT_RISK_SETTINGS

    async def facts(self, uow: ClaimUnitOfWork, claim: Claim) -> ClaimFacts:
        """What the claim's rules read, as the service holds it now; an unsent claim takes its coverage's
        current order first."""
        patient = await uow.patients.get(claim.patient_id)
        coverage = await uow.coverages.get(claim.coverage_id)
        if coverage is not None:
            claim.follow_coverage_order(coverage.order)
        others = [other for other in await uow.claims.for_patient(claim.patient_id) if other.id != claim.id]
        today = self.clock().date()
        since = today - timedelta(days=self.risk_settings.window_days)
        return ClaimFacts(
            claim=claim,
            today=today,
            payer=await uow.directories.payer(claim.payer_id),
            providers=await uow.directories.providers(),
            patient=patient.person if patient is not None else None,
            coverage=coverage,
            eligibility=await uow.eligibility.latest(claim.coverage_id),
            authorizations=tuple(await uow.authorizations.for_coverage(claim.coverage_id)),
            other_claims=tuple(others),
            denial_history=await uow.decided_services.for_payer(claim.payer_id, since=since),
            risk_settings=self.risk_settings,
        )

    async def scrub(self, uow: ClaimUnitOfWork, claim: Claim, cause: str) -> None:
        """Scrub the claim and keep the outcome on it (the caller stores it)."""
        claim.scrubbed(scrub(await self.facts(uow, claim), self.rules), self.clock(), cause)

    async def rescrub(
        self, uow: ClaimUnitOfWork, claims: Iterable[Claim], cause: str, *, rejected_too: bool = False
    ) -> None:
        """Scrub again each claim the payer does not have, and store those the scrub changed. A rejected claim
        is left as it is unless `rejected_too` (the change may be the fix of what the payer rejected)."""
        for claim in claims:
            if claim.state not in HOLDABLE or (claim.state == "rejected" and not rejected_too):
                continue
            before = (claim.state, claim.scrub, claim.responsibility)
            await self.scrub(uow, claim, cause)
            if (claim.state, claim.scrub, claim.responsibility) != before:
                await uow.claims.save(claim)
                uow.record_access("update", "claim", claim.id, claim.patient_id)
