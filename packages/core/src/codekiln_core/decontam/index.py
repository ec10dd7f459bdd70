"""In-memory index of benchmark n-grams: sorted 64-bit hashes -> (benchmark, task) entries.

Memory: 12 bytes per benchmark n-gram occurrence (uint64 hash + int32 entry); the whole
shared benchmark folder (~1.3 M n-grams) takes ~16 MB. Lookup is a vectorised binary search
over the document's n-gram hashes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from codekiln_core.decontam.ngrams import distinct_words, ngram_hashes, window_hashes, words
from codekiln_core.decontam.sources import BenchmarkText


@dataclass(frozen=True)
class IndexStats:
    """What went into an index, for the report."""

    texts: int
    tasks: int
    ngrams: int
    short_texts: int  # texts with fewer than n tokens (cannot be matched by n-grams)


class NgramIndex:
    """Benchmark n-grams; ``matches(text)`` names every (benchmark, task_id) sharing one."""

    def __init__(
        self,
        texts: Iterable[BenchmarkText],
        n: int = 10,
        normalize_identifiers: bool = False,
        min_distinct_words: int = 4,
    ) -> None:
        self.n = n
        self.normalize_identifiers = normalize_identifiers
        self.min_distinct_words = min_distinct_words
        self.entries: list[tuple[str, str]] = []
        entry_of: dict[tuple[str, str], int] = {}
        hash_parts: list[np.ndarray] = []
        entry_parts: list[np.ndarray] = []
        count_texts = short = 0
        for item in texts:
            count_texts += 1
            key = (item.benchmark, item.task_id)
            if key not in entry_of:
                entry_of[key] = len(self.entries)
                self.entries.append(key)
            hashes = np.unique(self._hash(item.text))
            if len(hashes) == 0:
                short += 1
                continue
            hash_parts.append(hashes)
            entry_parts.append(np.full(len(hashes), entry_of[key], dtype=np.int32))
        hashes = np.concatenate(hash_parts) if hash_parts else np.empty(0, np.uint64)
        entries = np.concatenate(entry_parts) if entry_parts else np.empty(0, np.int32)
        order = np.lexsort((entries, hashes))
        self._hashes, self._entries = hashes[order], entries[order]
        self.stats = IndexStats(count_texts, len(self.entries), len(self._hashes), short)

    def _hash(self, text: str) -> np.ndarray:
        return ngram_hashes(
            words(text, self.normalize_identifiers), self.n, self.min_distinct_words
        )

    def __len__(self) -> int:
        return len(self._hashes)

    def _hits(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(left, right)`` index ranges of the informative document windows in the index.

        Every window is hashed and looked up first; the informative-window rule is applied
        only to the (rare) hits, which is what keeps scanning fast.
        """
        tokens = words(text, self.normalize_identifiers)
        hashes, vocab, index = window_hashes(tokens, self.n)
        empty = np.empty(0, dtype=np.int64)
        if len(hashes) == 0 or len(self._hashes) == 0:
            return empty, empty
        left = np.searchsorted(self._hashes, hashes, side="left")
        starts = np.flatnonzero(self._hashes[left.clip(max=len(self._hashes) - 1)] == hashes)
        if len(starts) and self.min_distinct_words > 0:
            informative = distinct_words(vocab, index, self.n, starts) >= self.min_distinct_words
            starts = starts[informative]
        right = np.searchsorted(self._hashes, hashes[starts], side="right")
        return left[starts], right

    def matched_entries(self, text: str) -> np.ndarray:
        """Sorted unique entry numbers of every benchmark task sharing an n-gram with text."""
        left, right = self._hits(text)
        if len(left) == 0:
            return np.empty(0, dtype=np.int32)
        spans = [self._entries[lo:hi] for lo, hi in zip(left, right, strict=True)]
        return np.unique(np.concatenate(spans))

    def matches(self, text: str) -> list[tuple[str, str]]:
        """``(benchmark, task_id)`` pairs sharing at least one n-gram with ``text``, sorted."""
        return sorted(self.entries[i] for i in self.matched_entries(text))

    def is_contaminated(self, text: str) -> bool:
        """True when any informative n-gram of ``text`` occurs in a benchmark."""
        return len(self._hits(text)[0]) > 0
