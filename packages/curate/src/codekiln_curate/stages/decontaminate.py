"""``decontaminate``: drop documents sharing a word 10-gram with any benchmark item.

Every benchmark bundled in codekiln-benchmark-data is indexed unless ``bundled: false``, so
the stage works offline with no options; local folders, files and plugins add to it.

The drop reason names the first benchmark hit (``contaminated:humaneval``); ``matches``
lists every ``(benchmark, task_id)`` hit so the report can count hits per benchmark and
per task.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from codekiln_core.decontam import (
    SHARED_FILES,
    BenchmarkText,
    NgramIndex,
    bundled_benchmarks,
    texts_from_bundled,
    texts_from_plugins,
    texts_from_recipe_files,
    texts_from_shared_dir,
)
from codekiln_core.errors import ConfigError
from codekiln_core.stages import StageOptions


class BenchmarkFile(StageOptions):
    """One benchmark file named in the recipe."""

    name: str = Field(..., description="benchmark name used in drop reasons and the report")
    path: str = Field(..., description="JSON/JSONL file of benchmark items")
    fields: list[str] = Field(..., min_length=1, description="item fields whose text is indexed")
    id_field: str = Field("task_id", description="item field that names the task")

    @field_validator("path")
    @classmethod
    def _exists(cls, value: str) -> str:
        if not Path(value).is_file():
            raise ValueError(f"{value!r} does not exist; fix the path")
        return value


class DecontaminateOptions(StageOptions):
    bundled: bool = Field(
        True, description="index every benchmark shipped in codekiln-benchmark-data (HumanEval, "
        "HumanEval+, MBPP, MBPP sanitized, MBPP+, CRUXEval, HumanEval-X)"
    )
    benchmarks_dir: str | None = Field(
        None, description="folder in the shared benchmark layout (e.g. /data/benchmarks); "
        "with bundled, it adds only the benchmarks that are not bundled"
    )
    benchmark_files: list[BenchmarkFile] = Field(
        default_factory=list, description="extra benchmark files: [{name, path, fields, id_field?}]"
    )
    use_plugins: bool = Field(True, description="also index every registered benchmark plugin")
    benchmarks: list[str] | None = Field(
        None, description="only these benchmark names (default: every source's benchmarks)"
    )
    ngram: int = Field(10, ge=3, description="words per n-gram; use 8-13 (paper: 10)")
    normalize_identifiers: bool = Field(
        False, description="map identifiers to one token, so renamed copies still match"
    )
    min_distinct_words: int = Field(
        4, ge=1, description="n-grams with fewer distinct words are not indexed (boilerplate)"
    )

    @field_validator("benchmarks_dir")
    @classmethod
    def _is_dir(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_dir():
            raise ValueError(f"{value!r} is not a directory; point it at the shared "
                             "benchmarks folder")
        return value


class DecontaminateStage:
    """Keep a document unless one of its n-grams occurs in a benchmark text."""

    name: ClassVar[str] = "decontaminate"
    options_model: ClassVar[type[StageOptions]] = DecontaminateOptions

    def __init__(self, options: DecontaminateOptions | None = None, registry: Any = None) -> None:
        """Benchmark plugins come from ``registry`` (default: all installed plugins); the
        index is built on first use."""
        options = options or DecontaminateOptions()
        self.benchmarks_dir = options.benchmarks_dir
        self.benchmark_files = [entry.model_dump() for entry in options.benchmark_files]
        self.use_plugins = options.use_plugins
        self.benchmarks = options.benchmarks
        self.ngram = options.ngram
        self.normalize_identifiers = options.normalize_identifiers
        self.min_distinct_words = options.min_distinct_words
        self.bundled = options.bundled
        self.registry = registry
        self._index: NgramIndex | None = None

    def _texts(self) -> Iterator[BenchmarkText]:
        wanted = set(self.benchmarks) if self.benchmarks is not None else None
        from_dir = wanted
        if self.bundled:
            yield from texts_from_bundled(wanted)
            # the folder adds what is not bundled; the bundled files are the same bytes
            from_dir = {spec.benchmark for spec in SHARED_FILES} - set(bundled_benchmarks())
            from_dir &= wanted if wanted is not None else from_dir
        if self.benchmarks_dir is not None:
            yield from texts_from_shared_dir(self.benchmarks_dir, from_dir)
        for item in texts_from_recipe_files(self.benchmark_files):
            if wanted is None or item.benchmark in wanted:
                yield item
        if self.use_plugins:
            yield from texts_from_plugins(wanted, self.registry, self.benchmarks_dir)

    @property
    def index(self) -> NgramIndex:
        """The n-gram index (built once; a ConfigError when no source gave any text)."""
        if self._index is None:
            index = NgramIndex(self._texts(), self.ngram, self.normalize_identifiers,
                               self.min_distinct_words)  # fmt: skip
            if len(index) == 0:
                raise ConfigError(
                    "decontaminate found no benchmark text; keep bundled: true, set "
                    "benchmarks_dir (e.g. /data/benchmarks) or benchmark_files, or "
                    "register a benchmark plugin (check the benchmarks filter too)"
                )
            self._index = index
        return self._index

    def matches(self, text: str) -> list[tuple[str, str]]:
        """Every ``(benchmark, task_id)`` sharing an n-gram with ``text``, sorted."""
        return self.index.matches(text)

    def filter(self, doc: Mapping[str, Any]) -> bool | tuple[bool, str]:
        hits = self.index.matches(doc.get("content") or "")
        if not hits:
            return True
        return False, f"contaminated:{hits[0][0]}"
