"""Held-out metrics of the scorer, in rubric units (0-10), as the Seed-Coder report gives them.

MAE over all files, MAE averaged over ground-truth classes (so the rare zero-score class
weighs as much as the common 6-8 scores), and Spearman rank correlation (what a percentile
gate relies on). Pure Python: a few thousand held-out files need no numpy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ScorerMetrics:
    count: int
    mae: float
    class_mae: float
    spearman: float
    per_class: dict[int, tuple[int, float]]  # ground-truth class -> (files, MAE)

    def as_flat(self) -> dict[str, float]:
        """Metric names for MLflow: ``eval_mae``, ``eval_mae_class_7`` ..."""
        flat = {f"eval_{k}": float(v) for k, v in asdict(self).items() if k != "per_class"}
        flat.update({f"eval_mae_class_{c}": mae for c, (_, mae) in self.per_class.items()})
        return flat


def mean_absolute_error(truth: Sequence[float], predicted: Sequence[float]) -> float:
    return sum(abs(t - p) for t, p in zip(truth, predicted, strict=True)) / len(truth)


def per_class_mae(truth: Sequence[float], predicted: Sequence[float]) -> dict[int, tuple[int,
                                                                                        float]]:
    """Ground-truth class (the rounded label) -> (files, MAE), for classes present."""
    groups: dict[int, list[float]] = defaultdict(list)
    for t, p in zip(truth, predicted, strict=True):
        groups[round(t)].append(abs(t - p))
    return {c: (len(errors), sum(errors) / len(errors)) for c, errors in sorted(groups.items())}


def average_ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing the mean of their positions (as Spearman requires)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Pearson correlation of average ranks; NaN when either side is constant."""
    ra, rb = average_ranks(a), average_ranks(b)
    mean_a, mean_b = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(ra, rb, strict=True))
    var_a = sum((x - mean_a) ** 2 for x in ra)
    var_b = sum((y - mean_b) ** 2 for y in rb)
    if var_a == 0 or var_b == 0:
        return math.nan
    return cov / math.sqrt(var_a * var_b)


def evaluate(truth: Sequence[float], predicted: Sequence[float]) -> ScorerMetrics:
    """All held-out metrics at once; both sequences in 0-10 units."""
    if not truth or len(truth) != len(predicted):
        raise ValueError(f"need equal, non-empty sequences (got {len(truth)} and "
                         f"{len(predicted)})")
    classes = per_class_mae(truth, predicted)
    class_mae = sum(mae for _, mae in classes.values()) / len(classes)
    return ScorerMetrics(len(truth), mean_absolute_error(truth, predicted), class_mae,
                         spearman(truth, predicted), classes)
