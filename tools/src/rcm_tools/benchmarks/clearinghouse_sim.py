"""How fast the clearinghouse simulator does its own work, in process on one core: the project's issue asks that
the simulator never be the bottleneck, its adjudication and 835 writing well above the platform's target of 500
claims a second (DESIGN §6). No HTTP, no database: the simulator keeps everything in memory.

The claims go to the simulator as claim sends them: one 837P per payer and upload, of at most the payers' batch
size (500), round-robin over the simulator's four payers, each claim (an office visit and a lab test) for a
member of its own whom the payer covers. Timed, per round, on a fresh simulator configured as `rcm bench e2e`
runs it (paying every claim at the next payment run, no seeded denials):

- the uploads: each 837P read and checked, its 999 and 277CA written, its claims edited and adjudicated;
- the payment run: every claim paid into one 835 per payer (written, put in the mailbox);
- the whole: from the first byte uploaded to the last 835 written (the two best times added).

The baseline, measured in the same run, is the floor any clearinghouse pays for the same X12 whatever its logic:
the same 837Ps read into typed claims by rcm_x12 alone, and the same 835s written by rcm_x12 alone from the
advices the simulator built (captured in a first round, not timed). Every work takes its turn round after round
and keeps its best (as `rcm bench x12`'s readers do), with the garbage collector set as in a service process;
a ratio is the simulator's rate over the floor's.

A benchmark of rejections would be wrong: the run refuses to give figures unless every 999 accepts its 837P,
every 277CA accepts every claim, and every claim is on an 835, processed as primary with every line allowed.
"""

from __future__ import annotations

import argparse
import gc
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from unittest import mock

from rcm_claim.adapters.payer_defaults import default_payers
from rcm_clearinghouse_sim.config import ClearinghouseSettings, SimulatorConfig, load_config
from rcm_clearinghouse_sim.service_layer import clearinghouse as service_layer
from rcm_clearinghouse_sim.service_layer.clearinghouse import Clearinghouse
from rcm_clearinghouse_sim.testing import BILLING, CLEARINGHOUSE, SERVICE_DATE, SUBMITTER, X12, Clock
from rcm_common.kernel import settle_collector
from rcm_tools.benchmarks.revenue_cycle import paying_every_claim
from rcm_tools.benchmarks.runs import positive, say
from rcm_tools.benchmarks.x12 import best_alternating
from rcm_tools.errors import ToolError
from rcm_x12.acknowledgment_reader import read_acknowledgments
from rcm_x12.claim_status_reader import read_claim_statuses
from rcm_x12.professional_claim_reader import professional_claims_of
from rcm_x12.professional_claim_writer import (
    Claim,
    Contact,
    ProfessionalClaimBatch,
    ProviderClaims,
    ServiceLine,
    SubscriberClaims,
    write_837p,
)
from rcm_x12.reader import read, transaction_sets
from rcm_x12.remittance_reader import read_remittances
from rcm_x12.remittance_writer import RemittanceAdvice, write_835
from rcm_x12.writer import Envelope, Payer, Provider

ROUNDS = 3
TARGET_CLAIMS_PER_S = 500
"""DESIGN §6: the platform's whole cycle at 500 claims a second; the simulator is one step of it."""
PER_UPLOAD = min(payer.batch_size for payer in default_payers())
"""The most claims claim puts in one payer's 837P (500)."""
RENDERING = Provider("SMITH", "1098765435", first_name="ANNA")
Member = Callable[[int], str]
"""The member id of the claim numbered so."""


def enrolled_member(number: int) -> str:
    """A member id the simulated payers cover: any but their test conventions (NOTFOUND..., TERM..., DOWN...)."""
    return f"W{number:09d}"


@dataclass(frozen=True, slots=True)
class Upload:
    """One 837P as the simulator is sent it, and the claim ids (CLM01) it carries."""

    claim_ids: tuple[str, ...]
    data: bytes


def simulator_config() -> SimulatorConfig:
    """The packaged configuration as `rcm bench e2e` runs it: every claim paid at the next run, none denied at
    random, so every claim's work ends in a payment."""
    return paying_every_claim(load_config(ClearinghouseSettings(environment="test")))


