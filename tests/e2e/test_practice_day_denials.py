"""End to end: a day of the synthetic practice, the denial queue it leaves, and the patients' balances. Registration,
eligibility, charge, claim, remittance, collections and the clearinghouse simulator run as their own processes
beside the embedded broker.

The synthetic practice's patients (the demo's, across the simulator's four payers) are registered and their
visits captured over HTTP; the simulator denies a third of the lines from each payer's own list of denials (its
packaged share is 3 to 4%, too few to see a queue in a test's day). Once every claim is decided, the denial
queue groups the denials by category, each item with its reasons in words, the amount at stake and the payer's
appeal deadline, the nearest deadline first and the largest amount first within a day; the queue is printed, as
a billing manager reads it. Collections, meanwhile, bills each patient exactly what the payer left them on a
claim that closed, and nothing on a claim still denied or partially paid, and every ledger verifies. Last, every
value a day sealed in any service's database is moved to a new field key while the services serve, and every
service's audit chain verifies, a row changed by hand found."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx
import pytest
from sqlalchemy import select

from rcm_clearinghouse_sim.config import SimulatorConfig
from rcm_clearinghouse_sim.testing import quiet_config
from rcm_common.crypto import FieldCipher
from rcm_common.db import create_engine
from rcm_common.reencryption import sealed_columns
from rcm_common.settings import DEV_FIELD_ENCRYPTION_KEY
from rcm_tools import cli, practice
from rcm_tools.end_to_end import TODAY, client, revenue_cycle_stack
from rcm_tools.stack import CLEARINGHOUSE, LocalStack
from rcm_tools.synthetic import synthetic_patients

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

PATIENTS: Final = 24
DENIAL_RATE: Final = 0.34
DECIDED: Final = frozenset({"paid", "partially_paid", "denied", "closed"})
APPEAL_DAYS: Final = {"MCARE1": 120, "MCAID1": 90, "ACME01": 180, "SUMMT1": 60}  # the payer directory's


def denying() -> SimulatorConfig:
    """The simulator's packaged payers, each denying a third of the lines from its own list of denials."""
    config = quiet_config()
    payers = [payer.model_copy(update={"random_denial_rate": DENIAL_RATE}) for payer in config.payers]
    return config.model_copy(update={"payers": payers})


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with revenue_cycle_stack(tmp_path_factory.mktemp("stack"), simulator=denying()) as (local, _servers):
        yield local


async def a_day_of_the_practice(local: LocalStack, seed: int = 1507, count: int = PATIENTS) -> list[str]:
    """The demo's patients registered and each one's visit of today captured; returns the patients' ids."""
    patients = synthetic_patients(count, seed=seed, plan_year=TODAY.year)
    registered = []
    async with client(local, "registration", "front_desk") as desk, client(local, "charge", "coder") as coder:
        for index, patient in enumerate(patients):
            created = await desk.post("/patients", json=patient.registration_body())
            assert created.status_code == 201, created.text
            patient_id = created.json()["id"]
            coverage = await desk.post(f"/patients/{patient_id}/coverages", json=patient.coverage_body())
            assert coverage.status_code == 201, coverage.text
            body = practice.visit_body(
                index, patient_id=patient_id, coverage_id=coverage.json()["id"], day=TODAY, npi=practice.BILLING_NPI
            )
            captured = await coder.post("/encounters", json=body)
            assert captured.status_code == 201, captured.text
            registered.append(patient_id)
    return registered


async def decided_claims(local: LocalStack, patients: list[str], within: float = 120) -> list[dict[str, Any]]:
    """Every patient's claim, read whole, once the payer has decided it (paid, partially paid, denied or closed)
    and remittance's word on each denial (ClaimDenied, after its PaymentPosted) has reached it."""
    async with client(local, "claim", "biller") as biller:
        async with asyncio.timeout(within):
            while True:
                listed = (await biller.get("/claims", params={"limit": 500})).json()
                mine = [claim for claim in listed if claim["patient_id"] in patients]
                if len(mine) == len(patients) and all(claim["state"] in DECIDED for claim in mine):
                    read = [(await biller.get(f"/claims/{claim['id']}")).json() for claim in mine]
                    unexplained = [c for c in read if c["state"] == "denied" and c["denial"] is None]
                    if not unexplained:
                        return read
                await asyncio.sleep(0.5)


