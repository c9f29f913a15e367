"""The `rcm` command line: tokens for the local stack, audit verification, status and demo without a stack."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from rcm_common.auth import load_verifier
from rcm_tools import cli
from rcm_tools.tokens import local_settings


def test_token_is_a_jwt_the_local_stack_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = cli.main(
        ["token", "--role", "biller", "--subject", "ana.biller", "--ttl", "600", "--state-dir", str(tmp_path)]
    )
    token = capsys.readouterr().out.strip()

    assert exit_code == 0
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["aud"], claims["iss"], claims["sub"], claims["roles"]) == (
        "rcm",
        "rcm-local",
        "ana.biller",
        ["biller"],
    )
    assert claims["exp"] - claims["iat"] == 600
    # The services verify with the public key they load from the same state directory.
    principal = load_verifier(local_settings(tmp_path)).verify(token)
    assert principal.roles == frozenset({"biller"})
    assert principal.has("claims:write")


def test_token_subject_defaults_to_the_role(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["token", "--role", "auditor", "--state-dir", str(tmp_path)]) == 0

    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["sub"] == "local-auditor"


def test_an_unknown_role_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["token", "--role", "nurse", "--state-dir", str(tmp_path)])

    assert exit_info.value.code == 2
    assert "invalid choice: 'nurse'" in capsys.readouterr().err


def test_audit_verify_resolves_a_local_service_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "registration.db").touch()
    verified: list[str] = []

    async def verify(database_url: str) -> int:
        verified.append(database_url)
        return 1

    monkeypatch.setattr(cli, "verify_chain_command", verify)

    assert cli.main(["audit", "verify", "--service", "registration", "--state-dir", str(tmp_path)]) == 1
    assert verified == [f"sqlite+aiosqlite:///{tmp_path.resolve() / 'registration.db'}"]


def test_audit_verify_refuses_a_database_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit", "verify", "--service", "claim", "--state-dir", str(tmp_path)]) == 1

    assert capsys.readouterr().err.startswith("rcm: error: no database for claim at ")
    assert not (tmp_path / "claim.db").exists()


def test_status_of_a_stack_that_is_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--state-dir", str(tmp_path)]) == cli.EXIT_NOT_READY

    first = capsys.readouterr().out.splitlines()[0]
    assert first.split() == ["broker", "pid", "-", "port", "-", "stopped", "not", "ready"]


def test_demo_without_a_stack_says_how_to_start_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--state-dir", str(tmp_path)]) == 1

    assert "start the stack with `rcm up`" in capsys.readouterr().err
