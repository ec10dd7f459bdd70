"""Every lineage run draws its curves as it ends: plots/curves.png + the data drawn in it.

Real runs in a real (SQLite) MLflow store; the figure's content is checked through
``plots/curves.json``, the series handed to matplotlib, not through pixels.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from codekiln_core.lineage import lineage_run
from codekiln_core.plots import Curves, panel_of, pass_at_k_data, write_pass_at_k
from codekiln_core.testing import logged_curves, png_size


def train_like(run: object, steps: int = 60) -> None:
    from codekiln_core.lineage import LineageRun

    assert isinstance(run, LineageRun)
    run.log_metrics({"sequences": 12, "final_loss": 9.0})  # step 0: no curve of their own
    for step in range(1, steps + 1):
        run.log_metrics({"loss": 4.0 / step, "lr": 1e-3 * min(1.0, step / 10),
                         "tokens_per_s": 1000.0 + step}, step=step)
        if step % 20 == 0:
            run.log_metrics({"val_loss": 5.0 / step}, step=step)


def test_training_runs_log_their_loss_and_lr_curves(mlflow_store: str, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with lineage_run("train.pretrain", config={"steps": 60}) as run:
        train_like(run)
    assert run.run_id is not None
    panels = logged_curves(run.run_id, tmp_path)
    assert set(panels) == {"loss", "learning rate"}  # throughput and counters: no panel
    assert set(panels["loss"]) == {"loss", "val_loss"}
    assert panels["loss"]["val_loss"] == [[20, 0.25], [40, 0.125], [60, 5.0 / 60]]
    loss = panels["loss"]["loss"]
    assert [s for s, _ in loss] == list(range(1, 61)) and loss[0][1] == 4.0
    assert panels["learning rate"]["lr"][-1] == [60, pytest.approx(1e-3)]

    # Runs without curves draw nothing; a failed run draws its own; CODEKILN_PLOTS=0 opts out.
    # (One test: a fresh SQLite store costs ~10 s of migrations on a loaded 2-core machine.)
    from mlflow import MlflowClient

    client = MlflowClient()
    with lineage_run("curate.run") as data_run:
        data_run.log_metrics({"docs_kept": 3, "bytes_kept": 120})
    assert data_run.run_id and client.list_artifacts(data_run.run_id, "plots") == []
    with pytest.raises(RuntimeError), lineage_run("train.scorer") as failed:
        train_like(failed, steps=5)
        raise RuntimeError("diverged")
    assert failed.run_id and client.get_run(failed.run_id).info.status == "FAILED"
    assert [p[0] for p in logged_curves(failed.run_id, tmp_path)["loss"]["loss"]] == \
        [1, 2, 3, 4, 5]
    monkeypatch.setenv("CODEKILN_PLOTS", "0")
    with lineage_run("train.pretrain") as quiet:
        train_like(quiet, steps=5)
    assert quiet.run_id and client.list_artifacts(quiet.run_id, "plots") == []


def test_long_runs_keep_a_bounded_evenly_thinned_history() -> None:
    curves = Curves(max_points=10)
    for step in range(1, 1001):
        curves.add({"loss": float(step), "mfu": 0.5}, step)
    points = curves.histories()["loss"]
    assert len(points) <= 21 and points[0] == (1, 1.0) and points[-1] == (1000, 1000.0)
    gaps = {b[0] - a[0] for a, b in pairwise(points[:-1])}
    assert len(gaps) == 1  # evenly spaced (the last point is added as logged)
    assert "mfu" not in curves.histories()


def test_panels_by_metric_name() -> None:
    assert panel_of("loss") == panel_of("val_loss") == panel_of("train_loss") == "loss"
    assert panel_of("lr") == panel_of("optim/learning_rate") == "learning rate"
    assert panel_of("reward_mean") == panel_of("reward_accuracy") == "reward"
    assert panel_of("final_loss") is None and panel_of("tokens_per_s") is None


def test_pass_at_k_chart_groups_eval_runs_by_benchmark(tmp_path: Path) -> None:
    rows = [{"label": "eval-base", "benchmark": "humaneval",
             "pass_at_k": {"pass@1": 0.125, "pass@10": 0.5}},
            {"label": "eval-base-mbpp", "benchmark": "mbpp", "pass_at_k": {"pass@1": 0.25}},
            {"label": "eval-sft", "benchmark": "humaneval", "pass_at_k": {"pass@1": 0.2}}]
    data = pass_at_k_data(rows)
    assert data["ks"] == ["pass@1", "pass@10"]
    assert data["benchmarks"] == {
        "humaneval": {"eval-base": {"pass@1": 12.5, "pass@10": 50.0},
                      "eval-sft": {"pass@1": 20.0}},
        "mbpp": {"eval-base-mbpp": {"pass@1": 25.0}}}
    png, sidecar = write_pass_at_k(rows, tmp_path / "passk.png")
    assert png_size(png)[0] >= 400 and sidecar.name == "passk.json"
    assert write_pass_at_k([{"label": "x", "benchmark": "b", "pass_at_k": {}}],
                           tmp_path / "none.png") == []
