"""Thresholds for the quality gate: absolute, or a percentile of the scored corpus,
globally (key ``"*"``) or per language.

A document is dropped when its score is strictly below its threshold, so the bottom
``percentile`` percent go (fewer when scores tie at the threshold).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

GLOBAL = "*"


def interpolated_percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of non-empty ``values``."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentile_threshold(scores: Sequence[float], languages: Sequence[str | None],
                         percentile: float = 10, per_language: bool = False) -> dict[str, float]:
    """``{"*": t}`` or ``{language: t}`` such that scores below ``t`` are the bottom
    ``percentile`` percent of the corpus (or of each language)."""
    if not 0 <= percentile < 100:
        raise ValueError(f"percentile {percentile} must be in [0, 100)")
    if len(scores) != len(languages):
        raise ValueError(f"{len(scores)} scores but {len(languages)} languages")
    if not scores:
        return {}
    if not per_language:
        return {GLOBAL: interpolated_percentile(scores, percentile)}
    groups: dict[str, list[float]] = defaultdict(list)
    for score, language in zip(scores, languages, strict=True):
        groups[language or "unknown"].append(score)
    return {lang: interpolated_percentile(values, percentile)
            for lang, values in sorted(groups.items())}


def threshold_for(thresholds: Mapping[str, float], language: str | None) -> float:
    """The language's threshold, else the global one, else no threshold (keep)."""
    key = language or "unknown"
    if key in thresholds:
        return thresholds[key]
    return thresholds.get(GLOBAL, -math.inf)


def keep(score: float, language: str | None, thresholds: Mapping[str, float]) -> bool:
    return score >= threshold_for(thresholds, language)
