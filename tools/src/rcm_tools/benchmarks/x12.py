"""The X12 codec's speed: an ~8 MB 835 built from the shared corpus's real claims, read into typed objects by
rcm_x12 and, in the same run, by pyx12's two readers (its raw segment splitter and its segment reader);
and 837P claims written per second on one core. One JSON line.

The readers are timed alternating, round after round (rcm_x12, pyx12's segment reader, pyx12's raw splitter,
then rcm_x12 again, ...), and each keeps its best of the rounds (5 by default): on a shared machine a burst of
other work then slows every reader's rounds alike instead of one reader's, and the best of several rounds is
the figure least disturbed. The ratios are of those best times.

pyx12 is the project's test-only conformance oracle, which is why this benchmark lives with the tools.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import time
from collections.abc import Callable, Iterator

import pyx12.rawx12file  # type: ignore[import-untyped]
import pyx12.x12file  # type: ignore[import-untyped]

from rcm_tools.benchmarks import x12_writer
from rcm_x12.corpus import default_root, manifest
from rcm_x12.reader import Segment, read
from rcm_x12.remittance_reader import read_remittances

HEADER = (
    "ISA*00*          *00*          *ZZ*BENCHPAYER     *ZZ*BENCHCLINIC    *261123*1200*^*00501*000000001*0*P*:~"
    "GS*HP*BENCHPAYER*BENCHCLINIC*20261123*1200*1*X*005010X221A1~ST*835*0001*005010X221A1~"
    "BPR*I*0*C*CHK************20261123~TRN*1*BENCH0001*1512345678~DTM*405*20261123~"
    "N1*PR*BENCH PAYER~N3*1 MAIN ST~N4*SPRINGFIELD*IL*62701~N1*PE*BENCH CLINIC*XX*1234567893~"
)
ROUNDS = 5  # of each reader, alternating
# Segments of an 835's claim loops (2000 header number to 2110 service lines).
CLAIM_SEGMENTS = frozenset(
    {"LX", "TS3", "TS2", "CLP", "CAS", "NM1", "MIA", "MOA", "REF", "DTM", "PER", "AMT", "QTY", "SVC", "LQ"}
)


def corpus_claims() -> list[str]:
    """Every claim loop of the corpus's 5010 835s, re-delimited to `*`, `:` and `~`."""
    root = default_root()
    loops: list[str] = []
    for entry in manifest(root):
        if entry.kind != "835" or not entry.must_read:
            continue
        for interchange in read((root / entry.path).read_bytes()):
            component = interchange.delimiters.component
            for group in interchange.groups:
                for transaction in group.transactions:
                    loops.extend(_claim_loops(transaction.segments, component))
    if not loops:
        raise RuntimeError("the corpus has no 835 claims to build the benchmark file from")
    return loops


def _claim_loops(segments: list[Segment], component: str) -> Iterator[str]:
    current: list[str] = []
    for segment in segments:
        if segment[0] == "CLP" and current:
            yield "".join(current)
            current = []
        if segment[0] == "CLP" or (current and segment[0] in CLAIM_SEGMENTS):
            current.append("*".join(element.replace(component, ":") for element in segment) + "~")
        elif current:
            yield "".join(current)
            current = []
    if current:
        yield "".join(current)


def build_835(target_bytes: int) -> tuple[str, int]:
    """An 835 of about `target_bytes`, its claims taken round-robin from the corpus; and its claim count."""
    body: list[str] = []
    size = claims = 0
    for loop in itertools.cycle(corpus_claims()):
        if size >= target_bytes:
            break
        body.append(loop)
        size += len(loop)
        claims += 1
    segments = HEADER[HEADER.index("ST*") :].count("~") + sum(loop.count("~") for loop in body) + 1
    return HEADER + "".join(body) + f"SE*{segments}*0001~GE*1*1~IEA*1*000000001~", claims


def best_alternating(works: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Each work's fastest time of `rounds`, the works run in turn within each round."""
    fastest = dict.fromkeys(works, float("inf"))
    for _ in range(rounds):
        for name, work in works.items():
            started = time.perf_counter()
            work()
            fastest[name] = min(fastest[name], time.perf_counter() - started)
    return fastest


def reader_figures(target_bytes: int, rounds: int = ROUNDS) -> dict[str, object]:
    text, claims = build_835(target_bytes)

    def ours() -> None:
        [remittance] = read_remittances(text)
        if len(remittance.claims) != claims:
            raise RuntimeError(f"read {len(remittance.claims)} claims of {claims}")

    def pyx12_raw() -> None:
        for _ in pyx12.rawx12file.RawX12File(io.StringIO(text)):
            pass

    def pyx12_segments() -> None:
        for _ in pyx12.x12file.X12Reader(io.StringIO(text)):
            pass

    fastest = best_alternating({"typed": ours, "segmented": pyx12_segments, "raw": pyx12_raw}, rounds)
    typed, segmented, raw = fastest["typed"], fastest["segmented"], fastest["raw"]
    return {
        "bytes": len(text),
        "claims": claims,
        "rounds": rounds,
        "rcm_x12_typed_s": round(typed, 3),
        "pyx12_raw_split_s": round(raw, 3),
        "pyx12_segment_reader_s": round(segmented, 3),
        "speedup_vs_pyx12_segment_reader": round(segmented / typed, 2),
        "speedup_vs_pyx12_raw_split": round(raw / typed, 2),
    }


def arguments() -> argparse.ArgumentParser:
    """The options of `rcm bench x12`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--megabytes", type=float, default=8.0, help="size of the 835 read")
    parser.add_argument("--claims", type=int, default=10_000, help="claims in the 837P batch written")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds of each reader, taken alternately")
    return parser


def run_benchmark(args: argparse.Namespace) -> int:
    figures = {
        "benchmark": "x12",
        "reader_835": reader_figures(int(args.megabytes * 1_000_000), args.rounds),
        "writer_837p": x12_writer.run(args.claims),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_benchmark(argparse.ArgumentParser(parents=[arguments()], description=__doc__).parse_args()))
