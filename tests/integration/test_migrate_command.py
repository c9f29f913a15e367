"""`python -m rcm_<service> migrate`, what a deployment's migration job runs: the service's database brought to
its newest revision and nothing served; a service without a database has nothing to do; anything else is
refused with the usage. A replica whose database is behind its migrations is not ready."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from rcm_common.migrations import alembic_config, upgrade_to_head
from rcm_common.testing import in_process_settings, serving
from rcm_registration.config import RegistrationSettings
from rcm_registration.entrypoints.app import REGISTRATION_APP, create_app


def run_module(module: str, *args: str, state: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("RCM_")}
    environment.pop("DATABASE_URL", None)
    environment |= {"RCM_STATE_DIR": str(state), "RCM_ENVIRONMENT": "test", "RCM_LOG_JSON": "false"} | settings
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=environment, timeout=120, check=False
    )


def test_migrate_brings_the_database_to_its_newest_revision_and_serves_nothing(tmp_path: Path) -> None:
    done = run_module("rcm_registration", "migrate", state=tmp_path)

    assert done.returncode == 0, done.stderr
    heads = ScriptDirectory.from_config(alembic_config(REGISTRATION_APP.migrations, "sqlite://")).get_heads()
    with sqlite3.connect(tmp_path / "registration.db") as database:
        versions = {row[0] for row in database.execute("SELECT version_num FROM alembic_version")}
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert versions == set(heads)
    assert {"patient", "outbox", "audit_log"} <= tables
    assert "Uvicorn running" not in done.stderr + done.stdout


def test_a_service_without_a_database_has_nothing_to_migrate(tmp_path: Path) -> None:
    done = run_module("rcm_clearinghouse_sim", "migrate", state=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "nothing to migrate" in done.stderr + done.stdout
    assert not list(tmp_path.glob("*.db"))


def test_a_service_without_a_database_has_nothing_to_reencrypt(tmp_path: Path) -> None:
    done = run_module("rcm_clearinghouse_sim", "reencrypt", state=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "nothing to re-encrypt" in done.stderr + done.stdout


def test_reencrypt_refuses_a_database_whose_values_no_given_key_opens(tmp_path: Path) -> None:
    """A value sealed with key k1 in registration's database, re-encrypted by settings that hold only k2."""
    assert run_module("rcm_registration", "migrate", state=tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "registration.db") as database:
        database.execute("CREATE TABLE note (id TEXT PRIMARY KEY, text_encrypted TEXT)")
        database.execute("INSERT INTO note VALUES ('n1', 'v1:k1:AAAA')")
    done = run_module("rcm_registration", "reencrypt", state=tmp_path, RCM_FIELD_ENCRYPTION_KEY_ID="k2")

    assert done.returncode != 0
    assert "note.text_encrypted of row n1: no key with id 'k1'" in done.stderr


def test_any_other_command_is_refused_with_the_usage(tmp_path: Path) -> None:
    done = run_module("rcm_registration", "upgrade", state=tmp_path)

    assert done.returncode != 0
    assert "usage: python -m rcm_<service> [migrate|reencrypt]" in done.stderr
    assert not list(tmp_path.glob("*.db"))


async def test_a_replica_takes_no_traffic_until_its_database_is_migrated(
    signing_keys: tuple[str, str], tmp_path: Path
) -> None:
    settings = in_process_settings(RegistrationSettings, tmp_path, signing_keys[1], migrate_on_start=False)

    async with serving(create_app(settings), "http://registration.test") as client:
        before = await client.get("/readyz")
        await asyncio.to_thread(upgrade_to_head, REGISTRATION_APP.migrations, settings.resolved_database_url)
        after = await client.get("/readyz")

    assert (before.status_code, before.json()["checks"]["schema"]) == (503, "unreachable")
    assert after.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "unreachable"}
