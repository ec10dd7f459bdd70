"""The quality gate: drop the bottom share of files by rank, or files below an absolute score,
globally (key ``"*"``) or per language.

A percentile gate ranks files by score and drops exactly ``round(n * percentile / 100)`` of
each group (never the whole group), however many scores tie: a threshold alone drops
nothing when, say, a quarter of the corpus clamps to 0 and the cut falls inside that tie.
Ties are broken by the SHA-256 of the document id, so the same corpus always loses the same
files, whatever its order or sharding.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GLOBAL = "*"


@dataclass(frozen=True)
class GateDecision:
    """Which files stay (aligned with the input) and the cut score of each group."""

    keep: list[bool]
    # group -> the lowest kept score: files below it were dropped, files at it maybe (ties)
    thresholds: dict[str, float]


def drop_count(files: int, percentile: float) -> int:
    """Files a ``percentile`` gate drops from ``files``: the nearest whole number, < files."""
    if files <= 1:
        return 0
    return min(files - 1, math.floor(files * percentile / 100 + 0.5))


def tie_key(document_id: str) -> str:
    """Order among equal scores: the id's hash, so no id scheme favours some files."""
    return hashlib.sha256(document_id.encode("utf-8")).hexdigest()


def percentile_gate(scores: Sequence[float], languages: Sequence[str | None],
                    ids: Sequence[str], percentile: float = 10,
                    per_language: bool = False) -> GateDecision:
    """Drop the ``percentile`` percent lowest-ranked files of the corpus (or of each language)."""
    if not 0 <= percentile < 100:
        raise ValueError(f"percentile {percentile} must be in [0, 100)")
    if not len(scores) == len(languages) == len(ids):
        raise ValueError(f"{len(scores)} scores, {len(languages)} languages and {len(ids)} "
                         "ids: need one of each per file")
    groups: dict[str, list[int]] = defaultdict(list)
    for index, language in enumerate(languages):
        groups[(language or "unknown") if per_language else GLOBAL].append(index)
    keep = [True] * len(scores)
    thresholds: dict[str, float] = {}
    for group, members in sorted(groups.items()):
        ranked = sorted(members, key=lambda i: (scores[i], tie_key(ids[i])))
        cut = drop_count(len(ranked), percentile)
        for index in ranked[:cut]:
            keep[index] = False
        thresholds[group] = scores[ranked[cut]]
    return GateDecision(keep, thresholds)


def absolute_gate(scores: Sequence[float], languages: Sequence[str | None],
                  thresholds: Mapping[str, float]) -> GateDecision:
    """Keep files scoring at least their (language's, else the global) threshold."""
    keep_mask = [keep(s, lang, thresholds) for s, lang in zip(scores, languages, strict=True)]
    return GateDecision(keep_mask, dict(thresholds))


def threshold_for(thresholds: Mapping[str, float], language: str | None) -> float:
    """The language's threshold, else the global one, else no threshold (keep)."""
    key = language or "unknown"
    if key in thresholds:
        return thresholds[key]
    return thresholds.get(GLOBAL, -math.inf)


def keep(score: float, language: str | None, thresholds: Mapping[str, float]) -> bool:
    return score >= threshold_for(thresholds, language)
