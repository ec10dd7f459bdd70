"""The judge's hack battery through eval's scoring path: every hack fails, pass@1 is exact.

A small benchmark built from the battery (one task per language and test style; not
registered) is executed and scored the way ``eval run``/``eval score`` do it: samples, the
real sandbox, result rows, per-task counts and pass@k. Each task's samples are its correct
answer plus every hack aimed at its tests (topped up with the wrong answer), so the correct
count must be exactly 1 everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from codekiln_core.judge import Submission
from codekiln_core.judge.hacks import CORRECT, HACKS, TESTS, WRONG, submission
from codekiln_eval.benchmarks.base import Benchmark, Task
from codekiln_eval.evaluate import ExecutionSettings, execute_and_score
from codekiln_eval.results import KeyedLog


class Battery(Benchmark):
    name = "hack-battery"

    def records(self) -> list[dict[str, Any]]:
        return [{"task_id": f"{lang}/{style}", "language": lang, "style": style}
                for lang, style in sorted(TESTS)]

    def to_task(self, record: Mapping[str, Any]) -> Task:
        return Task(record["task_id"], record["language"], "", "", "add", record)

    def checks(self, task: Task, solution: str) -> dict[str, Submission]:
        return {"base": submission(task.language, solution, task.record["style"])}


@pytest.mark.sandbox
def test_every_hack_scores_zero_and_the_correct_answer_one(tmp_path: Path) -> None:
    bench = Battery()
    tasks = bench.tasks()
    answers = {t.task_id: [CORRECT[t.language]] + [h.answer for h in HACKS if (
        h.language, h.tests) == (t.language, t.record["style"])] for t in tasks}
    n = max(len(a) for a in answers.values())
    samples = KeyedLog(tmp_path / "samples.jsonl")
    samples.append({"task_id": task_id, "sample_idx": i, "mode": "solution", "output": text}
                   for task_id, texts in answers.items()
                   for i, text in enumerate(texts + [WRONG[task_id.split("/")[0]]] * n))
    settings = ExecutionSettings(benchmark=bench.name, calibrate="off", output=tmp_path)
    summary = execute_and_score(settings, n, bench, tasks, samples, tmp_path, None,
                                lambda _: None)
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    passed = sorted((r["task_id"], r["sample_idx"]) for r in rows if r["passed"])
    assert passed == sorted((t.task_id, 0) for t in tasks)
    per_task = [json.loads(line) for line in (tmp_path / "tasks.jsonl").read_text().splitlines()]
    assert {(r["task_id"], r["n"], r["correct"]) for r in per_task} == {
        (t.task_id, n, 1) for t in tasks}
    assert summary["pass_at_k"] == {"pass@1": pytest.approx(1 / n)}
    assert summary["num_tasks_complete"] == len(tasks) == len(TESTS)
