"""A `kill -9` of the remittance service in the middle of a 10,000-claim 835, then a restart: every claim
payment is posted exactly once, its events are in the outbox once, and the postings sum to BPR02 plus the PLB.

The service runs as its own process over its SQLite file, its posting batches small so that the kill lands
between some and inside another; its claim copies are written before it starts, through its own handlers, as
the claim service's events would have left them."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from rcm_clearinghouse_sim.testing import LargeRemittance, RemittedClaim, large_remittance
from rcm_common.audit import consumer_audit
from rcm_common.auth import generate_keypair
from rcm_common.envelope import new_envelope
from rcm_common.events.claim import ClaimAccepted, ClaimSubmitted, SubmittedLine
from rcm_common.migrations import upgrade_to_head
from rcm_common.testing import UNREACHABLE_BROKER, bearer_headers, in_process_settings
from rcm_remittance.bootstrap import bootstrap
from rcm_remittance.config import RemittanceSettings
from rcm_remittance.entrypoints.app import REMITTANCE_APP
from rcm_remittance.service_layer.handlers import claim_handlers
from rcm_tools.net import free_port
from rcm_tools.processes import spawn, stop_process

pytestmark = [pytest.mark.e2e]

CLAIMS = 10_000
BATCH = 250  # claim payments a posting transaction: 40 of them in the file


def told(paid: RemittedClaim) -> tuple[ClaimSubmitted, ClaimAccepted]:
    ids = {"claim_id": uuid.uuid4(), "patient_id": uuid.uuid4(), "payer_id": paid.payer_id}
    lines = tuple(
        SubmittedLine(
            line_control_number=line.control_number, procedure_code=line.procedure, modifiers=line.modifiers,
            units=line.units, date_of_service=line.service_date, charge=line.charge, expected_allowed=line.allowed,
        )
        for line in paid.lines
    )  # fmt: skip
    return (
        ClaimSubmitted(
            **ids, encounter_id=uuid.uuid4(), encounter_version=1, coverage_id=uuid.uuid4(),
            patient_control_number=paid.claim_id, frequency="1", batch_id=uuid.uuid4(),
            interchange_control_number="000000001", total_charge=paid.charge, lines=lines,
        ),
        ClaimAccepted(**ids, patient_control_number=paid.claim_id, payer_claim_number=paid.payer_claim_number),
    )  # fmt: skip


async def keep_copies(settings: RemittanceSettings, remittance: LargeRemittance) -> None:
    """The claims as the claim service's events leave them, through the service's own handlers."""
    await asyncio.to_thread(upgrade_to_head, REMITTANCE_APP.migrations, settings.resolved_database_url)
    service = bootstrap(settings)
    handlers = claim_handlers(service.clock)
    try:
        for first in range(0, len(remittance.claims), 1_000):
            async with service.uow(audit=consumer_audit("remittance")()) as uow:
                for paid in remittance.claims[first : first + 1_000]:
                    for event in told(paid):
                        await handlers[type(event)](event, new_envelope(event, "claim"), uow)
                await uow.commit()
    finally:
        await service.close()
        await service.engine.dispose()


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


def start(state_dir: Path, port: int, public_pem: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ) | {
        "RCM_ENVIRONMENT": "test", "RCM_STATE_DIR": str(state_dir), "RCM_HTTP_HOST": "127.0.0.1",
        "RCM_HTTP_PORT": str(port), "KAFKA_BOOTSTRAP_SERVERS": UNREACHABLE_BROKER, "RCM_JWT_PUBLIC_KEY": public_pem,
        "RCM_POSTING_BATCH_SIZE": str(BATCH), "RCM_POSTING_POLL_SECONDS": "0.1",
        "RCM_CLEARINGHOUSE_URL": "http://127.0.0.1:1", "RCM_MAILBOX_POLL_SECONDS": "3600",
    }  # fmt: skip
    for name in ("DATABASE_URL", "RCM_DATABASE_URL"):
        env.pop(name, None)
    process = spawn([sys.executable, "-m", "rcm_remittance"], log_path=state_dir / f"remittance-{port}.log",
                    env=env, detached=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("the remittance service did not start")


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
        return connection.execute(sql).fetchall()


def test_a_kill_in_the_middle_of_a_large_835_and_a_restart_post_every_payment_once(
    tmp_path: Path, keys: tuple[str, str]
) -> None:
    state_dir = tmp_path
    private_pem, public_pem = keys
    remittance = large_remittance(CLAIMS)
    settings = in_process_settings(RemittanceSettings, state_dir, public_pem, run_workers=False)
    asyncio.run(keep_copies(settings, remittance))
    database = state_dir / "remittance.db"

    port = free_port()
    process = start(state_dir, port, public_pem)
    try:
        headers = bearer_headers(private_pem, ["biller"], subject="crash-test") | {
            "Content-Type": "application/edi-x12"
        }
        uploaded = httpx.post(f"http://127.0.0.1:{port}/remittances", content=remittance.text.encode(),
                              headers=headers, timeout=60)  # fmt: skip
        assert uploaded.status_code == 202, uploaded.text
        deadline = time.monotonic() + 60
        done = 0
        while not 2 * BATCH <= done < CLAIMS - 2 * BATCH and time.monotonic() < deadline:
            [(done,)] = rows(database, "SELECT claims_done FROM remittance") or [(0,)]
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        [(killed_at,)] = rows(database, "SELECT claims_done FROM remittance")
        assert 0 < killed_at < CLAIMS, "the kill did not land in the middle of the file"

        process = start(state_dir, port, public_pem)
        deadline = time.monotonic() + 120
        while rows(database, "SELECT state FROM remittance") != [("posted",)] and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop_process(process.pid)

    [(state, total_paid, plb, posted, unmatched, duplicates)] = rows(
        database, "SELECT state, total_paid, provider_adjustment_total, posted, unmatched, duplicates FROM remittance"
    )
    assert (state, posted + unmatched, duplicates) == ("posted", CLAIMS, 0)
    [(payments, keys_, paid)] = rows(
        database,
        "SELECT count(*), count(DISTINCT patient_control_number || '|' || status), sum(paid) FROM claim_payment",
    )
    assert payments == keys_ == CLAIMS
    assert Decimal(str(paid)).quantize(Decimal("0.01")) - Decimal(str(plb)) == Decimal(str(total_paid))
    [(announced,)] = rows(database, "SELECT count(*) FROM outbox WHERE event_type = 'rcm.remittance.payment_posted'")
    assert (announced, unmatched) == (CLAIMS, 0)
