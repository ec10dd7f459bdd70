"""10-gram decontamination of every post-training dataset before training (seed-coder.md §5).

Benchmark texts come, in order of precedence, from an explicit ``benchmarks_dir`` (laid out
as the bundled ``codekiln_benchmark_data``: one folder per benchmark), the
``CODEKILN_BENCHMARK_DATA`` variable, the bundled ``codekiln_benchmark_data`` package, and
benchmark plugins with ``decontamination_texts()``.
Finding none is an error, never a silent pass: ``enabled: false`` is the explicit opt-out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from codekiln_benchmark_data import MBPP_SPLITS
from codekiln_core.config import RecipeModel
from codekiln_core.errors import ConfigError
from codekiln_posttrain.chat.datasets import text_of

if TYPE_CHECKING:
    from codekiln_core.decontam import BenchmarkText, NgramIndex

ENV_DIR = "CODEKILN_BENCHMARK_DATA"  # the same variable eval reads
MbppSplit = Literal["train", "prompt", "validation"]
_MBPP_NUMBERED = ("mbpp", "mbpp-sanitized")


class DecontamConfig(RecipeModel):
    """How post-training data is checked against benchmarks."""

    enabled: bool = Field(
        True, description="check every dataset before training (seed-coder.md §5)"
    )
    n: int = Field(10, ge=4, description="n-gram length in words (the paper uses 10)")
    benchmarks_dir: Path | None = Field(
        None, description="benchmark folder in the layout of codekiln_benchmark_data (one "
        "folder per benchmark); default: "
        f"${ENV_DIR}, then the codekiln_benchmark_data package, then benchmark plugins")
    benchmarks: list[str] | None = Field(
        None, description="only these benchmark names (default: all found)")
    use_plugins: bool = Field(
        True, description="also index benchmark plugins' texts (eval's LiveCodeBench, "
        "MultiPL-E, ...); one whose data is not available here is skipped with a warning "
        "unless named in `benchmarks`")
    allow_mbpp_splits: list[MbppSplit] = Field(
        default_factory=lambda: ["train", "prompt"],
        description="MBPP splits that may be trained on (their tasks leave the mbpp and "
        "mbpp-sanitized index); the test split never can, and MBPP+ is always checked")


@dataclass
class DecontamReport:
    """What the check kept and dropped, by benchmark task."""

    kept: int = 0
    dropped: int = 0
    benchmark_tasks: int = 0
    hits: dict[str, list[str]] = field(default_factory=dict)  # row id -> "bench/task" names

    def as_metrics(self) -> dict[str, float]:
        return {"decontam_kept": self.kept, "decontam_dropped": self.dropped}


def _bundled_dir() -> Path:
    import codekiln_benchmark_data

    return codekiln_benchmark_data.root()


def _allowed(text: BenchmarkText, allowed_ids: set[int]) -> bool:
    if text.benchmark not in _MBPP_NUMBERED:
        return False
    try:
        return int(text.task_id) in allowed_ids
    except ValueError:
        return False


def benchmark_texts(config: DecontamConfig) -> Iterator[BenchmarkText]:
    allowed = {i for split in config.allow_mbpp_splits for i in MBPP_SPLITS[split]}
    return (t for t in _all_texts(config) if not _allowed(t, allowed))


def _all_texts(config: DecontamConfig) -> Iterator[BenchmarkText]:
    from codekiln_core.decontam import texts_from_plugins, texts_from_shared_dir

    directory = config.benchmarks_dir
    if directory is None and os.environ.get(ENV_DIR):
        directory = Path(os.environ[ENV_DIR])
    if directory is None:
        directory = _bundled_dir()
    seen: set[str] = set()
    for text in texts_from_shared_dir(directory, config.benchmarks):
        seen.add(text.benchmark)
        yield text
    if config.use_plugins:
        yield from texts_from_plugins(config.benchmarks, data=directory, exclude=seen,
                                      skip_unavailable=True)


def build_index(config: DecontamConfig) -> NgramIndex:
    from codekiln_core.decontam import NgramIndex

    index = NgramIndex(benchmark_texts(config), n=config.n)
    if len(index) == 0:
        raise ConfigError(
            "decontamination found no benchmark texts; set decontamination.benchmarks_dir "
            f"(or ${ENV_DIR}) to a benchmark folder, install codekiln-benchmark-data, or set "
            "decontamination.enabled=false to train on unchecked data")
    return index


def decontaminate(rows: list[dict[str, Any]], index: NgramIndex
                  ) -> tuple[list[dict[str, Any]], DecontamReport]:
    """Rows sharing no informative n-gram with any benchmark task, and the report."""
    report = DecontamReport(benchmark_tasks=index.stats.tasks)
    kept = []
    for row in rows:
        matches = index.matches(text_of(row))
        if matches:
            report.dropped += 1
            report.hits[str(row["id"])] = [f"{bench}/{task}" for bench, task in matches]
        else:
            kept.append(row)
    report.kept = len(kept)
    return kept, report


def checked_rows(rows: list[dict[str, Any]], config: DecontamConfig
                 ) -> tuple[list[dict[str, Any]], DecontamReport]:
    """What training sees: the decontaminated rows (all rows when explicitly disabled)."""
    if not config.enabled:
        return rows, DecontamReport(kept=len(rows))
    kept, report = decontaminate(rows, build_index(config))
    if not kept:
        raise ConfigError(f"decontamination dropped all {len(rows)} rows; the dataset copies "
                          "benchmark problems")
    return kept, report
