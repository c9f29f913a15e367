"""`make code-audit`: bandit over the platform's code, pip-audit over `requirements.lock`.

Every bandit finding must be explained where it stands: the line carries ruff's code for the same check (ruff's
`S<n>` is bandit's `B<n>`) in a `noqa` with its reason after " - ", so one comment answers both tools. Two
checks are off for the whole code base, each with its reason (`POLICY`). pip-audit asks PyPI's vulnerability data
for each locked version; a version it could not look up is reported as not audited, never as clean.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from rcm_tools.errors import ToolError

REPOSITORY: Final = Path(__file__).resolve().parents[3]
POLICY: Final = {
    "B101": "an assert states an invariant (and narrows a type for mypy); ruff's S101 is off for the same reason, "
    "and no service runs with -O",
    "B404": "importing subprocess is not itself a finding: each call is judged (B603, B607)",
}
JUSTIFIED: Final = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z0-9, ]+?)\s+-\s+(?P<reason>\S.*)$")


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    severity: str
    where: str
    text: str
    reason: str | None
    """Why it stands, as its line says; None when nothing says."""


@dataclass(frozen=True, slots=True)
class LockAudit:
    audited: int
    vulnerable: list[str]
    not_audited: list[str]


def source_trees(root: Path = REPOSITORY) -> list[Path]:
    return sorted([*root.glob("libs/*/src"), *root.glob("services/*/src"), root / "tools" / "src"])


def bandit_findings(trees: Sequence[Path]) -> list[Finding]:
    """bandit's findings over `trees` (the checks in `POLICY` skipped), each with the reason its line gives."""
    done = subprocess.run(  # noqa: S603 - our own argv
        [sys.executable, "-m", "bandit", "--quiet", "--recursive", "--format", "json", "--skip", ",".join(POLICY),
         *map(str, trees)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        raise ToolError(f"bandit failed: {done.stderr.strip()[-2000:]}")
    return [finding_of(result) for result in json.loads(done.stdout)["results"]]


def finding_of(result: dict[str, Any]) -> Finding:
    path = Path(result["filename"])
    line = path.read_text().splitlines()[result["line_number"] - 1]
    return Finding(
        check=result["test_id"],
        severity=result["issue_severity"],
        where=f"{path.resolve().relative_to(REPOSITORY)}:{result['line_number']}",
        text=result["issue_text"],
        reason=reason_on(line, result["test_id"]),
    )


def reason_on(line: str, check: str) -> str | None:
    """The reason a line gives for ruff's equivalent of the bandit check (`B603` is ruff's `S603`)."""
    justified = JUSTIFIED.search(line)
    if justified is None:
        return None
    codes = {code.strip() for code in justified["codes"].split(",")}
    return justified["reason"].strip() if f"S{check.removeprefix('B')}" in codes else None


def lock_audit(lock: Path) -> LockAudit:
    """pip-audit of the locked versions as they stand (no resolution, nothing installed)."""
    done = subprocess.run(  # noqa: S603 - our own argv
        [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--no-deps", "--disable-pip",
         "--progress-spinner", "off", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not done.stdout.strip():
        raise ToolError(f"pip-audit failed: {done.stderr.strip()[-2000:]}")
    return audit_of(json.loads(done.stdout)["dependencies"])


def audit_of(dependencies: list[dict[str, Any]]) -> LockAudit:
    """pip-audit's JSON report, counted: what was looked up, what is vulnerable, what could not be looked up."""
    vulnerable = [
        f"{d['name']} {d['version']}: {found['id']} (fixed in {', '.join(found['fix_versions']) or 'no release'})"
        for d in dependencies
        for found in d.get("vulns", [])
    ]
    not_audited = [d["skip_reason"] for d in dependencies if d.get("skip_reason")]
    return LockAudit(len(dependencies) - len(not_audited), vulnerable, not_audited)


def report(findings: Iterable[Finding], lock: LockAudit) -> tuple[list[str], bool]:
    """The lines to print, and whether everything is clean or explained."""
    findings = list(findings)
    unexplained = [f for f in findings if f.reason is None]
    lines = [f"bandit: {len(findings)} findings, {len(findings) - len(unexplained)} explained where they stand"]
    lines += [f"  off everywhere: {check}: {why}" for check, why in POLICY.items()]
    lines += [f"  UNEXPLAINED {f.where}: {f.check} ({f.severity}) {f.text}" for f in unexplained]
    lines.append(
        f"pip-audit: {lock.audited} locked versions audited, {len(lock.vulnerable)} with a known vulnerability, "
        f"{len(lock.not_audited)} not audited"
    )
    lines += [f"  VULNERABLE {line}" for line in lock.vulnerable]
    if lock.not_audited:
        lines.append(f"  NOT AUDITED (the vulnerability data could not be read): {lock.not_audited[0]}")
    if len(lock.not_audited) > 1:
        lines.append(f"  ... and {len(lock.not_audited) - 1} more")
    clean = not unexplained and not lock.vulnerable and not lock.not_audited
    return lines, clean


def arguments() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(add_help=False)


def run(args: argparse.Namespace) -> int:
    lines, clean = report(bandit_findings(source_trees()), lock_audit(REPOSITORY / "requirements.lock"))
    for line in lines:
        print(line)
    return 0 if clean else 1
