"""10-gram decontamination against benchmark texts (Seed-Coder P1 §4).

The library lives in :mod:`codekiln_core.decontam` (post-training decontaminates its
datasets too, and stage packages never import each other); curate re-exports it here.
"""

from __future__ import annotations

from codekiln_core.decontam import (
    SHARED_FILES,
    BenchmarkText,
    IndexStats,
    NgramIndex,
    bundled_benchmarks,
    ngram_hashes,
    texts_from_bundled,
    texts_from_file,
    texts_from_plugins,
    texts_from_recipe_files,
    texts_from_shared_dir,
    words,
)

__all__ = [
    "SHARED_FILES",
    "BenchmarkText",
    "IndexStats",
    "NgramIndex",
    "bundled_benchmarks",
    "ngram_hashes",
    "texts_from_bundled",
    "texts_from_file",
    "texts_from_plugins",
    "texts_from_recipe_files",
    "texts_from_shared_dir",
    "words",
]
