"""Benchmark text sources: the bundled copy, recipe files, the shared folder, plugins."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import ClassVar

import pytest

import codekiln_benchmark_data
from codekiln_core.decontam import (
    SHARED_FILES,
    BenchmarkText,
    NgramIndex,
    bundled_benchmarks,
    ngram_hashes,
    texts_from_bundled,
    texts_from_recipe_files,
    texts_from_shared_dir,
    words,
)
from codekiln_core.errors import ConfigError
from codekiln_core.hookspecs import hookimpl
from codekiln_core.plugins import get_plugin_manager
from codekiln_core.registry import Registry
from codekiln_core.stages import build_stage
from codekiln_curate.stages.decontaminate import DecontaminateOptions, DecontaminateStage

#: LiveCodeBench, MHPP and MultiPL-E are not bundled (their terms); tests of them need a
#: local copy of every benchmark, in the layout of ``SHARED_FILES``, named by this variable.
SHARED_ENV = "CODEKILN_BENCHMARKS_DIR"
SHARED = Path(os.environ.get(SHARED_ENV, "") or "/nonexistent")
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(),
    reason=f"LiveCodeBench/MHPP/MultiPL-E are not bundled; set {SHARED_ENV} to a local copy",
)

SOLUTION = (
    "def running_max(values):\n"
    "    best = None\n"
    "    result = []\n"
    "    for value in values:\n"
    "        best = value if best is None else max(best, value)\n"
    "        result.append(best)\n"
    "    return result\n"
)


def test_tokenization_ignores_layout_and_case() -> None:
    assert words("def F(x):\n\treturn x+1") == ["def", "f", "x", "return", "x", "1"]
    a = ngram_hashes(words(SOLUTION))
    b = ngram_hashes(words(SOLUTION.replace("    ", "\t").replace(", ", ",").upper()))
    assert len(a) > 10 and (a == b).all()


def test_uninformative_windows_are_skipped() -> None:
    assert len(ngram_hashes(words("a b c d e f g h i j k l"))) == 0
    assert len(ngram_hashes(words(" ".join(str(i) for i in range(30))))) == 0
    assert len(ngram_hashes(words("a b c d e f g h i j k l"), min_distinct_words=0)) == 3


@pytest.mark.parametrize("form", ["jsonl", "jsonl.gz", "json"])
def test_recipe_files_in_every_format(tmp_path: Path, form: str) -> None:
    records = [{"task_id": "T/1", "code": SOLUTION, "tests": ["assert f(1) == 1", "x"]}]
    path = tmp_path / f"bench.{form}"
    if form == "json":
        path.write_text(json.dumps(records))
    else:
        data = "".join(json.dumps(r) + "\n" for r in records).encode()
        path.write_bytes(gzip.compress(data) if form.endswith(".gz") else data)
    entry = {"name": "mine", "path": str(path), "fields": ["code", "tests"]}
    texts = list(texts_from_recipe_files([entry]))
    assert texts[0] == BenchmarkText("mine", "T/1", SOLUTION)
    assert texts[1].text == "assert f(1) == 1\nx"
    flt = DecontaminateStage(DecontaminateOptions(benchmark_files=[entry], use_plugins=False,
                                                   bundled=False))
    assert flt.matches("# header\n" + SOLUTION) == [("mine", "T/1")]
    assert flt.filter({"content": "print('hello world')"}) is True


def test_bad_sources_are_one_line_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"task_id": 1, "code": "x"}) + "\n")
    with pytest.raises(ConfigError, match="no field 'prompt'"):
        list(texts_from_recipe_files([{"name": "b", "path": str(path), "fields": ["prompt"]}]))
    with pytest.raises(ConfigError, match="lacks"):
        list(texts_from_recipe_files([{"name": "b"}]))
    missing = {"name": "b", "path": str(tmp_path / "none"), "fields": ["code"]}
    with pytest.raises(ConfigError, match=r"options.benchmark_files.0.path' = .*does not exist"):
        build_stage(DecontaminateStage, {"benchmark_files": [missing]}, source="r.yaml",
                    key="stages[0].options")
    with pytest.raises(ConfigError, match=r"options.benchmarks_dir' = .*not a directory"):
        build_stage(DecontaminateStage, {"benchmarks_dir": str(tmp_path / "absent")},
                    source="r.yaml", key="stages[0].options")
    path.write_text("{not json\n")
    with pytest.raises(ConfigError, match="line 1"):
        list(texts_from_recipe_files([{"name": "b", "path": str(path), "fields": ["code"]}]))
    empty = DecontaminateStage(DecontaminateOptions(use_plugins=False, bundled=False))
    with pytest.raises(ConfigError, match="no benchmark text"):
        empty.filter({"content": SOLUTION})


@needs_shared
def test_shared_folder_loads_every_benchmark() -> None:
    texts = list(texts_from_shared_dir(SHARED))
    tasks: dict[str, set[str]] = {}
    for item in texts:
        tasks.setdefault(item.benchmark, set()).add(item.task_id)
    assert {spec.benchmark for spec in SHARED_FILES} == set(tasks)
    counts = {name: len(ids) for name, ids in tasks.items()}
    assert counts["humaneval"] == counts["humaneval-plus"] == 164
    assert counts["mbpp"] == 974 and counts["mbpp-sanitized"] == 427
    assert counts["mbpp-plus"] == 378 and counts["cruxeval"] == 800
    assert counts["humaneval-x"] == 6 * 164
    assert counts["multipl-e"] == 161 + 154 + 158 + 161 + 161 + 156 + 158
    assert counts["livecodebench"] == 400 and counts["mhpp"] == 210


def test_index_reports_every_task_hit() -> None:
    index = NgramIndex(texts_from_bundled(only=["humaneval", "humaneval-x"]))
    with gzip.open(codekiln_benchmark_data.path("humaneval"), "rt") as fh:
        item = json.loads(fh.readline())
    hits = index.matches(item["prompt"] + item["canonical_solution"])
    assert ("humaneval", "HumanEval/0") in hits
    assert ("humaneval-x", "Python/0") in hits  # the same problem in HumanEval-X
    assert index.is_contaminated(item["canonical_solution"] + item["test"])
    assert index.stats.tasks == 164 * 7


def test_bundled_benchmarks_are_indexed_with_no_options() -> None:
    """No folder, no files, no plugins: every bundled benchmark is still indexed."""
    assert bundled_benchmarks() == ("humaneval", "humaneval-plus", "mbpp", "mbpp-sanitized",
                                    "mbpp-plus", "cruxeval", "humaneval-x")  # fmt: skip
    stage = DecontaminateStage(DecontaminateOptions(use_plugins=False))
    tasks: dict[str, int] = {}
    for benchmark, _ in stage.index.entries:
        tasks[benchmark] = tasks.get(benchmark, 0) + 1
    assert tasks == {"humaneval": 164, "humaneval-plus": 164, "mbpp": 974, "mbpp-sanitized": 427,
                     "mbpp-plus": 378, "cruxeval": 800, "humaneval-x": 6 * 164}  # fmt: skip
    with gzip.open(codekiln_benchmark_data.path("humaneval"), "rt") as fh:
        item = json.loads(fh.readline())
    keep, reason = stage.filter({"content": "x = 1\n" + item["canonical_solution"]})  # type: ignore[misc]
    assert (keep, reason) == (False, "contaminated:humaneval")
    assert stage.filter({"content": SOLUTION}) is True
    only = DecontaminateOptions(use_plugins=False, benchmarks=["cruxeval"])
    assert DecontaminateStage(only).index.stats.tasks == 800


@needs_shared
def test_shared_folder_adds_what_is_not_bundled() -> None:
    wanted = ["humaneval", "cruxeval", "mhpp", "livecodebench"]
    options = DecontaminateOptions(use_plugins=False, benchmarks_dir=str(SHARED), benchmarks=wanted)
    both = DecontaminateStage(options)
    assert {benchmark for benchmark, _ in both.index.entries} == set(wanted)
    alone = DecontaminateStage(options.model_copy(update={"bundled": False}))
    assert both.index.stats == alone.index.stats  # same texts: bundled ones are read once


class ToyBench:
    """A benchmark plugin object implementing the decontamination protocol."""

    seen_data: ClassVar[list[object]] = []

    def __init__(self, data: str | None = None) -> None:
        ToyBench.seen_data.append(data)

    def decontamination_texts(self) -> list[tuple[str, str]]:
        return [("toy/1", SOLUTION), ("toy/2", "")]


class OfflineBench:
    """A plugin whose data cannot be loaded (as a hub download fails offline)."""

    def decontamination_texts(self) -> list[tuple[str, str]]:
        raise OSError("no network")


class ToyPlugin:
    @hookimpl
    def codekiln_register_benchmarks(self, register):  # type: ignore[no-untyped-def]
        register("toybench", ToyBench, description="one running-max problem")
        register("silent", object, description="no decontamination texts")


def test_benchmark_plugins_take_part(tmp_path: Path) -> None:
    pm = get_plugin_manager(load_entrypoints=False, warn=False)
    pm.register(ToyPlugin(), name="toy")
    options = DecontaminateOptions(benchmarks_dir=str(tmp_path), bundled=False)
    flt = DecontaminateStage(options, Registry(pm))
    assert flt.matches("x = 1\n" + SOLUTION) == [("toybench", "toy/1")]
    keep, reason = flt.filter({"content": SOLUTION})  # type: ignore[misc]
    assert (keep, reason) == (False, "contaminated:toybench")
    assert ToyBench.seen_data[-1] == str(tmp_path)  # the data folder is handed to the plugin
    only = DecontaminateOptions(benchmarks=["other"], bundled=False)
    only_other = DecontaminateStage(only, Registry(pm))
    with pytest.raises(ConfigError):
        only_other.filter({"content": SOLUTION})


class OfflinePlugin:
    @hookimpl
    def codekiln_register_benchmarks(self, register):  # type: ignore[no-untyped-def]
        register("offline", OfflineBench, description="cannot load")


def test_a_plugin_that_cannot_load_is_a_one_line_error() -> None:
    pm = get_plugin_manager(load_entrypoints=False, warn=False)
    pm.register(OfflinePlugin(), name="offline-plugin")
    flt = DecontaminateStage(DecontaminateOptions(bundled=False), registry=Registry(pm))
    with pytest.raises(ConfigError, match=r"'offline' gave no decontamination texts.*no network"):
        flt.filter({"content": SOLUTION})


@needs_shared
@pytest.mark.slow
def test_installed_benchmark_plugins_load_from_the_shared_folder() -> None:
    """The eval package's benchmarks (if installed) read the same folder offline."""
    flt = DecontaminateStage(DecontaminateOptions(benchmarks_dir=str(SHARED), bundled=False))
    names = {benchmark for benchmark, _ in flt.index.entries}
    assert "humaneval" in names and "mbpp" in names
