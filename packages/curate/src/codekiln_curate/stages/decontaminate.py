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

from codekiln_core.errors import ConfigError
from codekiln_curate.decontam import (
    SHARED_FILES,
    BenchmarkText,
    NgramIndex,
    bundled_benchmarks,
    texts_from_bundled,
    texts_from_plugins,
    texts_from_recipe_files,
    texts_from_shared_dir,
)


class DecontaminateStage:
    """Keep a document unless one of its n-grams occurs in a benchmark text."""

    name: ClassVar[str] = "decontaminate"

    def __init__(
        self,
        benchmarks_dir: str | None = None,
        benchmark_files: list[dict[str, Any]] | None = None,
        use_plugins: bool = True,
        benchmarks: list[str] | None = None,
        ngram: int = 10,
        normalize_identifiers: bool = False,
        min_distinct_words: int = 4,
        registry: Any = None,
        bundled: bool = True,
    ) -> None:
        """Sources: the bundled benchmarks (``bundled``), ``benchmarks_dir`` (shared
        benchmark layout), ``benchmark_files`` (``[{name, path, fields, id_field?}]``) and
        registered benchmark plugins (``use_plugins``, from ``registry`` or all installed
        plugins); ``benchmarks`` restricts by name. The index is built on first use."""
        if ngram < 3:
            raise ConfigError(f"decontaminate ngram={ngram} is too small; use 8-13 (paper: 10)")
        if benchmarks_dir is not None and not Path(benchmarks_dir).is_dir():
            raise ConfigError(
                f"decontaminate benchmarks_dir={benchmarks_dir!r} is not a directory; "
                "point it at the shared benchmarks folder"
            )
        for number, entry in enumerate(benchmark_files or []):
            if "path" in entry and not Path(entry["path"]).is_file():
                raise ConfigError(
                    f"decontaminate benchmark_files[{number}].path={entry['path']!r} does not "
                    "exist; fix the path"
                )
        self.benchmarks_dir = benchmarks_dir
        self.benchmark_files = list(benchmark_files or [])
        self.use_plugins = use_plugins
        self.benchmarks = benchmarks
        self.ngram = ngram
        self.normalize_identifiers = normalize_identifiers
        self.min_distinct_words = min_distinct_words
        self.registry = registry
        self.bundled = bundled
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
                    "benchmarks_dir (e.g. ../shared/benchmarks) or benchmark_files, or "
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
