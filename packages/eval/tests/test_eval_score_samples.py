"""``eval score SAMPLES``: pre-generated EvalPlus samples scored like ``eval run``'s own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import codekiln_benchmark_data
from codekiln_core.cli.app import main
from codekiln_eval.benchmarks import HumanEval

DATA = codekiln_benchmark_data.root()  # the bundled copies, in the codekiln-benchmark-data layout
RUN_FILES = {"config.json", "samples.jsonl", "results.jsonl", "tasks.jsonl", "summary.json",
             "calibration.json"}


def _samples(path: Path, limit: int = 3) -> Path:
    """Per task: the canonical program as a `solution`, and a wrong `completion`."""
    lines = []
    for task in HumanEval(data=DATA).tasks(limit):
        lines.append({"task_id": task.task_id,
                      "solution": task.prompt + task.record["canonical_solution"]})
        lines.append({"task_id": task.task_id, "completion": "    return None\n"})
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _score(samples: Path, out: Path, *extra: str) -> int:
    return main(["eval", "score", str(samples), "-b", "humaneval", "--data",
                 str(DATA), "-k", "1,2", "--calibrate", "probe", "--workers", "1", "-o",
                 str(out), *extra])


@pytest.mark.slow
@pytest.mark.sandbox
def test_score_writes_run_files_pass_at_k_and_lineage(
        tmp_path: Path, mlflow_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    samples, out = _samples(tmp_path / "samples.jsonl"), tmp_path / "run"
    assert _score(samples, out) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert {p.name for p in out.iterdir()} >= RUN_FILES
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pass_at_k"] == {"pass@1": 0.5, "pass@2": 1.0}
    assert summary["num_tasks_complete"] == 3 and summary["n"] == 2
    rows = [json.loads(x) for x in (out / "tasks.jsonl").read_text().splitlines()]
    assert [r["correct"] for r in rows] == [1, 1, 1]
    run_id = summary["mlflow_run_id"]
    assert run_id and f"mlflow run: {run_id}" in printed

    from mlflow import MlflowClient

    run = MlflowClient().get_run(run_id)
    assert run.data.tags["codekiln.command"] == "eval.score"
    assert run.data.metrics["pass_at_1"] == 0.5
    names = {d.dataset.name for d in run.inputs.dataset_inputs}
    assert {"samples", "benchmark.humaneval"} <= names
    assert run.data.params["samples"] == str(samples)

    before = (out / "results.jsonl").read_text()
    assert _score(samples, out, "--no-lineage") == 2  # the run is there: --resume continues
    assert _score(samples, out, "--no-lineage", "--resume") == 0  # nothing re-executed
    assert (out / "results.jsonl").read_text() == before


@pytest.mark.parametrize(("rows", "needle"), [
    ([{"task_id": "HumanEval/0", "solution": "x"}, {"task_id": "Nope/1", "solution": "x"}],
     "'Nope/1' is not in benchmark humaneval"),
    ([{"task_id": "HumanEval/0", "solution": "x"}, {"task_id": "HumanEval/0", "solution": "y"},
      {"task_id": "HumanEval/1", "solution": "x"}], "different sample counts"),
    ([{"task_id": "HumanEval/0"}], "neither a solution nor a completion"),
    ([{"task_id": "HumanEval/0", "solution": "x"}], "ks 2 exceeds the 1 sample"),
])
def test_bad_samples_are_one_line_errors(tmp_path: Path, rows: list[dict[str, str]],
                                         needle: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    samples = tmp_path / "s.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert _score(samples, tmp_path / "run", "--no-lineage") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err