def claim_uploads(claims: int, per_upload: int = PER_UPLOAD, member: Member = enrolled_member) -> list[Upload]:
    """The claims as 837Ps of at most `per_upload` claims, each to the next of the simulator's payers, each
    interchange with its own control number (one sent twice would be taken as a resend, its claims ignored)."""
    payers = [(payer.id, payer.name) for payer in simulator_config().payers]
    envelopes = X12()
    uploads = []
    for first in range(0, claims, per_upload):
        payer_id, payer_name = payers[first // per_upload % len(payers)]
        numbers = range(first + 1, min(first + per_upload, claims) + 1)
        subscribers = tuple(
            SubscriberClaims(X12.member(member(number)), Payer(payer_name, payer_id), (_office_visit(number),))
            for number in numbers
        )
        batch = ProfessionalClaimBatch(
            f"SIMBENCH{first // per_upload + 1}",
            SUBMITTER,
            Contact("EDI DESK", phone="2175550199"),
            CLEARINGHOUSE,
            (ProviderClaims(BILLING, subscribers),),
        )
        claim_ids = tuple(claim.claim_id for subscriber in subscribers for claim in subscriber.claims)
        uploads.append(Upload(claim_ids, write_837p(batch, envelopes.envelope()).encode()))
    return uploads


def _office_visit(number: int) -> Claim:
    """An office visit with a modifier and a lab test, two diagnoses, a rendering provider: nothing any payer
    denies (no prior authorisation, covered codes, valid diagnoses, no duplicate of another claim)."""
    lines = (
        ServiceLine("99214", Decimal("150.00"), Decimal(1), SERVICE_DATE, (1, 2), ("25",), control_number=f"{number}A"),
        ServiceLine("85025", Decimal("35.50"), Decimal(1), SERVICE_DATE, control_number=f"{number}B"),
    )
    return Claim(f"SIM{number:08d}", "11", ("J449", "E119"), lines, rendering=RENDERING)


class SimulatorRound:
    """One round of the simulator's work: a fresh simulator takes every upload, then pays every claim. The two
    are timed apart; what they answered is kept to be checked."""

    def __init__(self, config: SimulatorConfig, uploads: Sequence[Upload]) -> None:
        self.config = config
        self.uploads = [upload.data for upload in uploads]
        self.clearinghouse = Clearinghouse(config, Clock())
        self.acknowledgments: list[str] = []
        self.remittance_ids: list[str] = []
        self._spent: list[Clearinghouse] = []

    def upload(self) -> None:
        self._spent.append(self.clearinghouse)  # freed after the timing, not inside the next round's
        self.clearinghouse = Clearinghouse(self.config, Clock())  # microseconds: the plans of four payers
        self.acknowledgments = [self.clearinghouse.submit(data).acknowledgment for data in self.uploads]

    def pay(self) -> None:
        self.remittance_ids = self.clearinghouse.run_payments(due_only=True)


def every_claim_paid(uploads: Sequence[Upload], done: SimulatorRound) -> int:
    """The claims the round's 835s paid, which must be every claim uploaded: else a ToolError naming the first
    thing that went otherwise (a 999 rejecting an 837P, a 277CA rejecting claims, claims denied or not paid)."""
    mailbox = done.clearinghouse.mailbox
    verdicts = [
        response.accepted
        for text in done.acknowledgments
        for acknowledgment in read_acknowledgments(text).implementation
        for response in acknowledgment.responses
    ]
    if verdicts.count(True) != len(uploads):
        raise ToolError(f"the 999s accepted {verdicts.count(True)} of the {len(uploads)} 837Ps sent")
    expected = {claim_id for upload in uploads for claim_id in upload.claim_ids}
    acknowledged = [
        claim.accepted
        for file in mailbox.files()
        if file.kind == "277CA"
        for response in read_claim_statuses(file.content)
        for claim in response.claims
    ]
    if acknowledged.count(True) != len(expected):
        raise ToolError(
            f"the 277CAs accepted {acknowledged.count(True)} of {len(expected)} claims: the benchmark must send "
            "members and payers the simulator covers"
        )
    remitted = [
        claim
        for file_id in done.remittance_ids
        for remittance in read_remittances(mailbox.get(file_id).content)
        for claim in remittance.claims
    ]
    paid = {
        claim.claim_id
        for claim in remitted
        if claim.status == "1" and all(line.allowed is not None for line in claim.lines)  # processed, none denied
    }
    if paid != expected or len(remitted) != len(expected):
        raise ToolError(f"the 835s paid {len(paid & expected)} of {len(expected)} claims ({len(remitted)} remitted)")
    return len(paid)


def _advices_written(done: SimulatorRound) -> list[tuple[RemittanceAdvice, Envelope]]:
    """Run the round with the simulator's 835 writer watched: what it was asked to write, for the baseline to
    write again."""
    with mock.patch.object(service_layer, "write_835", wraps=write_835) as writer:
        done.upload()
        done.pay()
    return [(call.args[0], call.args[1]) for call in writer.call_args_list]


@contextmanager
def collector_as_in_a_service() -> Iterator[None]:
    """The garbage collector set as a service process sets it (`settle_collector`), and put back after."""
    threshold = gc.get_threshold()
    settle_collector()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def _read_837ps(uploads: Sequence[Upload]) -> int:
    """The floor of an upload: the 837Ps read into typed claims, nothing checked, answered or decided. Returns
    the claims read."""
    batches = [
        professional_claims_of(t, i) for upload in uploads for t, i in transaction_sets(read(upload.data), "837")
    ]
    return sum(len(s.claims) for batch in batches for provider in batch.providers for s in provider.subscribers)


def run(
    claims: int, per_upload: int = PER_UPLOAD, rounds: int = ROUNDS, member: Member = enrolled_member
) -> dict[str, object]:
    uploads = claim_uploads(claims, per_upload, member)
    first = SimulatorRound(simulator_config(), uploads)
    advices = _advices_written(first)
    paid = every_claim_paid(uploads, first)  # before anything is timed: no figures of rejections
    if (read_back := _read_837ps(uploads)) != claims:
        raise ToolError(f"the typed reader read {read_back} claims of the {claims} uploaded")
    if len(advices) != len(first.remittance_ids):  # the simulator writes its 835s some other way now
        raise ToolError(f"{len(advices)} 835s seen written of the {len(first.remittance_ids)} in the mailbox")
    del first  # its ledger would make the collector's work in the rounds larger than the simulator's own
    say(f"{claims} claims in {len(uploads)} uploads, paid on {len(advices)} 835s; timing {rounds} rounds")

    timed = SimulatorRound(simulator_config(), uploads)
    with collector_as_in_a_service():
        fastest = best_alternating(
            {
                "upload": timed.upload,
                "payment": timed.pay,
                "read": lambda: _read_837ps(uploads),
                "write": lambda: [write_835(advice, envelope) for advice, envelope in advices],
            },
            rounds,
        )
    every_claim_paid(uploads, timed)  # the last round timed did the work the first did
    simulator = fastest["upload"] + fastest["payment"]
    floor = fastest["read"] + fastest["write"]
    return {
        "benchmark": "clearinghouse_sim",
        "claims": claims,
        "uploads": len(uploads),
        "remittances_835": len(advices),
        "rounds": rounds,
        "claims_paid": paid,
        "upload_claims_per_s": round(claims / fastest["upload"]),
        "payment_claims_per_s": round(claims / fastest["payment"]),
        "claims_per_s": round(claims / simulator),
        "baseline_read_837p_claims_per_s": round(claims / fastest["read"]),
        "baseline_write_835_claims_per_s": round(claims / fastest["write"]),
        "baseline_claims_per_s": round(claims / floor),
        "upload_ratio_to_baseline": round(fastest["read"] / fastest["upload"], 3),
        "payment_ratio_to_baseline": round(fastest["write"] / fastest["payment"], 3),
        "ratio_to_baseline": round(floor / simulator, 3),
        "target_claims_per_s": TARGET_CLAIMS_PER_S,
        "headroom": round(claims / simulator / TARGET_CLAIMS_PER_S, 2),
    }


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench simulator`, shared with `python -m rcm_tools.benchmarks.clearinghouse_sim`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--claims", type=positive, default=5_000, help="claims uploaded and paid each round")
    parser.add_argument(
        "--per-upload", type=positive, default=PER_UPLOAD, help="claims in one 837P, as claim batches them"
    )
    parser.add_argument("--rounds", type=positive, default=ROUNDS, help="rounds of each work, taken in turn")
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    print(json.dumps(run(args.claims, args.per_upload, args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
