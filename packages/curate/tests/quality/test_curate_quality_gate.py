"""Quality gate: the bottom share by rank (global, per language, ties), absolute thresholds."""

from __future__ import annotations

import math
import random

import pytest

from codekiln_curate.quality.gate import (
    absolute_gate,
    drop_count,
    percentile_gate,
    threshold_for,
    tie_key,
)


def ids_for(count: int, prefix: str = "doc") -> list[str]:
    return [f"{prefix}-{i}" for i in range(count)]


def test_global_percentile_drops_the_bottom_tenth() -> None:
    rng = random.Random(3)
    scores = [rng.uniform(0, 10) for _ in range(1000)]
    languages = [rng.choice(["python", "go", None]) for _ in scores]
    decision = percentile_gate(scores, languages, ids_for(1000), percentile=10)
    assert list(decision.thresholds) == ["*"]
    assert decision.keep.count(False) == 100
    dropped = [s for s, k in zip(scores, decision.keep, strict=True) if not k]
    kept = [s for s, k in zip(scores, decision.keep, strict=True) if k]
    assert max(dropped) < min(kept) == decision.thresholds["*"]


def test_ties_at_the_cut_still_drop_the_requested_share() -> None:
    """A quarter of the files clamp to 0: a 10% gate drops 10%, not nothing (the old bug)."""
    scores = [0.0] * 25 + [1.0 + i / 10 for i in range(75)]
    ids = ids_for(100)
    decision = percentile_gate(scores, ["python"] * 100, ids, percentile=10)
    dropped = [i for i, k in zip(ids, decision.keep, strict=True) if not k]
    assert len(dropped) == 10 and decision.thresholds["*"] == 0.0
    assert all(scores[int(i.rsplit("-", 1)[1])] == 0.0 for i in dropped)
    tied = sorted((i for i in ids[:25]), key=tie_key)
    assert sorted(dropped, key=tie_key) == tied[:10]  # broken by id hash, not by position
    assert set(dropped) != set(ids[:10])


def test_ties_are_broken_the_same_in_any_order() -> None:
    scores = [4.0] * 40 + [7.0] * 10
    ids = ids_for(50)
    first = percentile_gate(scores, [None] * 50, ids, percentile=30)
    order = list(range(50))
    random.Random(5).shuffle(order)
    second = percentile_gate([scores[i] for i in order], [None] * 50,
                             [ids[i] for i in order], percentile=30)
    dropped_first = {i for i, k in zip(ids, first.keep, strict=True) if not k}
    dropped_second = {ids[i] for i, k in zip(order, second.keep, strict=True) if not k}
    assert dropped_first == dropped_second and len(dropped_first) == 15


def test_per_language_gates_cut_each_language_on_its_own() -> None:
    python = [5.0 + i / 10 for i in range(50)]   # 5.0 .. 9.9
    go = [i / 10 for i in range(50)]              # 0.0 .. 4.9
    scores, languages = python + go, ["python"] * 50 + ["go"] * 50
    ids = ids_for(100)
    glob = percentile_gate(scores, languages, ids, percentile=10)
    per = percentile_gate(scores, languages, ids, percentile=10, per_language=True)
    assert set(per.thresholds) == {"go", "python"}
    assert per.thresholds["go"] == 0.5 and per.thresholds["python"] == 5.5
    assert glob.keep[:50].count(False) == 0 and glob.keep[50:].count(False) == 10
    assert per.keep[:50].count(False) == 5 and per.keep[50:].count(False) == 5


def test_drop_count_rounds_to_the_nearest_file_and_keeps_one() -> None:
    assert drop_count(36, 10) == 4 and drop_count(12, 25) == 3 and drop_count(1000, 10) == 100
    assert drop_count(34, 10) == 3  # 3.4 files
    assert drop_count(1, 50) == 0 and drop_count(2, 75) == 1  # never the whole group
    assert drop_count(0, 10) == 0 and drop_count(50, 0) == 0


def test_absolute_gate_and_lookup_fallbacks() -> None:
    decision = absolute_gate([3.0, 5.0, 4.99], ["go", "go", None], {"*": 5.0})
    assert decision.keep == [False, True, False]
    assert threshold_for({"*": 3.0, "go": 5.0}, "go") == 5.0
    assert threshold_for({"*": 3.0}, "rust") == 3.0
    assert threshold_for({"go": 5.0}, "rust") == -math.inf
    assert threshold_for({"unknown": 2.0}, None) == 2.0


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="100"):
        percentile_gate([1.0], ["x"], ["a"], percentile=100)
    with pytest.raises(ValueError, match="one of each"):
        percentile_gate([1.0, 2.0], ["x"], ["a", "b"])
    empty = percentile_gate([], [], [])
    assert empty.keep == [] and empty.thresholds == {}
