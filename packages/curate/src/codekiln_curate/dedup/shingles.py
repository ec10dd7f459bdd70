"""Code-token shingles: the unit near-dedup compares.

Code is split into identifiers/keywords, numbers and single punctuation characters, so
re-indentation, re-wrapping and spacing around operators do not change the shingle set,
while a renamed variable or an edited expression does. Shingles are ``size`` consecutive
tokens, hashed to 64-bit integers deterministically (no per-process hash seed).
"""

from __future__ import annotations

import functools
import re
import zlib

import numpy as np

#: Over UTF-8 bytes (twice as fast as a str pattern here): identifiers (non-ASCII letters
#: included), numbers (with decimals, hex, suffixes), or one punctuation character.
CODE_TOKEN = re.compile(
    rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*|[0-9][A-Za-z0-9_.]*|[^A-Za-z0-9_\s\x80-\xff]"
)
# Seed of the odd 64-bit multipliers that mix token hashes by position within a shingle.
_MIX_SEED = 0x9E3779B97F4A7C15


def code_tokens(content: str) -> list[bytes]:
    """The code tokens of ``content`` in order, as UTF-8 byte strings."""
    return CODE_TOKEN.findall(content.encode("utf-8", errors="surrogatepass"))


def _token_hashes(tokens: list[bytes]) -> np.ndarray:
    """64-bit hash per token: two salted CRC32s, computed once per distinct token."""
    ids: dict[bytes, int] = {}
    index = np.fromiter(
        (ids.setdefault(t, len(ids)) for t in tokens), dtype=np.int64, count=len(tokens)
    )
    unique = np.fromiter(
        ((zlib.crc32(t) << 32) | zlib.crc32(t, 0x5BD1E995) for t in ids),
        dtype=np.uint64,
        count=len(ids),
    )
    return unique[index]


@functools.lru_cache(maxsize=8)
def _mixers(size: int) -> np.ndarray:
    rng = np.random.default_rng(_MIX_SEED)
    return rng.integers(1, 2**63, size=size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def shingle_hashes(content: str, size: int = 5) -> np.ndarray:
    """Sorted unique 64-bit hashes of the ``size``-token shingles of ``content``.

    A file with fewer than ``size`` tokens yields one shingle of all its tokens (empty
    files yield none), so tiny files still compare as equal or different.
    """
    tokens = code_tokens(content)
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    hashes = _token_hashes(tokens)
    width = min(size, len(hashes))
    count = len(hashes) - width + 1
    mix = _mixers(width)
    with np.errstate(over="ignore"):
        acc = np.zeros(count, dtype=np.uint64)
        for k in range(width):
            acc = (acc ^ (hashes[k : k + count] * mix[k])) * np.uint64(0xFF51AFD7ED558CCD)
            acc ^= acc >> np.uint64(29)
    return np.unique(acc)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays (1.0 for two empty sets)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
