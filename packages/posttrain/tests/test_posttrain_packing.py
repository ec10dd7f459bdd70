"""Best-fit-decreasing packing: every item once, no bin over capacity, tight fill."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from codekiln_posttrain.packing import best_fit_decreasing, fill_ratio


@given(st.lists(st.integers(1, 64), max_size=80), st.integers(64, 128))
def test_every_item_once_and_bins_fit(lengths: list[int], capacity: int) -> None:
    bins = best_fit_decreasing(lengths, capacity)
    flat = sorted(i for b in bins for i in b)
    assert flat == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in b) <= capacity for b in bins)
    # BFD bound: at most 11/9 OPT + 1 bins, and OPT >= total / capacity.
    assert len(bins) <= 11 / 9 * (sum(lengths) / capacity) + 2


def test_best_fit_picks_the_tightest_bin() -> None:
    bins = best_fit_decreasing([6, 5, 4, 3, 2], 10)
    assert bins == [[0, 2], [1, 3, 4]]  # 4 goes beside 6 (room 4), not beside 5 (room 5)
    assert fill_ratio([6, 5, 4, 3, 2], bins, 10) == 1.0
