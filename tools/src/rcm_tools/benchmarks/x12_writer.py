"""How fast the 837P writer writes claims on one core (DESIGN §6: at least 50,000 claims a second).

The baseline, measured in the same run, is the floor any writer has to pay: joining the very segment
strings the writer produced, already built, into one text. The ratio says how much of the writer's time
goes to building and checking the segments rather than to assembling them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from rcm_x12.professional_claim_writer import (
    BillingProvider,
    Claim,
    Contact,
    ProfessionalClaimBatch,
    ProviderClaims,
    ServiceLine,
    SubscriberClaims,
    write_837p,
)
from rcm_x12.writer import Address, Envelope, Member, Payer, Provider, TradingPartner

ROUNDS = 3
ENVELOPE = Envelope("BENCHSUB", "BENCHREC", 1, 1, 1, datetime(2026, 1, 2, 3, 4), usage="T")


def sample_batch(claims: int) -> ProfessionalClaimBatch:
    """A typical clearinghouse batch: one billing provider, one subscriber per claim, two lines a claim (an
    office visit with a modifier, and a lab test), two diagnoses, a rendering provider."""
    office = Address("1 MAIN ST", "SPRINGFIELD", "IL", "627011234")
    provider = BillingProvider("ACME MEDICAL GROUP", "1234567893", "371234567", office, taxonomy="207Q00000X")
    payer = Payer("BIG HEALTH PLAN", "BHP01")
    rendering = Provider("SMITH", "1098765432", first_name="ANNA")
    home = Address("12 OAK AVE", "SPRINGFIELD", "IL", "627041234")
    subscribers = []
    for number in range(claims):
        seen = date(2026, 1, 1 + number % 28)
        lines = (
            ServiceLine("99214", Decimal("150.00"), Decimal(1), seen, (1, 2), ("25",), control_number=f"L{number}A"),
            ServiceLine("85025", Decimal("35.50"), Decimal(1), seen, control_number=f"L{number}B"),
        )
        claim = Claim(f"PCN{number:08d}", "11", ("J449", "E119"), lines, rendering=rendering)
        member = Member("DOE", "JANE", f"W{number:09d}", birth_date=date(1980, 1, 2), gender="F", address=home)
        subscribers.append(SubscriberClaims(member, payer, (claim,), group_number="GRP1"))
    return ProfessionalClaimBatch(
        "BENCH0001",
        TradingPartner("ACME BILLING", "BENCHSUB"),
        Contact("EDI DESK", phone="2175550199"),
        TradingPartner("CLEARINGHOUSE", "BENCHREC"),
        (ProviderClaims(provider, tuple(subscribers)),),
    )


def best_seconds(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def run(claims: int) -> dict[str, object]:
    batch = sample_batch(claims)
    text = write_837p(batch, ENVELOPE)
    if text.count("~CLM*") != claims:
        raise RuntimeError(f"the 837P holds {text.count('~CLM*')} claims, not {claims}")
    segments = text.split("~")
    writing = best_seconds(lambda: write_837p(batch, ENVELOPE))
    joining = best_seconds(lambda: "~".join(segments))
    return {
        "benchmark": "x12_837p_writer",
        "claims": claims,
        "claims_per_s": round(claims / writing),
        "baseline_join_per_s": round(claims / joining),
        "ratio": round(joining / writing, 4),
    }


def arguments() -> argparse.ArgumentParser:
    """The options of the 837P writer benchmark, shared with `python -m rcm_tools.benchmarks.x12_writer`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--claims", type=int, default=10_000, help="claims in the 837P batch written")
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    print(json.dumps(run(args.claims)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
