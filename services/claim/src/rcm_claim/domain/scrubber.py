"""The scrubber: rules as code, run over a claim and the facts it depends on.

Each rule has a stable code, a version, a severity, the payers it applies to (every payer unless it names
some) and whether a biller may override it. A scrub runs every rule that applies, records which ran
(provenance) and what fired, keeps the overrides whose findings still stand, and finds the prior
authorisation number the claim will carry. Nothing here reads a database or a clock: the service layer
gathers the facts, so each rule is tested with plain values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from rcm_claim.domain.copies import Authorization, CoverageCopy, EligibilityAnswer, Person
from rcm_claim.domain.denial_risk import DEFAULT_RISK_SETTINGS, DecidedService, RiskSettings
from rcm_claim.domain.directories import PayerProfile, ProviderDirectory
from rcm_claim.domain.findings import Finding, Override, RuleRun, ScrubRecord, Severity
from rcm_claim.domain.model import Claim, ClaimLine

# The claims that hold their services: those ready to go, with the payer, or answered by it (a service denied
# and billed again is a duplicate to the payer). A claim still blocked holds nothing, so two claims for one
# service never block each other: the one that cleared first stands.
STANDING_STATES = frozenset({"ready", "batched", "submitted", "accepted", "paid", "partially_paid", "denied", "closed"})
_ZERO = Decimal(0)


class ScrubError(ValueError):
    """An override the scrubber refuses: an unknown rule, one that did not fire, or one that may not be
    overridden."""


@dataclass(frozen=True, slots=True)
class Flag:
    """What a rule's check reports: a message naming fields and codes (never the patient), the line, and the
    claims it rests on (evidence), if any."""

    message: str
    line: int | None = None
    evidence: tuple[UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """The claim and everything its rules read, as the claim service holds them now."""

    claim: Claim
    today: date
    payer: PayerProfile | None
    providers: ProviderDirectory | None
    patient: Person | None
    coverage: CoverageCopy | None
    eligibility: EligibilityAnswer | None
    authorizations: tuple[Authorization, ...] = ()
    other_claims: tuple[Claim, ...] = ()  # the patient's other claims, in any state
    # The payer's services decided within the risk window (decided_on after today - window_days), from every
    # patient's claims: what the DENIAL_RISK rule estimates from. One tuple per payer, shared by its claims.
    denial_history: tuple[DecidedService, ...] = ()
    risk_settings: RiskSettings = DEFAULT_RISK_SETTINGS  # the practice's, wired by the service layer

    def standing_claims(self) -> Iterator[Claim]:
        """The patient's other claims that hold their services: ready or with the payer, not a void claim,
        and not a build of this claim's own encounter."""
        for other in self.other_claims:
            if (
                other.state in STANDING_STATES
                and other.frequency != "8"
                and other.encounter_id != self.claim.encounter_id
            ):
                yield other

    def units_used(self, authorization: Authorization) -> Decimal:
        """The units an authorisation has already paid for on the patient's standing claims."""
        return sum(
            (
                line.units
                for other in self.standing_claims()
                if other.coverage_id == authorization.coverage_id
                for line in other.lines
                if authorization.covers(line.procedure_code, line.date_of_service)
            ),
            start=_ZERO,
        )

    def authorization_for(self, line: ClaimLine) -> tuple[Authorization | None, Decimal]:
        """The authorisation on file that covers the line with units to spare, else the best one found (or
        None) and the units it has left."""
        best: tuple[Authorization | None, Decimal] = (None, _ZERO)
        for authorization in self.authorizations:
            if authorization.coverage_id != self.claim.coverage_id:
                continue
            if not authorization.covers(line.procedure_code, line.date_of_service):
                continue
            left = authorization.units_authorized - self.units_used(authorization)
            if left >= line.units:
                return authorization, left
            if best[0] is None or left > best[1]:
                best = (authorization, left)
        return best


Check = Callable[[ClaimFacts], Iterable[Flag]]


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    version: int
    severity: Severity
    summary: str
    check: Check
    payers: frozenset[str] | None = None  # None: every payer
    overridable: bool = True
    checks_voids: bool = False  # a void claim (frequency 8) is checked only for what makes it a readable 837P

    def applies_to(self, claim: Claim) -> bool:
        if claim.frequency == "8" and not self.checks_voids:
            return False
        return self.payers is None or claim.payer_id in self.payers


def scrub(facts: ClaimFacts, rules: tuple[Rule, ...]) -> ScrubRecord:
    """Run every rule that applies to the claim (its payer; a void claim only the structural rules); keep the
    claim's overrides still covering what fired."""
    ran: list[RuleRun] = []
    findings: list[Finding] = []
    for rule in rules:
        if not rule.applies_to(facts.claim):
            continue
        ran.append(RuleRun(rule.code, rule.version))
        for flag in rule.check(facts):
            findings.append(Finding(rule.code, rule.version, rule.severity, flag.message, flag.line, flag.evidence))
    found = tuple(findings)
    standing = tuple(override for override in facts.claim.overrides if override.covers(found))
    return ScrubRecord(tuple(ran), found, standing, _authorization_number(facts))


def overridden(
    record: ScrubRecord, rules: tuple[Rule, ...], *, rule: str, reason: str, by: str, at: datetime
) -> ScrubRecord:
    """The record with a biller's override of one rule's findings, or ScrubError saying why not."""
    known = {candidate.code: candidate for candidate in rules}
    if rule not in known:
        raise ScrubError(f"there is no scrub rule {rule}")
    if not known[rule].overridable:
        raise ScrubError(f"rule {rule} may not be overridden: fix its cause")
    keys = frozenset(finding.key for finding in record.findings if finding.rule == rule)
    if not keys:
        raise ScrubError(f"rule {rule} did not fire on the claim's latest scrub")
    if not reason.strip():
        raise ScrubError("an override needs a reason")
    kept = tuple(override for override in record.overrides if override.rule != rule)
    override = Override(rule, reason.strip(), by, at, keys)
    return ScrubRecord(record.ran, record.findings, (*kept, override), record.authorization_number)


def _authorization_number(facts: ClaimFacts) -> str | None:
    """The number REF*G1 carries: the first authorisation on file covering a line the payer requires one for."""
    if facts.payer is None:
        return None
    for line in facts.claim.lines:
        if line.procedure_code in facts.payer.prior_authorization_codes:
            authorization, _ = facts.authorization_for(line)
            if authorization is not None:
                return authorization.number
    return None
