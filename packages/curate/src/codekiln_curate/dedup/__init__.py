"""Exact (SHA-256) and near (MinHash LSH) deduplication at file and repository level."""

from __future__ import annotations

from codekiln_curate.dedup.bands import BandSpill, band_hashes
from codekiln_curate.dedup.exact import (
    KEY_SEP,
    choose_representative,
    exact_hash,
    normalize_for_hash,
    repo_hash,
    representative_key,
    representative_sort_key,
)
from codekiln_curate.dedup.minhash import (
    MinHashConfig,
    MinHasher,
    combine_signatures,
    estimated_jaccard,
    optimal_bands,
    signature_similarity,
)
from codekiln_curate.dedup.shingles import code_tokens, jaccard, shingle_hashes

__all__ = [
    "KEY_SEP",
    "BandSpill",
    "MinHashConfig",
    "MinHasher",
    "band_hashes",
    "choose_representative",
    "code_tokens",
    "combine_signatures",
    "estimated_jaccard",
    "exact_hash",
    "jaccard",
    "normalize_for_hash",
    "optimal_bands",
    "repo_hash",
    "representative_key",
    "representative_sort_key",
    "shingle_hashes",
    "signature_similarity",
]
