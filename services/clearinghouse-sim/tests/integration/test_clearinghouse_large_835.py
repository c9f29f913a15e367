"""835s of 10,000 claims: a payment run writes one for a payer and payee in seconds, and
`testing.large_remittance` hands another service's tests such an 835 with what each claim billed, so they
can make the claims it pays."""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

from rcm_clearinghouse_sim.service_layer.clearinghouse import Clearinghouse
from rcm_clearinghouse_sim.testing import BILLING, Clock, large_claim_batch, large_remittance, quiet_config
from rcm_x12.professional_claim_reader import read_professional_claims
from rcm_x12.remittance_reader import read_remittances

PAYMENT_RUN_BUDGET_SECONDS = 15.0
"""Under a second on a 2-core laptop; the budget leaves room for a busy CI machine, not for minutes."""


def test_a_payment_run_pays_ten_thousand_claims_in_one_835_in_seconds() -> None:
    clearinghouse = Clearinghouse(quiet_config(), Clock())
    clearinghouse.submit(large_claim_batch(10_000).encode())

    started = time.perf_counter()
    [file_id] = clearinghouse.run_payments(due_only=False)
    elapsed = time.perf_counter() - started

    assert elapsed < PAYMENT_RUN_BUDGET_SECONDS
    [remittance] = read_remittances(clearinghouse.mailbox.get(file_id).content)
    assert len(remittance.claims) == 10_000
    assert len({claim.claim_id for claim in remittance.claims}) == 10_000
    assert remittance.balance_problems() == []
    assert remittance.payment.total_paid == sum((claim.paid for claim in remittance.claims), Decimal("0.00")) > 0


def test_a_large_remittance_tells_what_each_claim_billed_and_was_paid() -> None:
    made = large_remittance(300, payer_id="MCARE1", seed=11, claim_id_prefix="LR")

    [remittance] = read_remittances(made.text)
    assert (remittance.trace_number, remittance.payer.identifier, remittance.payee.npi) == (
        made.trace_number, "MCARE1", BILLING.npi
    )  # fmt: skip
    assert (made.payer_id, made.payee_npi, remittance.balance_problems()) == ("MCARE1", BILLING.npi, [])
    sent = {claim.claim_id: claim for batch in read_professional_claims(made.claims_837) for claim in batch.claims}
    assert [claim.claim_id for claim in made.claims] == [f"LR{n:07d}" for n in range(1, 301)] == list(sent)
    for claim, paid in zip(made.claims, remittance.claims, strict=True):
        billed = sent[claim.claim_id]
        assert (claim.claim_id, claim.payer_claim_number, claim.paid, claim.charge) == (
            paid.claim_id, paid.payer_claim_number, paid.paid, billed.charge
        )  # fmt: skip
        assert (claim.payer_id, claim.frequency, claim.payer_claim_number[:6]) == ("MCARE1", "1", "MCARE1")
        assert [
            (line.control_number, line.procedure, line.modifiers, line.units, line.service_date, line.charge)
            for line in claim.lines
        ] == [
            (line.control_number, line.procedure, line.modifiers, line.units, line.service_date, line.charge)
            for line in billed.lines
        ]
    assert 1 <= min(len(c.lines) for c in made.claims) < max(len(c.lines) for c in made.claims) <= 3
    statuses = Counter(claim.status for claim in remittance.claims)
    assert statuses["1"] > 250  # mostly paid; the payer's seeded random denials deny a few


def test_a_large_remittance_is_the_same_for_the_same_seed() -> None:
    assert large_remittance(40, seed=5).text == large_remittance(40, seed=5).text
    assert large_remittance(40, seed=5).text != large_remittance(40, seed=6).text


def test_the_batch_keeps_to_five_thousand_claims_a_transaction_set() -> None:
    batches = read_professional_claims(large_claim_batch(5_001))

    assert [len(batch.claims) for batch in batches] == [5_000, 1]
