"""End to end: the patient's share. Registration, eligibility, charge, claim, remittance, collections and the
clearinghouse simulator run as their own processes beside the embedded broker; everything is driven over HTTP,
and the broker is read back for the events.

A new Acme patient's visit (an ECG, an HbA1c and a blood draw) is paid by Acme with part of the allowed amount to
the deductible (PR-1) and 20% of the rest as coinsurance (PR-2), allowed below the practice's contract: collections
posts the 835's payment and contractual adjustment and keeps the patient's share insurance-pending while the
underpayment is open; once a biller accepts the underpayment the claim closes and the share is patient-due. A
statement goes out (its PDF rendered to PNG and kept as /tmp/e2e_statement-1.png to be looked at), the patient
takes a three-month plan and pays each installment at the front desk until nothing is due, and `rcm ledger
verify` finds every account's chain whole and its invariant holding.

Acme's deductible is lowered to 30.00 in the simulator's configuration (its packaged 1,500.00 would take the
whole visit), and its seeded random denials are off, so the claim meets only the payer's rules."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from rcm_clearinghouse_sim.testing import quiet_config
from rcm_common.topics import COLLECTIONS_EVENTS
from rcm_tools import cli
from rcm_tools.end_to_end import (
    TODAY,
    capture,
    change_claim,
    claim_of,
    client,
    events_until,
    member_id,
    register,
    revenue_cycle_stack,
)
from rcm_tools.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.broker]

POLL_SECONDS: Final = 0.5
WAIT_SECONDS: Final = 90.0
BALANCE_CHANGED: Final = "rcm.collections.patient_balance_changed"
STATEMENT_PNG: Final = Path(tempfile.gettempdir()) / "e2e_statement-1.png"
IRIS: Final = {
    "first_name": "Iris",
    "last_name": "Calloway",
    "birth_date": "1971-06-30",
    "sex": "F",
    "address": {"line1": "19 Larch Lane", "city": "Montpelier", "state": "VT", "postal_code": "05602"},
}
VISIT: Final = (
    {"code": "93000", "units": 1, "diagnosis_pointers": [1]},
    {"code": "83036", "units": 1, "diagnosis_pointers": [2]},
    {"code": "36415", "units": 1, "diagnosis_pointers": [2]},
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, str]]:
    config = quiet_config()
    payers = [p.model_copy(update={"deductible": Decimal("30.00")}) if p.id == "ACME01" else p for p in config.payers]
    with revenue_cycle_stack(
        tmp_path_factory.mktemp("stack"), simulator=config.model_copy(update={"payers": payers})
    ) as running:
        yield running


async def account_owing(collector: httpx.AsyncClient, patient_id: str) -> dict[str, Any]:
    """The patient's account once something on it is patient-due."""
    return await account_when(collector, patient_id, "patient_due")


async def account_pending(collector: httpx.AsyncClient, patient_id: str) -> dict[str, Any]:
    """The patient's account once the payer's payment is posted to it and the rest waits on insurance."""
    return await account_when(collector, patient_id, "insurance_pending", below_charges=True)


async def account_when(
    collector: httpx.AsyncClient, patient_id: str, figure: str, *, below_charges: bool = False
) -> dict[str, Any]:
    """The patient's account once `figure` is above zero (and, with `below_charges`, something was paid); else an
    AssertionError saying where it is."""
    found: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                found = (await collector.get("/accounts", params={"patient_id": patient_id})).json()
                if found and Decimal(found[0][figure]) > 0:
                    account: dict[str, Any] = (await collector.get(f"/accounts/{found[0]['id']}")).json()
                    if not below_charges or Decimal(account["terms"]["insurance_payments"]) > 0:
                        return account
                await asyncio.sleep(POLL_SECONDS)
    except TimeoutError:
        raise AssertionError(f"no {figure} after {WAIT_SECONDS} s: {found}") from None


