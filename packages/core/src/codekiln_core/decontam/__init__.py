"""10-gram decontamination against benchmark texts (Seed-Coder P1 §4): word n-grams, the
benchmark n-gram index and the benchmark text sources. Curate filters with it; post-training
checks every dataset with it. numpy is imported by the submodules, so import this package
only where decontamination runs."""

from __future__ import annotations

from codekiln_core.decontam.index import IndexStats, NgramIndex
from codekiln_core.decontam.ngrams import ngram_hashes, words
from codekiln_core.decontam.sources import (
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
