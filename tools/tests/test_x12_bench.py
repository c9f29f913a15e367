"""`rcm bench x12`'s reader comparison: the readers take turns, round after round, and each keeps its best."""

from __future__ import annotations

from collections.abc import Callable

from rcm_tools.benchmarks import x12


def test_the_readers_alternate_and_each_keeps_its_best_round() -> None:
    calls: list[str] = []

    def work(name: str) -> Callable[[], None]:
        return lambda: calls.append(name)

    fastest = x12.best_alternating({"ours": work("ours"), "theirs": work("theirs")}, 3)

    assert calls == ["ours", "theirs"] * 3
    assert set(fastest) == {"ours", "theirs"}
    assert all(0 <= seconds < 1 for seconds in fastest.values())


def test_the_reader_figures_keep_their_keys() -> None:
    figures = x12.reader_figures(20_000, rounds=1)

    assert figures["rounds"] == 1
    assert isinstance(figures["claims"], int)
    assert figures["claims"] > 0
    for key in ("rcm_x12_typed_s", "pyx12_raw_split_s", "pyx12_segment_reader_s"):
        assert isinstance(figures[key], float)
    assert {"speedup_vs_pyx12_segment_reader", "speedup_vs_pyx12_raw_split"} <= set(figures)
