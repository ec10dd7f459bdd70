"""Held-out metrics: MAE, per-class MAE and Spearman against independent references."""

from __future__ import annotations

import math
import random

import pytest

from codekiln_train.scorer.metrics import average_ranks, evaluate, spearman


def test_mae_and_class_mae_weigh_classes_equally() -> None:
    truth = [0, 8, 8, 8]
    predicted = [4, 8, 8, 9]
    metrics = evaluate(truth, predicted)
    assert metrics.mae == pytest.approx(5 / 4)
    assert metrics.per_class == {0: (1, 4.0), 8: (3, pytest.approx(1 / 3))}
    assert metrics.class_mae == pytest.approx((4 + 1 / 3) / 2)
    flat = metrics.as_flat()
    assert flat["eval_mae_class_0"] == 4.0 and flat["eval_count"] == 4.0


def test_average_ranks_share_ties() -> None:
    assert average_ranks([3, 1, 3, 2]) == [3.5, 1.0, 3.5, 2.0]


def test_spearman_matches_scipy_with_ties() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(7)
    truth = [rng.randint(0, 10) for _ in range(200)]
    predicted = [t + rng.gauss(0, 2.5) for t in truth]
    assert spearman(truth, predicted) == pytest.approx(stats.spearmanr(truth, predicted)[0])


def test_spearman_extremes() -> None:
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))


def test_evaluate_refuses_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="equal"):
        evaluate([1.0], [])
