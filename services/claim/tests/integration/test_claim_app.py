"""Claim runs on the kernel: its migrations build exactly its models' tables and downgrade to nothing, and
the app starts over its database, answers its health checks and says it is not ready without a broker."""

from __future__ import annotations

from pathlib import Path

from rcm_claim.config import ClaimSettings
from rcm_claim.entrypoints.app import CLAIM_APP, create_app
from rcm_common.migrations import PLATFORM_TABLE_NAMES
from rcm_common.testing import check_migrations, in_process_settings, serving

OWNED_TABLES = frozenset(
    {
        "patient_demographics",
        "coverage_membership",
        "eligibility_answer",
        "authorization_on_file",
        "claim",
        "claim_batch",
        "acknowledgment_file",
        "decided_service",
        "control_number",
        "provider_directory",
        "payer_profile",
        "reference_version",
    }
    | PLATFORM_TABLE_NAMES
)


async def test_migrations_build_the_models_tables_and_downgrade_to_nothing(database_url: str, tmp_path: Path) -> None:
    url = database_url or f"sqlite+aiosqlite:///{tmp_path / 'claim.db'}"
    await check_migrations(CLAIM_APP.migrations, url, OWNED_TABLES)


async def test_the_app_starts_and_answers_its_health_checks(
    database_url: str, signing_keys: tuple[str, str], tmp_path: Path
) -> None:
    settings = in_process_settings(ClaimSettings, tmp_path, signing_keys[1], database_url)
    async with serving(create_app(settings), "http://claim.test") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
    assert ready.json()["checks"] == {"database": "ok", "schema": "ok", "broker": "unreachable"}
