"""The 835 mailbox against the clearinghouse simulator in process: its 835s are taken in, posted to the claims
they pay and deleted from the mailbox; its duplicate_835 fault (every 835 twice) posts once; and its reversal
and reprocessing of a paid claim leaves the claim at the corrected amounts, the events in that order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from rcm_clearinghouse_sim.service_layer.faults import Fault
from rcm_clearinghouse_sim.testing import Clock, InProcessClearinghouse, large_claim_batch
from rcm_common.events.claim import ClaimAccepted, ClaimSubmitted, SubmittedLine
from rcm_remittance.testing import RemittanceApi, running_remittance
from rcm_x12.remittance_reader import Claim as PaidClaim
from rcm_x12.remittance_reader import read_remittances

START = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a week after the claims' date of service: within timely filing


@pytest.fixture
def simulator() -> InProcessClearinghouse:
    return InProcessClearinghouse.quiet(Clock(START))


@pytest.fixture
async def api(
    tmp_path: Path, signing_keys: tuple[str, str], database_url: str, simulator: InProcessClearinghouse
) -> AsyncIterator[RemittanceApi]:
    async with running_remittance(tmp_path, signing_keys, database_url, gateway=simulator) as running:
        yield running


async def paid_by_the_simulator(
    api: RemittanceApi, simulator: InProcessClearinghouse, claims: int, payer_id: str = "ACME01"
) -> list[PaidClaim]:
    """`claims` claims sent to the simulator and paid in a payment run; the remittance service hears of each as
    the claim service tells it. Returns the claims as the 835 paid them."""
    await simulator.submit_claims(large_claim_batch(claims, payer_id=payer_id))
    files = {await simulator.mailbox_file(file_id) for file_id in simulator.clearinghouse.run_payments(due_only=False)}
    paid = [claim for content in files for remittance in read_remittances(content) for claim in remittance.claims]
    for claim in paid:
        await api.feed(*told(claim, payer_id))
    return paid


def told(paid: PaidClaim, payer_id: str) -> tuple[ClaimSubmitted, ClaimAccepted]:
    """What the claim service said of the claim the 835 pays: sent with these lines, accepted with this number."""
    ids = {"claim_id": uuid.uuid4(), "patient_id": uuid.uuid4(), "payer_id": payer_id}
    lines = tuple(
        SubmittedLine(
            line_control_number=line.control_number,
            procedure_code=line.procedure.code,
            modifiers=line.procedure.modifiers,
            units=line.units_billed,
            date_of_service=line.service_date or START.date(),
            charge=line.charge,
            expected_allowed=line.allowed,
        )
        for line in paid.lines
    )
    submitted = ClaimSubmitted(
        **ids, encounter_id=uuid.uuid4(), encounter_version=1, coverage_id=uuid.uuid4(),
        patient_control_number=paid.claim_id, frequency="1", batch_id=uuid.uuid4(),
        interchange_control_number="000000001", total_charge=paid.charge, lines=lines,
    )  # fmt: skip
    accepted = ClaimAccepted(**ids, patient_control_number=paid.claim_id, payer_claim_number=paid.payer_claim_number)
    return submitted, accepted


async def test_the_mailboxs_835s_are_posted_and_deleted_and_a_duplicated_835_posts_once(
    api: RemittanceApi, simulator: InProcessClearinghouse
) -> None:
    simulator.clearinghouse.faults.replace_all([Fault("*", "duplicate_835")])
    paid = await paid_by_the_simulator(api, simulator, 6)
    assert [file.kind for file in await simulator.mailbox()].count("835") == 2  # the same 835, twice

    assert await api.remittance.mailbox.run_once() == 1  # one new remittance, the copy known by its bytes
    await api.remittance.poster.run_once()
    assert [file.kind for file in await simulator.mailbox() if file.kind == "835"] == []
    posted = await api.published("rcm.remittance.payment_posted")
    assert sorted(p["payer_claim_number"] for p in posted) == sorted(c.payer_claim_number for c in paid)
    for event, claim in zip(sorted(posted, key=lambda p: p["payer_claim_number"]),
                            sorted(paid, key=lambda c: c.payer_claim_number), strict=True):  # fmt: skip
        assert Decimal(event["paid"]) == claim.paid
        assert all(line["line_control_number"] for line in event["lines"])
    [file] = await api.rows("SELECT source FROM remittance_file")
    assert file["source"].startswith("mailbox:")


async def test_the_simulators_reversal_and_reprocessing_leave_the_claim_at_the_corrected_amounts(
    api: RemittanceApi, simulator: InProcessClearinghouse
) -> None:
    [paid] = await paid_by_the_simulator(api, simulator, 1)
    await api.remittance.mailbox.run_once()
    await api.remittance.poster.run_once()
    simulator.clearinghouse.reprocess(
        paid.payer_claim_number, reason="fee schedule corrected", allowed_change=Decimal("0.1")
    )
    simulator.clearinghouse.run_payments(due_only=False)
    await api.remittance.mailbox.run_once()
    await api.remittance.poster.run_once()

    reversal_and_after = [
        event for event in await api.published_events() if event.get("payer_claim_number") == paid.payer_claim_number
    ]
    assert [event["type"] for event in reversal_and_after] == [
        "rcm.remittance.payment_posted", "rcm.remittance.claim_payment_reversed", "rcm.remittance.payment_posted",
    ]  # fmt: skip
    first, reversal, corrected = reversal_and_after
    assert reversal["reversed_payment_id"] == first["payment_id"]
    assert Decimal(reversal["paid"]) == -Decimal(first["paid"])
    assert Decimal(corrected["allowed"]) > Decimal(first["allowed"])
    payments = (await api.client.get(f"/payments?claim_id={first['claim_id']}", headers=api.auth())).json()
    assert sum(Decimal(p["paid"]) for p in payments) == Decimal(corrected["paid"])