async def test_a_days_denials_wait_in_the_queue_by_category_with_amounts_and_deadlines(stack: LocalStack) -> None:
    patients = await a_day_of_the_practice(stack)
    claims = await decided_claims(stack, patients)
    async with client(stack, "claim", "biller") as biller:
        queue = (await biller.get("/workqueues/denials", params={"limit": 500})).json()

    print_queue(queue)
    denied_claims = [claim for claim in claims if claim["denial"] is not None]  # an underpayment alone is no denial
    items = [item for group in queue["groups"] for item in group["items"]]
    assert queue["count"] == len(items) == len(denied_claims) > 0
    assert {item["claim_id"] for item in items} == {claim["id"] for claim in denied_claims}
    assert len(queue["groups"]) >= 2, "a day's denials fall in more than one category"
    assert Decimal(queue["amount_at_stake"]) == sum((Decimal(item["amount_at_stake"]) for item in items), Decimal(0))
    for group in queue["groups"]:
        assert {item["category"] for item in group["items"]} == {group["category"]}
        assert Decimal(group["amount_at_stake"]) == sum(Decimal(i["amount_at_stake"]) for i in group["items"])
    for item in items:
        denied_on = date.fromisoformat(item["denied_on"])
        assert item["appeal_deadline"] == (denied_on + timedelta(days=APPEAL_DAYS[item["payer_id"]])).isoformat()
        assert Decimal(item["amount_at_stake"]) > 0
        assert item["reasons"]
        assert all(any(words.startswith(reason + ":") for words in item["in_words"]) for reason in item["reasons"])
        assert item["suggested_action"]
    for group in queue["groups"]:
        order = [(item["appeal_deadline"], -Decimal(item["amount_at_stake"])) for item in group["items"]]
        assert order == sorted(order)  # the nearest deadline first, then the largest amount


