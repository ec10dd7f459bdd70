"""Okapi BM25 over code tokens, to find the files a commit message is about.

Code tokens: identifiers are split on snake_case and camelCase boundaries and lowercased, so
``parseRating`` in a message meets ``parse_rating`` in a file. Short and purely numeric
tokens are dropped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def code_tokens(text: str) -> list[str]:
    """Lowercased sub-words of identifiers (plus the whole identifier when it splits)."""
    tokens: list[str] = []
    for word in _WORD.findall(text):
        parts = [p.lower() for chunk in word.split("_") for p in _CAMEL.findall(chunk)]
        parts = [p for p in parts if len(p) > 1 and not p.isdigit()]
        tokens.extend(parts)
        if len(parts) > 1:
            tokens.append(word.lower())
    return tokens


class BM25:
    """Index of tokenized documents; ``top(query, k)`` returns (index, score) best first."""

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.5,
                 b: float = 0.75) -> None:
        self._build([Counter(doc) for doc in documents], k1, b)

    @classmethod
    def from_counts(cls, counts: Sequence[Counter[str]], k1: float = 1.5,
                    b: float = 0.75) -> BM25:
        """Index from precomputed term counts (commit samples reuse them per blob)."""
        index = cls.__new__(cls)
        index._build(list(counts), k1, b)
        return index

    def _build(self, freqs: list[Counter[str]], k1: float, b: float) -> None:
        self.k1, self.b = k1, b
        self.freqs = freqs
        self.lengths = [sum(freq.values()) for freq in freqs]
        self.avg_length = sum(self.lengths) / len(freqs) if freqs else 0.0
        df: Counter[str] = Counter()
        for freq in self.freqs:
            df.update(freq.keys())
        n = len(freqs)
        self.idf = {term: math.log(1 + (n - count + 0.5) / (count + 0.5))
                    for term, count in df.items()}

    def score(self, query: Sequence[str], index: int) -> float:
        freq, length = self.freqs[index], self.lengths[index]
        norm = self.k1 * (1 - self.b + self.b * length / (self.avg_length or 1.0))
        total = 0.0
        for term in set(query):
            tf = freq.get(term, 0)
            if tf:
                total += self.idf[term] * tf * (self.k1 + 1) / (tf + norm)
        return total

    def top(self, query: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Best ``k`` documents with a positive score; ties broken by index (stable)."""
        scored = [(i, self.score(query, i)) for i in range(len(self.freqs))]
        scored = [item for item in scored if item[1] > 0]
        scored.sort(key=lambda item: (-item[1], item[0]))
        return scored[:k]
