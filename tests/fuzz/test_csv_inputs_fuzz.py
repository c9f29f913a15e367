"""The CSV files people upload, fuzzed: the practice's chargemaster and contract rates (charge) and the provider
and payer directories (claim), mutated cell by cell and line by line, and arbitrary text. Whatever comes in, a parser
returns what it read or refuses with `CsvFileError` naming the rows and columns at fault: it never crashes with
another exception. `make test` runs a few examples of each; `make fuzz` runs `RCM_FUZZ_EXAMPLES` (3,000)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rcm_charge.adapters.price_csv import parse_chargemaster, parse_contract_rates
from rcm_claim.adapters.directory_csv import (
    parse_payer_directory,
    parse_provider_directory,
    payer_directory_csv,
    provider_directory_csv,
)
from rcm_claim.adapters.payer_defaults import default_payers
from rcm_claim.service_layer.views import ProviderDirectoryDocument
from rcm_common.csv_tables import CsvFileError
from rcm_tools.practice import CHARGEMASTER_CSV, PROVIDER_DIRECTORY, contract_rates_csv

EXAMPLES: Final = int(os.environ.get("RCM_FUZZ_EXAMPLES", "25"))
FUZZ: Final = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSERS: Final[dict[str, tuple[Callable[[str], Any], str]]] = {
    "chargemaster": (parse_chargemaster, CHARGEMASTER_CSV),
    "contract rates": (parse_contract_rates, contract_rates_csv()),
    "payer directory": (parse_payer_directory, payer_directory_csv(default_payers())),
    "provider directory": (
        parse_provider_directory,
        provider_directory_csv(ProviderDirectoryDocument.model_validate(PROVIDER_DIRECTORY).domain()),
    ),
}
CELL: Final = st.text(max_size=14) | st.sampled_from(["", "=1+1", "-5", "1e9", "NaN", "0.001", '"', "\r", "\x00"])


@st.composite
def mutated(draw: st.DrawFn, document: str) -> str:
    rows = [line.split(",") for line in document.splitlines()]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(rows) - 1))
        change = draw(st.sampled_from(["cell", "drop", "repeat", "extra cell", "short row"]))
        if change == "cell" and rows[at]:
            rows[at][draw(st.integers(0, len(rows[at]) - 1))] = draw(CELL)
        elif change == "drop" and len(rows) > 1:
            del rows[at]
        elif change == "repeat":
            rows.insert(at, list(rows[at]))
        elif change == "extra cell":
            rows[at].append(draw(CELL))
        elif change == "short row":
            rows[at] = rows[at][: draw(st.integers(0, len(rows[at])))]
    return "\n".join(",".join(row) for row in rows) + draw(st.sampled_from(["", "\n", "\r\n"]))


def parse_or_refuse(parser: Callable[[str], Any], text: str) -> None:
    """A parser's only two answers: what it read, or `CsvFileError` naming each problem."""
    try:
        parser(text)
    except CsvFileError as refused:
        problems = refused.problems
    else:
        return
    assert problems


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_a_mutated_file_is_read_or_refused_never_crashes(name: str) -> None:
    parser, seed = PARSERS[name]

    @FUZZ
    @given(text=mutated(seed))
    def check(text: str) -> None:
        parse_or_refuse(parser, text)

    check()


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_arbitrary_text_is_refused_never_crashes(name: str) -> None:
    parser, seed = PARSERS[name]
    header = seed.splitlines()[0]

    @FUZZ
    @given(text=st.text(max_size=300) | st.text(max_size=300).map(lambda body: f"{header}\n{body}"))
    def check(text: str) -> None:
        parse_or_refuse(parser, text)

    check()


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_the_seeds_are_read_whole(name: str) -> None:
    parser, seed = PARSERS[name]

    assert parser(seed)