async def test_collections_bills_what_the_payers_left_and_nothing_they_have_not_settled(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    patients = await a_day_of_the_practice(stack, seed=2207)
    claims = await decided_claims(stack, patients)
    async with client(stack, "collections", "collector") as collector:
        visits = {claim["id"]: await visit_posted(collector, claim) for claim in claims}
    for claim in claims:
        visit = visits[claim["id"]]
        standing = [payment for payment in claim["adjudications"] if not payment["reversed"]]
        if claim["state"] == "closed":  # the payer's word final: the patient owes what it left them
            owed = sum((Decimal(payment["patient_responsibility"]) for payment in standing), Decimal(0))
            assert (visit["status"], Decimal(visit["balance"])) == ("patient_due" if owed else "settled", owed)
        else:  # denied or partially paid: a biller works it first, the patient is billed nothing yet
            assert visit["status"] == "insurance_pending", (claim["state"], visit)
    assert any(claim["state"] == "closed" for claim in claims)
    assert any(claim["state"] != "closed" for claim in claims)
    capsys.readouterr()
    assert await asyncio.to_thread(cli.main, ["ledger", "verify", "--state-dir", str(stack.state_dir)]) == 0
    assert "ledger ok" in capsys.readouterr().out


async def visit_posted(collector: httpx.AsyncClient, claim: dict[str, Any], within: float = 60) -> dict[str, Any]:
    """The claim's visit as collections shows it, once it has posted every payment the claim stands on (and, for
    a claim the payer closed, heard of the close)."""
    paid = sum((Decimal(p["paid"]) for p in claim["adjudications"] if not p["reversed"]), Decimal(0))
    visit: dict[str, Any] = {}
    async with asyncio.timeout(within):
        while True:
            [account] = (await collector.get("/accounts", params={"patient_id": claim["patient_id"]})).json()
            read = (await collector.get(f"/accounts/{account['id']}")).json()
            visit = next(v for v in read["visits"] if v["encounter_id"] == claim["encounter_id"])
            posted = Decimal(visit["insurance_paid"]) == paid and len(claim["adjudications"]) > 0
            if posted and (claim["state"] != "closed" or visit["status"] != "insurance_pending"):
                return visit
            await asyncio.sleep(0.5)


def print_queue(queue: dict[str, Any]) -> None:
    """The queue as a billing manager reads it: each category with its count and amount, then its items."""
    print(f"\ndenial queue: {queue['count']} claims, {queue['amount_at_stake']} at stake")
    for group in queue["groups"]:
        print(f"  {group['category']}: {group['count']} claims, {group['amount_at_stake']} at stake")
        for item in group["items"]:
            print(
                f"    {item['patient_control_number']} {item['payer_id']:<6} {', '.join(item['reasons']):<14}"
                f" {item['amount_at_stake']:>8} appeal by {item['appeal_deadline']}"
            )


async def test_every_services_audit_chain_verifies_and_a_row_changed_by_hand_is_found(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each service's audit log (who read or changed what, HIPAA §164.312(b)) is a hash chain: after a day's
    work every chain verifies, and a row changed behind the services' back (an insider hiding who looked) is
    found at that row; put back, the chain verifies again."""
    await decided_claims(stack, await a_day_of_the_practice(stack, seed=9127, count=4))
    keeping = [spec.name for spec in stack.services if spec.name != CLEARINGHOUSE]
    capsys.readouterr()
    assert [await verify_audit_chain(stack, name) for name in keeping] == [0] * len(keeping)
    counted = [int(rows) for rows in re.findall(r"audit chain ok: (\d+) rows", capsys.readouterr().out)]
    assert len(counted) == len(keeping)
    assert all(counted), counted

    with sqlite3.connect(stack.state_dir / "claim.db") as database:
        row, actor = database.execute("SELECT id, actor FROM audit_log ORDER BY id LIMIT 1 OFFSET 2").fetchone()
        database.execute("UPDATE audit_log SET actor = 'someone-else' WHERE id = ?", (row,))
    try:
        assert await verify_audit_chain(stack, "claim") == 1
        assert f"audit chain BROKEN at row {row}: hash does not match the row's contents" in capsys.readouterr().out
    finally:
        with sqlite3.connect(stack.state_dir / "claim.db") as database:
            database.execute("UPDATE audit_log SET actor = ? WHERE id = ?", (actor, row))
    assert await verify_audit_chain(stack, "claim") == 0


async def verify_audit_chain(stack: LocalStack, service: str) -> int:
    command = ["audit", "verify", "--state-dir", str(stack.state_dir), "--service", service]
    return await asyncio.to_thread(cli.main, command)


async def test_the_field_key_rotates_while_the_services_serve(stack: LocalStack) -> None:
    """Rotating the field key as `deploy/README.md` says: every service restarted with the new key current and the
    old one previous; what the old key sealed still reads back through each service; then
    `python -m rcm_<service> reencrypt` beside the running services while the front desk registers more
    patients. Afterwards everything reads back, and every sealed value of every database opens with the new key
    alone under the context the job derived for it (table, primary key, column), which AES-GCM checks: so the
    job's rule is the rule every repository sealed by."""
    patients = await a_day_of_the_practice(stack, seed=3107, count=8)
    claims = await decided_claims(stack, patients)
    member_ids = await read_back(stack, claims)
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = {
        "RCM_FIELD_ENCRYPTION_KEY": new_key,
        "RCM_FIELD_ENCRYPTION_KEY_ID": "k2",
        "RCM_FIELD_PREVIOUS_ENCRYPTION_KEYS": json.dumps({"k1": DEV_FIELD_ENCRYPTION_KEY}),
    }
    keeping = [spec for spec in stack.services if spec.name != CLEARINGHOUSE]
    await asyncio.gather(*(asyncio.to_thread(stack.restart, spec.name, settings=rotated) for spec in keeping))
    assert await read_back(stack, claims) == member_ids

    more_patients = asyncio.create_task(a_day_of_the_practice(stack, seed=8117, count=8))
    jobs = await asyncio.gather(*(
        asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", spec.module, "reencrypt"],
            capture_output=True, text=True, env=job_environment(stack, rotated), timeout=120, check=False,
        )
        for spec in keeping
    ))  # fmt: skip
    for done in jobs:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "none left under an older key" in done.stdout + done.stderr
    later_claims = await decided_claims(stack, await more_patients)

    assert await read_back(stack, claims) == member_ids
    assert len(await read_back(stack, later_claims)) == len(later_claims)
    only_the_new_key = FieldCipher(base64.b64decode(new_key), "k2")
    opened = {spec.name: await opened_with(only_the_new_key, stack.state_dir / f"{spec.name}.db") for spec in keeping}
    print(f"\nsealed values, each opened with the new key alone: {opened}")
    assert all(count > 0 for count in opened.values()), opened


def job_environment(stack: LocalStack, settings: dict[str, str]) -> dict[str, str]:
    """The environment of a maintenance command over the stack's databases: its state directory, the settings."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("RCM_")}
    inherited.pop("DATABASE_URL", None)
    return inherited | {"RCM_STATE_DIR": str(stack.state_dir), "RCM_LOG_JSON": "false"} | settings


async def read_back(stack: LocalStack, claims: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Read what each service sealed for these claims (a failed opening answers 500); each patient's member ids."""
    member_ids = {}
    async with (
        client(stack, "registration", "front_desk") as desk,
        client(stack, "charge", "coder") as coder,
        client(stack, "claim", "biller") as biller,
        client(stack, "collections", "collector") as collector,
    ):
        for claim in claims:
            patient_id = claim["patient_id"]
            assert (await desk.get(f"/patients/{patient_id}")).status_code == 200
            coverages = await desk.get(f"/patients/{patient_id}/coverages")
            assert coverages.status_code == 200, coverages.text
            member_ids[patient_id] = sorted(coverage["member_id"] for coverage in coverages.json())
            assert (await coder.get(f"/encounters/{claim['encounter_id']}")).status_code == 200
            assert (await biller.get(f"/claims/{claim['id']}")).status_code == 200
            accounts = await collector.get("/accounts", params={"patient_id": patient_id})
            assert accounts.status_code == 200
            for account in accounts.json():
                assert (await collector.get(f"/accounts/{account['id']}")).status_code == 200
    return member_ids


async def opened_with(cipher: FieldCipher, database: Path) -> int:
    """How many sealed values the database holds, each checked to open with `cipher` under its context."""
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    count = 0
    try:
        for column in await sealed_columns(engine):
            async with engine.connect() as connection:
                rows = (await connection.execute(select(*column.key, column.values))).all()
            for *key, sealed in rows:
                if sealed is not None:
                    cipher.decrypt(sealed, context=column.context_of(key))
                    count += 1
    finally:
        await engine.dispose()
    return count
