"""What a scrub leaves on a claim: the rules that ran, what fired, and the overrides a biller gave.

A finding names fields and codes, never the patient, so it can sit in a work queue, a log line or an event.
A biller may override a warning, or a blocking rule that allows it, with a reason. The override covers the
findings it was given for and nothing else: when the next scrub finds something new under the same rule,
the override lapses and the claim blocks again, so an override never hides a problem nobody saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

Severity = Literal["blocking", "warning"]


@dataclass(frozen=True, slots=True)
class RuleRun:
    """Provenance: a rule, at its version, ran on the claim."""

    rule: str
    version: int


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    version: int
    severity: Severity
    message: str
    line: int | None = None  # the claim line it is about, or None for the claim as a whole
    evidence: tuple[UUID, ...] = ()  # the claims it rests on (DENIAL_RISK: the payer's denied claims), sorted

    @property
    def key(self) -> tuple[int | None, str]:
        """What makes two scrubs' findings the same finding: the line and the message (not the evidence)."""
        return (self.line, self.message)


@dataclass(frozen=True, slots=True)
class Override:
    """A biller's decision to let a rule's findings pass, with why (audited where it is made)."""

    rule: str
    reason: str
    by: str
    at: datetime
    findings: frozenset[tuple[int | None, str]]  # the keys of the findings it was given for

    def covers(self, findings: tuple[Finding, ...]) -> bool:
        """True while the rule's findings are the ones this override was given for (or fewer of them)."""
        mine = {finding.key for finding in findings if finding.rule == self.rule}
        return bool(mine) and mine <= self.findings


@dataclass(frozen=True, slots=True)
class ScrubRecord:
    """One scrub's outcome: provenance, findings, the overrides still standing, and the prior
    authorisation number it found on file for the claim (REF*G1)."""

    ran: tuple[RuleRun, ...]
    findings: tuple[Finding, ...]
    overrides: tuple[Override, ...] = ()
    authorization_number: str | None = None

    @property
    def blocking_rules(self) -> tuple[str, ...]:
        """The rules that hold the claim: blocking findings no standing override covers, each rule once."""
        overridden = {override.rule for override in self.overrides}
        codes = (f.rule for f in self.findings if f.severity == "blocking" and f.rule not in overridden)
        return tuple(dict.fromkeys(codes))
