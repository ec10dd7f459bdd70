"""``eval score``: score samples generated elsewhere, as EvalPlus's ``evaluate`` does.

The input is EvalPlus's samples format: JSONL, one object per sample, with ``task_id`` and
either ``solution`` (a whole program, run as given) or ``completion`` (appended to the task's
prompt). Several lines per task are several samples, numbered in file order. Samples are
copied into the run directory's ``samples.jsonl`` and then executed, scored and recorded
exactly like ``eval run``'s own: same files, same pass@k, same lineage (``eval.score``).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from codekiln_core.errors import ConfigError
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.results import KeyedLog

if TYPE_CHECKING:
    from codekiln_core.lineage import LineageRun

from codekiln_eval.evaluate import (
    ExecutionSettings,
    Progress,
    check_config,
    finish,
    lineage_inputs_of_benchmark,
    load_benchmark,
)


class ScoreSettings(ExecutionSettings):
    """The recipe of ``codekiln eval score``: samples made elsewhere, and how to run them."""

    samples: Path = Field(..., description="EvalPlus samples JSONL: task_id with solution or "
                          "completion")

    @model_validator(mode="after")
    def _output(self) -> ScoreSettings:
        if self.output is None:
            from codekiln_core.lineage.refs import digest_path

            digest = digest_path(self.samples)[:8] if self.samples.is_file() else "x"
            self.output = (Path(".codekiln") / "eval" / self.benchmark /
                           f"samples-{self.samples.stem}-{digest}")
        return self


def read_samples(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Samples per task id, in file order; every problem is one line naming file and line."""
    if not path.is_file():
        raise ConfigError(f"--samples {path}: no such file; pass the JSONL of generated samples "
                          "(task_id with solution or completion)")
    by_task: dict[str, list[dict[str, Any]]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ConfigError(f"{path}:{number}: invalid JSON ({exc}); fix or delete that "
                                  "line") from exc
            if not isinstance(row, dict) or not isinstance(row.get("task_id"), str):
                raise ConfigError(f"{path}:{number}: no task_id; each line needs task_id and "
                                  "solution or completion")
            if not isinstance(row.get("solution", row.get("completion")), str):
                raise ConfigError(f"{path}:{number}: {row['task_id']} has neither a solution "
                                  "nor a completion string")
            by_task.setdefault(row["task_id"], []).append(row)
    if not by_task:
        raise ConfigError(f"--samples {path}: no samples in the file")
    return by_task


def select_tasks(bench: Benchmark, limit: int | None,
                 by_task: dict[str, list[dict[str, Any]]], path: Path) -> tuple[list[Task], int]:
    """The benchmark's tasks that have samples, and the samples per task (n)."""
    known = {t.task_id: t for t in bench.tasks()}
    unknown = sorted(set(by_task) - set(known))
    if unknown:
        raise ConfigError(f"--samples {path}: task {unknown[0]!r} is not in benchmark "
                          f"{bench.name} ({len(unknown)} unknown); pass the matching "
                          "--benchmark")
    tasks = [t for t in bench.tasks(limit) if t.task_id in by_task]
    if not tasks:
        raise ConfigError(f"--samples {path}: none of its tasks are among the first {limit} "
                          f"of {bench.name}; raise --limit")
    counts = Counter(len(by_task[t.task_id]) for t in tasks)
    if len(counts) > 1:
        fewest = min(tasks, key=lambda t: len(by_task[t.task_id]))
        raise ConfigError(f"--samples {path}: tasks have different sample counts "
                          f"({dict(sorted(counts.items()))}; {fewest.task_id} has "
                          f"{len(by_task[fewest.task_id])}); pass the same number per task")
    return tasks, next(iter(counts))


def sample_records(tasks: list[Task], by_task: dict[str, list[dict[str, Any]]],
                   source: str) -> list[dict[str, Any]]:
    """``samples.jsonl`` records: a completion becomes prompt + completion, as in EvalPlus."""
    records = []
    for task in tasks:
        for index, row in enumerate(by_task[task.task_id]):
            solution = row["solution"] if isinstance(row.get("solution"), str) else \
                task.prompt + row["completion"]
            records.append({"task_id": task.task_id, "sample_idx": index, "mode": "solution",
                            "output": solution, "model": source, "created": time.time()})
    return records


def score_samples(settings: ScoreSettings, run: LineageRun, *, sandbox: Any = None,
                  progress: Progress = lambda _msg: None) -> dict[str, Any]:
    """Score (or resume scoring) a samples file, logged to ``run``; returns the summary."""
    from codekiln_core.lineage.refs import digest_path

    path = settings.samples
    by_task = read_samples(path)
    bench = load_benchmark(settings)
    tasks, n = select_tasks(bench, settings.limit, by_task, path)
    if max(settings.ks) > n:
        raise ConfigError(f"ks {max(settings.ks)} exceeds the {n} sample(s) per task in {path}")
    out = settings.run_dir
    if len(tasks) < len(bench.tasks(settings.limit)):
        progress(f"scoring {len(tasks)} tasks of {bench.name} that have samples")
    check_config(out, {"benchmark": settings.benchmark, "samples": digest_path(path),
                       "options": settings.options, "mode": "solution"})
    samples = KeyedLog(out / "samples.jsonl")
    samples.append(sample_records(tasks, by_task, str(path.absolute())))
    return finish(settings, n, bench, tasks, samples, out, sandbox, progress, run,
                  {"mode": "solution", "model": f"samples:{path.name}",
                   "samples": str(path.absolute())})


def score_inputs(settings: ScoreSettings) -> list[Any]:
    """The samples file and the benchmark's files."""
    from codekiln_core.lineage import InputRef

    if not settings.samples.is_file():
        raise ConfigError(f"samples {settings.samples}: no such file; pass the JSONL of "
                          "generated samples (task_id with solution or completion)")
    return [InputRef.from_path(settings.samples, name="samples"),
            *lineage_inputs_of_benchmark(load_benchmark(settings))]