async def test_the_835s_patient_share_is_billed_then_paid_down_to_zero_on_a_plan(
    stack: tuple[LocalStack, str], capsys: pytest.CaptureFixture[str]
) -> None:
    local, servers = stack
    patient_id, coverage_id = await register(local, IRIS, member_id())
    encounter_id = await capture(local, patient_id, coverage_id, *VISIT, diagnoses=["I10", "E11.9"])
    async with client(local, "claim", "biller") as biller:
        claim = await claim_of(biller, encounter_id, "partially_paid")
        async with client(local, "collections", "collector") as collector:
            pending = await account_pending(collector, patient_id)
        assert pending["patient_due"] == "0.00"  # the payer's underpayment is still open: nothing billed yet
        accepted = await change_claim(
            biller, claim["id"], "underpayment-acceptance", {"reason": "the payer's fee schedule, not worth appealing"}
        )
        assert accepted.status_code == 200, accepted.text
    async with client(local, "collections", "collector") as collector:
        account = await account_owing(collector, patient_id)
        [visit] = account["visits"]
        share = visit["patient_share"]
        assert Decimal(share["deductible"]) == Decimal("30.00")
        assert Decimal(share["coinsurance"]) > 0
        owed = Decimal(share["deductible"]) + Decimal(share["coinsurance"])
        assert (visit["status"], Decimal(account["patient_due"]), account["insurance_pending"]) == (
            "patient_due", owed, "0.00"
        )  # fmt: skip
        terms = {name: Decimal(value) for name, value in account["terms"].items()}
        assert terms["charges"] - terms["insurance_payments"] - terms["adjustments"] == owed
        assert terms["insurance_payments"] > 0

        sent = await collector.post(f"/accounts/{account['id']}/statements")
        assert sent.status_code == 201, sent.text
        statement = sent.json()
        assert (Decimal(statement["amount_due"]), statement["dunning_level"]) == (owed, 1)
        pdf = await collector.get(f"/statements/{statement['id']}.pdf")
        assert pdf.status_code == 200, pdf.text
        await asyncio.to_thread(keep_first_page, pdf.content)
        assert STATEMENT_PNG.stat().st_size > 10_000

        plan = await collector.post(
            f"/accounts/{account['id']}/payment-plans", json={"months": 3, "first_due_on": TODAY.isoformat()},
            headers={"Idempotency-Key": f"plan-{account['id']}"},
        )  # fmt: skip
        assert plan.status_code == 201, plan.text
        installments = [Decimal(i["amount"]) for i in plan.json()["installments"]]
        assert sum(installments) == owed
    async with client(local, "collections", "front_desk") as desk:
        for number, amount in enumerate(installments, 1):
            paid = await desk.post(
                "/payments", json={"patient_id": patient_id, "amount": str(amount), "method": "card",
                                   "processor_reference": f"ch_e2e_{number}"},
                headers={"Idempotency-Key": f"installment-{account['id']}-{number}"},
            )  # fmt: skip
            assert paid.status_code == 201, paid.text
    async with client(local, "collections", "collector") as collector:
        done = (await collector.get(f"/accounts/{account['id']}")).json()
    assert (done["patient_due"], done["credit"], done["plans"][0]["state"]) == ("0.00", "0.00", "completed")

    def paid_down(found: list[dict[str, Any]]) -> bool:
        return bool(found) and found[-1]["type"] == BALANCE_CHANGED and found[-1]["patient_due"] == "0.00"

    events = await events_until(servers, COLLECTIONS_EVENTS, account["id"], paid_down)
    types = [event["type"] for event in events]
    assert "rcm.collections.statement_issued" in types
    assert "rcm.collections.payment_plan_created" in types
    due = [Decimal(e["patient_due"]) for e in events if e["type"] == BALANCE_CHANGED]
    assert owed in due  # published once the claim closed

    capsys.readouterr()
    assert await asyncio.to_thread(cli.main, ["ledger", "verify", "--state-dir", str(local.state_dir)]) == 0
    assert "ledger ok" in capsys.readouterr().out


def keep_first_page(pdf: bytes) -> None:
    """Render the statement's first page to PNG where a person can look at it."""
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "statement.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(source), str(Path(work) / "page")], check=True
        )
        shutil.copyfile(Path(work) / "page-1.png", STATEMENT_PNG)
