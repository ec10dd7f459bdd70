"""MinHash signatures over code-token shingles, with LSH bands derived from the threshold.

Hash family: ``h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32`` with random odd ``a_i`` (the
multiply-add-shift scheme of Dietzfelbinger et al.), evaluated for all permutations at once
with numpy. Each shingle is already a well-mixed 64-bit hash, so the family behaves like
independent permutations; the tests check the estimate against exact Jaccard.

Verification sketch: after the ``num_perm`` band values each signature carries
``verify_bins`` one-permutation-hashing bins (Li, Owen & Zhang 2012): every shingle is
remixed once, its low bits pick a bin, and the bin keeps the smallest high 32 bits. It costs
one multiply per shingle (the band values cost ``num_perm``), and estimates Jaccard with the
spread of ``verify_bins`` permutations: at J = 0.8, 128 values miss the threshold by ±0.035
(one sigma), 512 bins by ±0.018. Band links are verified with it, so candidate pairs near the
threshold are judged far more reliably at the same banding. Bins take minima like the band
values, so :func:`combine_signatures` still gives the signature of a union.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from codekiln_core.errors import ConfigError
from codekiln_curate.dedup.shingles import shingle_hashes

_CHUNK = 4096  # shingles per block, bounds the (num_perm x chunk) temporary to ~4 MB


@functools.lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimizing weighted error.

    The probability that two documents of Jaccard ``s`` share a band is
    ``1 - (1 - s**r)**b``. False-positive mass is its integral over ``[0, threshold)``,
    false-negative mass the integral of its complement over ``[threshold, 1]``.
    """
    xs_fp = np.linspace(0.0, threshold, 400)
    xs_fn = np.linspace(threshold, 1.0, 400)
    best: tuple[float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = float(np.trapezoid(1.0 - (1.0 - xs_fp**rows) ** bands, xs_fp))
            fn = float(np.trapezoid((1.0 - xs_fn**rows) ** bands, xs_fn))
            error = fp_weight * fp + fn_weight * fn
            if best is None or error < best[0] - 1e-12:
                best = (error, bands, rows)
    assert best is not None
    return best[1], best[2]


@dataclass(frozen=True)
class MinHashConfig:
    """Near-dedup parameters; ``bands``/``rows`` default to :func:`optimal_bands`."""

    num_perm: int = 128
    shingle_size: int = 5
    threshold: float = 0.8
    seed: int = 1
    bands: int = 0
    rows: int = 0
    verify: bool = True
    #: One-permutation bins appended to each signature to verify band links (a power of two;
    #: 0 verifies with the band values alone). Ignored without ``verify``.
    verify_bins: int = 512
    #: Earlier members of a band bucket a document is verified against, in key-hash order,
    #: until one matches; a bucket's first member alone misses chains and mixed buckets.
    verify_members: int = 32
    #: Weights of the band derivation. Default: 0.2/0.8 with ``verify`` (verification drops
    #: false candidates, so recall is what counts), 0.5/0.5 without.
    fp_weight: float | None = None
    fn_weight: float | None = None
    _derived: tuple[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f"minhash threshold={self.threshold} is outside (0, 1); use e.g. 0.8")
        if self.num_perm < 2 or self.shingle_size < 1:
            raise ConfigError(
                f"minhash num_perm={self.num_perm} / shingle_size={self.shingle_size} too "
                "small; use num_perm >= 2 and shingle_size >= 1"
            )
        bins = self.verify_bins
        if bins < 0 or bins & (bins - 1) or self.verify_members < 1:
            raise ConfigError(
                f"minhash verify_bins={bins} / verify_members={self.verify_members} invalid; "
                "use a power of two (or 0) for verify_bins and verify_members >= 1"
            )
        if self.bands and self.rows:
            if self.bands * self.rows > self.num_perm:
                raise ConfigError(
                    f"minhash bands*rows={self.bands * self.rows} exceeds "
                    f"num_perm={self.num_perm}; lower bands or rows"
                )
            derived = (self.bands, self.rows)
        else:
            default_fp = 0.2 if self.verify else 0.5
            fp_weight = default_fp if self.fp_weight is None else self.fp_weight
            fn_weight = 1.0 - default_fp if self.fn_weight is None else self.fn_weight
            derived = optimal_bands(self.threshold, self.num_perm, fp_weight, fn_weight)
        object.__setattr__(self, "_derived", derived)

    @property
    def band_layout(self) -> tuple[int, int]:
        """``(bands, rows)`` actually used."""
        return self._derived

    @property
    def sketch_bins(self) -> int:
        """Verification bins actually carried (0 without ``verify``)."""
        return self.verify_bins if self.verify else 0

    @property
    def width(self) -> int:
        """Values per signature: the ``num_perm`` band values, then the verification bins."""
        return self.num_perm + self.sketch_bins


class MinHasher:
    """Computes signatures for one :class:`MinHashConfig` (coefficients drawn once)."""

    def __init__(self, config: MinHashConfig | None = None) -> None:
        self.config = config or MinHashConfig()
        rng = np.random.default_rng(self.config.seed)
        n = self.config.num_perm
        self._a = (rng.integers(0, 2**63, size=n, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
        self._b = rng.integers(0, 2**63, size=n, dtype=np.uint64)
        # Drawn after a/b, so the band values do not change with the sketch settings.
        self._mix = np.uint64(int(rng.integers(0, 2**63, dtype=np.uint64)) << 1 | 1)

    def signature_of_shingles(self, shingles: np.ndarray) -> np.ndarray:
        """``uint32[width]``: the band values, then the verification bins.

        A document without shingles gets 0xFFFFFFFF everywhere, above any real value.
        """
        band_values = self._band_values(shingles)
        if not self.config.sketch_bins:
            return band_values
        return np.concatenate([band_values, self._bins(shingles)])

    def _band_values(self, shingles: np.ndarray) -> np.ndarray:
        """``uint32[num_perm]`` minimum of each hash function over the shingle hashes.

        The ``>> 32`` is monotonic, so it is applied to the 64-bit minima, not to every
        product; products go into one reused block (no page faults per chunk).
        """
        sig = np.full(self.config.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
        block_min = np.empty_like(sig)
        block = np.empty((self.config.num_perm, min(len(shingles), _CHUNK)), dtype=np.uint64)
        a = self._a[:, None]
        b = self._b[:, None]
        with np.errstate(over="ignore"):
            for start in range(0, len(shingles), _CHUNK):
                part = shingles[None, start : start + _CHUNK]
                out = block[:, : part.shape[1]]
                np.multiply(a, part, out=out)
                out += b
                out.min(axis=1, out=block_min)
                np.minimum(sig, block_min, out=sig)
        sig >>= np.uint64(32)
        return sig.astype(np.uint32)

    def _bins(self, shingles: np.ndarray) -> np.ndarray:
        """``uint32[verify_bins]`` one-permutation sketch (empty bins hold 0xFFFFFFFF)."""
        bins = self.config.sketch_bins
        out = np.full(bins, np.iinfo(np.uint32).max, dtype=np.uint32)
        if len(shingles):
            with np.errstate(over="ignore"):
                mixed = shingles.astype(np.uint64) * self._mix
            mixed ^= mixed >> np.uint64(29)
            slot = (mixed & np.uint64(bins - 1)).astype(np.intp)
            np.minimum.at(out, slot, (mixed >> np.uint64(32)).astype(np.uint32))
        return out

    def signature(self, content: str) -> np.ndarray:
        """Signature of one document's code-token shingles."""
        return self.signature_of_shingles(shingle_hashes(content, self.config.shingle_size))

    def signatures(self, contents: list[str]) -> np.ndarray:
        """``uint32[len(contents), num_perm]`` signatures, one row per document."""
        out = np.empty((len(contents), self.config.width), dtype=np.uint32)
        for i, content in enumerate(contents):
            out[i] = self.signature(content)
        return out


def combine_signatures(signatures: np.ndarray) -> np.ndarray:
    """Signature of the union of several documents (e.g. a repository's files).

    The minimum of a hash over a union is the minimum of the per-part minima, so this equals
    hashing the union of all shingles, without holding them.
    """
    if len(signatures) == 0:
        raise ValueError("combine_signatures needs at least one signature")
    combined: np.ndarray = np.asarray(signatures, dtype=np.uint32).min(axis=0)
    return combined


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of equal signature positions: an unbiased estimate of Jaccard similarity."""
    return float(np.count_nonzero(a == b)) / len(a)


def verification_sketch(signatures: np.ndarray, config: MinHashConfig) -> np.ndarray:
    """What verification compares, per signature row: the bins as 16-bit fingerprints.

    Two bins agree when they hold the same minimum; 16 low bits of it keep that (a chance
    agreement of different minima is 1 in 65 536) at 1 KB per document for 512 bins, which is
    what a spill stores. Without bins: the band values themselves.
    """
    rows = np.atleast_2d(signatures)
    if not config.sketch_bins:
        return np.ascontiguousarray(rows[:, : config.num_perm], dtype=np.uint32)
    return (rows[:, config.num_perm : config.width] & 0xFFFF).astype(np.uint16)


def sketch_similarity(a: np.ndarray, b: np.ndarray, config: MinHashConfig) -> np.ndarray:
    """Estimated Jaccard of each row pair of two :func:`verification_sketch` arrays.

    With bins: the share of equal bins among those not empty in both (bins empty in both say
    nothing, and small files leave many empty). Without: the share of equal band values.
    """
    if not config.sketch_bins:
        result: np.ndarray = (a == b).mean(axis=1)
        return result
    empty = np.uint16(0xFFFF)
    informative = (a != empty) | (b != empty)
    equal = np.count_nonzero((a == b) & informative, axis=1)
    seen = np.count_nonzero(informative, axis=1)
    return np.where(seen > 0, equal / np.maximum(seen, 1), 1.0)


def signature_similarity(a: np.ndarray, b: np.ndarray, config: MinHashConfig) -> np.ndarray:
    """Estimated Jaccard of each row pair of ``a`` and ``b`` (``[n, width]`` signatures)."""
    return sketch_similarity(verification_sketch(a, config), verification_sketch(b, config),
                             config)  # fmt: skip
