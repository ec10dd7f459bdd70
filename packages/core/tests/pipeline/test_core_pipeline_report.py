"""The pipeline report gathers the step runs' pictures: per-step curves, the gate's
histogram, one pass@k chart across every eval step (grouped by benchmark), and the closing
table names each file.

Real runs in a real MLflow store, made through ``lineage_run`` as the step commands make
them (core's tests cannot import the stage packages; their own tests check that curate
logs ``report/score_histogram.png`` and eval its metrics and ``benchmark`` param).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codekiln_core.lineage import lineage_run
from codekiln_core.lineage.run import PARENT_RUN_ENV, PIPELINE_STEP_ENV
from codekiln_core.pipeline.runner import PipelineResult, StepOutcome
from codekiln_core.testing import png_size


def _histogram_png(path: Path) -> Path:
    from codekiln_core.plots import _figure, _save

    fig = _figure((4, 3))
    fig.subplots().bar([0, 1, 2], [3, 1, 2])
    return _save(fig, path)


def test_report_gathers_curves_gate_histogram_and_one_pass_at_k_chart(
    mlflow_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlflow import MlflowClient
    from rich.console import Console

    from codekiln_core.lineage.store import connect
    from codekiln_core.pipeline.artifacts import publish
    from codekiln_core.pipeline.summary import print_summary

    client, experiment = connect()
    parent = client.create_run(experiment, run_name="demo").info.run_id
    monkeypatch.setenv(PARENT_RUN_ENV, parent)
    runs: dict[str, str] = {}

    def step(name: str, command: str, config: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        monkeypatch.setenv(PIPELINE_STEP_ENV, name)
        return lineage_run(command, config=config)

    with step("pretrain", "train.pretrain") as run:
        for i in range(1, 7):
            run.log_metrics({"loss": 3.0 - i / 10, "lr": 1e-3}, step=i)
        run.log_metrics({"val_loss": 2.7}, step=6)
    runs["pretrain"] = str(run.run_id)
    with step("score", "curate.score") as run:
        run.log_metrics({"kept": 9, "dropped": 1})
        run.log_artifact(_histogram_png(tmp_path / "score_histogram.png"), "report")
    runs["score"] = str(run.run_id)
    evals = [("eval-base", "humaneval", {"pass_at_1": 0.125, "pass_at_10": 0.5}),
             ("eval-base-mbpp", "mbpp", {"pass_at_1": 0.25}),
             ("eval-sft", "humaneval", {"pass_at_1": 0.2, "pass_at_10": 0.6})]
    for name, benchmark, metrics in evals:
        with step(name, "eval.run", {"benchmark": benchmark}) as run:
            run.log_metrics(metrics)
        runs[name] = str(run.run_id)

    outcomes = [StepOutcome("pretrain", "pretrain", "ran", 4.0, runs["pretrain"]),
                StepOutcome("score", "score", "skipped", 2.0, runs["score"]),
                *(StepOutcome(n, "eval", "ran", 1.0, runs[n]) for n, _, _ in evals),
                StepOutcome("serve", "serve-check", "disabled")]
    result = PipelineResult("demo", parent, tmp_path / "work", outcomes)
    lines = publish(result, client)
    report = tmp_path / "work" / ".pipeline" / "report"
    assert any(line.startswith("plots: ") for line in lines)

    summary = json.loads((report / "summary.json").read_text())
    plots = {row["step"]: row["plots"] for row in summary["steps"]}
    assert plots == {"pretrain": ["curves-pretrain.png"], "score": ["gate-score.png"],
                     "eval-base": ["passk.png"], "eval-base-mbpp": ["passk.png"],
                     "eval-sft": ["passk.png"], "serve": []}
    for name in ("curves-pretrain.png", "gate-score.png", "passk.png"):
        assert png_size(report / name)[0] >= 300, name
    curves = json.loads((report / "curves-pretrain.json").read_text())["panels"]
    assert [p[0] for p in curves["loss"]["loss"]] == [1, 2, 3, 4, 5, 6]
    assert curves["loss"]["val_loss"] == [[6, 2.7]] and "learning rate" in curves
    passk = json.loads((report / "passk.json").read_text())
    assert passk == {"ks": ["pass@1", "pass@10"], "benchmarks": {
        "humaneval": {"eval-base": {"pass@1": 12.5, "pass@10": 50.0},
                      "eval-sft": {"pass@1": 20.0, "pass@10": 60.0}},
        "mbpp": {"eval-base-mbpp": {"pass@1": 25.0}}}}

    logged = {a.path for a in MlflowClient().list_artifacts(parent, "plots")}
    assert logged == {f"plots/{n}" for n in ("curves-pretrain.png", "curves-pretrain.json",
                                             "gate-score.png", "passk.png", "passk.json")}

    console = Console(record=True, width=220)
    print_summary(console, result)
    table = console.export_text()
    assert "plots" in table and str(report) in table
    pretrain_row = next(line for line in table.splitlines() if "pretrain" in line)
    assert "curves-pretrain.png" in pretrain_row
    assert "gate-score.png" in next(line for line in table.splitlines() if "score " in line)
