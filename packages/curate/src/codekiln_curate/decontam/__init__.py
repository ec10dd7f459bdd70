"""10-gram decontamination against benchmark texts (Seed-Coder P1 §4)."""

from __future__ import annotations

from codekiln_curate.decontam.index import IndexStats, NgramIndex
from codekiln_curate.decontam.ngrams import ngram_hashes, words
from codekiln_curate.decontam.sources import (
    SHARED_FILES,
    BenchmarkText,
    bundled_benchmarks,
    texts_from_bundled,
    texts_from_file,
    texts_from_plugins,
    texts_from_recipe_files,
    texts_from_shared_dir,
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
