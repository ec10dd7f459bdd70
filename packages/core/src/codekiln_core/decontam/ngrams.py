"""Word n-grams for decontamination, hashed to 64-bit integers.

Tokenization: lowercase, then every maximal run of word characters (letters, digits,
underscore) is a token; everything else (whitespace, punctuation, indentation, line
breaks) only separates tokens. So re-indenting, re-wrapping or re-spacing a benchmark
solution leaves its n-grams unchanged; renaming identifiers changes the n-grams that
contain them (see docs/curate-stages.md for measured recall).

With ``normalize_identifiers`` every token that is not a keyword, builtin or number becomes
``id``, so consistent renaming no longer hides a copy (at a cost in false positives).
"""

from __future__ import annotations

import functools
import keyword
import re
import zlib

import numpy as np

WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+")
_IDENT_PLACEHOLDER = "id"

_KEEP_WORDS_TEXT = """
abstract and as assert async await auto bool boolean break byte case catch char class const
continue def default defer del delete do double elif else enum export extends extern false fn
final finally float for foreach from func function go goto if impl implements import in include
instanceof int interface is lambda let long loop match mod module mut namespace new nil none not
null or package pass pub private protected public raise register return self short signed sizeof
static struct super switch synchronized template then this throw throws true try type typedef
typename union unsigned use using var void volatile where while with yield string str list dict
set tuple len range print println printf cout cin endl std vector map object array max min sum
sorted append
"""
#: Tokens kept by identifier normalization: keywords of common languages and core builtins.
KEEP_WORDS: frozenset[str] = frozenset(
    {w.lower() for w in [*keyword.kwlist, *keyword.softkwlist]} | set(_KEEP_WORDS_TEXT.split())
)


def words(text: str, normalize_identifiers: bool = False) -> list[str]:
    """Lowercased word tokens (optionally with identifiers replaced by ``id``)."""
    tokens = WORD.findall(text.lower())
    if normalize_identifiers:
        return [
            t if t in KEEP_WORDS or _NUMBER.fullmatch(t) else _IDENT_PLACEHOLDER for t in tokens
        ]
    return tokens


@functools.lru_cache(maxsize=4)
def _position_mixers(n: int) -> np.ndarray:
    rng = np.random.default_rng(0xC0DE)
    return rng.integers(1, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def window_hashes(tokens: list[str], n: int = 10) -> tuple[np.ndarray, list[str], np.ndarray]:
    """``(hashes, vocab, index)``: a ``uint64`` hash per ``n``-token window (all windows, in
    order), the distinct tokens, and each token's position in ``vocab``."""
    count = len(tokens) - n + 1
    ids: dict[str, int] = {}
    index = np.fromiter(
        (ids.setdefault(t, len(ids)) for t in tokens), dtype=np.int64, count=len(tokens)
    )
    vocab = list(ids)
    if count <= 0:
        return np.empty(0, dtype=np.uint64), vocab, index
    token_hash = np.fromiter(
        (
            (zlib.crc32(b := t.encode("utf-8", "surrogatepass")) << 32) | zlib.crc32(b, 0x2545F491)
            for t in vocab
        ),
        dtype=np.uint64,
        count=len(vocab),
    )[index]
    mix = _position_mixers(n)
    acc = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            acc = (acc ^ (token_hash[k : k + count] * mix[k])) * np.uint64(0xBF58476D1CE4E5B9)
            acc ^= acc >> np.uint64(31)
    return acc, vocab, index


def ngram_hashes(tokens: list[str], n: int = 10, min_distinct_words: int = 4) -> np.ndarray:
    """``uint64`` hash of every informative ``n``-token window (in order, duplicates kept).

    A window counts only when it holds at least ``min_distinct_words`` distinct *words*
    (2+ characters, not all digits). Windows such as ``a b c d e f g h i j``,
    ``1 2 3 ... 10`` or ``for i in range n for j in range n`` occur in clean code everywhere
    and prove nothing about contamination; measured on the stdlib they were most false
    positives. ``0`` keeps every window (the plain paper rule).
    """
    hashes, vocab, index = window_hashes(tokens, n)
    if min_distinct_words > 0 and len(hashes):
        starts = np.arange(len(hashes))
        hashes = hashes[distinct_words(vocab, index, n, starts) >= min_distinct_words]
    return hashes


def distinct_words(vocab: list[str], index: np.ndarray, n: int, starts: np.ndarray) -> np.ndarray:
    """For windows starting at ``starts``, the number of distinct tokens of 2+ characters
    that are not numbers."""
    is_word = np.fromiter(
        (len(t) >= 2 and not t.isdigit() for t in vocab), dtype=bool, count=len(vocab)
    )[index]
    distinct = np.zeros(len(starts), dtype=np.int64)
    for k in range(n):
        new = is_word[starts + k]
        token_k = index[starts + k]
        for j in range(k):
            new &= token_k != index[starts + j]
        distinct += new
    return distinct
