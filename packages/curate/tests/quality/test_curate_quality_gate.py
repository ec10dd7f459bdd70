"""Quality gate thresholds: percentile (global, per language) and fallbacks."""

from __future__ import annotations

import math
import random

import pytest

from codekiln_curate.quality.gate import (
    interpolated_percentile,
    keep,
    percentile_threshold,
    threshold_for,
)


def test_global_percentile_drops_the_bottom_tenth() -> None:
    rng = random.Random(3)
    scores = [rng.uniform(0, 10) for _ in range(1000)]
    languages = [rng.choice(["python", "go", None]) for _ in scores]
    thresholds = percentile_threshold(scores, languages, percentile=10)
    assert list(thresholds) == ["*"]
    dropped = sum(not keep(s, lang, thresholds) for s, lang in zip(scores, languages, strict=True))
    assert dropped == 100


def test_matches_numpy_linear_percentile() -> None:
    np = pytest.importorskip("numpy")
    values = [0.5, 9.0, 3.25, 3.25, 7.0, 1.0, 8.5]
    for q in (0, 10, 37.5, 90):
        assert interpolated_percentile(values, q) == pytest.approx(np.percentile(values, q))


def test_per_language_thresholds_cut_each_language_on_its_own() -> None:
    python = [5.0 + i / 10 for i in range(50)]   # 5.0 .. 9.9
    go = [i / 10 for i in range(50)]              # 0.0 .. 4.9
    scores, languages = python + go, ["python"] * 50 + ["go"] * 50
    glob = percentile_threshold(scores, languages, percentile=10)
    per = percentile_threshold(scores, languages, percentile=10, per_language=True)
    assert set(per) == {"go", "python"}
    assert per["go"] < 1 < 5 < per["python"] < 6
    assert sum(not keep(s, "go", glob) for s in go) == 10  # globally only go loses files
    assert sum(not keep(s, "python", per) for s in python) == 5
    assert sum(not keep(s, "go", per) for s in go) == 5


def test_ties_at_the_threshold_are_kept() -> None:
    thresholds = percentile_threshold([4.0] * 20, ["python"] * 20)
    assert all(keep(4.0, "python", thresholds) for _ in range(20))


def test_lookup_falls_back_to_global_then_keeps() -> None:
    assert threshold_for({"*": 3.0, "go": 5.0}, "go") == 5.0
    assert threshold_for({"*": 3.0}, "rust") == 3.0
    assert threshold_for({"go": 5.0}, "rust") == -math.inf
    assert threshold_for({"unknown": 2.0}, None) == 2.0


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="100"):
        percentile_threshold([1.0], ["x"], percentile=100)
    with pytest.raises(ValueError, match="languages"):
        percentile_threshold([1.0, 2.0], ["x"])
    assert percentile_threshold([], []) == {}
