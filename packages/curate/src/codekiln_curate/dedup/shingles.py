"""Code-token shingles: the unit near-dedup compares.

Code is split into word tokens (maximal runs of letters, digits, ``_`` and non-ASCII bytes)
and single punctuation characters, so re-indentation, re-wrapping and spacing around
operators do not change the shingle set, while a renamed variable or an edited expression
does. Shingles are ``size`` consecutive tokens, hashed to 64-bit integers deterministically
(no per-process hash seed).

Tokens are found and hashed with whole-array numpy operations over the UTF-8 bytes, never
one Python object per token: tokenizing was over half of near-dedup time when it used
``re.findall`` and a dict per token. ``code_tokens`` and ``token_hash`` are the readable
definitions the vectorised path is tested against.
"""

from __future__ import annotations

import functools
import re

import numpy as np

#: The token rule, as a regex over UTF-8 bytes (the vectorised path must agree with it).
CODE_TOKEN = re.compile(rb"[A-Za-z0-9_\x80-\xff]+|[^A-Za-z0-9_\s\x80-\xff]")
_SPACE, _WORD, _PUNCT = 0, 1, 2
_MASK64 = (1 << 64) - 1
_BASE = 0x100000001B3  # odd, so it has an inverse mod 2**64 (positions cancel out below)
_BASE_INVERSE = pow(_BASE, -1, 1 << 64)
# Seed of the odd 64-bit multipliers that mix token hashes by position within a shingle.
_MIX_SEED = 0x9E3779B97F4A7C15
_U64 = np.uint64


def _byte_classes() -> np.ndarray:
    classes = np.full(256, _PUNCT, dtype=np.uint8)
    for byte in b" \t\n\r\f\v":
        classes[byte] = _SPACE
    word = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_" + bytes(
        range(0x80, 0x100)
    )
    classes[list(word)] = _WORD
    return classes


_CLASSES = _byte_classes()


def _encode(content: str) -> bytes:
    return content.encode("utf-8", errors="surrogatepass")


def code_tokens(content: str) -> list[bytes]:
    """The code tokens of ``content`` in order, as UTF-8 byte strings."""
    return CODE_TOKEN.findall(_encode(content))


def _fmix64(value: int) -> int:
    value ^= value >> 33
    value = (value * 0xFF51AFD7ED558CCD) & _MASK64
    value ^= value >> 33
    value = (value * 0xC4CEB9FE1A85EC53) & _MASK64
    return value ^ (value >> 33)


def token_hash(token: bytes) -> int:
    """64-bit hash of one token: ``sum((byte + 1) * BASE**i) mod 2**64``, then fmix64."""
    total, power = 0, 1
    for byte in token:
        total = (total + (byte + 1) * power) & _MASK64
        power = (power * _BASE) & _MASK64
    return _fmix64(total)


def _fmix64_array(values: np.ndarray) -> np.ndarray:
    values ^= values >> _U64(33)
    values *= _U64(0xFF51AFD7ED558CCD)
    values ^= values >> _U64(33)
    values *= _U64(0xC4CEB9FE1A85EC53)
    values ^= values >> _U64(33)
    return values


def _powers(base: int, count: int) -> np.ndarray:
    """``base**0 .. base**(count-1)`` mod 2**64 (numpy integer products wrap)."""
    steps = np.full(count, base, dtype=np.uint64)
    steps[0] = 1
    return np.cumprod(steps, dtype=np.uint64)


def token_hashes(content: str) -> np.ndarray:
    """``token_hash`` of every code token of ``content``, in order, without Python loops.

    Token bounds come from byte classes; each token's polynomial hash is a difference of
    prefix sums, moved back to position 0 by the inverse power of its start.
    """
    data = np.frombuffer(_encode(content), dtype=np.uint8)
    if len(data) == 0:
        return np.empty(0, dtype=np.uint64)
    classes = _CLASSES[data]
    word = classes == _WORD
    punct = classes == _PUNCT
    word_before = np.zeros_like(word)
    word_before[1:] = word[:-1]
    word_after = np.zeros_like(word)
    word_after[:-1] = word[1:]
    starts = np.flatnonzero(punct | (word & ~word_before))
    ends = np.flatnonzero(punct | (word & ~word_after)) + 1
    with np.errstate(over="ignore"):
        weighted = data.astype(np.uint64)
        weighted += _U64(1)
        weighted *= _powers(_BASE, len(data))
        prefix = np.zeros(len(data) + 1, dtype=np.uint64)
        np.cumsum(weighted, out=prefix[1:])
        hashes = prefix[ends] - prefix[starts]
        hashes *= _powers(_BASE_INVERSE, len(data))[starts]
        return _fmix64_array(hashes)


@functools.lru_cache(maxsize=8)
def _mixers(size: int) -> np.ndarray:
    rng = np.random.default_rng(_MIX_SEED)
    return rng.integers(1, 2**63, size=size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def shingle_hashes(content: str, size: int = 5) -> np.ndarray:
    """Sorted unique 64-bit hashes of the ``size``-token shingles of ``content``.

    A file with fewer than ``size`` tokens yields one shingle of all its tokens (empty
    files yield none), so tiny files still compare as equal or different.
    """
    hashes = token_hashes(content)
    if len(hashes) == 0:
        return hashes
    width = min(size, len(hashes))
    count = len(hashes) - width + 1
    mix = _mixers(width)
    with np.errstate(over="ignore"):
        acc = np.zeros(count, dtype=np.uint64)
        term = np.empty(count, dtype=np.uint64)
        for k in range(width):
            np.multiply(hashes[k : k + count], mix[k], out=term)
            acc ^= term
            acc *= _U64(0xFF51AFD7ED558CCD)
            acc ^= acc >> _U64(29)
    return np.unique(acc)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays (1.0 for two empty sets)."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)
