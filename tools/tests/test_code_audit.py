"""`make code-audit`'s judgement: a bandit finding is explained only by a reason on its own line for ruff's
equivalent code; pip-audit's report is clean only when every locked version was looked up and none is
vulnerable (a version it could not look up is not clean)."""

from __future__ import annotations

from rcm_tools.code_audit import Finding, LockAudit, audit_of, reason_on, report


def test_a_line_explains_a_finding_with_ruffs_code_and_a_reason() -> None:
    line = "done = subprocess.run(argv, check=False)  # noqa: S603, S607 - our own argv"

    assert reason_on(line, "B603") == "our own argv"
    assert reason_on(line, "B607") == "our own argv"


def test_a_noqa_without_a_reason_or_for_another_check_explains_nothing() -> None:
    assert reason_on("x = f'SELECT {t}'  # noqa: S608", "B608") is None
    assert reason_on("x = run(argv)  # noqa: S603 - our own argv", "B608") is None
    assert reason_on("x = run(argv)", "B603") is None


def finding(reason: str | None) -> Finding:
    return Finding("B603", "LOW", "tools/src/x.py:3", "subprocess call", reason)


def test_only_explained_findings_and_a_fully_audited_lock_are_clean() -> None:
    audited = LockAudit(audited=120, vulnerable=[], not_audited=[])

    assert report([finding("our own argv")], audited)[1] is True
    lines, clean = report([finding(None)], audited)
    assert not clean
    assert "  UNEXPLAINED tools/src/x.py:3: B603 (LOW) subprocess call" in lines


def test_a_version_that_could_not_be_looked_up_is_not_clean() -> None:
    unreadable = audit_of([
        {"name": "fastapi", "version": "0.165.0", "vulns": []},
        {"name": "httpx", "skip_reason": "Dependency not found on PyPI and could not be audited: httpx (0.29.0)"},
    ])  # fmt: skip

    lines, clean = report([], unreadable)

    assert (unreadable.audited, unreadable.not_audited) == (1, [unreadable.not_audited[0]])
    assert not clean
    assert "pip-audit: 1 locked versions audited, 0 with a known vulnerability, 1 not audited" in lines


def test_a_known_vulnerability_is_named_with_its_fix() -> None:
    found = audit_of([{"name": "pyjwt", "version": "2.0.0", "vulns": [{"id": "GHSA-1", "fix_versions": ["2.4.0"]}]}])

    lines, clean = report([], found)

    assert not clean
    assert "  VULNERABLE pyjwt 2.0.0: GHSA-1 (fixed in 2.4.0)" in lines
