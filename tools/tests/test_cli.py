"""The `rcm` command line: tokens for the local stack, audit and ledger verification, status and demo without a
stack."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import jwt
import pytest

from rcm_collections.testing import running_collections
from rcm_common.auth import load_verifier
from rcm_common.sample_events import Visit, captured, claim_closed, claim_created, payment_posted, registered
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


def test_ledger_verify_names_the_first_broken_entry_of_a_tampered_account(
    tmp_path: Path, signing_keys: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    account_id = asyncio.run(_collections_with_one_visit(tmp_path, signing_keys))
    database = tmp_path / "collections.db"
    capsys.readouterr()  # the service's own log lines

    assert cli.main(["ledger", "verify", "--state-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("ledger ok: 1 accounts, 3 entries")

    with sqlite3.connect(database) as connection:  # an insider edits a payment on the ledger
        connection.execute("UPDATE ledger_entry SET amount = '-1.00' WHERE account_id = ? AND seq = 2", (account_id,))
    assert cli.main(["ledger", "verify", "--state-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().out == (
        f"ledger BROKEN: account {account_id} at entry 2: hash does not match the entry's contents\n"
    )


async def _collections_with_one_visit(state_dir: Path, signing_keys: tuple[str, str]) -> str:
    """Collections' database in `state_dir` with one patient's visit paid by the payer, the rest theirs."""
    patient = registered()
    visit = Visit(patient.patient_id)
    posted = payment_posted(visit, paid="90.00", contractual="30.00", coinsurance="30.00")
    async with running_collections(state_dir, signing_keys) as collections:
        await collections.feed(
            patient, captured(visit), claim_created(visit), posted, claim_closed(visit, posted.payment_id)
        )
        [row] = await collections.rows("SELECT id FROM guarantor_account")
    return str(row["id"])
